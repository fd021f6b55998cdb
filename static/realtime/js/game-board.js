/* A live board. The server is the referee: the board shows only what the
 * server said, and a click only asks for a move. */
import {$, connect, el, readJson} from "./client.js";
import {COLORS, SIZE, bindBoardKeys, formatMs, name, outcome, paint, renderMoves, setPlayable,
  timeControl} from "./game-common.js";
import {CHOICE_PHASES, onOffers, phaseText, ratingsText, renderOffers} from "./game-offers.js";

// A live board.

/* The page's state, shared by the parts below. */
export function board() {
  const data = readJson("game-data");
  const g = {
    data: data,
    cells: [...document.querySelectorAll(".gomoku .cell")],
    socket: connect("/ws/game/" + data.game + "/", {heartbeat: 20000}),
    state: null,
    clockAt: 0,
    awayAt: {b: null, w: null},
  };
  g.next = (frame) => next(g, frame);
  g.setClock = (clock) => setClock(g, clock);
  g.render = () => render(g);
  onPlay(g);
  onOffers(g);
  onRematch(g);
  onRoom(g);
  bindControls(g);
  setInterval(() => tick(g), 250);
}

function myColor(g) {
  const state = g.state;
  if (!state || g.data.user === null) return null;
  if (state.black && state.black.id === g.data.user) return "b";
  if (state.white && state.white.id === g.data.user) return "w";
  return null;
}

/* Apply a reliable event only if it is the next one; a hole asks for a sync. */
function next(g, frame) {
  if (!g.state || frame.seq <= g.state.seq) return false;
  if (frame.seq > g.state.seq + 1) {
    g.socket.send({type: "game.sync", after: g.state.seq});
    return false;
  }
  g.state.seq = frame.seq;
  return true;
}

function setClock(g, clock) {
  if (!clock) return;
  g.state.clock = clock;
  g.clockAt = Date.now();
}

function tick(g) {
  if (!g.state) return;
  tickClocks(g);
  tickOpponent(g);
}

function tickClocks(g) {
  const state = g.state;
  for (const c of ["b", "w"]) {
    const ms = state.clock[c === "b" ? "black_ms" : "white_ms"];
    const shown = $("clock-" + c);
    if (ms === null || ms === undefined) { shown.textContent = "–"; continue; }
    const left = state.clock.running === c ? ms - (Date.now() - g.clockAt) : ms;
    shown.textContent = formatMs(left);
    shown.classList.toggle("low", left < 10000);
  }
}

/* An opponent gone past the grace period: the win may be claimed. */
function tickOpponent(g) {
  const state = g.state;
  const mine = myColor(g);
  const theirs = mine === "b" ? "w" : "b";
  const gone = mine && state.status === "active" && g.awayAt[theirs] !== null;
  const claimable = gone && Date.now() - g.awayAt[theirs] >= state.grace * 1000;
  $("opponent-status").hidden = !gone;
  if (gone) {
    const wait = Math.ceil((state.grace * 1000 - (Date.now() - g.awayAt[theirs])) / 1000);
    $("opponent-status").textContent = claimable
      ? gettext("Opponent disconnected. You may claim the win.")
      : interpolate(gettext("Opponent disconnected. You may claim the win in %s s."), [wait]);
  }
  $("claim").hidden = !claimable;
}

function render(g) {
  const state = g.state;
  const moves = state.moves;
  const last = moves.length ? moves[moves.length - 1][1] * SIZE + moves[moves.length - 1][0] : -1;
  paint(g.cells, state.board, last, state.line);
  const mine = myColor(g);
  const myTurn = state.status === "active" && mine === state.to_move;
  const choosing = state.phase in CHOICE_PHASES;
  setPlayable(g.cells, (i) => myTurn && !choosing && state.board[i] === ".");
  renderMoves($("move-list"), moves, moves.length, null);
  for (const c of ["b", "w"]) {
    const seat = $("seat-" + c);
    seat.querySelector(".name").textContent = name(c === "b" ? state.black : state.white);
    seat.classList.toggle("to-move", state.status === "active" && state.to_move === c);
    $("away-" + c).hidden = g.awayAt[c] === null || state.status !== "active";
  }
  let status;
  if (state.status === "waiting") status = gettext("Waiting for an opponent.");
  else if (state.status === "active" && state.phase) status = phaseText(state);
  else if (state.status === "active") {
    status = myTurn ? gettext("Your move.")
      : interpolate(gettext("%s to move."), [COLORS[state.to_move]]);
  } else status = outcome(state);
  $("game-status").textContent = status;
  $("game-ratings").textContent = ratingsText(state);
  const rules = [timeControl(state.minutes, state.increment)];
  rules.push(state.opening === "swap2" ? gettext("swap2") : gettext("freestyle"));
  rules.push(state.rated ? gettext("rated") : gettext("unrated"));
  $("game-rules").textContent = rules.join(" · ");
  renderOffers(g, mine);
  $("game-app").dataset.status = state.status;
  renderButtons(g, mine);
  tick(g);
}

