/**
 * The bare pipe: HTTP GET → Worker → one Durable Object → one WebSocket to a node-side
 * socket, and the node's answer streamed back as the response. Nothing else: no policy,
 * no headers forwarded, no flow control, no proxying on the node side.
 *
 * Wire (the least that lets one socket carry many requests at once):
 *   DO → node   text   "<id> <path?query>"
 *   node → DO   binary [u32 id][u8 last][body bytes…]   (one or many per request)
 *
 * Plain JavaScript on purpose: the repo's tsconfig checks bench/ with Node's types.
 */
import { DurableObject } from 'cloudflare:workers';

const HEADERS = { 'content-type': 'application/octet-stream' };

export class Pipe extends DurableObject {
  /** @type {Map<number, {resolve: (r: Response) => void, controller: ReadableStreamDefaultController | null}>} */
  waiting = new Map();
  next = 1;

  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/__node') {
      for (const old of this.ctx.getWebSockets()) old.close(1012, 'replaced');
      const pair = new WebSocketPair();
      this.ctx.acceptWebSocket(pair[1]);
      return new Response(null, { status: 101, webSocket: pair[0] });
    }
    const node = this.ctx.getWebSockets()[0];
    if (!node) return new Response('no node connected\n', { status: 502 });
    const id = this.next++;
    const { promise, resolve } = Promise.withResolvers();
    this.waiting.set(id, { resolve, controller: null });
    node.send(`${id} ${url.pathname}${url.search}`);
    return promise;
  }

  webSocketMessage(_ws, message) {
    if (typeof message === 'string') return;
    const view = new DataView(message);
    const id = view.getUint32(0);
    const last = view.getUint8(4) === 1;
    const body = new Uint8Array(message, 5);
    const entry = this.waiting.get(id);
    if (!entry) return;
    if (!entry.controller) {
      if (last) {
        this.waiting.delete(id);
        entry.resolve(new Response(body, { headers: HEADERS }));
        return;
      }
      const stream = new ReadableStream({ start: (controller) => (entry.controller = controller) });
      entry.resolve(new Response(stream, { headers: HEADERS }));
    }
    if (body.byteLength) entry.controller.enqueue(body);
    if (last) {
      entry.controller.close();
      this.waiting.delete(id);
    }
  }

  webSocketClose() {
    for (const entry of this.waiting.values()) {
      if (entry.controller) entry.controller.error(new Error('node went away'));
      else entry.resolve(new Response('node went away\n', { status: 502 }));
    }
    this.waiting.clear();
  }
}

export default {
  fetch(request, env) {
    if (new URL(request.url).pathname === '/__ping') return new Response('ok');
    return env.PIPE.get(env.PIPE.idFromName('bench')).fetch(request);
  },
};
