/* What the Gomoku pages share: names of colours and reasons, coordinates,
 * painting a board, the move list, keyboard play, clocks and outcomes. */

export const COLORS = {b: gettext("Black"), w: gettext("White")};
export const REASONS = {
  five: gettext("five in a row"), full: gettext("full board"),
  resign: gettext("resignation"), timeout: gettext("time out"),
  abandon: gettext("opponent left"), aborted: gettext("aborted by a moderator"),
  agreement: gettext("draw agreed"),
};

export function link(text, href) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  return a;
}

export function name(p) { return p ? p.name : "…"; }

export const SIZE = 15;
const FILES = "abcdefghijklmno";

/* Renju notation: files a-o from the left, ranks 1-15 from the bottom. */
export function coord(x, y) { return FILES[x] + (SIZE - y); }

/* A cell can be focused and read whether or not it can be played, so the
 * board never uses ``disabled``: aria-disabled says which cells are live. */
export function setPlayable(cells, playable) {
  cells.forEach((cell, i) => cell.setAttribute("aria-disabled", String(!playable(i))));
}

/* The moves so far, "1. h8  2. i9 ...", newest in view; ``onPick(n)`` makes
 * each a button that shows the board after move n (the replay). */
export function renderMoves(list, moves, current, onPick) {
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
export function bindBoardKeys(cells) {
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
export function paint(cells, board, last, line) {
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

/* "5+3" (minutes per player, seconds added per move), or "no clock". */
export function timeControl(clock, increment) {
  return clock ? clock + "+" + (increment || 0) : gettext("no clock");
}

export function formatMs(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  return Math.floor(total / 60) + ":" + String(total % 60).padStart(2, "0");
}

export function outcome(state) {
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

