/*
 * Chat pages: the room list's live online counts, and a room.
 *
 * A room resumes invisibly: every (re)open sends chat.join with the last seq
 * seen (socket.lastSeq), and the server replays what was missed, in order.
 * Everything a user wrote (messages, names, topics) enters the page through
 * textContent and DOM nodes built here: never as HTML.
 */
import {$, connect, el, readJson, supported} from "./client.js";

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
}

function room(cfg) {
  const stream = cfg.slug;
  const me = cfg.user;
  const list = $("chat-messages");
  const log = $("chat-log");
  const form = $("chat-form");
  const input = $("chat-text");
  const items = new Map();  // message id -> <li>
  const typists = new Map();  // user id -> [name, timer]
  let firstSeq = 0;
  let hasMore = false;
  let loading = false;
  let editing = null;
  let typedAt = 0;

  const socket = connect("/ws/chat/" + encodeURIComponent(cfg.slug) + "/", {
    protocols: ["superchat"],
    heartbeat: 25000,
    hello: (s) => ({type: "chat.join", after: s.lastSeq[stream] || 0}),
  });
  window.chatSocket = socket;
  // Presence entries of a server that died expire there after 30 s; ask
  // again now and then so such a ghost leaves this list too.
  setInterval(() => { if (socket.state === "live") socket.send({type: "chat.who"}); }, 30000);

  socket.on("chat.joined", (f) => {
    showPresence(f.members, f.online);
    if (f.muted_until !== null && f.muted_until !== undefined) showError(gettext("You are muted in this room."));
  });
  socket.on("chat.history", (f) => {
    if (f.before) {
      prepend(f.messages);
    } else {
      replaceAll(f.messages);
      socket.lastSeq[stream] = f.last_seq;
    }
    hasMore = f.has_more;
    loading = false;
    $("load-earlier").hidden = !hasMore;
  });
  socket.on("chat.reset", (f) => {  // the gap was too old to replay: start over
    replaceAll(f.messages);
    socket.lastSeq[stream] = f.last_seq;
    hasMore = f.has_more;
    $("load-earlier").hidden = !hasMore;
  });
  socket.on("chat.message", (f) => {
    if (!socket.seen(stream, f.seq) || f.deleted) return;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    list.append(render(f));
    if (!firstSeq) firstSeq = f.seq;
    if (atBottom || (me && f.user && f.user.id === me.id)) log.scrollTop = log.scrollHeight;
  });
  socket.on("chat.edit", (f) => {
    if (!socket.seen(stream, f.seq)) return;
    const li = items.get(f.id);
    if (!li) return;
    fillText(li.querySelector(".msg-body"), f.text);
    li.querySelector(".msg-edited").hidden = false;
  });
  socket.on("chat.delete", (f) => {
    if (!socket.seen(stream, f.seq)) return;
    const li = items.get(f.id);
    if (li) li.remove();
    items.delete(f.id);
  });
  // One diff per room and second at most; rooms past 200 send no full list,
  // so the shown list follows the diffs and the count stays exact.
  socket.on("chat.presence", (f) => {
    if (f.members) showPresence(f.members, f.online);
    else applyPresenceDiff(f.joins || [], f.leaves || [], f.online);
  });
  socket.on("chat.typing", (f) => {
    if (me && f.user.id === me.id) return;
    const old = typists.get(f.user.id);
    if (old) clearTimeout(old[1]);
    typists.set(f.user.id, [f.user.name, setTimeout(() => { typists.delete(f.user.id); showTyping(); }, 4000)]);
    showTyping();
  });
  socket.on("chat.muted", (f) => showError(gettext("You are muted in this room.") + " " + (f.reason || "")));
  socket.on("error", (f) => showError(f.detail));
  socket.on("socket:refused", (r) => {
    const why = {
      4003: gettext("This room is private."),
      4004: gettext("This room does not exist."),
      4005: gettext("You were banned from this room."),
      4006: gettext("This room was closed."),
    }[r.code] || gettext("The server closed the connection.");
    const box = $("chat-refused");
    box.textContent = why + (r.reason ? " " + gettext("Reason:") + " " + r.reason : "");
    box.hidden = false;
    box.dataset.code = String(r.code);
    for (const f of document.querySelectorAll("#chat-form, #chat-upload")) f.hidden = true;
  });

  function render(m) {
    const li = el("li", "chat-msg" + (m.kind === "announcement" ? " announcement" : ""));
    li.id = "msg-" + m.id;
    li.dataset.seq = String(m.seq);
    const head = el("div", "msg-head");
    const author = m.kind === "announcement" ? gettext("Announcement") : m.user.name;
    head.append(el("strong", "msg-author", author), " ");
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
    fillText(body, m.text);
    li.append(body);
    if (m.image && m.image.startsWith("/")) {  // our own media URL, never a foreign one
      const img = el("img", "msg-image");
      img.src = m.image;
      img.alt = gettext("Image from") + " " + author;
      img.loading = "lazy";
      li.append(img);
    }
    const mine = me && m.user && m.user.id === me.id && m.kind !== "announcement";
    const left = cfg.edit_seconds * 1000 - (Date.now() - at.getTime());
    if (mine && left > 0) {
      const actions = el("span", "msg-actions");
      const edit = el("button", "small msg-edit", gettext("Edit"));
      edit.type = "button";
      edit.addEventListener("click", () => startEdit(m.id));
      const del = el("button", "small msg-delete", gettext("Delete"));
      del.type = "button";
      del.addEventListener("click", () => socket.send({type: "chat.delete", id: m.id}));
      actions.append(edit, del);
      head.append(" ", actions);
      setTimeout(() => actions.remove(), left);
    }
    items.set(m.id, li);
    return li;
  }

  function fillText(node, text) {
    node.textContent = "";
    let last = 0;
    for (const match of text.matchAll(MENTION)) {
      const name = match[1].replace(/[.+-]+$/, "");
      node.append(document.createTextNode(text.slice(last, match.index)));
      const mine = me && name === me.name;
      node.append(el("span", "mention" + (mine ? " mention-me" : ""), "@" + name));
      last = match.index + 1 + name.length;
    }
    node.append(document.createTextNode(text.slice(last)));
  }

  function replaceAll(messages) {
    list.textContent = "";
    items.clear();
    for (const m of messages) list.append(render(m));
    firstSeq = messages.length ? messages[0].seq : 0;
    log.scrollTop = log.scrollHeight;
  }

  function prepend(messages) {
    const before = log.scrollHeight;
    const nodes = messages.filter((m) => !items.has(m.id)).map(render);
    list.prepend(...nodes);
    if (messages.length) firstSeq = messages[0].seq;
    log.scrollTop += log.scrollHeight - before;  // keep the reader's place
  }

  function loadEarlier() {
    if (!hasMore || loading || !firstSeq) return;
    loading = true;
    socket.send({type: "chat.history", before: firstSeq});
  }
  $("load-earlier").addEventListener("click", loadEarlier);
  log.addEventListener("scroll", () => { if (log.scrollTop < 30) loadEarlier(); });

  function showPresence(members, online) {
    const ul = $("presence-list");
    ul.textContent = "";
    for (const m of members) {
      const li = el("li", me && m.id === me.id ? "me" : "", m.name);
      li.dataset.user = String(m.id);
      ul.append(li);
    }
    $("online-count").textContent = String(online);
  }

  function applyPresenceDiff(joins, leaves, online) {
    const ul = $("presence-list");
    for (const m of leaves) {
      const li = ul.querySelector(`li[data-user="${Number(m.id)}"]`);
      if (li) li.remove();
    }
    for (const m of joins) {
      if (ul.children.length >= 200 || ul.querySelector(`li[data-user="${Number(m.id)}"]`)) continue;
      const li = el("li", me && m.id === me.id ? "me" : "", m.name);
      li.dataset.user = String(m.id);
      ul.append(li);
    }
    $("online-count").textContent = String(online);
  }

  function showTyping() {
    const names = [...typists.values()].map((t) => t[0]);
    $("chat-typing").textContent = names.length
      ? interpolate(gettext("%s is typing…"), [names.join(", ")]) : "";
  }

  let errorTimer = null;
  function showError(text) {
    const box = $("chat-error");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(() => { box.hidden = true; }, 8000);
  }

  function startEdit(id) {
    const li = items.get(id);
    if (!li) return;
    editing = id;
    input.value = li.querySelector(".msg-body").textContent;
    $("chat-cancel-edit").hidden = false;
    input.focus();
  }

  function stopEdit() {
    editing = null;
    input.value = "";
    $("chat-cancel-edit").hidden = true;
  }

  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (editing !== null) {
        socket.send({type: "chat.edit", id: editing, text: text});
        stopEdit();
      } else if (text) {
        socket.send({type: "chat.send", text: text});
        input.value = "";
      }
    });
    $("chat-cancel-edit").addEventListener("click", stopEdit);
    input.addEventListener("input", () => {
      if (Date.now() - typedAt > 2500 && input.value) {
        typedAt = Date.now();
        socket.send({type: "chat.typing"});
      }
    });
    $("chat-upload").addEventListener("submit", upload);
  }

  async function upload(event) {
    event.preventDefault();
    const upForm = event.target;
    const file = $("chat-image").files[0];
    if (!file) return showError(gettext("Choose an image first."));
    if (file.size > cfg.max_image_bytes) return showError(gettext("That image is too big."));
    const response = await fetch(upForm.action, {
      method: "POST", body: new FormData(upForm), credentials: "same-origin",
    }).catch(() => null);
    if (!response) return showError(gettext("The upload failed; try again."));
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      return showError(body.detail || gettext("The upload failed."));
    }
    upForm.reset();  // the message itself arrives over the socket, like any other
  }
}
