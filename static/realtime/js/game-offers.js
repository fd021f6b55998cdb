/* A live board's draw offers and swap2 opening: the frames, the buttons and
 * the sentences that say what happens. ``g`` is the board's state (game-board.js);
 * ``g.render()`` redraws after each change. */
import {$} from "./client.js";
import {name} from "./game-common.js";

export const CHOICE_PHASES = {choose: ["white", "black", "place2"], final: ["black", "white"]};

function seatOf(state, user) {
  if (user && state.black && state.black.id === user.id) return "b";
  if (user && state.white && state.white.id === user.id) return "w";
  return null;
}

function stonesOf(state) {
  return state.board.replace(/\./g, "").length;
}

/* What swap2 asks now, naming the player who acts; "" once it is over. */
export function phaseText(state) {
  const who = name(state.to_move === "b" ? state.black : state.white);
  const stones = stonesOf(state);
  switch (state.phase) {
    case "place3": return interpolate(gettext(
      "Swap2: %(name)s places three stones (black, white, black): stone %(n)s of 3."),
    {name: who, n: stones + 1}, true);
    case "choose": return interpolate(gettext(
      "Swap2: %(name)s chooses: play white, take black, or place two more stones."),
    {name: who}, true);
    case "place2": return interpolate(gettext(
      "Swap2: %(name)s places two more stones (white, then black): stone %(n)s of 2."),
    {name: who, n: stones - 2}, true);
    case "final": return interpolate(gettext("Swap2: %(name)s chooses a colour."),
      {name: who}, true);
    default: return "";
  }
}

/* The choice buttons for the player who chooses now, and the draw controls. */
export function renderOffers(g, mine) {
  const state = g.state, active = state.status === "active";
  const choices = active && mine === state.to_move ? CHOICE_PHASES[state.phase] || [] : [];
  for (const choice of ["white", "black", "place2"]) {
    $("choose-" + choice).hidden = !choices.includes(choice);
  }
  $("swap2-phase").textContent = active ? phaseText(state) : "";
  $("swap2-phase").hidden = !(active && state.phase);
  const offer = state.draw_offer, left = mine ? state.draw_offers_left[mine] : 0;
  // The server's limits: so many offers per game, and a stone between two.
  const played = mine && state.draw_offer_stones[mine] !== stonesOf(state);
  $("draw-offer").hidden = !(active && mine && !offer && left > 0 && played);
  $("draw-accept").hidden = $("draw-decline").hidden = !(active && mine && offer && offer !== mine);
  let text = "";
  if (active && offer) {
    text = offer === mine ? gettext("You offered a draw. A move withdraws it.")
      : interpolate(gettext("%s offers a draw."), [name(offer === "b" ? state.black : state.white)]);
  }
  $("draw-status").textContent = text;
  $("draw-status").hidden = !text;
}

/* "ann 1500 → 1520 (+20)" for each player of a rated game that ended. */
export function ratingsText(state) {
  if (!state.ratings || !state.ratings.b) return "";
  return ["b", "w"].map((c) => {
    const [before, after] = state.ratings[c];
    const diff = after - before;
    return name(c === "b" ? state.black : state.white) + " " + before + " → " + after +
      " (" + (diff >= 0 ? "+" : "") + diff + ")";
  }).join(" · ");
}

/* The frames of draw offers and of swap2's choices. */
export function onOffers(g) {
  const socket = g.socket;
  socket.on("game.draw_offered", (frame) => {
    if (!g.next(frame)) return;
    const color = seatOf(g.state, frame.by);
    g.state.draw_offer = color;
    if (color) {
      g.state.draw_offers_left[color] -= 1;
      g.state.draw_offer_stones[color] = stonesOf(g.state);
    }
    g.render();
  });
  socket.on("game.draw_declined", (frame) => {
    if (!g.next(frame)) return;
    g.state.draw_offer = null;
    g.render();
  });
  socket.on("game.opening", (frame) => {
    if (!g.next(frame)) return;
    Object.assign(g.state, {black: frame.black, white: frame.white, phase: frame.phase,
      to_move: frame.to_move});
    g.setClock(frame.clock);
    g.render();
  });
  for (const choice of ["white", "black", "place2"]) {
    $("choose-" + choice).addEventListener("click",
      () => socket.send({type: "game.choose", choice: choice}));
  }
  $("draw-offer").addEventListener("click", () => socket.send({type: "game.draw_offer"}));
  $("draw-accept").addEventListener("click", () => socket.send({type: "game.draw_accept"}));
  $("draw-decline").addEventListener("click", () => socket.send({type: "game.draw_decline"}));
}
