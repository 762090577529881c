/**
 * @module
 * The edge half of tunnel streams: one forwarded HTTP request or WebSocket per stream.
 * Request bodies go out under the node's credit; response bodies come back into a
 * pull-based stream that grants credit only as the visitor reads, so the edge holds at
 * most one window per stream.
 */
import {
  DATA_CHUNK_SIZE,
  MAX_PAYLOAD,
  Flags,
  FrameType,
  ChunkQueue,
  ReceiveWindow,
  SendWindow,
  StreamClosedError,
  chunksOf,
  encode,
  pages,
  textOf,
  type ErrorPage,
  type Frame,
  type RequestHead,
  type ResponseHead,
} from '@homeport/shared';

export interface TunnelLink {
  send(frame: Uint8Array): void;
}

export function pageResponse(page: ErrorPage): Response {
  return new Response(page.body, { status: page.status, headers: page.headers });
}

const NULL_BODY = new Set([101, 204, 205, 304]);
/** WebSocket close codes that may not be sent on the wire. */
const RESERVED_CLOSE = new Set([1004, 1005, 1006, 1015]);

/** The message is what the access log says of a body cut short by it (shares/access-log.ts). */
class NodeDropped extends Error {
  constructor() {
    super('node disconnected');
  }
}

abstract class RelayStream {
  constructor(
    readonly id: number,
    protected readonly table: StreamTable,
  ) {}
  abstract onFrame(frame: Frame): void;
  /** the tunnel dropped or the stream was torn down */
  abstract fail(error: Error): void;
}

/** A forwarded HTTP request (or a WebSocket upgrade until the node answers it). */
class HttpStream extends RelayStream {
  readonly sendWindow = new SendWindow();
  readonly #receiveWindow = new ReceiveWindow();
  #head = Promise.withResolvers<ResponseHead | ErrorPage>();
  readonly #body = new ChunkQueue(
    (bytes) => {
      const grant = this.#receiveWindow.consumed(bytes);
      if (grant) this.table.send(encode.window(this.id, grant));
    },
    () => {
      // The visitor went away: tell the node to stop reading from the dev server.
      this.table.send(encode.reset(this.id, 'cancelled', 'visitor disconnected'));
      this.table.forget(this.id);
    },
  );
  /** set once this stream became a WebSocket */
  ws: WebSocketStream | null = null;

  get head() {
    return this.#head.promise;
  }

  onFrame(frame: Frame) {
    switch (frame.type) {
      case FrameType.Response:
        this.#head.resolve(frame.head);
        if (frame.flags & Flags.End) this.#finish();
        break;
      case FrameType.Data:
        this.#body.push(frame.data);
        if (frame.flags & Flags.End) this.#finish();
        break;
      case FrameType.Window:
        this.sendWindow.grant(frame.credit);
        break;
      case FrameType.Reset:
        // The node says why in words (e.g. "the dev server broke off the response").
        this.fail(new Error(frame.reset.message || frame.reset.code));
        break;
      default:
        this.ws?.onFrame(frame);
    }
  }

  #finish() {
    this.#body.end();
    this.sendWindow.close(new StreamClosedError('response finished'));
    if (!this.ws) this.table.forget(this.id);
  }

  fail(error: Error, page: ErrorPage = pages.nodeDropped()) {
    this.#head.resolve(page);
    this.#body.error(error);
    this.sendWindow.close(error);
    this.ws?.fail(error);
    this.table.forget(this.id);
  }

  /** The response body: a pull stream that grants credit as the visitor reads. */
  body(): ReadableStream<Uint8Array> {
    return this.#body.readable();
  }
}

/** Whether a WebSocket message fits one frame (a text's UTF-8 size is only computed when it might not). */
function fitsOneFrame(data: string | Uint8Array): boolean {
  if (typeof data !== 'string') return data.byteLength <= MAX_PAYLOAD;
  return data.length * 3 <= MAX_PAYLOAD || new TextEncoder().encode(data).byteLength <= MAX_PAYLOAD;
}

/** Which share a visitor's WebSocket came through, so revoking that share can close it. */
export interface StreamTag {
  port: number;
  /** passed as the owner: revoking a share never closes the owner's sockets */
  owner: boolean;
}

/** The edge side of a proxied WebSocket, once the node accepted the upgrade. */
class WebSocketStream {
  #socket: WebSocket | null = null;
  #pending: Frame[] = [];
  #ended = false;

  constructor(
    readonly id: number,
    private readonly table: StreamTable,
    readonly tag: StreamTag | null,
  ) {}

