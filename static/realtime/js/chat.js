/*
 * Chat pages: the room list's live online counts, and a room.
 *
 * A room resumes invisibly: every (re)open sends chat.join with the last seq
 * seen (socket.lastSeq), and the server replays what was missed, in order.
 * Everything a user wrote (messages, names, topics) enters the page through
 * textContent and DOM nodes built here: never as HTML.
 *
 * A message is sent as a request with its own id (cid): client.js sends it
 * again after a reconnect until the server acknowledges it, and the server
 * stores it once. A message the server refuses (rate limit, mute) goes back
 * into the box, so no text is lost.
 */
import {$, connect, el, readJson, supported} from "./client.js";
import {addMenu, messageActions, renderQuote, renderReactions, updateQuotes} from "./chat-menu.js";
import {lobbyUnread, roomReads} from "./chat-unread.js";

const MENTION = /@([\p{L}\p{N}_][\p{L}\p{N}_.+-]*)/gu;

if (supported && $("chat-lobby")) lobby();
if (supported && $("chat-room")) room(readJson("chat-config"));

function lobby() {
  const socket = connect("/ws/chat/", {heartbeat: 25000});
  const show = (r) => {
    for (const node of document.querySelectorAll(".online-count")) {
      if (node.dataset.online === r.slug) node.textContent = String(r.online);
    }
  };
  socket.on("chat.rooms", (frame) => frame.rooms.forEach(show));
  socket.on("chat.room", show);
  const me = Number($("chat-lobby").dataset.user || 0);
  if (me) lobbyUnread(socket, me);
  socket.on("chat.direct", showDirect);
}

/* A direct room started meanwhile (by either member): first in the list. */
function showDirect(f) {
  const list = $("direct-list");
  if (!list || [...list.children].some((li) => li.dataset.slug === f.room)) return;
  const link = el("a", "", f.with_user.name);
  link.href = "/chat/" + encodeURIComponent(f.room) + "/";
  const item = el("li", "room-card");
  item.dataset.slug = f.room;
  const title = el("h3");
  title.append(link);
  item.append(title);
  list.prepend(item);
  list.hidden = false;
  $("direct-none").hidden = true;
}

/* A room: the page's state, shared by the parts below. */
function room(cfg) {
  const r = {
    cfg: cfg,
    stream: cfg.slug,
    me: cfg.user,
    list: $("chat-messages"),
    log: $("chat-log"),
    input: $("chat-text"),
    items: new Map(),  // message id -> <li>
    typists: new Map(),  // user id -> [name, timer]
    firstSeq: 0,
    hasMore: false,
    loading: false,
    editing: null,
    replyTo: null,
    typedAt: 0,
    errorTimer: null,
    returned: 0,  // length of the refused texts at the start of the box
  };
  r.socket = connect("/ws/chat/" + encodeURIComponent(cfg.slug) + "/", {
    protocols: ["superchat"],
    heartbeat: 25000,
    hello: (s) => ({type: "chat.join", after: s.lastSeq[r.stream] || 0}),
  });
  window.chatSocket = r.socket;
  // Presence entries of a server that died expire there after 30 s; ask
  // again now and then so such a ghost leaves this list too.
  setInterval(() => { if (r.socket.state === "live") r.socket.send({type: "chat.who"}); }, 30000);
  onHistory(r);
  onMessages(r);
  onPresence(r);
  onTrouble(r);
  roomReads(r);
  fitToScreen(r);
  bindHistory(r);
  bindForm(r);
}

/* On a phone the log takes the height the rest of the page leaves, so the
 * message box is on screen without scrolling, however long the topic. */
function fitToScreen(r) {
  const phone = window.matchMedia("(max-width: 40rem)");
  const last = $("chat-form") || r.log.parentElement.querySelector(".notice") || r.log;
  const fit = () => {
    r.log.style.height = "";
    if (!phone.matches) return;
    const log = r.log.getBoundingClientRect();
    const below = last.getBoundingClientRect().bottom - log.bottom;
    const height = window.innerHeight - (log.top + window.scrollY) - below - 12;
    r.log.style.height = Math.max(height, 160) + "px";
    r.log.scrollTop = r.log.scrollHeight;
  };
  fit();
  window.addEventListener("resize", fit);
}

