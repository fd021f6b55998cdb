/* The echo playground's teaching panels: the frame inspector and the close
 * codes explorer. The bytes come from frames.js; this only shows them. */
import {$, el} from "./client.js";
import {OPCODE_NAMES, buildFrame, hex, randomMask} from "./frames.js";

const SHOWN_BYTES = 64;   // bytes of a payload shown in hex
const KEPT_FRAMES = 20;   // frames the inspector keeps (oldest go first)

function lengthText(frame) {
  const n = frame.payload.length;
  const field = hex(frame.lengthField);
  if (frame.encoding.name === "7-bit") {
    return interpolate(gettext("%(n)s bytes: 7-bit, in the second byte's low 7 bits (%(field)s)"),
                       {n: n, field: field}, true);
  }
  const note = frame.encoding.name === "16-bit"
    ? gettext("%(n)s bytes: 16-bit, 126 in the second byte, then 2 bytes (%(field)s)")
    : gettext("%(n)s bytes: 64-bit, 127 in the second byte, then 8 bytes (%(field)s)");
  return interpolate(note, {n: n, field: field}, true);
}

function rsvText(sent, deflate) {
  if (!deflate) return gettext("0 (no extension is in use)");
  return sent
    ? gettext("0 here. This connection agreed on permessage-deflate, so the browser really sends the message compressed: RSV1 = 1 and the deflated bytes as payload (RFC 7692). Shown uncompressed.")
    : gettext("0 here. This connection agreed on permessage-deflate, so the server really sent it compressed: RSV1 = 1 and the deflated bytes as payload; the browser inflated it before the message event. Shown uncompressed.");
}

function fields(frame, sent, deflate) {
  const rows = [
    ["fin", "FIN", frame.fin ? gettext("1 (the whole message is in this one frame)") : "0"],
    ["rsv1", "RSV1", rsvText(sent, deflate)],
    ["opcode", "opcode", "0x" + frame.opcode.toString(16) + " (" + OPCODE_NAMES[frame.opcode] + ")"],
    ["mask", "MASK", sent ? gettext("1 (a client masks every frame it sends)")
                          : gettext("0 (a server never masks its frames)")],
    ["length", gettext("payload length"), lengthText(frame)],
  ];
  if (sent) {
    rows.push(["key", gettext("masking key"), hex(frame.maskingKey) + " " +
      gettext("(illustrative: the browser draws its own key for each frame and never shows it; this one comes from crypto.getRandomValues)")]);
  }
  rows.push(["header", gettext("header bytes"), hex(frame.header)]);
  const bytesOr = (bytes) => hex(bytes, SHOWN_BYTES) || gettext("(empty)");
  if (sent) rows.push(["masked", gettext("masked payload (as sent)"), bytesOr(frame.masked)]);
  rows.push(["payload", gettext("unmasked payload"), bytesOr(frame.payload)]);
  rows.push(["bytes", gettext("the whole frame"), hex(frame.bytes, SHOWN_BYTES)]);
  return rows;
}

/* Add one message's frame to the inspector: sent (browser to server, masked)
 * or received (server to browser); payload is its bytes. */
export function showFrame({sent, binary, payload, deflate}) {
  const frame = buildFrame({opcode: binary ? 0x2 : 0x1, payload: payload,
                            mask: sent ? randomMask() : null});
  const list = $("frame-list");
  const item = el("li", "frame " + (sent ? "frame-sent" : "frame-received"));
  const title = (sent ? gettext("browser → server") : gettext("server → browser")) + " · " +
    OPCODE_NAMES[frame.opcode] + " · " + interpolate(gettext("%s bytes"), [payload.length]);
  const dl = el("dl", "live-values");
  for (const [name, label, value] of fields(frame, sent, deflate)) {
    const dd = el("dd", "", value);
    dd.dataset.field = name;
    dl.append(el("dt", "", label), dd);
  }
  item.append(el("h3", "", title), dl);
  list.append(item);
  while (list.children.length > KEPT_FRAMES) list.firstElementChild.remove();
  $("frames-empty").hidden = true;
}

const REFUSALS = {
  "not-a-number": () => gettext("A close code is a whole number."),
  "reserved": () => gettext("Codes 1001 to 2999 belong to the protocol and its extensions (1001 going away, 1008 policy violation, 1011 server error, and 1005, 1006 and 1015, which are never sent at all): only a browser or a server may use them, so close() refuses them with an InvalidAccessError."),
  "out-of-range": () => gettext("Close codes below 1000 are not used and codes from 5000 up are not defined: close() takes 1000 or 3000 to 4999, and refuses this one with an InvalidAccessError."),
  "reason-too-long": (check) => interpolate(gettext("The reason is %s bytes in UTF-8. A close frame's payload holds at most 125 bytes and 2 of them are the code, so the reason may have 123: close() refuses it with a SyntaxError."), [check.bytes]),
};

/* Why close(code, reason) is refused; browserSays: the name of what the
 * browser's own close() threw, if it was asked. */
export function explainRefusal(check, browserSays) {
  const text = REFUSALS[check.why](check);
  return browserSays ? text + " " + interpolate(gettext("The browser agrees: close() threw %s."), [browserSays]) : text;
}

function codeMeaning(code) {
  if (code === 1000) return gettext("1000 is a normal closure.");
  if (code === 1005) return gettext("1005 means the close frame carried no code.");
  if (code === 1006) return gettext("1006 means the connection ended without a close frame.");
  if (code >= 3000 && code <= 3999) return gettext("3000 to 3999 are registered with IANA for libraries and frameworks.");
  if (code >= 4000 && code <= 4999) return gettext("4000 to 4999 are for private use: each application gives them its own meaning (this site's refusals are among them).");
  return "";
}

/* What came back after a close the learner asked for. */
export function explainClose(asked, event) {
  const sent = interpolate(gettext("You sent code %(code)s with the reason %(reason)s."),
                           {code: asked.code, reason: JSON.stringify(asked.reason)}, true);
  const got = interpolate(gettext("The server's close frame came back with code %(code)s and the reason %(reason)s: this echo answers a close with the same code and reason."),
                          {code: event.code, reason: JSON.stringify(event.reason)}, true);
  const clean = event.wasClean
    ? gettext("wasClean is true: both sides sent a close frame before the TCP connection ended.")
    : gettext("wasClean is false: the connection ended without the closing handshake.");
  return [sent, got, codeMeaning(event.code), clean].filter(Boolean).join(" ");
}
