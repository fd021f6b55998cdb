/*
 * The compare page: four boards on the same instruments, fed by Ajax polling,
 * long-polling, server-sent events (the quotes socket on the fallback
 * transport) and WebSocket, and what each really cost this browser.
 *
 * Bytes are server -> browser, measured:
 * - polling and long-polling: PerformanceResourceTiming.transferSize of every
 *   answer (response headers plus body as received; the endpoints send
 *   Timing-Allow-Origin);
 * - WebSocket: each received message's UTF-8 payload plus its frame header
 *   (2 bytes up to 125, 4 up to 65535, else 10: server frames are unmasked),
 *   plus the HTTP upgrade response as daphne wrote it (quotes.handshake);
 * - server-sent events: each event as the server wrote it ("data: " + the
 *   frame + two newlines) plus its HTTP/1.1 chunk header and trailer, and the
 *   answers to the stream's POSTs (Resource Timing). The stream's response
 *   head (once per connection) and its keepalive comments (every 15 s) are
 *   not seen by the page and not counted.
 * Requests: every poll and long-poll; the event stream's opening and each of
 * its POSTs; the WebSocket upgrade.
 * Delay is receive time minus the quote's production time `ts` (server clock):
 * meaningful when server and browser share a clock, as on one machine.
 */
import {fmt, start} from "./quotes.js";

