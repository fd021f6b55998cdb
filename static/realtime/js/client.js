/*
 * Duplex's one WebSocket wrapper: every page opens its sockets through it.
 * An ES module: page scripts import what they use.
 *
 *   import {connect} from "./client.js";
 *   const socket = connect("/ws/chat/lobby/", {hello: () => ({...})});
 *   socket.on("chat.message", (frame) => ...);   // JSON frames by "type"
 *   socket.on("socket:close", (close) => ...);   // the socket's own events
 *   socket.send({type: "chat.send", text: "hi"});
 *   socket.request({type: "chat.send", text: "hi", cid: newId()})
 *     .then((ack) => ...).catch((error) => ...);  // kept until answered
 *   socket.off("chat.message", fn);
 *
 * Listeners hear either a frame type ("chat.message", "error": the server's
 * {"type": "error"} frames) or one of the socket's own events, all named
 * "socket:..." so no frame type can collide with them:
 *   socket:connecting  a new WebSocket (the detail), one per attempt
 *   socket:open        it opened (after the hello and the queue were sent)
 *   socket:message     every message as received (a parsed frame, or the raw
 *                      data when json is off or it is not JSON)
 *   socket:error       the browser's error event (it says nothing more)
 *   socket:close       {code, reason, wasClean, willRetry}
 *   socket:retry       {attempt, delay, code}: the next attempt is scheduled
 *   socket:refused     {code, reason}: a 4000-4999 close, no more attempts
 *   socket:stale       {idle}: no frame for two heartbeats, reconnecting
 *   socket:resync      {stream, after, got}: a hole in a stream, reconnecting
 *   socket:state       one of STATES
 *   socket:fallback    {after}: WebSocket is blocked, the next attempts use
 *                      the fallback transport (fallback.js)
 *
 * What it does for a page:
 * - builds the URL from location (wss: under https:);
 * - reconnects with full-jitter exponential backoff, capped (maxDelay); the
 *   backoff resets only once a socket has stayed open stableAfter ms, so a
 *   server that accepts and closes at once sees the delays grow;
 * - follows the close code's rule (CLOSE_RULES): never after 4000-4999 (the
 *   server refused on purpose); after 1013 at least the reason's retry hint
 *   ("; retry=S"), spread over as long again; after 1012 spread over
 *   restartSpread, or over the reason's retry hint if that is longer; after
 *   1008 not before policyDelay;
 * - gives up on a socket stuck in CONNECTING after connectTimeout, and retries;
 * - queues sends while not open (bounded: the oldest are dropped past maxQueue)
 *   and flushes them, after the hello frame, on open;
 * - request(frame) tags the frame with a fresh "ref" and keeps it until the
 *   server answers (a frame echoing that ref): it is sent again after every
 *   reconnect, so use it for frames the server takes once however often they
 *   come (chat.send with a cid). The promise resolves with the reply, or
 *   rejects with the error frame; with {type: "error", code: "closed"} when
 *   the socket closes for good or is refused, and code "dropped" past
 *   maxQueue requests waiting;
 * - detects a stale connection: with heartbeat set, it sends {type: "ping"}
 *   after that long without a frame and reconnects if nothing comes back;
 * - remembers the last seq seen per stream (seen/lastSeq), for hello frames
 *   that resume a reliable stream where it stopped; a frame after a hole
 *   makes it resync (a fresh socket whose hello asks for the missing ones);
 * - drives the header's connection badge (connecting / live / reconnecting /
 *   offline) from all of the page's sockets;
 * - falls back, where WebSocket is blocked, to server-sent events and POST
 *   (fallback.js) with the same API and the same server sockets; the badge
 *   then says "live (fallback)". Blocked means: the page has no WebSocket, or
 *   BLOCKED_AFTER WebSocket attempts in a row ended before they opened while
 *   a plain HTTP request (GET /livez) got an answer. It lasts for the tab's
 *   session (sessionStorage). Option fallback: false keeps a socket on
 *   WebSocket; fallback: "always" puts it on the fallback from the start
 *   (the compare page's server-sent events board).
 *
 * Besides the socket it exports the small DOM helpers every page uses ($, el,
 * readJson). window.Duplex keeps the same API for code that is not a module
 * (and for the browser tests' page.evaluate).
 */
