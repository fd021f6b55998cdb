/*
 * Quotes boards: the live board (/ws/quotes/), the polling twin, and the
 * pieces the compare page measures.
 *
 *   import {start} from "./quotes.js";
 *   start({socket: "board-ws", polling: "board-poll", hooks})
 *   start({polling: "board-poll", longpoll: "board-longpoll", sse: "board-sse",
 *          socket: "board-ws", hooks})   // the compare page
 *
 * A Board renders rows (last, change, high/low, volume, a sparkline) and, if
 * the page gives it one (options.chart, see quotes-chart.js), a candle chart of
 * the selected row; options.actions fills a cell of buttons per row (the live
 * board's remove and alert-me, quotes-board.js). It keeps the newest
 * quote per symbol by the server's production time `ts`, so an older quote
 * (a snapshot overtaken by a tick, a poll answer that did not change) never
 * replaces a newer one. Everything shown is set with textContent.
 */
import {connect, readJson, supported} from "./client.js";

const SPARK_POINTS = 60;
const FLASH_MS = 700;

export function fmt(value, decimals) {
  if (value === null || value === undefined) return "-";
  return Number(value).toLocaleString(undefined, {
    minimumFractionDigits: decimals, maximumFractionDigits: decimals,
  });
}

function cell(row, className, text) {
  const td = document.createElement("td");
  td.className = className;
  td.textContent = text || "";
  row.appendChild(td);
  return td;
}

export function drawLine(canvas, values, options) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, pad = options.pad || 2;
  ctx.clearRect(0, 0, w, h);
  if (values.length < 2) return;
  let min = Math.min(...values), max = Math.max(...values);
  if (max === min) { max += 1; min -= 1; }
  const left = options.left || pad;
  const x = (i) => left + (i * (w - left - pad)) / (values.length - 1);
  const y = (v) => h - pad - ((v - min) * (h - 2 * pad)) / (max - min);
  ctx.strokeStyle = options.color;
  ctx.lineWidth = options.width || 1.5;
  ctx.beginPath();
  values.forEach((v, i) => (i ? ctx.lineTo(x(i), y(v)) : ctx.moveTo(x(i), y(v))));
  ctx.stroke();
  if (options.labels) {
    ctx.fillStyle = "#5b6475";
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(fmt(max, options.decimals), 4, pad + 10);
    ctx.fillText(fmt(min, options.decimals), 4, h - pad - 2);
  }
}

export class Board {
  constructor(root) {
    this.root = root;
    this.tbody = root.querySelector(".quote-rows");
    this.empty = root.querySelector(".quote-empty");
    this.chart = null;  // set by start(): {select(symbol, info), apply(quote, previous)}
    this.actions = null;  // set by start(): (symbol, cell) => void
    this.chartTitle = root.querySelector(".quote-chart-title");
    this.instruments = new Map();
    this.rows = new Map();
    this.quotes = new Map();
    this.sparks = new Map();
    this.selected = null;
    this.dirty = new Set();
    this._frame = 0;
  }

  setInstruments(list) {
    this.instruments = new Map(list.map((i) => [i.symbol, i]));
  }

  /* Show exactly these symbols, in this order. */
  show(symbols) {
    for (const [symbol, row] of this.rows) {
      if (!symbols.includes(symbol)) { row.remove(); this.rows.delete(symbol); }
    }
    for (const symbol of symbols) {
      const row = this.rows.get(symbol) || this._row(symbol);
      this.tbody.appendChild(row);  // (re)append keeps the chosen order
    }
    this.empty.hidden = symbols.length > 0;
    if (this.chart && !symbols.includes(this.selected)) this.select(symbols[0] || null);
  }

