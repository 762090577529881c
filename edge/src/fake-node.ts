/**
 * @module
 * Test helper for the edge tests (never imported by the Worker): a fake home node that
 * opens the real tunnel through the Worker, says hello like homeportd, and lets a test
 * read the frames the edge sends and answer them frame by frame.
 *
 * Ordering: in production workerd hands tunnel messages to the hub in order, but under
 * @cloudflare/vitest-pool-workers each webSocketMessage event first takes an async hop
 * (the pool's Durable Object wrapper imports the module through its runner object), so
 * two frames sent back to back may reach the hub in either order. Tests therefore send a
 * frame that depends on an earlier one only after seeing that earlier one's effect:
 * `answer` sends the head, waits for the visitor's response, then sends each body chunk
 * once the visitor has read the previous one.
 */
import { SELF } from 'cloudflare:test';
import { afterEach, beforeEach } from 'vitest';
import { FrameType, PROTOCOL_VERSION, decodeFrame, encode, type Frame, type PortInfo, type ResponseHead, concatBytes } from '@homeport/shared';

/** The local owner's key of the test edge (LOCAL_OWNER_KEY in edge/vitest.config.ts): the owner's credential. */
export const LOCAL_OWNER_KEY = 'hpl_' + 'k'.repeat(43);
/** What the owner's requests carry: its key (nobody is the owner by address). */
export const LOCAL = { authorization: `Bearer ${LOCAL_OWNER_KEY}` };
/** What a state-changing dashboard request carries (the CSRF check wants the dashboard's Origin). */
export const LOCAL_WRITE = { ...LOCAL, origin: 'https://dash.test', 'content-type': 'application/json' };

/** Pairs a node the way `homeport pair` does (the local owner makes the code) and returns its token. */
export async function pairNode(name = 'home'): Promise<{ id: string; token: string }> {
  const made = await SELF.fetch('https://dash.test/api/pairing-codes', { method: 'POST', headers: LOCAL_WRITE });
  if (made.status !== 201) throw new Error(`pairing code answered ${made.status}: ${await made.text()}`);
  const { code } = (await made.json()) as { code: string };
  const paired = await SELF.fetch('https://dash.test/api/pair', { method: 'POST', headers: LOCAL_WRITE, body: JSON.stringify({ code, name }) });
  if (paired.status !== 201) throw new Error(`pair answered ${paired.status}: ${await paired.text()}`);
  const body = (await paired.json()) as { node: { id: string }; token: string };
  return { id: body.node.id, token: body.token };
}

let homeToken: string | null = null;

/** The token of the node "home" (the edge's DEFAULT_NODE), pairing it when this test's storage has none. */
export async function homeNodeToken(): Promise<string> {
  if (homeToken) {
    const probe = await SELF.fetch('https://dash.test/api/tunnel', { headers: { authorization: `Bearer ${homeToken}` } });
    if (probe.status === 426) return homeToken;
  }
  const paired = await pairNode('home');
  if (paired.id !== 'home') throw new Error(`expected the node id "home", got "${paired.id}"`);
  homeToken = paired.token;
  return homeToken;
}

/** What the node received: a decoded frame, or a text message (which the edge should never send). */
type Received = { frame: Frame } | { text: string } | { undecodable: Uint8Array };

export interface Closed {
  code: number;
  reason: string;
}