import {EventStreamSocket} from "./fallback.js";

// The page's WebSocket, or the fallback where the page has none: both have
// the same readyState constants, which the code below reads from this name.
const WebSocket = window.WebSocket || EventStreamSocket;

const DEFAULTS = {
  protocols: [],        // subprotocols to offer, in order of preference
  json: true,           // frames are JSON objects with a "type"
  reconnect: true,      // reconnect after an unplanned close
  minDelay: 250,        // ms: first reconnect waits up to this (full jitter)
  maxDelay: 5000,       // ms: cap of the backoff
  maxQueue: 100,        // frames kept while not open
  heartbeat: 0,         // ms without a frame before a ping (0: off)
  hello: null,          // () => frame or null, sent first on every open
  binaryType: "blob",   // WebSocket.binaryType for every new socket
  badge: true,          // count this socket in the header badge
  stableAfter: 10000,   // ms open before the backoff starts again from minDelay
  connectTimeout: 10000,  // ms in CONNECTING before giving up on that attempt
  restartSpread: 5000,  // ms over which reconnects after 1012 are spread
  retryAfter: 5000,     // ms: a 1013 without a hint waits at least this
  policyDelay: 10000,   // ms: the least wait after 1008 (policy violation)
};
/* What each close code means for the next attempt. "refused": never retry;
 * "hint": at least the server's "; retry=S", spread over as long again;
 * "spread": a restart, spread over restartSpread; "policy": policyDelay. */
export const CLOSE_RULES = {1008: "policy", 1012: "spread", 1013: "hint"};
const RETRY_HINT = /;\s*retry=(\d+(?:\.\d+)?)\s*$/;
export function closeRule(code) {
  if (code >= 4000 && code <= 4999) return "refused";
  return CLOSE_RULES[code] || "backoff";
}
const LIFECYCLE = "socket:";  // the prefix of the socket's own events
export const STATES = ["connecting", "live", "reconnecting", "offline"];
const RESYNC_EVERY = 5000;  // ms between two resyncs of one socket
export const sockets = new Set();