  _row(symbol) {
    const info = this.instruments.get(symbol) || {symbol: symbol, name: ""};
    const row = document.createElement("tr");
    row.dataset.symbol = symbol;
    cell(row, "q-symbol", symbol);
    cell(row, "q-name", info.name);
    for (const name of ["last", "change", "pct", "high", "low", "volume"]) {
      cell(row, "num q-" + name, "-");
    }
    const spark = document.createElement("canvas");
    spark.className = "q-spark";
    spark.width = 110;
    spark.height = 26;
    cell(row, "q-trend").appendChild(spark);
    if (this.actions) this.actions(symbol, cell(row, "q-actions"));
    row.addEventListener("click", (event) => {
      if (!event.target.closest("button")) this.select(symbol);
    });
    this.rows.set(symbol, row);
    const quote = this.quotes.get(symbol);
    if (quote) this._render(symbol, quote, null);
    return row;
  }

  /* Take a quote; false when it is not newer than the one shown. */
  apply(quote) {
    const previous = this.quotes.get(quote.symbol);
    if (previous && (quote.ts == null || (previous.ts != null && quote.ts <= previous.ts))) {
      return false;
    }
    this.quotes.set(quote.symbol, quote);
    const spark = this.sparks.get(quote.symbol) || [];
    spark.push(quote.last);
    if (spark.length > SPARK_POINTS) spark.shift();
    this.sparks.set(quote.symbol, spark);
    if (this.chart && quote.symbol === this.selected) this.chart.apply(quote, previous);
    this._render(quote.symbol, quote, previous);
    return true;
  }

  _render(symbol, quote, previous) {
    const row = this.rows.get(symbol);
    if (!row) return;
    const info = this.instruments.get(symbol) || {};
    const d = info.decimals === undefined ? 2 : info.decimals;
    const set = (name, text) => { row.querySelector(".q-" + name).textContent = text; };
    set("last", fmt(quote.last, d));
    set("change", (quote.change > 0 ? "+" : "") + fmt(quote.change, d));
    set("pct", (quote.change_pct > 0 ? "+" : "") + fmt(quote.change_pct, 2) + "%");
    set("high", fmt(quote.high, d));
    set("low", fmt(quote.low, d));
    set("volume", info.kind === "fund" ? "-" : fmt(quote.volume, 0));
    row.classList.toggle("up", quote.change > 0);
    row.classList.toggle("down", quote.change < 0);
    if (previous && previous.last !== quote.last) {
      const flash = quote.last > previous.last ? "flash-up" : "flash-down";
      row.classList.remove("flash-up", "flash-down");
      void row.offsetWidth;  // restart the animation
      row.classList.add(flash);
      setTimeout(() => row.classList.remove(flash), FLASH_MS);
    }
    row.dataset.ts = quote.ts == null ? "" : String(quote.ts);
    this.dirty.add(symbol);
    this._schedule();
  }

  select(symbol) {
    if (!this.chart) return;
    this.selected = symbol;
    for (const [s, row] of this.rows) row.classList.toggle("selected", s === symbol);
    const info = this.instruments.get(symbol);
    this.chartTitle.textContent = symbol ? symbol + " " + (info ? info.name + " (" + info.currency + ")" : "") : "";
    this.chart.select(symbol, info || null, this.quotes.get(symbol) || null);
  }

  _schedule() {
    if (this._frame) return;
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      for (const symbol of this.dirty) {
        const row = this.rows.get(symbol);
        const quote = this.quotes.get(symbol);
        if (!row || !quote) continue;
        const color = quote.change < 0 ? "#c62828" : "#0e7c37";
        drawLine(row.querySelector(".q-spark"), this.sparks.get(symbol) || [], {color: color});
      }
      this.dirty.clear();
    });
  }
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/* The instrument checkboxes shared by every board of the page. */
class Picker {
  constructor(root, max, onChange) {
    this.items = root.querySelector(".quote-picker-items");
    this.error = root.querySelector(".quote-error");
    this.max = max;
    this.onChange = onChange;
  }

  render(instruments, watched) {
    this.items.replaceChildren();
    for (const info of instruments) {
      const label = document.createElement("label");
      label.className = "quote-pick " + info.kind;
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = info.symbol;
      box.checked = watched.includes(info.symbol);
      box.addEventListener("change", () => this._changed(box));
      const text = document.createElement("span");
      text.textContent = info.symbol + " " + info.name;
      label.append(box, text);
      this.items.appendChild(label);
    }
  }

