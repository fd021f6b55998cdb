/* The echo playground: the browser's WebSocket API, event by event. */
import {$, connect, el, wsUrl} from "./client.js";
import {checkClose, utf8} from "./frames.js";
import {explainClose, explainRefusal, showFrame} from "./echo-panels.js";

(function () {
  if (typeof window.WebSocket !== "function") {  // the playground shows this API
    $("no-websocket").hidden = false;
    $("echo-app").hidden = true;
    return;
  }

  const READY_STATES = ["0 CONNECTING", "1 OPEN", "2 CLOSING", "3 CLOSED"];
  const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  const KEPT_ENTRIES = 500;  // log lines kept; the oldest go first
  const log = $("echo-log");
  let socket = null;
  let ticker = null;
  let generation = 0;    // one per connection: a late answer to an older one is ignored
  let closing = null;    // {code, reason} the learner closed with, until the close event

  function entry(kind, text) {
    const li = document.createElement("li");
    li.className = "log-" + kind;
    const time = document.createElement("time");
    time.textContent = new Date().toISOString().slice(11, 23);
    const label = document.createElement("strong");
    label.textContent = kind;
    const body = document.createElement("span");
    body.textContent = text;  // user text is never parsed as HTML
    li.append(time, " ", label, " ", body);
    log.append(li);  // oldest first, as events happen
    while (log.children.length > KEPT_ENTRIES) log.firstElementChild.remove();
    log.scrollTop = log.scrollHeight;
  }

  function textLabel(text) {
    return gettext("text") + " (" + interpolate(gettext("%(bytes)s bytes in UTF-8; .length is %(length)s"),
      {bytes: utf8(text).length, length: text.length}, true) + "): " + text;
  }

  function deflate() {
    return !!(socket && socket.ws && /permessage-deflate/.test(socket.ws.extensions));
  }

  async function bytesOf(data) {
    if (typeof data === "string") return utf8(data);
    if (data instanceof Blob) return new Uint8Array(await data.arrayBuffer());
    return new Uint8Array(data);
  }

  async function inspect(data, sent) {
    const payload = await bytesOf(data);
    showFrame({sent: sent, binary: typeof data !== "string", payload: payload, deflate: deflate()});
  }

  function isOpen() {
    return !!(socket && socket.ws && socket.ws.readyState === WebSocket.OPEN);
  }

  function hex(buffer) {
    const bytes = new Uint8Array(buffer);
    const shown = Array.from(bytes.slice(0, 32), (b) => b.toString(16).padStart(2, "0")).join(" ");
    return shown + (bytes.length > 32 ? " ..." : "");
  }

  function renderValues() {
    const ws = socket && socket.ws;
    $("ws-ready-state").textContent = ws ? READY_STATES[ws.readyState] : "-";
    $("ws-buffered").textContent = ws ? String(ws.bufferedAmount) : "-";
    $("ws-protocol").textContent = ws ? JSON.stringify(ws.protocol) : "-";
    $("ws-extensions").textContent = ws ? JSON.stringify(ws.extensions) : "-";
    $("ws-url").textContent = ws ? ws.url : "-";
    $("echo-connect").disabled = !!(socket && !socket.closedByUser);
    $("echo-disconnect").disabled = !(socket && !socket.closedByUser);
  }

  async function describe(data) {
    if (typeof data === "string") return textLabel(data);
    if (data instanceof Blob) {
      return "Blob (" + data.size + " " + gettext("bytes") + "): " + hex(await data.arrayBuffer());
    }
    return "ArrayBuffer (" + data.byteLength + " " + gettext("bytes") + "): " + hex(data);
  }

  async function browserAccept(key) {
    if (!(window.crypto && crypto.subtle)) return null;  // Web Crypto needs a secure context
    const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + GUID));
    return btoa(String.fromCharCode(...new Uint8Array(digest)));
  }

  function fillTable(body, rows) {
    body.replaceChildren();
    for (const [name, value] of rows) {
      const tr = document.createElement("tr");
      const th = el("th", "", name);
      th.scope = "row";
      tr.append(th, el("td", "", value));
      body.append(tr);
    }
  }

  function placeholder(body, text) {
    const td = el("td", "", text);
    td.colSpan = 2;
    const tr = document.createElement("tr");
    tr.append(td);
    body.replaceChildren(tr);
  }

  /* A new connection starts: nothing of the last one's handshake may stay. */
  function resetHandshake() {
    placeholder($("handshake-headers"), gettext("Waiting for the handshake…"));
    placeholder($("handshake-response"), gettext("Waiting for the handshake…"));
    for (const id of ["accept-server", "accept-browser", "accept-match"]) $(id).textContent = "-";
    delete $("accept-match").dataset.match;
  }

  function renderHandshake(frame) {
    const rows = Object.entries(frame.headers);
    rows.push([gettext("(offered subprotocols)"), JSON.stringify(frame.offered_protocols)]);
    fillTable($("handshake-headers"), rows);
    fillTable($("handshake-response"), [[gettext("(status line)"), frame.response_status],
                                        ...frame.response_headers]);
    $("accept-server").textContent = frame.accept;
    const mine = generation;
    browserAccept(frame.key).then((computed) => {
      if (mine !== generation) return;
      const match = computed === frame.accept;
      $("accept-browser").textContent = computed === null ? gettext("Web Crypto unavailable here (it needs HTTPS or localhost)") : computed;
      $("accept-match").textContent = computed === null ? "-" : (match ? gettext("yes, identical") : gettext("NO"));
      $("accept-match").dataset.match = String(match);
    });
  }


  function inspectHandshake(protocols) {
    const mine = generation;
    const probe = new WebSocket(wsUrl("/ws/echo/handshake/"), protocols);
    probe.onmessage = (event) => { if (mine === generation) renderHandshake(JSON.parse(event.data)); };
  }

  function protocols() {
    return $("echo-protocols").value.split(",").map((p) => p.trim()).filter(Boolean);
  }

  function openSocket() {
    if (socket) socket.destroy();
    const offered = protocols();
    socket = connect($("echo-url").value || "/ws/echo/", {
      json: false, protocols: offered, binaryType: $("echo-binary-type").value,
      // The playground shows the WebSocket API itself: a URL that never opens
      // must stay a failing WebSocket, not turn into the HTTP fallback.
      fallback: false,
    });
    socket.on("socket:connecting", (ws) => {
      generation++;
      resetHandshake();
      entry("connecting", ws.url + (offered.length ? " [" + offered.join(", ") + "]" : ""));
      renderValues();
    });
    socket.on("socket:open", () => {
      entry("open", gettext("protocol") + "=" + JSON.stringify(socket.ws.protocol));
      inspectHandshake(offered);
      renderValues();
    });
    socket.on("socket:message", async (data) => {
      entry("message", await describe(data));
      await inspect(data, false);
    });
    socket.on("socket:error", () => entry("error", gettext("the browser reports an error (details are hidden by design)")));
    socket.on("socket:close", (e) => {
      entry("close", "code=" + e.code + " reason=" + JSON.stringify(e.reason) + " wasClean=" + e.wasClean);
      if (closing) $("close-result").textContent = explainClose(closing, e);
      closing = null;
      renderValues();
    });
    socket.on("socket:retry", (r) => entry("retry", gettext("reconnecting in") + " " + Math.round(r.delay) + " ms"));
    clearInterval(ticker);
    ticker = setInterval(renderValues, 100);
    renderValues();
  }

  function hint(id, text) {
    $(id).textContent = text;
  }

  const NOT_CONNECTED = () => gettext("Not connected: press Connect first. Nothing was sent.");

  function send(data, label) {
    hint("echo-send-status", "");
    if (!socket || socket.closedByUser) {
      hint("echo-send-status", NOT_CONNECTED());
      entry("not-sent", NOT_CONNECTED());
      return;
    }
    entry("send", label);
    if (socket.send(data)) inspect(data, true);
    else entry("queued", gettext("not open: queued until the socket opens"));
    renderValues();
  }

  function closeWith(event) {
    event.preventDefault();
    const reason = $("close-reason").value;
    const check = checkClose($("close-code").value, reason);
    if (!check.ok) {
      let browserSays = null;
      try {
        if (socket && socket.ws) socket.ws.close(check.code, reason);
      } catch (err) {
        browserSays = err.name;
      }
      hint("close-result", explainRefusal(check, browserSays));
      return;
    }
    if (!isOpen()) {
      hint("close-result", gettext("Not connected: press Connect first, then close."));
      return;
    }
    closing = {code: check.code, reason: reason};
    hint("close-result", gettext("Closing…"));
    socket.close(check.code, reason);
    renderValues();
  }

  $("echo-connect").addEventListener("click", openSocket);
  $("echo-disconnect").addEventListener("click", () => { if (socket) socket.close(1000, "bye"); renderValues(); });
  $("echo-binary-type").addEventListener("change", (e) => {
    if (socket) socket.options.binaryType = e.target.value;
    if (socket && socket.ws) socket.ws.binaryType = e.target.value;
  });
  $("echo-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("echo-text").value;
    send(text, textLabel(text));
  });
  $("echo-send-buffer").addEventListener("click", () => {
    const bytes = new TextEncoder().encode($("echo-text").value);
    send(bytes.buffer, "ArrayBuffer (" + bytes.byteLength + " " + gettext("bytes") + "): " + hex(bytes.buffer));
  });
  $("echo-send-blob").addEventListener("click", () => {
    const blob = new Blob([$("echo-text").value], {type: "application/octet-stream"});
    send(blob, "Blob (" + blob.size + " " + gettext("bytes") + ")");
  });
  $("echo-clear").addEventListener("click", () => log.replaceChildren());
  $("close-form").addEventListener("submit", closeWith);
  $("close-reason").addEventListener("input", () => {
    $("close-reason-bytes").textContent = interpolate(gettext("%s of 123 bytes in UTF-8"),
                                                      [utf8($("close-reason").value).length]);
  });
  renderValues();
})();