export function wsUrl(path) {
  if (/^wss?:\/\//.test(path)) return path;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return scheme + "//" + location.host + path;
}

class DuplexSocket {
  constructor(path, options) {
    this.url = wsUrl(path);
    this.options = Object.assign({}, DEFAULTS, options || {});
    this.ws = null;
    this.state = "connecting";
    this.queue = [];
    this.pending = new Map();  // ref -> {data, resolve, reject}: unanswered requests
    this._refs = 0;
    this.lastSeq = {};
    this.attempt = 0;
    this.listeners = {};
    this.closedByUser = false;
    this.refusal = null;
    this._timer = null;
    this._stable = null;
    this._connecting = null;
    this._beat = null;
    this._lastFrameAt = 0;
    this._resyncAt = 0;
    this._onOnline = () => { if (this.state === "reconnecting") this._open(); };
    window.addEventListener("online", this._onOnline);
    sockets.add(this);
    // Open on the next microtask, so listeners added right after connect()
    // see the first socket's events too.
    queueMicrotask(() => { if (!this.closedByUser) this._open(); });
  }

  on(name, fn) {
    (this.listeners[name] = this.listeners[name] || []).push(fn);
    return this;
  }

  /* Stop calling fn for name (once, if it was added twice). */
  off(name, fn) {
    const list = this.listeners[name] || [];
    const at = list.indexOf(fn);
    if (at >= 0) list.splice(at, 1);
    return this;
  }

  emit(name, detail) {
    for (const fn of [...(this.listeners[name] || [])]) {
      try { fn(detail, this); } catch (err) { console.error(err); }
    }
  }

  /* Send a frame now, or queue it until the socket opens. */
  send(frame) {
    const data = this.options.json && typeof frame === "object" &&
      !(frame instanceof ArrayBuffer) && !(frame instanceof Blob) ? JSON.stringify(frame) : frame;
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(data);
      return true;
    }
    if (this.closedByUser || this.refusal) return false;
    this.queue.push(data);
    if (this.queue.length > this.options.maxQueue) this.queue.shift();
    return false;
  }

  /* Send a frame and keep it until a frame echoing its ref answers it,
   * sending it again on every reopen; a promise of the reply. */
  request(frame) {
    const ref = ++this._refs;
    const data = JSON.stringify(Object.assign({}, frame, {ref: ref}));
    return new Promise((resolve, reject) => {
      if (this.closedByUser || this.refusal) {
        reject({type: "error", code: "closed", detail: ""});
        return;
      }
      this.pending.set(ref, {data: data, resolve: resolve, reject: reject});
      if (this.pending.size > this.options.maxQueue) {
        const [oldest, entry] = this.pending.entries().next().value;
        this.pending.delete(oldest);
        entry.reject({type: "error", code: "dropped", detail: ""});
      }
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(data);
    });
  }

  /* A frame that echoes a pending request's ref answers it. */
  _answer(frame) {
    const entry = frame && this.pending.get(frame.ref);
    if (!entry) return;
    this.pending.delete(frame.ref);
    if (frame.type === "error") entry.reject(frame);
    else entry.resolve(frame);
  }

  /* The socket is done for good: no request will be answered. */
  _abandon(detail) {
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) entry.reject({type: "error", code: "closed", detail: detail || ""});
  }

  /* Record that frame `seq` of `stream` was seen; false for a duplicate.
   * Also false for a frame after a hole (a frame before it never came):
   * the socket then resyncs, and the stream resumes after the last seq seen. */
  seen(stream, seq) {
    const last = this.lastSeq[stream] || 0;
    if (seq <= last) return false;
    if (last && seq > last + 1) {
      this.resync(stream, last, seq);
      return false;
    }
    this.lastSeq[stream] = seq;
    return true;
  }

  /* Open a fresh socket at once: its hello asks for everything after
   * lastSeq, which the server replays from its database. At most once per
   * RESYNC_EVERY, so a stream that keeps its hole cannot loop. */
  resync(stream, last, seq) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this._resyncAt < RESYNC_EVERY) return;
    this._resyncAt = Date.now();
    this.emit("socket:resync", {stream: stream, after: last, got: seq});
    const old = this.ws;
    this.ws = null;
    clearTimeout(this._stable);
    this._stopHeartbeat();
    old.close(1000, "resync");
    this._open();
  }

  /* Close for good: no reconnect until connect() is called again. */
  close(code, reason) {
    this.closedByUser = true;
    clearTimeout(this._timer);
    clearTimeout(this._connecting);
    clearTimeout(this._stable);
    this._stopHeartbeat();
    if (this.ws && this.ws.readyState < WebSocket.CLOSING) this.ws.close(code || 1000, reason);
    this._setState("offline");
    this._abandon(reason);
  }

  /* Open again after close() or a refusal. */
  connect() {
    this.closedByUser = false;
    this.refusal = null;
    this.attempt = 0;
    if (!this.ws || this.ws.readyState >= WebSocket.CLOSING) this._open();
  }

  destroy() {
    this.close();
    window.removeEventListener("online", this._onOnline);
    sockets.delete(this);
    renderBadge();
  }

  _open() {
    clearTimeout(this._timer);
    this._setState(this.attempt === 0 ? "connecting" : "reconnecting");
    let ws;
    try {
      ws = this._transport();
    } catch (err) {
      this.emit("socket:error", err);
      this._scheduleReconnect();
      return;
    }
    ws.binaryType = this.options.binaryType;
    this.ws = ws;
    this.emit("socket:connecting", ws);
    clearTimeout(this._connecting);
    this._connecting = setTimeout(() => {
      if (ws !== this.ws || ws.readyState !== WebSocket.CONNECTING) return;
      // A handshake nobody answers: drop it and try again, with backoff.
      this.ws = null;
      ws.close();
      this.emit("socket:close", {code: 1006, reason: "connect timeout", wasClean: false,
        willRetry: true});
      this._scheduleReconnect({code: 1006, reason: "connect timeout"});
    }, this.options.connectTimeout);
    ws.onopen = (event) => {
      if (ws !== this.ws) return;
      clearTimeout(this._connecting);
      clearTimeout(this._stable);
      this._stable = setTimeout(() => { this.attempt = 0; }, this.options.stableAfter);
      this._lastFrameAt = Date.now();
      this._setState("live");
      const hello = this.options.hello && this.options.hello(this);
      if (hello) ws.send(this.options.json ? JSON.stringify(hello) : hello);
      const pending = this.queue.splice(0);
      for (const data of pending) ws.send(data);
      // Requests never answered: the last socket may have carried them, and
      // the answer was lost with it. The server takes them once.
      for (const entry of this.pending.values()) ws.send(entry.data);
      this._startHeartbeat();
      this.emit("socket:open", event);
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      this._lastFrameAt = Date.now();
      if (!this.options.json || typeof event.data !== "string") {
        this.emit("socket:message", event.data);
        return;
      }
      let frame;
      try { frame = JSON.parse(event.data); } catch (err) {
        this.emit("socket:message", event.data);
        return;
      }
      if (frame && frame.ref !== undefined) this._answer(frame);
      if (frame && frame.type === "pong") return;
      this.emit("socket:message", frame);
      const type = frame && frame.type;
      if (typeof type === "string" && !type.startsWith(LIFECYCLE)) this.emit(type, frame);
    };
    ws.onerror = (event) => { if (ws === this.ws) this.emit("socket:error", event); };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      clearTimeout(this._connecting);
      clearTimeout(this._stable);
      this._stopHeartbeat();
      const refused = closeRule(event.code) === "refused";
      const retry = this.options.reconnect && !this.closedByUser && !refused;
      this.emit("socket:close", {code: event.code, reason: event.reason, wasClean: event.wasClean,
        willRetry: retry});
      if (refused) {
        this.refusal = {code: event.code, reason: event.reason};
        this.emit("socket:refused", this.refusal);
      }
      if (retry) this._scheduleReconnect(event);
      else {
        this._setState("offline");
        this._abandon(event.reason);
      }
    };
  }

  /* A WebSocket, or the fallback transport once WebSocket is blocked. */
  _transport() {
    const always = this.options.fallback === "always";
    if (always || (this.options.fallback !== false && blocked.now)) {
      this.transport = "fallback";
      return new EventStreamSocket(this.url, this.options.protocols);
    }
    this.transport = "websocket";
    const ws = new window.WebSocket(this.url, this.options.protocols);
    let opened = false;
    ws.addEventListener("open", () => { opened = true; blocked.unopened = 0; });
    ws.addEventListener("close", () => { if (!opened) noteUnopened(); });
    return ws;
  }

  _scheduleReconnect(closed) {
    this._setState("reconnecting");
    const delay = this._delay(closed || {});
    this.attempt += 1;
    this.emit("socket:retry", {attempt: this.attempt, delay: delay,
      code: closed ? closed.code : undefined});
    this._timer = setTimeout(() => this._open(), delay);
  }

  /* Full-jitter backoff, raised to what the close code asks for. */
  _delay(closed) {
    const o = this.options;
    const backoff = Math.random() * Math.min(o.maxDelay, o.minDelay * 2 ** this.attempt);
    const rule = closeRule(closed.code);
    if (rule === "hint") {
      const hint = RETRY_HINT.exec(closed.reason || "");
      const least = hint ? Number(hint[1]) * 1000 : o.retryAfter;
      return Math.max(backoff, least * (1 + Math.random()));
    }
    if (rule === "spread") {
      // A process closing many sockets asks for a wider window ("; retry=S").
      const hint = RETRY_HINT.exec(closed.reason || "");
      const window = Math.max(o.restartSpread, hint ? Number(hint[1]) * 1000 : 0);
      return Math.max(backoff, Math.random() * window);
    }
    if (rule === "policy") return Math.max(backoff, o.policyDelay * (1 + Math.random()));
    return backoff;
  }

  _startHeartbeat() {
    const every = this.options.heartbeat;
    if (!every) return;
    this._beat = setInterval(() => {
      const idle = Date.now() - this._lastFrameAt;
      if (idle > every * 2) {
        // No frame, not even a pong: the connection is dead without a close.
        // Drop it (its own close event may take long to come) and start over.
        this.emit("socket:stale", {idle: idle});
        const dead = this.ws;
        this.ws = null;
        clearTimeout(this._stable);
        dead.close();
        this._stopHeartbeat();
        this.emit("socket:close", {code: 1006, reason: "stale", wasClean: false, willRetry: true});
        this._scheduleReconnect();
      } else if (idle > every) {
        this.ws.send(JSON.stringify({type: "ping"}));
      }
    }, Math.max(250, every / 2));
  }

  _stopHeartbeat() {
    clearInterval(this._beat);
    this._beat = null;
  }

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit("socket:state", state);
    renderBadge();
  }
}