  _changed(box) {
    const checked = [...this.items.querySelectorAll("input:checked")].map((b) => b.value);
    if (checked.length > this.max) {
      box.checked = false;
      this.showError(gettext("At most %s instruments at once.").replace("%s", this.max));
      return;
    }
    this.showError("");
    this.onChange(checked);
  }

  showError(text) { this.error.textContent = text; }
}

/* The page's boards, by source: "poll" (Ajax polling), "longpoll",
 * "sse" (the quotes socket over server-sent events) and "ws" (WebSocket). */
const SOURCES = ["polling", "longpoll", "sse", "socket"];
const SOURCE_NAMES = {polling: "poll", longpoll: "longpoll", sse: "sse", socket: "ws"};

export function start(options) {
  const hooks = options.hooks || {};
  const config = readJson("quote-config");
  let instruments = readJson("quote-instruments");
  let watched = config.savedWatchlist
    ? readJson("quote-watchlist")
    : instruments.map((i) => i.symbol).slice(0, config.maxSubscriptions);
  let followAll = !config.savedWatchlist;  // new instruments join the board
  const boards = [];
  const app = {boards: boards, socket: null, sockets: [], poller: null, longPoller: null};

  const picker = new Picker(document.getElementById("quote-picker"), config.maxSubscriptions,
    (symbols) => { followAll = false; setWatched(symbols, true); });

  function setWatched(symbols, save) {
    const added = symbols.filter((s) => !watched.includes(s));
    const removed = watched.filter((s) => !symbols.includes(s));
    watched = symbols;
    for (const board of boards) board.show(watched);
    for (const socket of app.sockets) {
      if (added.length) socket.send({type: "quotes.subscribe", symbols: added});
      if (removed.length) socket.send({type: "quotes.unsubscribe", symbols: removed});
    }
    if (save && config.loggedIn) saveWatchlist();
    if (app.poller) app.poller.now();
    if (app.longPoller) app.longPoller.now();
  }

  let saveTimer = 0;
  function saveWatchlist() {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => fetch("/quotes/api/watchlist/", {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
      body: JSON.stringify({symbols: watched}),
    }), 300);
  }

  function setInstruments(list) {
    const known = new Set(instruments.map((i) => i.symbol));
    const active = new Set(list.map((i) => i.symbol));
    instruments = list;
    for (const board of boards) board.setInstruments(list);
    if (hooks.instruments) hooks.instruments(list);
    let next = watched.filter((s) => active.has(s));
    if (followAll) {
      const fresh = list.map((i) => i.symbol).filter((s) => !known.has(s));
      next = next.concat(fresh).slice(0, config.maxSubscriptions);
    }
    picker.render(instruments, next);
    setWatched(next, false);
  }

  const bySource = {};
  for (const key of SOURCES) {
    if (!options[key]) continue;
    const board = new Board(document.getElementById(options[key]));
    if (options.chart) board.chart = options.chart(board.root);
    board.actions = options.actions || null;
    board.setInstruments(instruments);
    board.show(watched);
    board.source = SOURCE_NAMES[key];
    boards.push(board);
    bySource[board.source] = board;
  }
  picker.render(instruments, watched);
  // For the page's own controls (quotes-board.js): the board's symbols, edited.
  app.watched = () => watched;
  app.instruments = () => instruments;
  app.setWatched = (symbols) => {
    followAll = false;
    setWatched(symbols, true);
    picker.render(instruments, watched);
  };
  app.showError = (text) => picker.showError(text);
  app.maxSubscriptions = config.maxSubscriptions;

  const socketOptions = {
    ws: {heartbeat: 25000},
    // Its own connection, on the fallback transport from the start, kept out
    // of the header's badge (the page is not on the fallback).
    sse: {heartbeat: 25000, fallback: "always", badge: false},
  };
  for (const source of ["ws", "sse"]) {
    if (!bySource[source] || !supported) continue;
    const socket = connect("/ws/quotes/", socketOptions[source]);
    app.sockets.push(socket);
    if (source === "ws") app.socket = socket;
    feedBoard(socket, bySource[source], {
      hooks: hooks, watched: () => watched, picker: picker,
      // One socket keeps the instrument list; both would say the same.
      onInstruments: source === "ws" || !bySource.ws ? setInstruments : null,
    });
  }

  if (bySource.poll) app.poller = poller(bySource.poll, () => watched, hooks);
  if (bySource.longpoll) app.longPoller = longPoller(bySource.longpoll, () => watched, hooks);
  return app;
}

