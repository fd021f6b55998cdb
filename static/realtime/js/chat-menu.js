/*
 * A chat message's extras: the quote of the message it answers, its emoji
 * reactions, and its menu (Reply, React, Edit, Delete).
 *
 * The menu is a button with a popup (the WAI-ARIA menu button pattern):
 * Enter, Space or ArrowDown opens it on its first item, ArrowUp on its last;
 * the arrows, Home and End move; Escape closes it and gives focus back to the
 * button; Tab, a choice or a click elsewhere close it. Its items are built
 * when it opens, so Edit and Delete are there only while the message may
 * still be changed.
 */
import {el} from "./client.js";

export const REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "👀"];

let openMenu = null;  // {button, menu} of the one open menu

/* "↪ ann: the first words…" above a reply; a link to the original. */
export function renderQuote(li, quote) {
  if (!quote) return;
  const link = el("a", "msg-quote");
  link.href = "#msg-" + quote.id;
  link.dataset.quote = String(quote.id);
  const name = quote.user ? quote.user.name : gettext("Announcement");
  link.append(el("span", "quote-author", "↪ " + name), " ");
  link.append(el("span", "quote-text", quote.deleted ? gettext("(deleted message)") : quote.text));
  li.querySelector(".msg-head").after(link);
}

/* The quotes of ``id`` follow its edit or deletion. */
export function updateQuotes(list, id, text) {
  for (const node of list.querySelectorAll(`.msg-quote[data-quote="${Number(id)}"] .quote-text`)) {
    node.textContent = text === null ? gettext("(deleted message)") : text;
  }
}

/* The reaction chips under a message: "👍 2", pressed when one of them is mine. */
export function renderReactions(r, li, reactions) {
  let box = li.querySelector(".msg-reactions");
  if (!box) {
    box = el("div", "msg-reactions");
    li.append(box);
  }
  box.textContent = "";
  box.hidden = !reactions.length;
  const id = Number(li.id.slice(4));
  for (const reaction of reactions) {
    const mine = Boolean(r.me) && reaction.users.includes(r.me.id);
    const chip = el("button", "reaction" + (mine ? " mine" : ""), reaction.emoji + " " + reaction.count);
    chip.type = "button";
    chip.dataset.emoji = reaction.emoji;
    chip.setAttribute("aria-pressed", String(mine));
    chip.setAttribute("aria-label", interpolate(
      ngettext("%s: %s reaction", "%s: %s reactions", reaction.count), [reaction.emoji, reaction.count]));
    if (r.me) chip.addEventListener("click", () => react(r, id, reaction.emoji, !mine));
    else chip.disabled = true;
    box.append(chip);
  }
}

function react(r, id, emoji, add) {
  r.socket.send({type: "chat.react", id: id, emoji: emoji, add: add});
}

/* The "⋯" button of a message; ``actions`` gives the items when it opens. */
export function addMenu(head, m, actions) {
  const button = el("button", "small msg-menu-button", "⋯");
  button.type = "button";
  button.setAttribute("aria-label", gettext("Message actions"));
  button.setAttribute("aria-haspopup", "menu");
  button.setAttribute("aria-expanded", "false");
  const wrap = el("span", "msg-menu-wrap");
  wrap.append(button);
  head.append(" ", wrap);
  button.addEventListener("click", () => (openMenu && openMenu.button === button ? closeMenu() : open(button, actions(), 0)));
  button.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      open(button, actions(), event.key === "ArrowDown" ? 0 : -1);
    }
  });
}

/* ``items``: [label, action, {className, ariaLabel}] each. */
function open(button, items, focusAt) {
  closeMenu();
  const menu = el("div", "msg-menu");
  menu.setAttribute("role", "menu");
  menu.id = "menu-" + Math.random().toString(36).slice(2);
  menu.setAttribute("aria-label", gettext("Message actions"));
  for (const [label, action, extra] of items) {
    const item = el("button", "msg-menu-item " + ((extra && extra.className) || ""), label);
    item.type = "button";
    item.setAttribute("role", "menuitem");
    item.tabIndex = -1;
    if (extra && extra.ariaLabel) item.setAttribute("aria-label", extra.ariaLabel);
    item.addEventListener("click", () => { closeMenu(!(extra && extra.movesFocus)); action(); });
    menu.append(item);
  }
  menu.addEventListener("keydown", (event) => menuKey(event, menu));
  menu.addEventListener("focusout", (event) => {
    if (!menu.contains(event.relatedTarget) && event.relatedTarget !== button) closeMenu(false);
  });
  button.after(menu);
  button.setAttribute("aria-expanded", "true");
  button.setAttribute("aria-controls", menu.id);
  openMenu = {button, menu};
  const all = menu.querySelectorAll("[role=menuitem]");
  all[(focusAt + all.length) % all.length].focus();
}

function menuKey(event, menu) {
  const items = [...menu.querySelectorAll("[role=menuitem]")];
  const at = items.indexOf(document.activeElement);
  const go = {ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: items.length - 1}[event.key];
  if (go !== undefined) {
    event.preventDefault();
    items[(go + items.length) % items.length].focus();
  } else if (event.key === "Escape") {
    event.preventDefault();
    closeMenu(true);
  } else if (event.key === "Tab") {
    closeMenu(false);
  }
}

export function closeMenu(refocus) {
  if (!openMenu) return;
  const {button, menu} = openMenu;
  openMenu = null;
  menu.remove();
  button.setAttribute("aria-expanded", "false");
  button.removeAttribute("aria-controls");
  if (refocus) button.focus();
}

document.addEventListener("click", (event) => {
  if (openMenu && !openMenu.menu.contains(event.target) && event.target !== openMenu.button) closeMenu(false);
});

/* The menu items of message ``m``: Reply and React for anyone logged in,
 * Edit and Delete on one's own while it may be changed. */
export function messageActions(r, m, at, handlers) {
  const items = [[gettext("Reply"), () => handlers.reply(m.id), {movesFocus: true}]];
  for (const emoji of REACTIONS) {
    const li = r.items.get(m.id);
    const chip = li && li.querySelector(`.reaction[data-emoji="${emoji}"]`);
    const mine = Boolean(chip) && chip.getAttribute("aria-pressed") === "true";
    const label = mine ? gettext("Take back %s") : gettext("React with %s");
    items.push([emoji, () => react(r, m.id, emoji, !mine),
      {className: "msg-menu-emoji", ariaLabel: interpolate(label, [emoji])}]);
  }
  const own = m.user && m.user.id === r.me.id && m.kind !== "announcement";
  const left = r.cfg.edit_seconds * 1000 - (Date.now() - at.getTime());
  if (own && left > 0) {
    items.push([gettext("Edit"), () => handlers.edit(m.id), {movesFocus: true}]);
    items.push([gettext("Delete"), () => r.socket.send({type: "chat.delete", id: m.id})]);
  }
  return items;
}