(function () {

  const SIDES = ["poll", "longpoll", "sse", "ws"];
  const COLORS = {poll: "#9c5d00", longpoll: "#7b3fa0", sse: "#0e7c37", ws: "#2257d6"};
  const LATENCY_WINDOW = 300;
  const encoder = new TextEncoder();
  const HTTP_SIDES = [["/quotes/api/latest/", "poll"], ["/quotes/api/wait/", "longpoll"],
    ["/sse/send/", "sse"]];
  const figures = {};

  function reset() {
    for (const side of SIDES) {
      figures[side] = {bytes: 0, requests: 0, messages: 0, updates: 0, latencies: [], seen: new Set()};
    }
    figures.started = performance.now();
    figures.samples = [];
    figures.latencyPoints = [];
  }
  reset();

  const utf8 = (data) => (typeof data === "string" ? encoder.encode(data).length
    : (data.byteLength || data.size || 0));
  const frameHeader = (length) => (length < 126 ? 2 : length < 65536 ? 4 : 10);
  /* An unnamed event of one line, and its chunk: "<hex>\r\n" ... "\r\n". */
  function eventBytes(length) {
    const event = "data: ".length + length + 2;
    return event + event.toString(16).length + 4;
  }

  function measureSocket(ws, socket, side) {
    figures[side].requests += 1;  // the upgrade, or the event stream's GET
    ws.addEventListener("message", (event) => {
      const length = utf8(event.data);
      figures[side].bytes += side === "ws" ? length + frameHeader(length) : eventBytes(length);
      figures[side].messages += 1;
    });
    if (side !== "ws") return;
    ws.addEventListener("open", () => ws.send(JSON.stringify({type: "quotes.handshake"})));
    if (!socket._measuring) {
      socket._measuring = true;
      socket.on("quotes.handshake", (frame) => {
        if (frame.response_bytes) figures.ws.bytes += frame.response_bytes;
      });
    }
  }

  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const found = HTTP_SIDES.find(([path]) => entry.name.includes(path));
      if (!found) continue;
      const figure = figures[found[1]];
      figure.bytes += entry.transferSize;
      figure.requests += 1;
      if (found[1] !== "sse") figure.messages += 1;
    }
  });
  observer.observe({type: "resource", buffered: true});
  // The resource buffer holds 250 entries by default; the observer has them all.
  setInterval(() => performance.clearResourceTimings(), 10000);

  function update(side, quote, receivedAt, fresh, fromSnapshot) {
    if (!fresh || quote.ts == null) return;
    const figure = figures[side];
    figure.updates += 1;
    // The first quote of a symbol (a snapshot, or a first poll) may be old by
    // design: a fund's value from 15 s ago is current. Only changes seen live
    // measure delay.
    const first = !figure.seen.has(quote.symbol);
    figure.seen.add(quote.symbol);
    if (fromSnapshot || first) return;
    const delay = Math.max(0, receivedAt - quote.ts);
    figure.latencies.push(delay);
    if (figure.latencies.length > LATENCY_WINDOW) figure.latencies.shift();
    figures.latencyPoints.push([side, (performance.now() - figures.started) / 1000, delay]);
    if (figures.latencyPoints.length > 4 * LATENCY_WINDOW) figures.latencyPoints.shift();
  }

  function mean(values) {
    return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  }

  function p95(values) {
    if (!values.length) return null;
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))];
  }

  /* A cell's text, and its value for the tests (data-value). */
  function set(id, value, decimals, text) {
    const node = document.getElementById(id);
    node.textContent = value === null ? "-" : (text || fmt)(value, decimals);
    node.dataset.value = value === null ? "" : String(value);
  }

  /* Bytes in at most seven characters, so four columns fit a phone. */
  function bytesText(value) {
    if (value < 10000) return fmt(value, 0);
    if (value < 1e6) return fmt(value / 1000, 1) + " kB";
    return fmt(value / 1e6, 2) + " MB";
  }

  function render() {
    for (const side of SIDES) {
      const f = figures[side];
      const per = (total) => (f.updates ? total / f.updates : null);
      set(side + "-bytes", f.bytes, 0, bytesText);
      set(side + "-per-update", per(f.bytes), 0, bytesText);
      set(side + "-requests", f.requests, 0);
      set(side + "-requests-per-update", per(f.requests), 2);
      set(side + "-messages", f.messages, 0);
      set(side + "-updates", f.updates, 0);
      set(side + "-latency", mean(f.latencies), 0);
      set(side + "-p95", p95(f.latencies), 0);
    }
    if (figures.poll.bytes && figures.ws.bytes) {
      document.getElementById("compare-ratio").textContent =
        gettext("Polling received %s times the bytes WebSocket did.")
          .replace("%s", fmt(figures.poll.bytes / figures.ws.bytes, 1));
    }
    figures.samples.push(SIDES.map((side) => figures[side].bytes / 1024));
    if (figures.samples.length > 600) figures.samples.shift();
    drawBytes();
    drawLatency();
  }

  function drawBytes() {
    const canvas = document.getElementById("bytes-chart");
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const samples = figures.samples;
    if (samples.length < 2) return;
    const max = Math.max(1, ...samples.map((s) => Math.max(...s)));
    const x = (i) => 40 + (i * (canvas.width - 50)) / (samples.length - 1);
    const y = (v) => canvas.height - 10 - (v * (canvas.height - 30)) / max;
    ctx.fillStyle = "#5b6475";
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(fmt(max, 1) + " KB", 2, 14);
    SIDES.forEach((side, k) => {
      ctx.strokeStyle = COLORS[side];
      ctx.lineWidth = 2;
      ctx.beginPath();
      samples.forEach((s, i) => (i ? ctx.lineTo(x(i), y(s[k])) : ctx.moveTo(x(i), y(s[k]))));
      ctx.stroke();
    });
  }

  function drawLatency() {
    const canvas = document.getElementById("latency-chart");
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const points = figures.latencyPoints;
    if (!points.length) return;
    const maxT = Math.max(1, ...points.map((p) => p[1]));
    const maxD = Math.max(10, ...points.map((p) => p[2]));
    ctx.fillStyle = "#5b6475";
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(fmt(maxD, 0) + " ms", 2, 14);
    for (const [side, t, d] of points) {
      ctx.fillStyle = COLORS[side];
      const px = 40 + (t * (canvas.width - 50)) / maxT;
      const py = canvas.height - 10 - (d * (canvas.height - 30)) / maxD;
      ctx.fillRect(px - 1.5, py - 1.5, 3, 3);
    }
  }

  start({
    polling: "board-poll",
    longpoll: "board-longpoll",
    sse: "board-sse",
    socket: "board-ws",
    hooks: {socket: measureSocket, update: update},
  });
  document.getElementById("compare-reset").addEventListener("click", reset);
  setInterval(render, 1000);
  window.QuoteCompare = {figures: figures};
})();
