// The second ceiling: Node's `ws` (with its native `bufferutil`) serving the
// same three endpoints as bench/ceiling.py, so the same client drives both.
//
// `/sub?topics=a,b` follows topics, `/pub` takes `"<mode> <topic> <json>"`
// frames and sends the JSON as a text frame to the topic's sockets, anything
// else echoes. The mode is ignored, as on the `websockets` ceiling. A publish
// is not re-encoded per subscriber: the JSON stays the Buffer it arrived in
// and that same Buffer is handed to every subscriber's `send`. No
// permessage-deflate, 1 MiB frames at most, as bench/ceiling.py.
//
//     node bench/ceiling_ws.mjs PORT

import { createRequire } from "node:module";
import { dirname } from "node:path";
import { WebSocketServer, WebSocket } from "ws";

const require = createRequire(import.meta.url);
const SPACE = 0x20;
const TEXT = { binary: false };
const BINARY = { binary: true };

function bufferutilKind() {
  // ws loads bufferutil by itself when it is installed; say which one it got.
  try {
    require("node-gyp-build").path(dirname(require.resolve("bufferutil")));
    return "native";
  } catch {
    return "JavaScript fallback";
  }
}

const subscribers = new Map(); // topic -> Set of sockets

function follow(ws, query) {
  const topics = (new URLSearchParams(query).get("topics") || "")
    .split(",")
    .filter((t) => t);
  for (const topic of topics) {
    let sockets = subscribers.get(topic);
    if (sockets === undefined) {
      sockets = new Set();
      subscribers.set(topic, sockets);
    }
    sockets.add(ws);
  }
  ws.on("close", () => {
    for (const topic of topics) {
      const sockets = subscribers.get(topic);
      if (sockets === undefined) continue;
      sockets.delete(ws);
      if (sockets.size === 0) subscribers.delete(topic);
    }
  });
}

function publish(ws, data, isBinary) {
  // A text frame "<mode> <topic> <json>": the topic between the first two
  // spaces. Anything else closes the publisher with 1011, as on the ceiling.
  const first = isBinary ? -1 : data.indexOf(SPACE);
  const second = first < 0 ? -1 : data.indexOf(SPACE, first + 1);
  if (second < 0) {
    ws.close(1011, "expected '<mode> <topic> <json>'");
    return;
  }
  const sockets = subscribers.get(data.toString("latin1", first + 1, second));
  if (sockets === undefined) return;
  const payload = data.subarray(second + 1);
  for (const socket of sockets) {
    if (socket.readyState === WebSocket.OPEN) socket.send(payload, TEXT);
  }
}

function serve(port) {
  const server = new WebSocketServer({
    host: "127.0.0.1",
    port,
    perMessageDeflate: false,
    maxPayload: 2 ** 20,
    clientTracking: false,
  });
  server.on("connection", (ws, request) => {
    const url = request.url;
    const mark = url.indexOf("?");
    const path = mark < 0 ? url : url.slice(0, mark);
    if (path.startsWith("/sub")) {
      follow(ws, mark < 0 ? "" : url.slice(mark + 1));
    } else if (path.startsWith("/pub")) {
      ws.on("message", (data, isBinary) => publish(ws, data, isBinary));
    } else {
      ws.on("message", (data, isBinary) => ws.send(data, isBinary ? BINARY : TEXT));
    }
    ws.on("error", () => {}); // a peer's protocol error closes its socket only
  });
  server.on("listening", () => {
    console.log(
      `ws ${require("ws/package.json").version} on node ${process.version}, ` +
        `bufferutil ${bufferutilKind()}, ws://127.0.0.1:${port}`,
    );
  });
}

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error("usage: node bench/ceiling_ws.mjs PORT");
  process.exit(2);
}
process.on("SIGTERM", () => process.exit(0));
serve(port);
