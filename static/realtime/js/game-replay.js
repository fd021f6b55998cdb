/* A finished game's replay, move by move (buttons, arrow keys, the move list). */
import {$, readJson} from "./client.js";
import {paint, renderMoves, setPlayable} from "./game-common.js";

// A finished game's replay, move by move.

export function replay() {
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

