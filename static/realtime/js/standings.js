/*
 * A competition's standings (/scores/competitions/<slug>/): asks /ws/scores/
 * for the table on every (re)connect and redraws it from each scores.standings
 * frame with a rev at least as high as the one shown. The checkbox switches
 * between the table with live matches counted as they stand and the one of
 * finished matches only; a row whose numbers changed flashes.
 */
import {$, connect, readJson, supported} from "./client.js";

(function () {
  const panel = $("standings");
  if (!panel) return;
  const competition = Number(panel.dataset.competition);
  const body = $("standings-rows");
  const withLive = $("standings-live");
  const note = $("standings-live-note");
  let table = readJson("standings-data");
  const CELLS = ["played", "won", "drawn", "lost", "goals_for", "goals_against",
    "goal_difference", "points"];

  function rowFor(r) {
    const row = $("table-row-template").content.firstElementChild.cloneNode(true);
    row.dataset.teamId = r.team.id;
    const link = row.querySelector(".team-link");
    link.href = r.team.url;
    link.textContent = r.team.name;
    return row;
  }

  function fill(row, r) {
    const before = row.dataset.numbers;
    row.querySelector(".pos").textContent = r.rank;
    const cells = row.querySelectorAll("td:not(.pos)");
    CELLS.forEach((name, i) => { cells[i].textContent = r[name]; });
    row.classList.toggle("live", r.live);
    row.querySelector(".live-mark").hidden = !r.live;
    row.dataset.numbers = CELLS.map((name) => r[name]).join(",");
    if (before && before !== row.dataset.numbers) {
      row.classList.remove("flash");
      void row.offsetWidth;  // restart the animation
      row.classList.add("flash");
    }
  }

  function render() {
    if (!table) return;
    const rows = withLive.checked ? table.live : table.final;
    note.hidden = !(withLive.checked && table.live_matches);
    const kept = new Map([...body.querySelectorAll(".standings-row")]
      .map((row) => [Number(row.dataset.teamId), row]));
    if (rows.length) body.querySelectorAll(".standings-empty").forEach((row) => row.remove());
    rows.forEach((r, i) => {
      const row = kept.get(r.team.id) || rowFor(r);
      kept.delete(r.team.id);
      if (body.children[i] !== row) body.insertBefore(row, body.children[i] || null);
      fill(row, r);
    });
    kept.forEach((row) => row.remove());
    panel.dataset.rev = table.rev;
  }

  // The server's rows are the live table: remember their numbers, so the
  // first change flashes.
  render();
  withLive.addEventListener("change", render);
  if (!supported) return;
  const socket = connect("/ws/scores/", {
    heartbeat: 25000,
    hello: () => ({type: "scores.standings", competition: competition}),
  });
  socket.on("scores.standings", (frame) => {
    if (frame.competition.id !== competition) return;
    if (table && frame.rev < table.rev) return;  // an older table
    table = frame;
    render();
  });
  window.Duplex.standings = socket;
})();
