/*
 * A room's tools beside chat.js: search within the room, and following it.
 *
 * Search asks the room's search page for JSON, a page of 20 at a time
 * ("Older results" asks for the next). A result that is on the page already
 * is scrolled to and highlighted; an older one opens its context page. Both
 * forms work without this module too: as a results page, and as a POST.
 * Found text enters the page as text nodes, the query marked with <mark>.
 */
import {$, el} from "./client.js";

if ($("chat-search") && $("chat-search-results")) bindSearch();
if ($("room-follow")) bindFollow($("room-follow"));

function bindSearch() {
  const s = {form: $("chat-search"), input: $("chat-search-q"), list: $("chat-search-list"),
    query: "", before: null, busy: false};
  s.form.addEventListener("submit", (event) => {
    event.preventDefault();
    s.query = s.input.value.trim();
    s.before = null;
    s.list.textContent = "";
    page(s);
  });
  $("chat-search-more").addEventListener("click", () => page(s));
  $("chat-search-close").addEventListener("click", () => {
    $("chat-search-results").hidden = true;
    s.input.focus();
  });
}

/* The next page of results for s.query, appended to the list. */
async function page(s) {
  if (s.busy || !s.query) return;
  s.busy = true;
  const params = new URLSearchParams({q: s.query});
  if (s.before) params.set("before", String(s.before));
  const response = await fetch(s.form.action + "?" + params, {
    headers: {Accept: "application/json"}, credentials: "same-origin",
  }).catch(() => null);
  const body = response ? await response.json().catch(() => null) : null;
  s.busy = false;
  $("chat-search-results").hidden = false;
  const more = $("chat-search-more");
  if (!response || !response.ok || !body || !body.results) {
    more.hidden = true;
    return status(body && body.detail ? body.detail : gettext("The search failed; try again."));
  }
  for (const m of body.results) s.list.append(result(m, body.query));
  s.before = body.next_before;
  more.hidden = !body.has_more;
  const shown = s.list.children.length;
  status(shown
    ? interpolate(ngettext("%s message found", "%s messages found", shown), [shown])
    : interpolate(gettext("No message here contains “%s”."), [body.query]));
}

function status(text) {
  $("chat-search-status").textContent = text;
}

/* One found message: author (a link to the profile), time, the text with the
 * query marked, and a link to the message in its place. */
function result(m, query) {
  const li = el("li", "chat-msg search-result");
  const head = el("div", "msg-head");
  const author = el("strong", "msg-author");
  if (m.user && m.user.id) {
    const link = el("a", "", m.user.name);
    link.href = "/users/" + encodeURIComponent(m.user.name) + "/";
    author.append(link);
  } else {
    author.textContent = m.user ? m.user.name : gettext("Announcement");
  }
  const at = new Date(m.at);
  const time = el("time", "msg-time", at.toLocaleString(document.documentElement.lang || undefined,
    {dateStyle: "medium", timeStyle: "short"}));
  time.dateTime = m.at;
  const jump = el("a", "msg-context", gettext("Show in context"));
  jump.href = m.url;
  jump.addEventListener("click", (event) => { if (showInRoom(m.id)) event.preventDefault(); });
  head.append(author, " ", time, " ", jump);
  const body = el("div", "msg-body");
  marked(body, m.text, query);
  li.append(head, body);
  return li;
}

/* The message in the live room, if it is loaded: scroll there, highlight it. */
function showInRoom(id) {
  const item = $("msg-" + id);
  if (!item || !$("chat-messages").contains(item)) return false;
  for (const old of document.querySelectorAll("#chat-messages .found")) old.classList.remove("found");
  item.classList.add("found");
  item.tabIndex = -1;
  item.scrollIntoView({block: "center"});
  item.focus({preventScroll: true});
  return true;
}

function marked(node, text, query) {
  const escaped = query.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  let last = 0;
  for (const match of text.matchAll(new RegExp(escaped, "giu"))) {
    node.append(document.createTextNode(text.slice(last, match.index)), el("mark", "", match[0]));
    last = match.index + match[0].length;
  }
  node.append(document.createTextNode(text.slice(last)));
}

/* Follow or unfollow in place (the form's POST, answered in JSON). */
function bindFollow(form) {
  const button = form.querySelector("button");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const response = await fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: {Accept: "application/json"},
    }).catch(() => null);
    const body = response && response.ok ? await response.json().catch(() => null) : null;
    if (!body) return form.submit();  // let the page say what went wrong
    const following = Boolean(body.following);
    form.action = following ? form.dataset.unfollow : form.dataset.follow;
    button.textContent = following ? form.dataset.unfollowLabel : form.dataset.followLabel;
    button.dataset.following = String(following);
    button.classList.toggle("following", following);
  });
}
