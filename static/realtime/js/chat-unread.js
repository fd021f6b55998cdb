/*
 * Unread state: counts on the room list, and in a room the read mark and the
 * "new since you were here" line.
 *
 * The server counts a room's unread messages at one seq (chat.unread, also
 * in the chat.unreads snapshot); from there the page counts chat.activity
 * frames itself: others' messages after the mark add one, their deletions
 * take one away. A newer mark (read in another tab or device) arrives as a
 * chat.unread and replaces the count, keeping the activity that came after
 * its seq.
 */
import {el} from "./client.js";

const CAP = 100;  // the server counts up to this: "99+"
const KEPT = 500;  // activity frames kept per room past its count

export function unreadText(count) {
  if (count >= CAP) return gettext("99+ unread");
  return interpolate(ngettext("%s unread", "%s unread", count), [count]);
}

/* The room list's counts: ``me`` is the reader's user id. */
export function lobbyUnread(socket, me) {
  const rooms = new Map();  // slug -> {base, baseSeq, read, events}
  const show = (slug) => {
    const state = rooms.get(slug);
    const node = document.querySelector(`.unread-count[data-unread="${CSS.escape(slug)}"]`);
    if (!state || !node) return;
    const count = counted(state, me);
    node.textContent = unreadText(count);
    node.dataset.count = String(count);
    node.hidden = count === 0;
  };
  const set = (f) => {
    const old = rooms.get(f.room);
    if (old && (f.read < old.read || (f.read === old.read && f.last_seq < old.baseSeq))) return;
    const events = old ? old.events.filter((e) => e.seq > f.last_seq) : [];
    rooms.set(f.room, {base: f.unread, baseSeq: f.last_seq, read: f.read, events: events});
    show(f.room);
  };
  socket.on("chat.unreads", (f) => f.rooms.forEach(set));
  socket.on("chat.unread", set);
  socket.on("chat.activity", (f) => {
    const state = rooms.get(f.room);
    if (!state || f.seq <= state.baseSeq) return;
    if (state.events.length >= KEPT) state.events.shift();
    state.events.push(f);
    show(f.room);
  });
}

function counted(state, me) {
  let count = state.base;
  for (const e of state.events) {
    if (e.user === me || e.message_seq <= state.read) continue;
    if (e.event === "message") count += 1;
    else if (e.event === "delete") count -= 1;
  }
  return Math.max(count, 0);
}

/* A room: keep the reader's mark at what this visible tab has shown, and
 * draw the line above the first message from others since their last visit. */
export function roomReads(r) {
  const reads = {since: null, sent: 0, timer: null};
  const socket = r.socket;
  const markRead = () => {
    const seq = socket.lastSeq[r.stream] || 0;
    if (!r.me || document.visibilityState !== "visible" || seq <= reads.sent) return;
    clearTimeout(reads.timer);
    reads.timer = setTimeout(() => {
      const now = socket.lastSeq[r.stream] || 0;
      if (now <= reads.sent || socket.state !== "live") return;
      reads.sent = now;
      socket.send({type: "chat.read", seq: now});
    }, 300);
  };
  socket.on("chat.joined", (f) => {
    if (reads.since === null) reads.since = f.last_read;  // this visit's first join
    reads.sent = Math.max(reads.sent, f.last_read);
  });
  socket.on("chat.history", (f) => {
    if (!f.before) placeMarker(r, reads.since);
    markRead();
  });
  for (const kind of ["chat.reset", "chat.message", "chat.edit", "chat.delete", "chat.react"]) {
    socket.on(kind, markRead);
  }
  document.addEventListener("visibilitychange", markRead);
}

function placeMarker(r, since) {
  for (const old of r.list.querySelectorAll(".chat-new-marker")) old.remove();
  if (!since) return;  // a first visit: everything is new
  const first = [...r.list.querySelectorAll(".chat-msg")].find((li) =>
    Number(li.dataset.seq) > since && li.dataset.user !== String(r.me && r.me.id));
  if (!first) return;
  const marker = el("li", "chat-new-marker");
  marker.append(el("span", "", gettext("New since you were here")));
  first.before(marker);
}