/* WebSocket attempts in a row that end before they open (refused, timed out,
 * dropped) before the page checks whether plain HTTP gets through. */
export const BLOCKED_AFTER = 3;
const BLOCKED_KEY = "duplex.websocket";
const blocked = {now: typeof window.WebSocket !== "function", unopened: 0, probing: false};
try {
  blocked.now = blocked.now || sessionStorage.getItem(BLOCKED_KEY) === "blocked";
} catch (err) { /* no storage (a sandboxed frame): decide per page */ }

function noteUnopened() {
  blocked.unopened += 1;
  if (blocked.now || blocked.probing || blocked.unopened < BLOCKED_AFTER) return;
  blocked.probing = true;
  fetch("/livez", {cache: "no-store", credentials: "same-origin"}).then((response) => {
    if (!response.ok || blocked.now) return;
    // HTTP gets through where WebSocket does not: a proxy or network blocks it.
    blocked.now = true;
    try { sessionStorage.setItem(BLOCKED_KEY, "blocked"); } catch (err) { /* per page */ }
    for (const socket of sockets) socket.emit("socket:fallback", {after: blocked.unopened});
  }).catch(() => { /* the server is down, not blocked */ }).finally(() => {
    blocked.probing = false;
  });
}

const LABELS = {
  connecting: () => gettext("connecting"),
  live: () => gettext("live"),
  fallback: () => gettext("live (fallback)"),
  reconnecting: () => gettext("reconnecting"),
  offline: () => gettext("offline"),
};

