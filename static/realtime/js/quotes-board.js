/*
 * The quotes board's own controls around the shared board of quotes.js:
 * the candle chart (quotes-chart.js), a symbol search that adds to the board,
 * and per row "Alert me" and "Remove" buttons; "Alert me" fills the price
 * alert form, which posts to /notifications/alerts/ (alerts fire once per
 * crossing, realtime/notifications/alerts.py).
 *
 *   import {startBoard} from "./quotes-board.js";
 *   startBoard({socket: "board-ws"});   // or {polling: "board-poll"}
 */
import {$, el} from "./client.js";
import {start} from "./quotes.js";
import {CandleChart} from "./quotes-chart.js";

const MAX_RESULTS = 8;

function format(text, values) {
  return window.interpolate ? window.interpolate(text, values, true)
    : text.replace(/%\((\w+)\)s/g, (m, key) => values[key]);
}

/* Type part of a symbol or name; pick a match or press Enter to add it. */
class SymbolSearch {
  constructor(form, app) {
    this.form = form;
    this.app = app;
    this.input = form.querySelector("input[type=search]");
    this.results = form.querySelector(".quote-search-results");
    this.message = form.querySelector(".quote-search-message");
    this.input.addEventListener("input", () => this.render());
    form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
  }

  matches() {
    const q = this.input.value.trim().toLowerCase();
    if (!q) return [];
    return this.app().instruments().filter((i) => i.symbol.toLowerCase().includes(q)
      || i.name.toLowerCase().includes(q)).slice(0, MAX_RESULTS);
  }

  render() {
    const watched = this.app().watched();
    this.results.replaceChildren(...this.matches().map((info) => {
      const item = el("li");
      const label = info.symbol + " " + info.name;
      if (watched.includes(info.symbol)) {
        item.append(el("span", "", label + " · " + gettext("on the board")));
      } else {
        const button = el("button", "link-button", label);
        button.type = "button";
        button.addEventListener("click", () => this.add(info.symbol));
        item.append(button);
      }
      return item;
    }));
  }

  submit() {
    const text = this.input.value.trim();
    if (!text) return;
    const exact = this.app().instruments().find((i) => i.symbol === text.toUpperCase());
    const found = this.matches();
    if (exact) this.add(exact.symbol);
    else if (found.length === 1) this.add(found[0].symbol);
    else if (!found.length) {
      this.say(format(gettext("No symbol “%(text)s” is known to the feed."), {text: text.toUpperCase()}), true);
    } else this.say(gettext("Several symbols match: pick one below."), true);
  }

  add(symbol) {
    const app = this.app();
    const watched = app.watched();
    if (watched.includes(symbol)) {
      this.say(format(gettext("%(symbol)s is already on the board."), {symbol: symbol}), true);
      return;
    }
    const max = app.maxSubscriptions;
    if (watched.length >= max) {
      this.say(format(gettext("At most %(max)s instruments at once."), {max: max}), true);
      return;
    }
    app.setWatched(watched.concat([symbol]));
    for (const board of app.boards) board.select(symbol);
    this.input.value = "";
    this.render();
    this.say(format(gettext("%(symbol)s added to the board."), {symbol: symbol}), false);
  }

  say(text, error) {
    this.message.textContent = text;
    this.message.classList.toggle("error", error);
  }
}

/* The price alert form: symbol, direction, level; answers in its status line. */
class AlertForm {
  constructor(section) {
    this.section = section;
    this.form = section ? section.querySelector("form") : null;
    if (!this.form) return;
    this.status = this.form.querySelector(".quote-alert-status");
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.send(); });
  }

  open(symbol, info, quote) {
    if (!this.form) {
      this.section.scrollIntoView({block: "nearest"});
      this.section.querySelector("a").focus();
      return;
    }
    this.form.elements.symbol.value = symbol;
    const decimals = info ? info.decimals : 2;
    if (quote) this.form.elements.level.value = Number(quote.last).toFixed(decimals);
    this.status.textContent = "";
    this.form.elements.level.focus();
    this.form.elements.level.select();
  }

  send() {
    const data = new FormData(this.form);
    const direction = this.form.elements.direction;
    const said = direction.options[direction.selectedIndex].text;
    fetch(this.form.action, {method: "POST", body: data, headers: {Accept: "application/json"}})
      .then((r) => r.json().then((body) => [r.status, body]))
      .then(([status, body]) => {
        if (status === 201) {
          this.say(format(gettext("Alert set: %(symbol)s %(direction)s %(level)s."), {
            symbol: data.get("symbol").toUpperCase(), direction: said, level: data.get("level"),
          }), false);
        } else if (status === 401) {
          this.say(gettext("Log in to set price alerts."), true);
        } else {
          this.say(body.detail || gettext("That did not work."), true);
        }
      })
      .catch(() => this.say(gettext("That did not work."), true));
  }

  say(text, error) {
    this.status.textContent = text;
    this.status.classList.toggle("error", error);
  }
}

export function startBoard(options) {
  let app = null;
  const alerts = new AlertForm($("quote-alert"));
  function actions(symbol, cell) {
    const alert = el("button", "q-alert-me", gettext("Alert me"));
    alert.type = "button";
    alert.setAttribute("aria-label", format(gettext("Alert me about %(symbol)s"), {symbol: symbol}));
    alert.addEventListener("click", () => {
      const board = app.boards[0];
      board.select(symbol);
      alerts.open(symbol, board.instruments.get(symbol), board.quotes.get(symbol));
    });
    const remove = el("button", "q-remove", "×");
    remove.type = "button";
    remove.setAttribute("aria-label", format(gettext("Remove %(symbol)s from the board"), {symbol: symbol}));
    remove.addEventListener("click", () => app.setWatched(app.watched().filter((s) => s !== symbol)));
    cell.append(alert, remove);
  }
  const search = new SymbolSearch($("quote-search"), () => app);
  app = start({
    ...options,
    chart: (root) => new CandleChart(root.querySelector(".quote-chart-wrap")),
    actions: actions,
    hooks: {instruments: () => search.render()},
  });
  return app;
}
