/* Every page: the site socket, which shows announcements and keeps the badge
 * live; for a logged-in visitor notifications.js rides on it too (one socket
 * for the whole site, besides the feature's own). */
(function () {
  "use strict";
  if (!Duplex.supported) return;
  const box = document.getElementById("announcement");
  const site = Duplex.connect("/ws/site/", {heartbeat: 25000});
  site.on("site.announcement", (frame) => {
    box.textContent = frame.text;  // shown as text, never as HTML
    box.hidden = false;
  });
  window.Duplex.site = site;
})();
