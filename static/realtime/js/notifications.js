/*
 * The header's bell, on every page of a logged-in user: one reliable stream.
 *
 * The unread count is the server's count at a seq (from notifications.state
 * and notifications.unread) plus the unread notifications this page got
 * after that seq, so frames may arrive in any order and none counts twice.
 * A notification is shown in the page's language (its "texts"), and times in
 * the page's locale and the viewer's time zone, here and on /notifications/.
 */
import {site} from "./site.js";

(function () {
  const bell = document.getElementById("notif-bell");
  if (!bell || !site) return;
  const button = document.getElementById("notif-button");
  const countEl = document.getElementById("notif-count");
  const dropdown = document.getElementById("notif-dropdown");
  const list = document.getElementById("notif-recent");
  const empty = document.getElementById("notif-empty");
  const toasts = document.getElementById("notif-toasts");
  const SHOWN = 10;
  const TOAST_MS = 6000;
  const items = new Map();  // seq -> {n, node}
  let base = {unread: 0, upTo: 0};
  let started = false;
  const lang = document.documentElement.lang || undefined;
  const when = new Intl.DateTimeFormat(lang, {dateStyle: "medium", timeStyle: "short"});
  const said = (n) => (n.texts && n.texts[document.documentElement.lang]) || n;

  function timeNode(iso) {
    const node = document.createElement("time");
    node.className = "notif-time";
    node.dateTime = iso;
    const at = new Date(iso);
    node.textContent = isNaN(at) ? iso : when.format(at);
    return node;
  }
  document.querySelectorAll("time.local-time").forEach((node) => {
    const at = new Date(node.getAttribute("datetime"));
    if (!isNaN(at)) node.textContent = when.format(at);
  });

  // The stream rides on the page's site socket (site.js): its hello, sent on
  // every open, resumes after the last seq seen.
  const socket = site;
  const hello = (s) => ({type: "notifications.hello", after: s.lastSeq.notifications || 0});
  socket.options.hello = hello;
  if (socket.state === "live") socket.send(hello(socket));

  function renderCount() {
    let count = base.unread;
    for (const [seq, item] of items) if (seq > base.upTo && !item.n.read) count += 1;
    countEl.textContent = count > 99 ? "99+" : String(count);
    countEl.dataset.count = count;
    countEl.hidden = count === 0;
    empty.hidden = items.size > 0;
  }

  function itemNode(n) {
    const li = document.createElement("li");
    li.className = "notif-item" + (n.read ? "" : " unread");
    li.dataset.seq = n.seq;
    const title = document.createElement(n.url ? "a" : "strong");
    if (n.url) title.href = n.url;
    title.className = "notif-title";
    title.textContent = said(n).title;  // user-written parts stay text
    const body = document.createElement("span");
    body.className = "notif-body";
    body.textContent = said(n).body;
    const mark = document.createElement("button");
    mark.type = "button";
    mark.className = "small notif-mark";
    mark.textContent = gettext("Mark read");
    mark.hidden = n.read;
    mark.addEventListener("click", () => socket.send({type: "notifications.read", seq: n.seq}));
    li.append(title, " ", body, " ", timeNode(n.at), " ", mark);
    return li;
  }

  function toast(n) {
    const box = document.createElement("div");
    box.className = "notif-toast";
    box.textContent = said(n).title;
    toasts.append(box);
    setTimeout(() => box.remove(), TOAST_MS);
  }

  function markRead(seq) {
    const item = items.get(seq);
    if (!item || item.n.read) return;
    item.n.read = true;
    item.node.classList.remove("unread");
    item.node.querySelector(".notif-mark").hidden = true;
  }

  socket.on("notifications.state", (frame) => {
    if (frame.reset) {
      items.clear();
      list.textContent = "";
    }
    base = {unread: frame.unread, upTo: frame.last_seq};
    started = true;
    renderCount();
  });

  socket.on("notifications.new", (frame) => {
    const n = frame.notification;
    socket.seen("notifications", frame.seq);  // the resume point for the next hello
    if (items.has(n.seq)) return;
    const node = itemNode(n);
    items.set(n.seq, {n: n, node: node});
    const newer = [...list.children].find((li) => Number(li.dataset.seq) < n.seq);
    list.insertBefore(node, newer || null);
    while (list.children.length > SHOWN) list.lastElementChild.remove();
    if (started && n.seq > base.upTo && !n.read) toast(n);
    renderCount();
  });

  socket.on("notifications.unread", (frame) => {
    base = {unread: frame.unread, upTo: frame.last_seq};
    frame.read.forEach(markRead);
    if (frame.read_up_to) for (const seq of items.keys()) if (seq <= frame.read_up_to) markRead(seq);
    renderCount();
  });

  /* One place opens and closes the list, so aria-expanded always tells the truth. */
  const show = (open) => {
    dropdown.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
  };
  button.addEventListener("click", () => show(dropdown.hidden));
  document.getElementById("notif-read-all").addEventListener("click", () => {
    socket.send({type: "notifications.read_all"});
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || dropdown.hidden) return;
    const inside = bell.contains(document.activeElement);
    show(false);
    if (inside) button.focus();
  });
  document.addEventListener("click", (event) => {
    if (!dropdown.hidden && !bell.contains(event.target)) show(false);
  });
  window.Duplex.notifications = socket;
})();
