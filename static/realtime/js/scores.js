/*
 * Live scores: /scores/ (data-subscribe="all") and /scores/<id>/ (one id).
 * Subscribes on every (re)connect, so a returning page gets the current state;
 * keeps the highest rev per match; flashes the score when it changes.
 */
import {connect, el, supported} from "./client.js";

(function () {
  const board = document.getElementById("scores-board");
  if (!board || !supported) return;
  const choice = board.dataset.subscribe;
  const matches = choice === "all" ? "all" : [Number(choice)];
  const revs = {};
  const KIND_LABELS = {
    kick_off: () => gettext("Kick-off"), goal: () => gettext("Goal"),
    card: () => gettext("Card"), substitution: () => gettext("Substitution"),
    half_time: () => gettext("Half-time"), full_time: () => gettext("Full-time"),
  };

  // A row as the server renders it: the page's <template> holds the same
  // _match.html include, empty; apply() fills in what changes.
  function newRow(m) {
    const template = document.getElementById("match-row-template");
    const row = template.content.firstElementChild.cloneNode(true);
    row.dataset.matchId = m.id;
    row.querySelector(".match-link").setAttribute("href", m.url);
    row.querySelector(".kickoff").setAttribute("datetime", m.kickoff);
    return row;
  }

  function groupFor(m) {
    let section = board.querySelector(`[data-competition-id="${m.competition.id}"]`);
    if (!section) {
      const empty = document.getElementById("no-matches");
      if (empty) empty.remove();
      section = el("section", "competition panel");
      section.dataset.competitionId = m.competition.id;
      section.append(el("h2", "", m.competition.name), el("ul", "match-list"));
      board.append(section);
    }
    return section.querySelector(".match-list");
  }

  function flash(node) {
    node.classList.remove("flash");
    void node.offsetWidth;  // restart the animation
    node.classList.add("flash");
  }

  function renderTimeline(m) {
    const list = document.getElementById("timeline");
    if (!list) return;
    list.textContent = "";
    for (const e of m.events) {
      const side = e.team === m.home.id ? " home" : e.team ? " away" : "";
      const item = el("li", "event event-" + e.kind + side);
      item.append(el("span", "event-minute", e.minute + "'"), " ",
        el("span", "event-kind", (KIND_LABELS[e.kind] || (() => e.kind))()), " ",
        el("span", "event-player", e.player), " ", el("span", "event-detail", e.detail));
      list.append(item);
    }
    if (!m.events.length) list.append(el("li", "event-empty", gettext("Nothing has happened yet.")));
  }

  function apply(m) {
    if (revs[m.id] !== undefined && m.rev < revs[m.id]) return;  // an older state
    revs[m.id] = m.rev;
    let row = board.querySelector(`.match-row[data-match-id="${m.id}"]`);
    if (!row) {
      if (matches !== "all") return;
      row = newRow(m);
      groupFor(m).append(row);
    }
    const home = row.querySelector(".home-score");
    const away = row.querySelector(".away-score");
    const before = home.textContent + "-" + away.textContent;
    row.dataset.status = m.status;
    row.dataset.rev = m.rev;
    row.querySelector(".match-status").textContent = m.status_label;
    row.querySelector(".match-minute").textContent = m.status === "live" ? m.minute + "'" : "";
    row.querySelector(".team.home").textContent = m.home.name;
    row.querySelector(".team.away").textContent = m.away.name;
    home.textContent = m.home.score;
    away.textContent = m.away.score;
    if (before !== "-" && before !== m.home.score + "-" + m.away.score) {
      flash(row.querySelector(".score"));
    }
    renderTimeline(m);
  }

  const socket = connect("/ws/scores/", {
    heartbeat: 25000,
    hello: () => ({type: "scores.subscribe", matches: matches}),
  });
  socket.on("scores.snapshot", (frame) => frame.matches.forEach(apply));
  socket.on("scores.match", (frame) => apply(frame.match));
  window.Duplex.scores = socket;
})();