/* The room's history: the first page on join, earlier pages, a reset. */
function onHistory(r) {
  const socket = r.socket;
  socket.on("chat.history", (f) => {
    if (f.before) {
      prepend(r, f.messages);
    } else {
      replaceAll(r, f.messages);
      socket.lastSeq[r.stream] = f.last_seq;
    }
    r.hasMore = f.has_more;
    r.loading = false;
    $("load-earlier").hidden = !r.hasMore;
  });
  socket.on("chat.reset", (f) => {  // the gap was too old to replay: start over
    replaceAll(r, f.messages);
    socket.lastSeq[r.stream] = f.last_seq;
    r.hasMore = f.has_more;
    $("load-earlier").hidden = !r.hasMore;
  });
}

/* The reliable stream: new, edited and deleted messages, each seq once. */
function onMessages(r) {
  const socket = r.socket;
  socket.on("chat.message", (f) => {
    if (!socket.seen(r.stream, f.seq) || f.deleted) return;
    const log = r.log;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    r.list.append(render(r, f));
    if (!r.firstSeq) r.firstSeq = f.seq;
    if (atBottom || (r.me && f.user && f.user.id === r.me.id)) log.scrollTop = log.scrollHeight;
  });
  socket.on("chat.edit", (f) => {
    if (!socket.seen(r.stream, f.seq)) return;
    const li = r.items.get(f.id);
    if (!li) return;
    fillText(r, li.querySelector(".msg-body"), f.text);
    li.querySelector(".msg-edited").hidden = false;
    updateQuotes(r.list, f.id, f.text);
  });
  socket.on("chat.react", (f) => {
    if (!socket.seen(r.stream, f.seq)) return;
    const li = r.items.get(f.id);
    if (li) renderReactions(r, li, f.reactions);
  });
  socket.on("chat.delete", (f) => {
    if (!socket.seen(r.stream, f.seq)) return;
    const li = r.items.get(f.id);
    if (li) li.remove();
    r.items.delete(f.id);
    updateQuotes(r.list, f.id, null);
  });
}

/* Who is here, and who is typing. */
function onPresence(r) {
  const socket = r.socket;
  socket.on("chat.joined", (f) => {
    showPresence(r, f.members, f.online);
    if (f.muted_until !== null && f.muted_until !== undefined) showError(r, mutedText(f.muted_until, ""));
  });
  // One diff per room and second at most; rooms past 200 send no full list,
  // so the shown list follows the diffs and the count stays exact.
  socket.on("chat.presence", (f) => {
    if (f.members) showPresence(r, f.members, f.online);
    else applyPresenceDiff(r, f.joins || [], f.leaves || [], f.online);
  });
  socket.on("chat.typing", (f) => {
    if (r.me && f.user.id === r.me.id) return;
    const old = r.typists.get(f.user.id);
    if (old) clearTimeout(old[1]);
    r.typists.set(f.user.id, [f.user.name, setTimeout(() => { r.typists.delete(f.user.id); showTyping(r); }, 4000)]);
    showTyping(r);
  });
}

const REFUSALS = {
  4003: () => gettext("This room is private."),
  4004: () => gettext("This room does not exist."),
  4005: () => gettext("You were banned from this room."),
  4006: () => gettext("This room was closed."),
};

/* The server's reasons when no moderator wrote one (docs/protocol.md): the
 * page's own text above already says as much, in the reader's language. */
const SERVER_REASONS = new Set(["No such room.", "This room is private: members only.",
  "You are banned from this room.", "This room is closed.", "This room was closed."]);

/* Mutes, error frames, and a refusal (the server will not let us in). */
function onTrouble(r) {
  const socket = r.socket;
  socket.on("chat.muted", (f) => showError(r, mutedText(f.until, f.reason)));
  socket.on("error", (f) => showError(r, "until" in f ? mutedText(f.until, f.reason) : f.detail));
  socket.on("socket:refused", (refusal) => {
    const why = REFUSALS[refusal.code] ? REFUSALS[refusal.code]() : gettext("The server closed the connection.");
    const box = $("chat-refused");
    const reason = SERVER_REASONS.has(refusal.reason) ? "" : refusal.reason;
    box.textContent = why + (reason ? " " + gettext("Reason:") + " " + reason : "");
    box.hidden = false;
    box.dataset.code = String(refusal.code);
    for (const f of document.querySelectorAll("#chat-form, #chat-upload")) f.hidden = true;
  });
}