  attach(socket: WebSocket) {
    this.#socket = socket;
    // Newer compatibility dates deliver binary messages as Blobs unless asked otherwise.
    (socket as WebSocket & { binaryType: string }).binaryType = 'arraybuffer';
    socket.accept();
    socket.addEventListener('message', (e) => {
      const data = typeof e.data === 'string' ? e.data : new Uint8Array(e.data as ArrayBuffer);
      if (!fitsOneFrame(data)) {
        socket.close(1009, 'message too big for the tunnel');
        return;
      }
      this.table.send(encode.wsMessage(this.id, data));
    });
    socket.addEventListener('close', (e) => {
      // The edge ended it (end()): the node was told already.
      if (this.#ended) return;
      const code = RESERVED_CLOSE.has(e.code) ? 1000 : e.code;
      this.table.send(encode.wsClose(this.id, code, e.reason));
      this.table.forget(this.id);
      // Complete the closing handshake, or the visitor waits for it until its own timeout.
      try {
        socket.close(code, e.reason);
      } catch {
        // already closed
      }
    });
    socket.addEventListener('error', () => {
      this.table.send(encode.wsClose(this.id, 1011, 'visitor socket error'));
      this.table.forget(this.id);
    });
    for (const frame of this.#pending.splice(0)) this.onFrame(frame);
  }

  onFrame(frame: Frame) {
    const socket = this.#socket;
    if (!socket) {
      this.#pending.push(frame);
      return;
    }
    if (frame.type === FrameType.WsMessage) {
      socket.send(frame.flags & Flags.Binary ? frame.data : textOf(frame.data));
    } else if (frame.type === FrameType.WsClose) {
      this.table.forget(this.id);
      socket.close(RESERVED_CLOSE.has(frame.code) ? 1000 : frame.code, frame.reason);
    }
  }

  fail(error: Error) {
    try {
      this.#socket?.close(1011, error instanceof NodeDropped ? 'home node disconnected' : 'stream reset');
    } catch {
      // already closed
    }
  }

  /** The edge ends the socket itself (a share was revoked): the visitor and the node both hear why. */
  end(code: number, reason: string) {
    this.#ended = true;
    this.table.send(encode.wsClose(this.id, code, reason));
    this.table.forget(this.id);
    try {
      this.#socket?.close(code, reason);
    } catch {
      // already closed
    }
  }
}

export interface ForwardOptions {
  port: number;
  maxBodyBytes: number;
  timeoutMs: number;
  /** sees the response body before its length is fixed (the access log counts bytes here) */
  wrapBody?: (body: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;
  /** for WebSockets through a share: which share and whether the owner opened it */
  tag?: StreamTag;
}

/** All streams of one tunnel. Stream ids are chosen by the edge. */
export class StreamTable {
  #streams = new Map<number, HttpStream>();
  #nextId = 1;

  constructor(private readonly link: () => TunnelLink | null) {}

  get size() {
    return this.#streams.size;
  }

  send(frame: Uint8Array) {
    this.link()?.send(frame);
  }

  forget(id: number) {
    this.#streams.delete(id);
  }

  /** A frame for a stream arrived from the node. */
  onFrame(frame: Frame) {
    const stream = this.#streams.get(frame.streamId);
    if (stream) stream.onFrame(frame);
    else if (frame.type !== FrameType.Reset && frame.type !== FrameType.Window && frame.type !== FrameType.WsClose)
      // The node speaks of a stream we no longer have: tell it to drop it too.
      this.send(encode.reset(frame.streamId, 'unknown_stream', 'no such stream at the edge'));
  }

  /** Closes the open WebSockets whose tag `match` picks, e.g. visitors of a revoked share; returns how many. */
  closeWebSockets(match: (tag: StreamTag) => boolean, code: number, reason: string): number {
    let closed = 0;
    for (const stream of [...this.#streams.values()]) {
      if (stream.ws?.tag && match(stream.ws.tag)) {
        stream.ws.end(code, reason);
        closed++;
      }
    }
    return closed;
  }

  /** The tunnel dropped: every stream in flight ends now, with a clear error. */
  dropAll() {
    for (const stream of [...this.#streams.values()]) stream.fail(new NodeDropped());
    this.#streams.clear();
  }

  #open(head: RequestHead, end: boolean): HttpStream {
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0x7fffffff ? 1 : this.#nextId + 1;
    const stream = new HttpStream(id, this);
    this.#streams.set(id, stream);
    this.send(encode.open(id, head, end));
    return stream;
  }

  /** Forwards an HTTP request through the tunnel and answers with the node's response. */
  async forward(request: Request, head: RequestHead, options: ForwardOptions): Promise<Response> {
    const declared = Number(request.headers.get('content-length') ?? 0);
    if (declared > options.maxBodyBytes) return pageResponse(pages.tooLarge(options.maxBodyBytes));
    const hasBody = request.body !== null && request.method !== 'GET' && request.method !== 'HEAD';
    const stream = this.#open(head, !hasBody);
    // The dev server's time to answer counts from the end of the request body, as Cloudflare's does.
    const bodySent = hasBody ? pumpBody(request.body!, stream, this, options.maxBodyBytes) : Promise.resolve();
    const outcome: ResponseHead | ErrorPage | 'timeout' = await Promise.race([
      stream.head,
      bodySent.then(
        () => withTimeout(stream.head, options.timeoutMs),
        () => stream.head,
      ),
    ]);
    if (outcome === 'timeout') {
      this.send(encode.reset(stream.id, 'timeout', 'no response in time'));
      stream.fail(new Error('timeout'));
      return pageResponse(pages.timeout(options.port, Math.round(options.timeoutMs / 1000)));
    }
    if ('body' in outcome) return pageResponse(outcome);
    const headers = new Headers();
    for (const [name, value] of outcome.headers) headers.append(name, value);
    const nullBody = NULL_BODY.has(outcome.status) || request.method === 'HEAD';
    if (nullBody) return new Response(null, { status: outcome.status, headers });
    const body = options.wrapBody ? options.wrapBody(stream.body()) : stream.body();
    // The dev server's bytes are already encoded as its Content-Encoding says: pass them as
    // they are (workerd would otherwise compress them a second time).
    return new Response(withDeclaredLength(body, headers), { status: outcome.status, headers, encodeBody: encodingOf(headers) });
  }

  /** Forwards a WebSocket upgrade; once the node's dev server accepts, relays messages both ways. */
  async forwardWebSocket(head: RequestHead, options: ForwardOptions): Promise<Response> {
    const stream = this.#open({ ...head, websocket: true }, true);
    const outcome = await withTimeout(stream.head, options.timeoutMs);
    if (outcome === 'timeout') {
      this.send(encode.reset(stream.id, 'timeout', 'no response in time'));
      stream.fail(new Error('timeout'));
      return pageResponse(pages.timeout(options.port, Math.round(options.timeoutMs / 1000)));
    }
    if ('body' in outcome) return pageResponse(outcome);
    if (outcome.status !== 101) {
      const headers = new Headers();
      for (const [name, value] of outcome.headers) headers.append(name, value);
      return new Response(stream.body(), { status: outcome.status, headers, encodeBody: encodingOf(headers) });
    }
    const ws = new WebSocketStream(stream.id, this, options.tag ?? null);
    stream.ws = ws;
    const pair = new WebSocketPair();
    ws.attach(pair[1]);
    const headers = new Headers();
    for (const [name, value] of outcome.headers) if (name.toLowerCase() === 'sec-websocket-protocol') headers.set(name, value);
    return new Response(null, { status: 101, webSocket: pair[0], headers });
  }
}

class BodyTooLarge extends Error {}

/**
 * With a known length the body goes out with that Content-Length, so a body cut short
 * (the node dropped mid-download) can never look complete to the visitor.
 */
function withDeclaredLength(body: ReadableStream<Uint8Array>, headers: Headers): ReadableStream<Uint8Array> {
  const length = Number(headers.get('content-length'));
  if (!headers.has('content-length') || !Number.isSafeInteger(length) || length < 0 || headers.has('content-encoding')) return body;
  const fixed = new FixedLengthStream(length);
  body.pipeTo(fixed.writable).catch(() => {});
  return fixed.readable;
}

/** `promise`, or 'timeout' once `ms` have passed. */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/**
 * Sends a request body to the node in DATA frames, each waiting for credit, one frame per
 * workerd read. (Gathering reads into larger frames with a timer race stalled uploads in
 * local workerd; docs/tunnel.md.)
 */
async function pumpBody(body: ReadableStream<Uint8Array>, stream: HttpStream, table: StreamTable, limit: number) {
  const reader = body.getReader();
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        table.send(encode.reset(stream.id, 'too_large', `request body over ${limit} bytes`));
        const error = new BodyTooLarge();
        stream.fail(error, pages.tooLarge(limit));
        throw error;
      }
      for (const piece of chunksOf(value)) {
        await stream.sendWindow.take(piece.byteLength);
        table.send(encode.data(stream.id, piece));
      }
    }
    table.send(encode.end(stream.id));
  } catch (error) {
    reader.cancel().catch(() => {});
    if (!(error instanceof StreamClosedError) && !(error instanceof BodyTooLarge)) {
      table.send(encode.reset(stream.id, 'body_error', `the request body broke off: ${error instanceof Error ? error.message : 'unknown'}`.slice(0, 200)));
    }
    throw error;
  }
}

/** 'manual' when the node's answer is already encoded (Content-Encoding), so workerd sends it as it is. */
function encodingOf(headers: Headers): 'manual' | 'automatic' {
  return headers.has('content-encoding') ? 'manual' : 'automatic';
}
