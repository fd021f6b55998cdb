/* The classic tutorial pages, run in this page: their own code, with alert()
 * turned into a line on the page and every echoed message shown. */
import {el, readJson} from "./client.js";

function runner(section) {
  const out = section.querySelector("ol");
  let current = null;
  const show = (kind, label, text) => {
    const li = el("li", "log-" + kind);
    li.append(el("strong", "", label), " ", el("span", "", text));  // text, never HTML
    out.append(li);
  };
  // The tutorial's socket, which also reports what comes back (its own
  // onmessage reads evt.data and only says that something arrived).
  class ShownSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      current = this;
      this.addEventListener("message", (e) => show("message", gettext("data received:"), String(e.data)));
    }
  }
  const code = readJson(section.dataset.tutorial);
  // eslint-disable-next-line no-new-func -- the page's own script, from this site
  const start = new Function("alert", "WebSocket", code + "\nreturn WebSocketTest;")(
    (text) => show("alert", "alert():", String(text)), ShownSocket);
  section.querySelector("button").addEventListener("click", () => {
    if (current) { current.onclose = null; current.close(); }
    out.replaceChildren();
    start();
  });
}

document.querySelectorAll("[data-tutorial]").forEach(runner);
