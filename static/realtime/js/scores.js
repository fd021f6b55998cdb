/*
 * Live scores: /scores/ (data-subscribe="all") and /scores/<id>/ (one id).
 * Subscribes on every (re)connect, so a returning page gets the current state;
 * keeps the highest rev per match; flashes the score when it changes; keeps
 * live matches (and the competitions that have one) on top of the list.
 * Kick-off times are shown in the viewer's own time zone, and status labels
 * come from the page (in its language), not from the socket.
 * The teams panel filters as one types, and its follow buttons post without
 * leaving the page (the forms still work without this script).
 */
import {connect, supported} from "./client.js";

(function () {
  const lang = document.documentElement.lang || undefined;
  const clock = new Intl.DateTimeFormat(lang, {hour: "2-digit", minute: "2-digit", hourCycle: "h23"});
  const day = new Intl.DateTimeFormat(lang, {month: "short", day: "numeric"});
  const labels = document.getElementById("scores-labels");
  const LABELS = labels ? JSON.parse(labels.textContent) : {status: {}, event: {}};

  // "20:00" today, "3 Dec 20:00" on another day, both in local time.
  function showKickoff(node) {
    const at = new Date(node.getAttribute("datetime"));
    if (isNaN(at)) return;
    const sameDay = at.toDateString() === new Date().toDateString();
    node.textContent = (sameDay ? "" : day.format(at) + " ") + clock.format(at);
  }
  document.querySelectorAll("time.kickoff").forEach(showKickoff);
  teamsPanel();

  function teamsPanel() {
    const filter = document.getElementById("team-filter");
    const list = document.getElementById("team-list");
    if (!filter || !list) return;
    const none = document.getElementById("team-none");
    const apply = () => {
      const words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      let shown = 0;
      for (const item of list.children) {
        const hit = words.every((w) => item.dataset.search.includes(w));
        item.hidden = !hit;
        if (hit) shown += 1;
      }
      none.hidden = shown > 0;
    };
    filter.addEventListener("input", apply);
    filter.form.addEventListener("submit", (event) => { event.preventDefault(); apply(); });
    list.addEventListener("submit", (event) => {
      event.preventDefault();
      follow(event.target, list.dataset);
    });
  }

  // One follow form: post it as fetch, then turn it into its opposite.
  async function follow(form, labels) {
    const button = form.querySelector(".follow-button");
    button.disabled = true;
    try {
      const reply = await fetch(form.action, {
        method: "POST", body: new FormData(form), headers: {Accept: "application/json"},
      });
      if (!reply.ok) throw new Error(String(reply.status));
      const following = (await reply.json()).following;
      form.action = form.action.replace(following ? "/follow/" : "/unfollow/",
        following ? "/unfollow/" : "/follow/");
      button.dataset.following = String(following);
      button.classList.toggle("following", following);
      button.textContent = following ? labels.unfollow : labels.follow;
    } catch (error) {
      form.submit();  // the page's own answer, with its message
    } finally {
      button.disabled = false;
    }
  }

  const board = document.getElementById("scores-board");
  if (!board || !supported) return;
  const choice = board.dataset.subscribe;
  const matches = choice === "all" ? "all" : [Number(choice)];
  const revs = {};
  const RANK = {live: 0, half_time: 0, scheduled: 1, finished: 2};  // views.ORDER

  // Rows, competitions and timeline events as the server renders them: the
  // page's <template>s hold the same includes, empty; apply() fills them in.
  function copyOf(id) {
    return document.getElementById(id).content.firstElementChild.cloneNode(true);
  }

  function newRow(m) {
    const row = copyOf("match-row-template");
    row.dataset.matchId = m.id;
    row.querySelector(".match-link").setAttribute("href", m.url);
    const kickoff = row.querySelector(".kickoff");
    kickoff.setAttribute("datetime", m.kickoff);
    showKickoff(kickoff);
    return row;
  }

  function groupFor(m) {
    let section = board.querySelector(`[data-competition-id="${m.competition.id}"]`);
    if (!section) {
      const empty = document.getElementById("no-matches");
      if (empty) empty.remove();
      section = copyOf("competition-template");
      section.dataset.competitionId = m.competition.id;
      section.querySelector("h2").textContent = m.competition.name;
      section.querySelector(".standings-link").href =
        "/scores/competitions/" + encodeURIComponent(m.competition.slug) + "/";
      board.append(section);
    }
    return section.querySelector(".match-list");
  }

  // Live first, then upcoming, then finished; by kick-off within each.
  function rowOrder(a, b) {
    const at = (row) => Date.parse(row.querySelector(".kickoff").getAttribute("datetime"));
    return RANK[a.dataset.status] - RANK[b.dataset.status] || at(a) - at(b);
  }

  function sectionOrder(a, b) {
    const quiet = (s) => (s.querySelector('[data-status="live"], [data-status="half_time"]') ? 0 : 1);
    const name = (s) => s.querySelector("h2").textContent;
    return quiet(a) - quiet(b) || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);
  }

  // The others are in order already: move this one, and only if it is out of
  // place, so unchanged rows keep their animation.
  function place(item, selector, order) {
    const parent = item.parentNode;
    const next = [...parent.querySelectorAll(`:scope > ${selector}`)]
      .find((other) => other !== item && order(item, other) < 0) || null;
    if (next ? item.nextElementSibling !== next : parent.lastElementChild !== item) {
      parent.insertBefore(item, next);
    }
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
      const item = copyOf("event-template");
      item.className = "event event-" + e.kind + side;
      item.querySelector(".event-minute").textContent = e.minute + "'";
      item.querySelector(".event-kind").textContent = LABELS.event[e.kind] || e.kind;
      item.querySelector(".event-player").textContent = e.player;
      item.querySelector(".event-detail").textContent = e.detail;
      list.append(item);
    }
    if (!m.events.length) list.append(copyOf("no-events-template"));
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
    row.querySelector(".match-status").textContent = LABELS.status[m.status] || m.status_label;
    row.querySelector(".match-minute").textContent = m.status === "live" ? m.minute + "'" : "";
    row.querySelector(".team.home").textContent = m.home.name;
    row.querySelector(".team.away").textContent = m.away.name;
    home.textContent = m.home.score;
    away.textContent = m.away.score;
    if (matches === "all") {
      place(row, ".match-row", rowOrder);
      place(row.closest(".competition"), ".competition", sectionOrder);
    }
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
