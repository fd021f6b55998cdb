/*
 * The fallback transport: a WebSocket look-alike over server-sent events
 * (server to client) and POST (client to server), for networks that let
 * HTTP through but block WebSocket. client.js opens one instead of a
 * WebSocket once WebSocket is blocked (its BLOCKED_AFTER rule); the server
 * runs the same socket behind it. docs/protocol.md, "Fallback transport",
 * describes the wire.
 *
 * It has what client.js uses of a WebSocket: readyState and the
 * CONNECTING/OPEN/CLOSING/CLOSED constants, protocol, binaryType,
 * bufferedAmount, send(), close(code, reason), the onopen/onmessage/onerror/
 * onclose properties and addEventListener for the same events.
 *
 * Sends go out in order, one POST at a time, each carrying what queued
 * meanwhile (up to MAX_BATCH frames) and a batch number: a POST that fails
 * on the network is sent again with the same number, and the server skips a
 * batch it already has.
 */
const MAX_BATCH = 32;              // frames per POST: the server takes no more
const MAX_BATCH_BYTES = 64 * 1024;  // start a new POST past this
const POST_RETRIES = 3;            // network failures before the stream is given up
const RETRY_DELAY = 500;           // ms before a POST is sent again
/* What a refused POST means for the stream, as a close code. */
const REFUSALS = {413: 1009};      // anything else: 1008 (policy)

/* The stream's URL for a ws(s): URL: /sse + its path, subprotocols offered in
 * the query as _subprotocol. */
export function streamUrl(wsUrl, protocols) {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  url.pathname = "/sse" + url.pathname;
  for (const protocol of protocols) url.searchParams.append("_subprotocol", protocol);
  return url.href;
}

function toBinary(base64, binaryType) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return binaryType === "arraybuffer" ? bytes.buffer : new Blob([bytes]);
}

async function toItem(data) {
  if (typeof data === "string") return data;
  const buffer = data instanceof Blob ? await data.arrayBuffer()
    : ArrayBuffer.isView(data) ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)
    : data;
  let text = "";
  for (const byte of new Uint8Array(buffer)) text += String.fromCharCode(byte);
  return {binary: btoa(text)};
}

const sizeOf = (data) => (typeof data === "string" ? data.length : data.size || data.byteLength || 0);
const pause = (ms) => new Promise((done) => setTimeout(done, ms));

export class EventStreamSocket extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;

  constructor(url, protocols) {
    super();
    this.url = url;
    this.protocol = "";
    this.binaryType = "blob";
    this.bufferedAmount = 0;  // bytes sent but not yet POSTed
    this.readyState = EventStreamSocket.CONNECTING;
    this.onopen = this.onmessage = this.onerror = this.onclose = null;
    this.transport = "fallback";
    this._outgoing = [];
    this._posting = false;
    this._batch = 0;
    this._stream = null;
    const offered = protocols == null ? [] : [].concat(protocols);
    const source = new EventSource(streamUrl(url, offered));
    this._source = source;
    this._sendUrl = new URL("/sse/send/", source.url).href;
    source.addEventListener("accept", (event) => {
      const accept = JSON.parse(event.data);
      this._stream = accept.stream;
      this.protocol = accept.protocol || "";
      this.readyState = EventStreamSocket.OPEN;
      this._fire(new Event("open"));
    });
    source.onmessage = (event) => this._message(event.data);
    source.addEventListener("text", (event) => this._message(JSON.parse(event.data)));
    source.addEventListener("binary", (event) => this._message(toBinary(event.data, this.binaryType)));
    source.addEventListener("close", (event) => {
      const close = JSON.parse(event.data);
      this._closed(close.code, close.reason, true);
    });
    // A refused stream (HTTP 403), a dropped one, an unreachable server: the
    // browser says no more, as a WebSocket's 1006 does not. EventSource would
    // retry by itself; client.js decides when instead.
    source.onerror = () => {
      if (this.readyState === EventStreamSocket.CLOSED) return;
      this._fire(new Event("error"));
      this._closed(1006, "", false);
    };
  }

  send(data) {
    if (this.readyState === EventStreamSocket.CONNECTING) {
      throw new DOMException("Still in CONNECTING state.", "InvalidStateError");
    }
    if (this.readyState !== EventStreamSocket.OPEN) return;
    this._outgoing.push(data);
    this.bufferedAmount += sizeOf(data);
    this._flush();
  }

  close(code, reason) {
    if (this.readyState >= EventStreamSocket.CLOSING) return;
    this.readyState = EventStreamSocket.CLOSING;
    this._source.close();  // the server sees the request end: a disconnect
    setTimeout(() => this._closed(code || 1005, reason || "", true), 0);
  }

  _message(data) {
    if (this.readyState !== EventStreamSocket.OPEN) return;
    this._fire(new MessageEvent("message", {data: data}));
  }

  _closed(code, reason, wasClean) {
    if (this.readyState === EventStreamSocket.CLOSED) return;
    this.readyState = EventStreamSocket.CLOSED;
    this._source.close();
    this._outgoing = [];
    this.bufferedAmount = 0;
    const detail = {code: code, reason: reason, wasClean: wasClean};
    const event = typeof CloseEvent === "function" ? new CloseEvent("close", detail)
      : Object.assign(new Event("close"), detail);
    this._fire(event);
  }

  _fire(event) {
    const handler = this["on" + event.type];
    if (typeof handler === "function") handler.call(this, event);
    this.dispatchEvent(event);
  }

  /* POST what is queued, one request at a time, in order. */
  async _flush() {
    if (this._posting) return;
    this._posting = true;
    try {
      while (this._outgoing.length && this.readyState === EventStreamSocket.OPEN) {
        const batch = [];
        let bytes = 0;
        while (this._outgoing.length && batch.length < MAX_BATCH && (!batch.length || bytes < MAX_BATCH_BYTES)) {
          const data = this._outgoing.shift();
          bytes += sizeOf(data);
          batch.push(data);
        }
        const body = JSON.stringify(await Promise.all(batch.map(toItem)));
        const sent = await this._post(body, this._batch + 1);
        this.bufferedAmount = Math.max(0, this.bufferedAmount - bytes);
        if (!sent) return;
        this._batch += 1;
      }
    } finally {
      this._posting = false;
    }
  }

  /* Deliver one batch; false (and the stream closed) when it cannot be. */
  async _post(body, number) {
    for (let failures = 0; this.readyState === EventStreamSocket.OPEN;) {
      let response;
      try {
        response = await fetch(this._sendUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: {"Content-Type": "application/json", "X-Duplex-Stream": this._stream,
            "X-Duplex-Seq": String(number)},
          body: body,
        });
      } catch (err) {
        failures += 1;
        if (failures > POST_RETRIES) break;
        await pause(RETRY_DELAY * failures);
        continue;
      }
      if (response.ok) return true;
      if (response.status === 503 || response.status === 429) {
        const wait = Number(response.headers.get("Retry-After")) || 1;
        await pause(wait * 1000);
        continue;
      }
      this._closed(REFUSALS[response.status] || 1008, await response.text(), false);
      return false;
    }
    this._closed(1006, "send failed", false);
    return false;
  }
}
