/* Every page: the site socket, which shows announcements and keeps the badge
 * live; for a logged-in visitor notifications.js rides on it too (one socket
 * for the whole site, besides the feature's own). notifications.js imports
 * `site` from here, so this module runs first even though the bell's script
 * comes earlier in the page. */
import {$, connect, supported} from "./client.js";

export const site = supported ? connect("/ws/site/", {heartbeat: 25000}) : null;

if (site) {
  site.on("site.announcement", (frame) => {
    const box = $("announcement");
    box.textContent = frame.text;  // shown as text, never as HTML
    box.hidden = false;
  });
  window.Duplex.site = site;
}

/* The phone's header menu (site.css shows its button below 40rem): the button
 * opens and closes it and says so in aria-expanded; Escape closes it and, if
 * the focus was inside, puts it back on the button; so does a click outside. */
(function () {
  const header = document.querySelector(".site-header");
  const button = $("menu-button");
  if (!header || !button) return;
  const parts = [$("site-nav"), $("header-account")].filter(Boolean);
  const inside = (node) => parts.some((part) => part.contains(node));
  const show = (open) => {
    header.dataset.menu = open ? "open" : "closed";
    button.setAttribute("aria-expanded", String(open));
  };
  const close = () => {
    const hadFocus = inside(document.activeElement);
    show(false);
    if (hadFocus) button.focus();
  };
  button.addEventListener("click", () => show(header.dataset.menu !== "open"));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && header.dataset.menu === "open") close();
  });
  document.addEventListener("click", (event) => {
    if (header.dataset.menu === "open" && !header.contains(event.target)) close();
  });
})();