export class FakeNode {
  #inbox: Received[] = [];
  #waiters: (() => void)[] = [];
  #closed = Promise.withResolvers<Closed>();
  isClosed = false;

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener('message', (e) => {
      if (typeof e.data === 'string') this.#inbox.push({ text: e.data });
      else {
        const bytes = new Uint8Array(e.data as ArrayBuffer);
        try {
          this.#inbox.push({ frame: decodeFrame(bytes) });
        } catch {
          this.#inbox.push({ undecodable: bytes });
        }
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    ws.addEventListener('close', (e) => {
      this.isClosed = true;
      this.#closed.resolve({ code: e.code, reason: e.reason });
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** Opens the tunnel, sends hello and waits for the edge's welcome. */
  static async connect(ports: PortInfo[] = []): Promise<FakeNode> {
    const res = await SELF.fetch('https://dash.test/api/tunnel', {
      headers: { upgrade: 'websocket', authorization: `Bearer ${await homeNodeToken()}`, 'x-homeport-node': 'home' },
    });
    if (res.status !== 101 || !res.webSocket) throw new Error(`tunnel upgrade answered ${res.status}`);
    const ws = res.webSocket;
    // Under current compatibility dates binary messages arrive as Blobs unless asked otherwise.
    ws.binaryType = 'arraybuffer';
    ws.accept();
    const node = new FakeNode(ws);
    node.send(encode.control({ t: 'hello', nodeId: 'home', agent: 'test', protocol: PROTOCOL_VERSION, ports }));
    const welcome = await node.next((f) => f.type === FrameType.Control && f.message.t === 'welcome');
    if (welcome.type !== FrameType.Control) throw new Error('no welcome');
    node.welcome = welcome.message;
    return node;
  }

  welcome: Record<string, unknown> = {};

  send(frame: Uint8Array | string) {
    this.ws.send(frame);
  }

  /** The next thing received, whatever it is (frame, text or undecodable bytes). */
  async receive(timeoutMs = 5000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const item = this.#inbox.shift();
      if (item) return item;
      if (this.isClosed) throw new Error('tunnel closed while waiting for a frame');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The next frame; with a predicate, frames that do not match are skipped (and kept in `skipped`). */
  async next(match?: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const item = await this.receive(Math.max(1, deadline - Date.now()));
      if (!('frame' in item)) throw new Error(`expected a frame, got ${JSON.stringify(item)}`);
      if (!match || match(item.frame)) return item.frame;
      this.skipped.push(item.frame);
    }
  }

  skipped: Frame[] = [];

  /** The next frame, which must be of `type`. */
  async expect<T extends FrameType>(type: T, timeoutMs = 5000): Promise<Frame & { type: T }> {
    const frame = await this.next(undefined, timeoutMs);
    if (frame.type !== type) throw new Error(`expected frame type ${FrameType[type]}, got ${FrameType[frame.type]} ${JSON.stringify(frame)}`);
    return frame as Frame & { type: T };
  }

  /**
   * A barrier: sends a ping and returns every frame that arrived before the pong. The
   * tunnel is ordered, so an empty list proves the edge sent nothing in between.
   */
  async drain(): Promise<Frame[]> {
    const token = new Uint8Array([7, 7, 7, Math.floor(Math.random() * 256)]);
    this.send(encode.ping(token));
    const before: Frame[] = [];
    for (;;) {
      const frame = await this.next();
      if (frame.type === FrameType.Pong && frame.data.every((b, i) => b === token[i])) return before;
      before.push(frame);
    }
  }

  /** Whether nothing more was received (no queued frames). */
  get idle() {
    return this.#inbox.length === 0;
  }

  get closed(): Promise<Closed> {
    return this.#closed.promise;
  }

  close(code = 1000, reason = 'test done') {
    if (this.isClosed) return;
    try {
      this.ws.close(code, reason);
    } catch {
      // already closed
    }
  }
}

/** Waits until the hub no longer sees a tunnel, so the next test starts from an offline node. */
export async function waitOffline(timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await SELF.fetch('https://dash.test/api/nodes', { headers: LOCAL });
    const body = (await res.json()) as { nodes: { online: boolean }[] };
    if (!body.nodes[0].online) return;
    if (Date.now() > deadline) throw new Error('the node still shows as online');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const bytesOf = (s: string) => new TextEncoder().encode(s);
export const textOfBytes = (b: Uint8Array) => new TextDecoder().decode(b);

export const concat = concatBytes;

/**
 * Answers a forwarded request the way homeportd would (head, then body chunks, the last
 * one flagged End), in the dependable order described above. Returns the visitor's
 * response and the body it read.
 */
export async function answer(
  node: FakeNode,
  streamId: number,
  visitor: Promise<Response>,
  head: ResponseHead,
  chunks: (string | Uint8Array)[] = [],
): Promise<{ res: Response; body: Uint8Array }> {
  node.send(encode.response(streamId, head, chunks.length === 0));
  const res = await visitor;
  if (!res.body) return { res, body: new Uint8Array(0) };
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let have = 0;
  let want = 0;
  for (const [i, chunk] of chunks.entries()) {
    const bytes = typeof chunk === 'string' ? bytesOf(chunk) : chunk;
    want += bytes.byteLength;
    node.send(encode.data(streamId, bytes, i === chunks.length - 1));
    while (have < want) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      have += value.byteLength;
    }
  }
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return { res, body: concat(parts) };
}

/**
 * For a test file whose tests connect the node "home": pairs it before each test and, after
 * each, closes what the test connected and waits until the hub sees it offline. Returns connect.
 */
export function fakeNodePerTest(): (ports?: PortInfo[]) => Promise<FakeNode> {
  let nodes: FakeNode[] = [];
  beforeEach(async () => {
    await homeNodeToken();
  });
  afterEach(async () => {
    for (const n of nodes) n.close();
    if (nodes.length) await waitOffline();
    nodes = [];
  });
  return async (ports) => {
    const node = await FakeNode.connect(ports);
    nodes.push(node);
    return node;
  };
}
