/*
 * RFC 6455 frames as bytes, for the echo playground's frame inspector.
 *
 *   const frame = buildFrame({opcode: OPCODE.text, payload: utf8("Hello"),
 *                             mask: new Uint8Array([0x37, 0xfa, 0x21, 0x3d])});
 *   hex(frame.bytes)  // "81 85 37 fa 21 3d 7f 9f 4d 51 58" (section 5.7)
 *
 * The browser frames every message itself and shows none of it; this rebuilds
 * what it must send, byte for byte, except the masking key, which it keeps to
 * itself (the caller passes one from randomMask()).
 */

export const OPCODE = {continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa};
export const OPCODE_NAMES = {0x0: "continuation", 0x1: "text", 0x2: "binary",
                             0x8: "close", 0x9: "ping", 0xa: "pong"};

/* A string's UTF-8 bytes: what a text frame carries, and what its length counts. */
export function utf8(text) {
  return new TextEncoder().encode(text);
}

/* A fresh 4-byte masking key, as a browser draws one for every frame. */
export function randomMask() {
  return crypto.getRandomValues(new Uint8Array(4));
}

/* payload XOR key, byte i with key[i % 4] (section 5.3); it is its own inverse. */
export function applyMask(payload, key) {
  const out = new Uint8Array(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = payload[i] ^ key[i % 4];
  return out;
}

/* How the payload length is written (section 5.2): in the 7 bits of the
 * second byte up to 125; else 126 and 16 bits; else 127 and 64 bits. */
export function lengthEncoding(length) {
  if (length <= 125) return {name: "7-bit", marker: length, extra: 0};
  if (length <= 0xffff) return {name: "16-bit", marker: 126, extra: 2};
  return {name: "64-bit", marker: 127, extra: 8};
}

/* One frame: {bytes, header, lengthField, encoding, maskingKey, masked, payload}.
 * mask: a 4-byte key (client to server) or null (server to client). */
export function buildFrame({opcode, payload, mask = null, fin = true, rsv1 = false}) {
  const encoding = lengthEncoding(payload.length);
  const header = new Uint8Array(2 + encoding.extra + (mask ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (opcode & 0x0f);
  header[1] = (mask ? 0x80 : 0) | encoding.marker;
  const view = new DataView(header.buffer);
  if (encoding.extra === 2) view.setUint16(2, payload.length);
  if (encoding.extra === 8) view.setBigUint64(2, BigInt(payload.length));
  if (mask) header.set(mask, 2 + encoding.extra);
  const masked = mask ? applyMask(payload, mask) : payload;
  const bytes = new Uint8Array(header.length + payload.length);
  bytes.set(header);
  bytes.set(masked, header.length);
  return {
    bytes, header, encoding, masked, payload,
    lengthField: header.slice(1, 2 + encoding.extra),
    maskingKey: mask,
    fin, rsv1, opcode,
  };
}

/* Bytes as "81 05 48 ...", the first `limit` of them, then "… (+N)". */
export function hex(bytes, limit = Infinity) {
  const shown = Array.from(bytes.slice(0, limit), (b) => b.toString(16).padStart(2, "0")).join(" ");
  return bytes.length > limit ? shown + " … (+" + (bytes.length - limit) + ")" : shown;
}

/* What WebSocket.close(code, reason) accepts (RFC 6455 7.4, the WebSocket
 * standard): 1000 or 3000-4999, and a reason of at most 123 UTF-8 bytes (a
 * close frame's payload is at most 125: 2 for the code). {ok, why, code, bytes}
 * with why one of "not-a-number", "reserved" (1001-2999), "out-of-range",
 * "reason-too-long". */
export const MAX_REASON_BYTES = 123;
export function checkClose(codeText, reason) {
  const code = Number(codeText);
  const bytes = utf8(reason).length;
  let why = null;
  if (String(codeText).trim() === "" || !Number.isInteger(code)) why = "not-a-number";
  else if (code >= 1001 && code <= 2999) why = "reserved";
  else if (code !== 1000 && !(code >= 3000 && code <= 4999)) why = "out-of-range";
  else if (bytes > MAX_REASON_BYTES) why = "reason-too-long";
  return {ok: why === null, why, code, bytes};
}