/* One message's <li>; user-written parts are text nodes. */
function render(r, m) {
  const li = el("li", "chat-msg" + (m.kind === "announcement" ? " announcement" : ""));
  li.id = "msg-" + m.id;
  li.dataset.seq = String(m.seq);
  li.dataset.user = String(m.user ? m.user.id : 0);
  const head = el("div", "msg-head");
  const author = m.kind === "announcement" ? gettext("Announcement") : m.user.name;
  head.append(authorName(m, author), " ");
  const at = new Date(m.at);
  const time = el("time", "msg-time", at.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"}));
  time.dateTime = m.at;
  time.title = at.toLocaleString();
  head.append(time, " ");
  const edited = el("span", "msg-edited", gettext("(edited)"));
  edited.hidden = !m.edited_at;
  head.append(edited);
  li.append(head);
  const body = el("div", "msg-body");
  fillText(r, body, m.text);
  li.append(body);
  if (m.image && m.image.startsWith("/")) {  // our own media URL, never a foreign one
    const img = el("img", "msg-image");
    img.src = m.image;
    img.alt = gettext("Image from") + " " + author;
    img.loading = "lazy";
    li.append(img);
  }
  renderQuote(li, m.reply_to);
  r.items.set(m.id, li);
  renderReactions(r, li, m.reactions || []);
  if (r.me) {  // Reply, React, Edit, Delete: one menu per message
    const handlers = {reply: (id) => startReply(r, id), edit: (id) => startEdit(r, id)};
    addMenu(head, m, () => messageActions(r, m, at, handlers));
  }
  return li;
}

/* The author's name, linked to their profile (announcements: no link). */
function authorName(m, author) {
  const node = el("strong", "msg-author");
  node.append(m.kind === "announcement" || !m.user.id ? author : profileLink(m.user.name));
  return node;
}

function profileLink(name) {
  const link = el("a", "profile-link", name);
  link.href = "/users/" + encodeURIComponent(name) + "/";
  return link;
}

function fillText(r, node, text) {
  node.textContent = "";
  let last = 0;
  for (const match of text.matchAll(MENTION)) {
    const name = match[1].replace(/[.+-]+$/, "");
    node.append(document.createTextNode(text.slice(last, match.index)));
    const mine = r.me && name === r.me.name;
    node.append(el("span", "mention" + (mine ? " mention-me" : ""), "@" + name));
    last = match.index + 1 + name.length;
  }
  node.append(document.createTextNode(text.slice(last)));
}

function replaceAll(r, messages) {
  r.list.textContent = "";
  r.items.clear();
  for (const m of messages) r.list.append(render(r, m));
  r.firstSeq = messages.length ? messages[0].seq : 0;
  r.log.scrollTop = r.log.scrollHeight;
}

function prepend(r, messages) {
  const before = r.log.scrollHeight;
  const nodes = messages.filter((m) => !r.items.has(m.id)).map((m) => render(r, m));
  r.list.prepend(...nodes);
  if (messages.length) r.firstSeq = messages[0].seq;
  r.log.scrollTop += r.log.scrollHeight - before;  // keep the reader's place
}

/* Earlier messages: the button, or scrolling to the top. */
function bindHistory(r) {
  const loadEarlier = () => {
    if (!r.hasMore || r.loading || !r.firstSeq) return;
    r.loading = true;
    r.socket.send({type: "chat.history", before: r.firstSeq});
  };
  $("load-earlier").addEventListener("click", loadEarlier);
  r.log.addEventListener("scroll", () => { if (r.log.scrollTop < 30) loadEarlier(); });
}

function memberItem(r, m) {
  const li = el("li", r.me && m.id === r.me.id ? "me" : "");
  li.append(profileLink(m.name));
  li.dataset.user = String(m.id);
  return li;
}

function showPresence(r, members, online) {
  const ul = $("presence-list");
  ul.textContent = "";
  for (const m of members) ul.append(memberItem(r, m));
  $("online-count").textContent = String(online);
}

function applyPresenceDiff(r, joins, leaves, online) {
  const ul = $("presence-list");
  for (const m of leaves) {
    const li = ul.querySelector(`li[data-user="${Number(m.id)}"]`);
    if (li) li.remove();
  }
  for (const m of joins) {
    if (ul.children.length >= 200 || ul.querySelector(`li[data-user="${Number(m.id)}"]`)) continue;
    ul.append(memberItem(r, m));
  }
  $("online-count").textContent = String(online);
}

function showTyping(r) {
  const names = [...r.typists.values()].map((t) => t[0]);
  $("chat-typing").textContent = names.length
    ? interpolate(gettext("%s is typing…"), [names.join(", ")]) : "";
}

/* "You are muted in this room until 1 Dec 2026, 21:12." in the reader's time
 * zone and language; ``until`` is ISO 8601, or null for a mute for good. */
function mutedText(until, reason) {
  const end = until ? new Date(until) : null;
  const when = end && !isNaN(end) ? new Intl.DateTimeFormat(document.documentElement.lang || undefined,
    {dateStyle: "medium", timeStyle: "short"}).format(end) : null;
  const text = when ? interpolate(gettext("You are muted in this room until %s."), [when])
    : gettext("You are muted in this room.");
  return reason ? text + " " + reason : text;
}

function showError(r, text) {
  const box = $("chat-error");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(r.errorTimer);
  r.errorTimer = setTimeout(() => { box.hidden = true; }, 8000);
}

/* A random id for a message, unique per sender (crypto.randomUUID needs
 * a secure context; getRandomValues does not). */
function messageId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/* Put a refused message back into the box: after the texts given back before
 * it (in the order they were sent), before what was typed since. */
function giveBack(r, text) {
  const input = r.input;
  const at = Math.min(r.returned, input.value.length);
  const head = input.value.slice(0, at);
  const tail = input.value.slice(at);
  const joined = (head ? head + " " : "") + text;
  input.value = joined + (tail && !tail.startsWith(" ") ? " " : "") + tail;
  r.returned = joined.length;
}

function startEdit(r, id) {
  const li = r.items.get(id);
  if (!li) return;
  stopReply(r);
  r.editing = id;
  r.input.value = li.querySelector(".msg-body").textContent;
  $("chat-cancel-edit").hidden = false;
  r.input.focus();
}

/* Answer a message: the bar above the box says which, until sent or cancelled. */
function startReply(r, id) {
  const li = r.items.get(id);
  if (!li) return;
  if (r.editing !== null) stopEdit(r);
  r.replyTo = id;
  const author = li.querySelector(".msg-author").textContent;
  const text = li.querySelector(".msg-body").textContent;
  $("chat-reply-text").textContent = interpolate(gettext("Replying to %s:"), [author]) + " " +
    (text.length > 80 ? text.slice(0, 79) + "…" : text);
  $("chat-reply").hidden = false;
  r.input.focus();
}

function stopReply(r) {
  r.replyTo = null;
  $("chat-reply").hidden = true;
}

function stopEdit(r) {
  r.editing = null;
  r.input.value = "";
  $("chat-cancel-edit").hidden = true;
}

/* The message form (send or edit), typing notices, and the image upload. */
function bindForm(r) {
  const form = $("chat-form");
  if (!form) return;
  const input = r.input;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (r.editing !== null) {
      r.socket.send({type: "chat.edit", id: r.editing, text: text});
      stopEdit(r);
    } else if (text) {
      const frame = {type: "chat.send", text: text, cid: messageId()};
      if (r.replyTo !== null) frame.reply_to = r.replyTo;
      r.socket.request(frame).catch(() => giveBack(r, text));
      input.value = "";
      r.returned = 0;
      stopReply(r);
    }
  });
  $("chat-cancel-edit").addEventListener("click", () => stopEdit(r));
  $("chat-cancel-reply").addEventListener("click", () => { stopReply(r); input.focus(); });
  input.addEventListener("input", () => {
    if (Date.now() - r.typedAt > 2500 && input.value) {
      r.typedAt = Date.now();
      r.socket.send({type: "chat.typing"});
    }
  });
  $("chat-upload").addEventListener("submit", (event) => upload(r, event));
}

async function upload(r, event) {
  event.preventDefault();
  const upForm = event.target;
  const file = $("chat-image").files[0];
  if (!file) return showError(r, gettext("Choose an image first."));
  if (file.size > r.cfg.max_image_bytes) return showError(r, gettext("That image is too big."));
  const response = await fetch(upForm.action, {
    method: "POST", body: new FormData(upForm), credentials: "same-origin",
  }).catch(() => null);
  if (!response) return showError(r, gettext("The upload failed; try again."));
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    return showError(r, body.detail || gettext("The upload failed."));
  }
  upForm.reset();  // the message itself arrives over the socket, like any other
}