/* The header badge shows the worst state of the page's sockets. */
function renderBadge() {
  const badge = document.getElementById("connection-badge");
  if (!badge) return;
  let worst = "offline";
  const counted = [...sockets].filter((s) => s.options.badge);
  if (counted.length) {
    const order = ["live", "connecting", "reconnecting", "offline"];
    worst = counted.map((s) => s.state).reduce((a, b) => (order.indexOf(b) > order.indexOf(a) ? b : a), "live");
  }
  const fallback = worst === "live" && counted.some((s) => s.transport === "fallback");
  badge.dataset.state = worst;
  badge.dataset.transport = fallback ? "fallback" : "websocket";
  badge.className = "badge badge-" + worst;
  badge.textContent = LABELS[fallback ? "fallback" : worst]();
}

/* The page's sockets can run: over WebSocket, or over the fallback. */
export const supported = typeof window.WebSocket === "function" ||
  typeof window.EventSource === "function";

/* Open a socket to `path` (see DEFAULTS for the options). */
export function connect(path, options) {
  return new DuplexSocket(path, options);
}

/* The element with this id, or null. */
export const $ = (id) => document.getElementById(id);

/* A new element; `text` (if given) is set as text, never parsed as HTML. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/* The value of a json_script element, or null when the page has none. */
export function readJson(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

window.Duplex = Object.assign(window.Duplex || {}, {
  connect, wsUrl, sockets, STATES, supported, CLOSE_RULES, closeRule,
});
window.Duplex.fallback = blocked;  // for the browser tests: {now, unopened}
if (typeof window.gettext !== "function") window.gettext = (s) => s;
document.addEventListener("DOMContentLoaded", renderBadge);
