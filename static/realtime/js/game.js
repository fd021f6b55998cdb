/* Gomoku pages: the live lobby, a live board, and a finished game's replay.
 * The server is the referee: the board shows only what the server said, and a
 * click only asks for a move. Names and chat are set with textContent. */
import {$, connect, el, readJson} from "./client.js";

const COLORS = {b: gettext("Black"), w: gettext("White")};
const REASONS = {
  five: gettext("five in a row"), full: gettext("full board"),
  resign: gettext("resignation"), timeout: gettext("time out"),
  abandon: gettext("opponent left"), aborted: gettext("aborted by a moderator"),
};

function link(text, href) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  return a;
}

function name(p) { return p ? p.name : "…"; }

const SIZE = 15;
const FILES = "abcdefghijklmno";

/* Renju notation: files a-o from the left, ranks 1-15 from the bottom. */
function coord(x, y) { return FILES[x] + (SIZE - y); }

/* A cell can be focused and read whether or not it can be played, so the
 * board never uses ``disabled``: aria-disabled says which cells are live. */
function setPlayable(cells, playable) {
  cells.forEach((cell, i) => cell.setAttribute("aria-disabled", String(!playable(i))));
}

/* The moves so far, "1. h8  2. i9 ...", newest in view; ``onPick(n)`` makes
 * each a button that shows the board after move n (the replay). */
function renderMoves(list, moves, current, onPick) {
  list.replaceChildren(...moves.map(([x, y, color], i) => {
    const item = document.createElement("li");
    const label = coord(x, y);
    const what = onPick ? document.createElement("button") : document.createElement("span");
    what.className = "move stone-" + color;
    what.textContent = label;
    if (onPick) {
      what.type = "button";
      what.addEventListener("click", () => onPick(i + 1));
    }
    if (i + 1 === current) what.setAttribute("aria-current", "step");
    item.append(what);
    return item;
  }));
  const shown = list.querySelector("[aria-current]");
  if (shown) shown.scrollIntoView({block: "nearest"});
}

/* Arrow keys move the focus over the board (one tab stop for the grid);
 * Enter or Space on a cell is the button's own click. */
function bindBoardKeys(cells) {
  let focus = Math.floor(cells.length / 2);
  cells.forEach((cell, i) => { cell.tabIndex = i === focus ? 0 : -1; });
  const steps = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1]};
  cells[0].parentElement.addEventListener("keydown", (event) => {
    let x = focus % SIZE, y = Math.floor(focus / SIZE);
    if (event.key in steps) {
      x = Math.max(0, Math.min(SIZE - 1, x + steps[event.key][0]));
      y = Math.max(0, Math.min(SIZE - 1, y + steps[event.key][1]));
    } else if (event.key === "Home") x = 0;
    else if (event.key === "End") x = SIZE - 1;
    else return;
    event.preventDefault();
    cells[focus].tabIndex = -1;
    focus = y * SIZE + x;
    cells[focus].tabIndex = 0;
    cells[focus].focus();
  });
  cells.forEach((cell, i) => cell.addEventListener("focus", () => {
    cells[focus].tabIndex = -1;
    focus = i;
    cell.tabIndex = 0;
  }));
}

/* Paint a board string ("." "b" "w", row by row) onto the grid's buttons. */
function paint(cells, board, last, line) {
  const winning = new Set((line || []).map(([x, y]) => y * 15 + x));
  cells.forEach((cell, i) => {
    cell.classList.toggle("b", board[i] === "b");
    cell.classList.toggle("w", board[i] === "w");
    cell.classList.toggle("win", winning.has(i));
    cell.classList.toggle("last", i === last);
    const x = i % SIZE, y = Math.floor(i / SIZE);
    const what = board[i] === "." ? gettext("empty") : COLORS[board[i]];
    cell.setAttribute("aria-label", coord(x, y) + ": " + what);
    cell.dataset.x = x;
    cell.dataset.y = y;
  });
}

function formatMs(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  return Math.floor(total / 60) + ":" + String(total % 60).padStart(2, "0");
}

function outcome(state) {
  if (state.status === "aborted") {
    return gettext("Aborted") + (state.note ? ": " + state.note : "");
  }
  const why = REASONS[state.reason] || state.reason;
  if (state.result === "draw") return gettext("Draw") + " (" + why + ")";
  const winner = state.result === "b" ? state.black : state.white;
  const won = winner
    ? interpolate(gettext("%(name)s wins as %(color)s"),
      {name: winner.name, color: COLORS[state.result]}, true)
    : interpolate(gettext("%s wins"), [COLORS[state.result]]);
  return won + " (" + why + ")";
}

// The lobby.

