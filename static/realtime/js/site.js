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
