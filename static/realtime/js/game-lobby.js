/* The live lobby: open games, games in progress, players online, and the
 * seek pool (quick pairing). */
import {$, connect, el} from "./client.js";
import {link, name, timeControl} from "./game-common.js";

// The lobby.

/* The open and the active games, from the lobby's list. */
function renderLobby(games, me) {
  const open = $("open-games"), active = $("active-games");
  open.replaceChildren();
  active.replaceChildren();
  for (const g of [...games.values()].sort((a, b) => a.id - b.id)) {
    const item = document.createElement("li");
    item.dataset.game = g.id;
    const rules = [timeControl(g.clock, g.increment)];
    if (g.opening === "swap2") rules.push(gettext("swap2"));
    if (!g.rated) rules.push(gettext("unrated"));
    const title = "#" + g.id + " " + name(g.black) + " – " + name(g.white) +
      " (" + rules.join(" · ") + ")";
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

/* The seek pool: how many players seek each time control. */
function renderSeeks(seeks) {
  const list = $("seek-pool");
  if (!list) return;
  list.replaceChildren(...seeks.map((s) => el("li", "",
    interpolate(ngettext("%(count)s player seeks %(control)s", "%(count)s players seek %(control)s",
      s.count), {count: s.count, control: timeControl(s.clock, s.increment) +
      (s.rated ? "" : " · " + gettext("unrated"))}, true))));
  if (!seeks.length) list.append(el("li", "empty", gettext("Nobody is seeking.")));
}

/* Quick pairing: seek with a time control; the server pairs two seeks into a
 * started game and sends both players there. A seek lives as long as its
 * socket, so it is sent again after a reconnect (the hello). */
function bindSeek(socket, state) {
  const form = $("seek-game");
  if (!form) return;
  const status = $("seek-status"), cancel = $("seek-cancel");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const [clock, increment] = $("seek-control").value.split("+").map(Number);
    state.seek = {type: "lobby.seek", clock: clock, increment: increment,
      rated: $("seek-rated").checked};
    socket.send(state.seek);
  });
  cancel.addEventListener("click", () => {
    state.seek = null;
    socket.send({type: "lobby.cancel_seek"});
  });
  socket.on("lobby.seeking", (frame) => {
    if (!frame.seek) state.seek = null;
    cancel.hidden = !frame.seek;
    status.textContent = frame.seek
      ? interpolate(gettext("Seeking a %s game… You will be sent to it when paired."),
        [timeControl(frame.seek.clock, frame.seek.increment)])
      : gettext("Not seeking.");
  });
  socket.on("lobby.paired", (frame) => { location.href = "/game/" + frame.id + "/"; });
}

function bindCreate(socket) {
  const form = $("create-game");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    socket.send({type: "lobby.create", clock: Number($("create-clock").value),
      increment: Number($("create-increment").value), opening: $("create-opening").value,
      rated: $("create-rated").checked});
  });
}

export function lobby() {
  const games = new Map();
  const state = {seek: null};
  const socket = connect("/ws/game/lobby/", {heartbeat: 25000, hello: () => state.seek});
  const me = document.body.dataset.user;

  function players(list) {
    $("players-online").replaceChildren(...list.map((p) => el("li", "", p.name)));
  }

  socket.on("lobby.snapshot", (frame) => {
    games.clear();
    for (const g of frame.games) games.set(g.id, g);
    players(frame.players);
    renderSeeks(frame.seeks);
    renderLobby(games, me);
  });
  socket.on("lobby.seeks", (frame) => renderSeeks(frame.seeks));
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
  bindCreate(socket);
  bindSeek(socket, state);
}

