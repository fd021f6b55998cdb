/* The echo playground: the browser's WebSocket API, event by event. */
import {$, connect, wsUrl} from "./client.js";

(function () {
  if (typeof window.WebSocket !== "function") {  // the playground shows this API
    $("no-websocket").hidden = false;
    $("echo-app").hidden = true;
    return;
  }

  const READY_STATES = ["0 CONNECTING", "1 OPEN", "2 CLOSING", "3 CLOSED"];
  const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  const log = $("echo-log");
  let socket = null;
  let ticker = null;

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
    log.prepend(li);
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
    if (typeof data === "string") return gettext("text") + " (" + data.length + "): " + data;
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

  function renderHandshake(frame) {
    const body = $("handshake-headers");
    body.replaceChildren();
    const rows = Object.entries(frame.headers);
    rows.push(["(offered subprotocols)", JSON.stringify(frame.offered_protocols)]);
    for (const [name, value] of rows) {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.textContent = name;
      const td = document.createElement("td");
      td.textContent = value;
      tr.append(th, td);
      body.append(tr);
    }
    $("accept-server").textContent = frame.accept;
    browserAccept(frame.key).then((mine) => {
      $("accept-browser").textContent = mine === null ? gettext("Web Crypto unavailable here (it needs HTTPS or localhost)") : mine;
      const match = mine === frame.accept;
      $("accept-match").textContent = mine === null ? "-" : (match ? gettext("yes, identical") : gettext("NO"));
      $("accept-match").dataset.match = String(match);
    });
  }

  function inspectHandshake(protocols) {
    const probe = new WebSocket(wsUrl("/ws/echo/handshake/"), protocols);
    probe.onmessage = (event) => renderHandshake(JSON.parse(event.data));
  }

  function protocols() {
    return $("echo-protocols").value.split(",").map((p) => p.trim()).filter(Boolean);
  }

  function openSocket() {
    if (socket) socket.destroy();
    const offered = protocols();
    socket = connect($("echo-url").value || "/ws/echo/", {
      json: false, protocols: offered, binaryType: $("echo-binary-type").value,
    });
    socket.on("socket:connecting", (ws) => {
      entry("connecting", ws.url + (offered.length ? " [" + offered.join(", ") + "]" : ""));
      renderValues();
    });
    socket.on("socket:open", () => {
      entry("open", gettext("protocol") + "=" + JSON.stringify(socket.ws.protocol));
      inspectHandshake(offered);
      renderValues();
    });
    socket.on("socket:message", async (data) => entry("message", await describe(data)));
    socket.on("socket:error", () => entry("error", gettext("the browser reports an error (details are hidden by design)")));
    socket.on("socket:close", (e) => {
      entry("close", "code=" + e.code + " reason=" + JSON.stringify(e.reason) + " wasClean=" + e.wasClean);
      renderValues();
    });
    socket.on("socket:retry", (r) => entry("retry", gettext("reconnecting in") + " " + Math.round(r.delay) + " ms"));
    clearInterval(ticker);
    ticker = setInterval(renderValues, 100);
    renderValues();
  }

  function send(data, label) {
    if (!socket) return;
    entry("send", label);
    if (!socket.send(data)) entry("queued", gettext("not open: queued until the socket opens"));
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
    send(text, gettext("text") + " (" + text.length + "): " + text);
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
  renderValues();
})();