/* Join, resign, rematch and the links that depend on the game's status. */
function renderButtons(g, mine) {
  const state = g.state, user = g.data.user;
  $("join-game").hidden = !(state.status === "waiting" && user !== null && !mine);
  $("resign").hidden = !(state.status === "active" && mine);
  const rematch = $("rematch");
  rematch.hidden = !(state.status === "finished" && mine && !state.rematch);
  const offeredBy = state.rematch_offered_by;
  rematch.disabled = !!(offeredBy && offeredBy.id === user);
  rematch.textContent = offeredBy && offeredBy.id !== user
    ? interpolate(gettext("Accept %s's rematch"), [offeredBy.name])
    : offeredBy ? gettext("Rematch offered") : gettext("Offer a rematch");
  $("rematch-link").hidden = !state.rematch;
  if (state.rematch) $("rematch-link").href = "/game/" + state.rematch + "/";
  $("replay-link").hidden = !(state.status === "finished" || state.status === "aborted");
}

/* The game itself: the snapshot, then its reliable events in seq order. */
function onPlay(g) {
  const socket = g.socket;
  socket.on("game.snapshot", (frame) => {
    g.state = frame.game;
    g.state.seq = frame.seq;
    g.clockAt = Date.now();
    for (const c of ["b", "w"]) {
      g.awayAt[c] = g.state.away[c] ? Date.parse(g.state.away[c]) : null;
    }
    render(g);
  });
  socket.on("game.started", (frame) => {
    if (!next(g, frame)) return;
    Object.assign(g.state, {status: "active", black: frame.black, white: frame.white,
      to_move: frame.to_move, phase: frame.phase});
    setClock(g, frame.clock);
    render(g);
  });
  socket.on("game.move", (frame) => {
    if (!next(g, frame)) return;
    const state = g.state;
    const i = frame.y * 15 + frame.x;
    state.board = state.board.slice(0, i) + frame.color + state.board.slice(i + 1);
    state.moves.push([frame.x, frame.y, frame.color, frame.seq]);
    state.to_move = "to_move" in frame ? frame.to_move : (frame.color === "b" ? "w" : "b");
    if ("phase" in frame) state.phase = frame.phase;
    state.draw_offer = null;  // a move withdraws a pending draw offer
    setClock(g, frame.clock);
    render(g);
  });
  socket.on("game.over", (frame) => {
    if (!next(g, frame)) return;
    Object.assign(g.state, {status: frame.status, result: frame.result, reason: frame.reason,
      winner: frame.winner, line: frame.line, note: frame.note, to_move: null,
      ratings: frame.ratings, draw_offer: null});
    setClock(g, frame.clock);
    render(g);
  });
}

function onRematch(g) {
  g.socket.on("game.rematch_offered", (frame) => {
    if (!next(g, frame)) return;
    g.state.rematch_offered_by = frame.by;
    render(g);
  });
  g.socket.on("game.rematch", (frame) => {
    if (!next(g, frame)) return;
    g.state.rematch = frame.game;
    render(g);
    if (myColor(g)) location.href = "/game/" + frame.game + "/";
  });
}

/* Around the game: players' presence, watchers, chat, errors, a refusal. */
function onRoom(g) {
  const socket = g.socket;
  socket.on("game.presence", (frame) => {
    if (!g.state) return;
    g.awayAt[frame.color] = frame.online ? null : Date.now();
    render(g);
  });
  socket.on("game.watchers", (frame) => { $("watchers").textContent = String(frame.count); });
  const said = new Set();  // chat line ids shown: history and live may overlap
  const line = (frame) => {
    if (said.has(frame.id)) return;
    said.add(frame.id);
    const role = " (" + (COLORS[frame.role] || gettext("spectator")) + ") ";
    const item = document.createElement("li");
    item.dataset.id = frame.id;
    item.append(el("strong", "", frame.user.name), el("span", "role", role), el("span", "", frame.text));
    const log = $("chat-log");
    const later = [...log.children].find((other) => Number(other.dataset.id) > frame.id);
    log.insertBefore(item, later || null);  // in the order said, whatever came first
    log.scrollTop = log.scrollHeight;
  };
  socket.on("game.chat", line);
  socket.on("game.chat_history", (frame) => frame.lines.forEach(line));
  socket.on("error", (frame) => {
    if (!frame.detail) return;
    $("game-error").textContent = frame.detail;
    $("game-error").hidden = false;
    setTimeout(() => { $("game-error").hidden = true; }, 4000);
  });
  socket.on("socket:refused", (refusal) => {
    $("game-status").textContent = refusal.reason || gettext("The server closed the game.");
    setPlayable(g.cells, () => false);
  });
}

/* The board's cells and buttons only ask the server; its answer redraws. */
function bindControls(g) {
  const socket = g.socket;
  bindBoardKeys(g.cells);
  g.cells.forEach((cell) => cell.addEventListener("click", () => {
    if (!g.state || cell.getAttribute("aria-disabled") === "true") return;
    socket.send({type: "game.move", x: Number(cell.dataset.x), y: Number(cell.dataset.y),
      seq: g.state.seq});
  }));
  $("join-game").addEventListener("click", () => socket.send({type: "game.join"}));
  $("resign").addEventListener("click", () => {
    if (confirm(gettext("Resign this game?"))) socket.send({type: "game.resign"});
  });
  $("claim").addEventListener("click", () => socket.send({type: "game.claim"}));
  $("rematch").addEventListener("click", () => socket.send({type: "game.rematch"}));
  const chat = $("chat-form");
  if (chat) {
    chat.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = $("chat-text").value.trim();
      if (text) socket.send({type: "game.chat", text: text});
      $("chat-text").value = "";
    });
  }
}

