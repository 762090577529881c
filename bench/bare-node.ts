/**
 * @module
 * The node side of the bare pipe: one WebSocket out to the pipe's Durable Object. For
 * each request message ("<id> <path?query>") it answers with the response bytes itself
 * — no dev server, no proxy, no flow control beyond its own socket's buffer.
 *   /small                        → SMALL_BODY in one message
 *   /small?parts=3                → the same as three messages (empty head, body, empty end),
 *                                   the number of messages Homeport's tunnel spends on it
 *   /100mb?size=<bytes>&frame=<n> → `size` bytes in messages of `frame` bytes (1 MiB default)
 * Usage: bare-node.ts <edge port>. Reports {connected: true} over IPC.
 */
import WebSocket from 'ws';
import { MiB, SMALL_BODY, filler } from './payload.ts';

const edgePort = Number(process.argv[2]);
/** Stop queueing into the socket past this many bytes until it drains. */
const HIGH_WATER = 8 * MiB;

/** Prebuilt messages per body size: [u32 id][u8 last][body], the id patched per send. */
const prebuilt = new Map<string, Buffer>();
function message(kind: string, size: number, fill: (b: Buffer) => void): Buffer {
  const key = `${kind}:${size}`;
  let buf = prebuilt.get(key);
  if (!buf) {
    buf = Buffer.alloc(5 + size);
    fill(buf.subarray(5));
    prebuilt.set(key, buf);
  }
  return buf;
}
const bulk = filler(MiB);
const fillBulk = (b: Buffer) => {
  for (let i = 0; i < b.byteLength; i += bulk.byteLength) bulk.copy(b, i, 0, Math.min(bulk.byteLength, b.byteLength - i));
};

let ws: WebSocket;
let ready = false;

// ws copies (masks) the bytes into its own frame inside send(), so one buffer serves every send.
function send(buf: Buffer, id: number, last: boolean, cb?: () => void) {
  buf.writeUInt32BE(id, 0);
  buf.writeUInt8(last ? 1 : 0, 4);
  ws.send(buf, { binary: true }, cb);
}

async function stream(id: number, size: number, frame: number) {
  let left = size;
  while (left > 0) {
    const n = Math.min(frame, left);
    left -= n;
    const buf = message('bulk', n, fillBulk);
    if (ws.bufferedAmount > HIGH_WATER) await new Promise<void>((r) => send(buf, id, left === 0, () => r()));
    else send(buf, id, left === 0);
  }
}

function onRequest(data: Buffer, isBinary: boolean) {
  if (isBinary) return;
  const text = data.toString();
  const space = text.indexOf(' ');
  const id = Number(text.slice(0, space));
  const url = new URL(text.slice(space + 1), 'http://bare');
  if (url.pathname === '/small') {
    if (url.searchParams.get('parts') === '3') {
      send(message('empty', 0, () => {}), id, false);
      send(message('small', SMALL_BODY.byteLength, (b) => SMALL_BODY.copy(b)), id, false);
      send(message('empty', 0, () => {}), id, true);
    } else send(message('small', SMALL_BODY.byteLength, (b) => SMALL_BODY.copy(b)), id, true);
  } else if (url.pathname === '/100mb') {
    const size = Number(url.searchParams.get('size') ?? 100 * MiB);
    const frame = Number(url.searchParams.get('frame') ?? MiB);
    stream(id, size, frame).catch((error) => console.error('bare node:', error));
  } else {
    send(message('empty', 0, () => {}), id, true);
  }
}

let stopping = false;
/** Connects, and reconnects if wrangler restarts the Worker under it. */
function connect() {
  const socket = new WebSocket(`ws://127.0.0.1:${edgePort}/__node`, { perMessageDeflate: false, maxPayload: 64 * MiB });
  ws = socket;
  socket.on('message', onRequest);
  socket.on('open', () => {
    if (!ready) process.send?.({ connected: true });
    else console.error('bare node: reconnected');
    ready = true;
  });
  socket.on('error', (error) => console.error('bare node socket error:', error.message));
  socket.on('close', () => {
    if (stopping) return process.exit(0);
    console.error('bare node: socket closed; reconnecting');
    setTimeout(connect, 200);
  });
}
connect();
process.on('disconnect', () => {
  stopping = true;
  ws.close();
  setTimeout(() => process.exit(0), 1000).unref();
});