/* The open and the active games, from the lobby's list. */
function renderLobby(games, me) {
  const open = $("open-games"), active = $("active-games");
  open.replaceChildren();
  active.replaceChildren();
  for (const g of [...games.values()].sort((a, b) => a.id - b.id)) {
    const item = document.createElement("li");
    item.dataset.game = g.id;
    const title = "#" + g.id + " " + name(g.black) + " – " + name(g.white) +
      (g.clock ? " (" + g.clock + " min)" : "");
    if (g.status === "waiting") {
      const mine = g.black && g.black.name === me;
      item.append(link(title, "/game/" + g.id + "/"), " ",
        link(mine ? gettext("your game") : (me ? gettext("join") : gettext("watch")),
          "/game/" + g.id + "/"));
      open.append(item);
    } else if (g.status === "active") {
      item.append(link(title, "/game/" + g.id + "/"), " · ",
        interpolate(gettext("%s watching"), [g.spectators || 0]));
      active.append(item);
    }
  }
  if (!open.children.length) open.append(el("li", "empty", gettext("None yet.")));
  if (!active.children.length) active.append(el("li", "empty", gettext("None yet.")));
}

function lobby() {
  const games = new Map();
  const socket = connect("/ws/game/lobby/", {heartbeat: 25000});
  const me = document.body.dataset.user;

  function players(list) {
    $("players-online").replaceChildren(...list.map((p) => el("li", "", p.name)));
  }

  socket.on("lobby.snapshot", (frame) => {
    games.clear();
    for (const g of frame.games) games.set(g.id, g);
    players(frame.players);
    renderLobby(games, me);
  });
  socket.on("lobby.game", (frame) => {
    const g = frame.game, prev = games.get(g.id);
    if (prev && prev.seq > g.seq) return;  // an older state arriving late
    g.spectators = prev ? prev.spectators : 0;
    games.set(g.id, g);
    renderLobby(games, me);
  });
  socket.on("lobby.spectators", (frame) => {
    const g = games.get(frame.id);
    if (g) { g.spectators = frame.count; renderLobby(games, me); }
  });
  socket.on("lobby.players", (frame) => players(frame.players));
  socket.on("lobby.created", (frame) => { location.href = "/game/" + frame.id + "/"; });
  socket.on("error", (frame) => {
    if (!frame.detail) return;
    $("lobby-error").textContent = frame.detail;
    $("lobby-error").hidden = false;
  });
  const form = $("create-game");
  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      socket.send({type: "lobby.create", clock: Number($("create-clock").value)});
    });
  }
}

// A live board.

/* The page's state, shared by the parts below. */
function board() {
  const data = readJson("game-data");
  const g = {
    data: data,
    cells: [...document.querySelectorAll(".gomoku .cell")],
    socket: connect("/ws/game/" + data.game + "/", {heartbeat: 20000}),
    state: null,
    clockAt: 0,
    awayAt: {b: null, w: null},
  };
  onPlay(g);
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
  setPlayable(g.cells, (i) => myTurn && state.board[i] === ".");
  renderMoves($("move-list"), moves, moves.length, null);
  for (const c of ["b", "w"]) {
    const seat = $("seat-" + c);
    seat.querySelector(".name").textContent = name(c === "b" ? state.black : state.white);
    seat.classList.toggle("to-move", state.status === "active" && state.to_move === c);
    $("away-" + c).hidden = g.awayAt[c] === null || state.status !== "active";
  }
  let status;
  if (state.status === "waiting") status = gettext("Waiting for an opponent.");
  else if (state.status === "active") {
    status = myTurn ? gettext("Your move.")
      : interpolate(gettext("%s to move."), [COLORS[state.to_move]]);
  } else status = outcome(state);
  $("game-status").textContent = status;
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
      to_move: frame.to_move});
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
    setClock(g, frame.clock);
    render(g);
  });
  socket.on("game.over", (frame) => {
    if (!next(g, frame)) return;
    Object.assign(g.state, {status: frame.status, result: frame.result, reason: frame.reason,
      winner: frame.winner, line: frame.line, note: frame.note, to_move: null});
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

// A finished game's replay, move by move.

function replay() {
  const data = readJson("replay-data");
  const cells = [...document.querySelectorAll(".gomoku .cell")];
  const total = data.moves.length;
  let step = total;
  $("replay-total").textContent = String(total);

  function show(n) {
    step = Math.max(0, Math.min(total, n));
    const board = Array(225).fill(".");
    for (const [x, y, color] of data.moves.slice(0, step)) board[y * 15 + x] = color;
    const last = step ? data.moves[step - 1][1] * 15 + data.moves[step - 1][0] : -1;
    paint(cells, board.join(""), last, step === total ? data.line : []);
    setPlayable(cells, () => false);
    $("replay-step").textContent = String(step);
    renderMoves($("move-list"), data.moves, step, show);
  }

  // Left and right step through the game, Home and End jump to its ends.
  const keys = {ArrowLeft: () => step - 1, ArrowRight: () => step + 1, Home: () => 0, End: () => total};
  document.addEventListener("keydown", (event) => {
    if (!(event.key in keys) || event.target.closest("input, textarea, select")) return;
    event.preventDefault();
    show(keys[event.key]());
  });

  $("replay-first").addEventListener("click", () => show(0));
  $("replay-prev").addEventListener("click", () => show(step - 1));
  $("replay-next").addEventListener("click", () => show(step + 1));
  $("replay-last").addEventListener("click", () => show(total));
  show(total);
}

if ($("game-lobby")) lobby();
if ($("game-data")) board();
if ($("replay-data")) replay();
