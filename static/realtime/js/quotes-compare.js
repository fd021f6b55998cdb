/*
 * The compare page: one polling board and one WebSocket board on the same
 * instruments, and what each really cost this browser.
 *
 * Bytes are server -> browser on both sides, measured:
 * - polling: PerformanceResourceTiming.transferSize of every poll (response
 *   headers plus body as received; the endpoint sends Timing-Allow-Origin);
 * - WebSocket: each received message's UTF-8 payload plus its frame header
 *   (2 bytes up to 125, 4 up to 65535, else 10: server frames are unmasked),
 *   plus the HTTP upgrade response as daphne wrote it (quotes.handshake).
 * Delay is receive time minus the quote's production time `ts` (server clock):
 * meaningful when server and browser share a clock, as on one machine.
 */
import {fmt, start} from "./quotes.js";

(function () {

  const LATENCY_WINDOW = 300;
  const encoder = new TextEncoder();
  const POLL_URL = "/quotes/api/latest/";
  const figures = {};

  function reset() {
    for (const side of ["poll", "ws"]) {
      figures[side] = {bytes: 0, count: 0, updates: 0, latencies: [], seen: new Set()};
    }
    figures.started = performance.now();
    figures.samples = [];
    figures.latencyPoints = [];
  }
  reset();

  function frameHeader(length) {
    return length < 126 ? 2 : length < 65536 ? 4 : 10;
  }

  function measureSocket(ws, socket) {
    ws.addEventListener("message", (event) => {
      const length = typeof event.data === "string"
        ? encoder.encode(event.data).length
        : (event.data.byteLength || event.data.size || 0);
      figures.ws.bytes += length + frameHeader(length);
      figures.ws.count += 1;
    });
    ws.addEventListener("open", () => ws.send(JSON.stringify({type: "quotes.handshake"})));
    figures.ws.handshakes = (figures.ws.handshakes || 0) + 1;
    if (!socket._measuring) {
      socket._measuring = true;
      socket.on("quotes.handshake", (frame) => {
        if (frame.response_bytes) figures.ws.bytes += frame.response_bytes;
      });
    }
  }

  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (!entry.name.includes(POLL_URL)) continue;
      figures.poll.bytes += entry.transferSize;
      figures.poll.count += 1;
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
    if (figures.latencyPoints.length > 2 * LATENCY_WINDOW) figures.latencyPoints.shift();
  }

  function mean(values) {
    return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  }

  function p95(values) {
    if (!values.length) return null;
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))];
  }

  function set(id, text) { document.getElementById(id).textContent = text; }

  function render() {
    const minutes = (performance.now() - figures.started) / 60000;
    for (const side of ["poll", "ws"]) {
      const f = figures[side];
      set(side + "-bytes", fmt(f.bytes, 0));
      set(side + "-rate", fmt(minutes > 0 ? f.bytes / minutes : 0, 0));
      set(side === "poll" ? "poll-requests" : "ws-frames", fmt(f.count, 0));
      set(side + "-updates", fmt(f.updates, 0));
      const m = mean(f.latencies), p = p95(f.latencies);
      set(side + "-latency", m === null ? "-" : fmt(m, 0));
      set(side + "-p95", p === null ? "-" : fmt(p, 0));
      document.getElementById(side + "-bytes").dataset.value = String(f.bytes);
      document.getElementById(side + "-rate").dataset.value = String(minutes > 0 ? f.bytes / minutes : 0);
    }
    if (figures.poll.bytes && figures.ws.bytes) {
      set("compare-ratio", gettext("Polling received %s times the bytes WebSocket did.")
        .replace("%s", fmt(figures.poll.bytes / figures.ws.bytes, 1)));
    }
    figures.samples.push([figures.poll.bytes / 1024, figures.ws.bytes / 1024]);
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
    const max = Math.max(1, ...samples.map((s) => Math.max(s[0], s[1])));
    const x = (i) => 40 + (i * (canvas.width - 50)) / (samples.length - 1);
    const y = (v) => canvas.height - 10 - (v * (canvas.height - 30)) / max;
    ctx.fillStyle = "#5b6475";
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(fmt(max, 1) + " KB", 2, 14);
    [[0, "#9c5d00"], [1, "#2257d6"]].forEach(([k, color]) => {
      ctx.strokeStyle = color;
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
      ctx.fillStyle = side === "poll" ? "#9c5d00" : "#2257d6";
      const px = 40 + (t * (canvas.width - 50)) / maxT;
      const py = canvas.height - 10 - (d * (canvas.height - 30)) / maxD;
      ctx.fillRect(px - 1.5, py - 1.5, 3, 3);
    }
  }

  start({
    polling: "board-poll",
    socket: "board-ws",
    hooks: {socket: measureSocket, update: update},
  });
  document.getElementById("compare-reset").addEventListener("click", reset);
  setInterval(render, 1000);
  window.QuoteCompare = {figures: figures};
})();
