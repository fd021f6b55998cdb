/*
 * The candle chart of the selected instrument, drawn by TradingView's
 * Lightweight Charts (vendored in static/realtime/vendor/lightweight-charts/,
 * loaded by the page as the global LightweightCharts).
 *
 *   const chart = new CandleChart(wrap);   // wrap: .quote-chart-wrap
 *   chart.select(symbol, info, quote);     // load its candles for the range
 *   chart.apply(quote, previous);          // a live quote moves the last candle
 *
 * Candles come from /quotes/api/candles/<symbol>/?range=1m|1h|1d, rolled up
 * in the database; a live quote updates the newest candle or opens the next.
 * The legend above the chart shows the candle under the crosshair, or the
 * newest one; a tooltip follows the crosshair. Everything is textContent.
 */
import {el} from "./client.js";

const UP = "#0e7c37", DOWN = "#c62828";
const VOLUME_UP = "rgba(14, 124, 55, 0.35)", VOLUME_DOWN = "rgba(198, 40, 40, 0.35)";

function locale() {
  return document.documentElement.lang || undefined;
}

function number(value, decimals) {
  return Number(value).toLocaleString(locale(), {
    minimumFractionDigits: decimals, maximumFractionDigits: decimals,
  });
}

/* A candle's time as the page's language writes it (days in UTC, as rolled up). */
function when(seconds, range) {
  const options = range === "1d"
    ? {dateStyle: "medium", timeZone: "UTC"}
    : {month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"};
  return new Intl.DateTimeFormat(locale(), options).format(new Date(seconds * 1000));
}

/* Time-axis labels: years, months, days, then times, in the page's language. */
function tickMark(seconds, type) {
  const date = new Date(seconds * 1000);
  const utc = {timeZone: "UTC"};
  const formats = [
    {year: "numeric", ...utc}, {month: "short", ...utc}, {month: "short", day: "numeric", ...utc},
    {hour: "2-digit", minute: "2-digit"}, {hour: "2-digit", minute: "2-digit", second: "2-digit"},
  ];
  return new Intl.DateTimeFormat(locale(), formats[type] || formats[3]).format(date);
}

export class CandleChart {
  constructor(wrap) {
    this.wrap = wrap;
    wrap.candleChart = this;  // the browser tests find candles by the chart's own coordinates
    this.box = wrap.querySelector(".quote-candles");
    this.legend = wrap.querySelector(".chart-legend");
    this.tooltip = wrap.querySelector(".chart-tooltip");
    this.empty = wrap.querySelector(".chart-empty");
    this.buttons = [...wrap.querySelectorAll("button[data-range]")];
    this.range = "1m";
    this.seconds = 60;
    this.symbol = null;
    this.info = null;
    this.candles = [];
    this.pending = null;  // live quotes that arrived while candles load
    this.load = 0;
    this._build();
    for (const button of this.buttons) {
      button.addEventListener("click", () => this.setRange(button.dataset.range));
    }
  }

  _build() {
    const charts = window.LightweightCharts;
    this.chart = charts.createChart(this.box, {
      autoSize: true,
      layout: {background: {color: "#fcfdff"}, textColor: "#374151", attributionLogo: false},
      grid: {vertLines: {color: "#eef0f4"}, horzLines: {color: "#eef0f4"}},
      crosshair: {mode: charts.CrosshairMode.Normal},
      localization: {locale: locale(), timeFormatter: (t) => when(t, this.range)},
      timeScale: {timeVisible: true, secondsVisible: false, tickMarkFormatter: tickMark},
    });
    this.series = this.chart.addSeries(charts.CandlestickSeries, {
      upColor: UP, downColor: DOWN, wickUpColor: UP, wickDownColor: DOWN, borderVisible: false,
    });
    this.series.priceScale().applyOptions({scaleMargins: {top: 0.08, bottom: 0.28}});
    this.volume = this.chart.addSeries(charts.HistogramSeries, {
      priceFormat: {type: "volume"}, priceScaleId: "volume", lastValueVisible: false,
      priceLineVisible: false,
    });
    this.chart.priceScale("volume").applyOptions({scaleMargins: {top: 0.78, bottom: 0}});
    this.chart.subscribeCrosshairMove((param) => this._hover(param));
  }

  setRange(range) {
    this.range = range;
    for (const button of this.buttons) {
      button.setAttribute("aria-pressed", String(button.dataset.range === range));
    }
    this.select(this.symbol, this.info);
  }

  select(symbol, info) {
    this.symbol = symbol;
    this.info = info;
    this.candles = [];
    this.pending = [];
    this._draw(true);
    if (!symbol) return;
    const decimals = info ? info.decimals : 2;
    this.series.applyOptions({priceFormat: {type: "price", precision: decimals, minMove: 10 ** -decimals}});
    this.volume.applyOptions({visible: !info || info.kind !== "fund"});
    const load = ++this.load;
    const url = "/quotes/api/candles/" + encodeURIComponent(symbol) + "/?range=" + this.range;
    this.wrap.dataset.loading = "1";
    fetch(url, {cache: "no-store"})
      .then((r) => (r.ok ? r.json() : {candles: []}))
      .catch(() => ({candles: []}))  // offline: an empty chart, live quotes still draw
      .then((body) => {
        if (load !== this.load) return;  // another symbol or range since
        this.seconds = body.seconds || this.seconds;
        this.candles = body.candles;
        const pending = this.pending || [];
        this.pending = null;
        this._draw(true);
        for (const [quote, previous] of pending) this.apply(quote, previous);
        delete this.wrap.dataset.loading;
      });
  }

  /* A live quote of the selected symbol: move the newest candle, or open one. */
  apply(quote, previous) {
    if (quote.symbol !== this.symbol || quote.ts == null) return;
    if (this.pending) { this.pending.push([quote, previous]); return; }
    let traded = 0;
    if (previous && previous.ts != null) {
      traded = quote.volume >= previous.volume ? quote.volume - previous.volume : quote.volume;
    }
    const seconds = Math.floor(quote.ts / 1000);
    const start = seconds - (seconds % this.seconds);
    const last = this.candles[this.candles.length - 1];
    if (last && start < last.time) return;  // older than what is drawn
    if (last && start === last.time) {
      last.high = Math.max(last.high, quote.last);
      last.low = Math.min(last.low, quote.last);
      last.close = quote.last;
      last.volume += traded;
      last.ticks += 1;
    } else {
      this.candles.push({time: start, open: quote.last, high: quote.last, low: quote.last,
        close: quote.last, volume: traded, ticks: 1});
    }
    this._draw(false);
  }

  _draw(all) {
    const last = this.candles[this.candles.length - 1];
    if (all) {
      this.series.setData(this.candles.map((c) => this._bar(c)));
      this.volume.setData(this.candles.map((c) => this._bar(c, true)));
      if (this.candles.length) this.chart.timeScale().fitContent();
    } else if (last) {
      this.series.update(this._bar(last));
      this.volume.update(this._bar(last, true));
    }
    this.empty.hidden = this.candles.length > 0 || !this.symbol || this.pending !== null;
    this.wrap.dataset.candles = String(this.candles.length);
    this.wrap.dataset.range = this.range;
    this.wrap.dataset.lastClose = last ? String(last.close) : "";
    this._describe(this.legend, last);
  }

  _bar(c, volume) {
    if (!volume) return {time: c.time, open: c.open, high: c.high, low: c.low, close: c.close};
    return {time: c.time, value: c.volume, color: c.close >= c.open ? VOLUME_UP : VOLUME_DOWN};
  }

  _hover(param) {
    const candle = param.time === undefined ? null
      : this.candles.find((c) => c.time === param.time);
    if (!candle || !param.point) {
      this.tooltip.hidden = true;
      this._describe(this.legend, this.candles[this.candles.length - 1]);
      return;
    }
    this._describe(this.legend, candle);
    this._describe(this.tooltip, candle);
    this.tooltip.hidden = false;
    const width = this.box.clientWidth;
    const x = param.point.x + 16 + 180 > width ? param.point.x - 196 : param.point.x + 16;
    this.tooltip.style.left = Math.max(0, x) + "px";
    this.tooltip.style.top = Math.max(0, param.point.y - 20) + "px";
  }

  /* Time, open, high, low, close and volume of one candle, into ``target``. */
  _describe(target, candle) {
    if (!candle) { target.replaceChildren(); return; }
    const d = this.info ? this.info.decimals : 2;
    const parts = [el("span", "c-time", when(candle.time, this.range))];
    const fields = [
      [gettext("Open"), number(candle.open, d), "c-open"],
      [gettext("High"), number(candle.high, d), "c-high"],
      [gettext("Low"), number(candle.low, d), "c-low"],
      [gettext("Close"), number(candle.close, d), "c-close"],
    ];
    if (!this.info || this.info.kind !== "fund") {
      fields.push([gettext("Volume"), number(candle.volume, 0), "c-volume"]);
    }
    for (const [label, value, className] of fields) {
      const item = el("span", "c-field " + className);
      item.append(el("span", "c-label", label + " "), el("span", "c-value", value));
      parts.push(item);
    }
    target.replaceChildren(...parts);
    target.classList.toggle("down", candle.close < candle.open);
  }
}