/* A board fed by a quotes socket (WebSocket, or the fallback's event stream). */
function feedBoard(socket, board, context) {
  const hooks = context.hooks;
  socket.on("socket:connecting", (ws) => hooks.socket && hooks.socket(ws, socket, board.source));
  socket.on("socket:open", () => {
    // A new connection has no subscriptions: (re)subscribe the board.
    const watched = context.watched();
    if (watched.length) socket.send({type: "quotes.subscribe", symbols: watched});
  });
  if (context.onInstruments) {
    socket.on("quotes.instruments", (frame) => context.onInstruments(frame.instruments));
  }
  socket.on("quotes.snapshot", (frame) => {
    const at = Date.now();
    for (const quote of frame.quotes) {
      const fresh = board.apply(quote);
      if (hooks.update) hooks.update(board.source, quote, at, fresh, true);
    }
  });
  socket.on("quotes.tick", (frame) => {
    const at = Date.now();
    const fresh = board.apply(frame);
    if (hooks.update) hooks.update(board.source, frame, at, fresh, false);
  });
  socket.on("error", (frame) => (hooks.error ? hooks.error(frame) : context.picker.showError(frame.detail)));
}

function applyAll(board, body, hooks) {
  const at = Date.now();
  for (const quote of body.quotes) {
    const fresh = board.apply(quote);
    if (hooks.update) hooks.update(board.source, quote, at, fresh, false);
  }
}

/* The polling twin: ask for the watched symbols' latest quotes, again and again. */
function poller(board, symbols, hooks) {
  const select = document.getElementById("poll-interval");
  let timer = 0, inFlight = false;
  function poll() {
    clearTimeout(timer);
    timer = setTimeout(poll, Number(select ? select.value : 1000));
    const wanted = symbols();
    if (!wanted.length || inFlight) return;
    inFlight = true;
    fetch("/quotes/api/latest/?symbols=" + encodeURIComponent(wanted.join(",")), {cache: "no-store"})
      .then((r) => r.json())
      .then((body) => applyAll(board, body, hooks))
      .catch(() => {})
      .finally(() => { inFlight = false; });
  }
  if (select) select.addEventListener("change", poll);
  poll();
  return {now: poll};
}

/* Long-polling: one request waits at the server until a watched symbol ticks
 * (/quotes/api/wait/), and the next goes out as soon as it is answered. */
function longPoller(board, symbols, hooks) {
  let controller = null, after = 0, failures = 0, timer = 0;
  function newest() {
    for (const quote of board.quotes.values()) after = Math.max(after, quote.ts || 0);
    return after;
  }
  function ask() {
    clearTimeout(timer);
    const wanted = symbols();
    if (!wanted.length) return;
    const mine = controller = new AbortController();
    const url = "/quotes/api/wait/?symbols=" + encodeURIComponent(wanted.join(",")) + "&after=" + newest();
    fetch(url, {cache: "no-store", signal: mine.signal})
      .then((r) => {
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      })
      .then((body) => {
        failures = 0;
        applyAll(board, body, hooks);
        if (controller === mine) ask();
      })
      .catch(() => {
        if (controller !== mine) return;  // aborted for a new watchlist
        failures += 1;  // the server is away or busy: back off, up to 5 s
        timer = setTimeout(ask, Math.min(5000, 250 * 2 ** failures));
      });
  }
  /* The watchlist changed: drop the waiting request, ask for the new symbols. */
  function now() {
    if (controller) controller.abort();
    controller = null;
    ask();
  }
  ask();
  return {now: now};
}
