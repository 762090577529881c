/**
 * @module
 * The node half of tunnel streams. Each stream the edge opens is one of:
 *   - an HTTP request to a dev server on 127.0.0.1:<port> (bodies streamed both ways
 *     under credit flow control),
 *   - a WebSocket to a dev server (messages relayed both ways),
 *   - a request to the node's own API (the same Hono app the local door serves).
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import WebSocket from 'ws';
import {
  ChunkQueue,
  DATA_CHUNK_SIZE,
  MAX_PAYLOAD,
  Flags,
  FrameType,
  ReceiveWindow,
  SendWindow,
  StreamClosedError,
  encode,
  pages,
  textOf,
  type ErrorPage,
  type Frame,
  type HeaderList,
  type RequestHead,
} from '@homeport/shared';
import { downstreamHeaders, upstreamHeaders, upstreamPath, type ProxyContext } from '../proxy/rewrite.ts';

export interface StreamDeps {
  send(frame: Uint8Array): void;
  /** where to connect for a port, or an error page when it may not be proxied */
  resolvePort(port: number): { host: string } | { page: ErrorPage };
  keepPrefix(port: number): boolean;
  /** the page the path form answers for this port when its owner did not turn it on, or null */
  pathFormRefusal(port: number): ErrorPage | null;
  /** the node's API */
  api(request: Request): Promise<Response>;
  /**
   * Where a WebSocket to the node's API is relayed instead of the API app (code-server
   * under /api/code/), or null: the API app answers it as a plain request.
   */
  apiWebSocket?(url: string): { host: string; port: number; prefix: string } | null;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
/** Keeps the dev-server leg of a proxied WebSocket alive and detects dead ones. */
const WS_PING_MS = 30_000;

interface NodeStream {
  onFrame(frame: Frame): void;
  abort(reason: string): void;
}

export class NodeStreams {
  #streams = new Map<number, NodeStream>();

  constructor(private readonly deps: StreamDeps) {}

  get size() {
    return this.#streams.size;
  }

  onFrame(frame: Frame) {
    if (frame.type === FrameType.Open) {
      if (this.#streams.has(frame.streamId)) {
        this.deps.send(encode.reset(frame.streamId, 'duplicate', 'stream id already open'));
        return;
      }
      this.#open(frame.streamId, frame.head, (frame.flags & Flags.End) !== 0);
      return;
    }
    this.#streams.get(frame.streamId)?.onFrame(frame);
  }

  /** The tunnel dropped: abort every upstream request and socket. */
  dropAll() {
    for (const stream of this.#streams.values()) stream.abort('tunnel dropped');
    this.#streams.clear();
  }

  #open(id: number, head: RequestHead, ended: boolean) {
    const forget = () => this.#streams.delete(id);
    if (head.target.kind === 'api') {
      const relay = head.websocket ? this.deps.apiWebSocket?.(head.url) : null;
      if (relay) {
        const ctx: ProxyContext = { port: relay.port, prefix: relay.prefix, keepPrefix: false, clientIp: head.clientIp };
        this.#streams.set(id, new UpstreamWebSocket(id, head, ctx, relay.host, this.deps, forget));
      } else this.#streams.set(id, new ApiStream(id, head, ended, this.deps, forget));
      return;
    }
    const { port, prefix } = head.target;
    const resolved = this.deps.resolvePort(port);
    if ('page' in resolved) {
      sendPage(this.deps.send, id, resolved.page);
      return;
    }
    // A prefix means the path form, which every port must turn on (port-settings.ts).
    const refusal = prefix ? this.deps.pathFormRefusal(port) : null;
    if (refusal) {
      sendPage(this.deps.send, id, refusal);
      return;
    }
    const ctx: ProxyContext = { port, prefix, keepPrefix: this.deps.keepPrefix(port), publicOrigin: head.origin, clientIp: head.clientIp };
    const stream = head.websocket
      ? new UpstreamWebSocket(id, head, ctx, resolved.host, this.deps, forget)
      : new UpstreamHttp(id, head, ended, ctx, resolved.host, this.deps, forget);
    this.#streams.set(id, stream);
  }
}

function sendPage(send: (f: Uint8Array) => void, id: number, page: ErrorPage) {
  const body = new TextEncoder().encode(page.body);
  send(encode.response(id, { status: page.status, headers: [...Object.entries(page.headers), ['content-length', String(body.byteLength)]] }, false));
  send(encode.data(id, body, true));
}

/**
 * Reads a Node readable in pieces of up to DATA_CHUNK_SIZE. Node hands over socket reads
 * of 64 KiB at most, but a Durable Object relays large frames far faster (DESIGN.md), so
 * what arrives within one turn of the event loop is gathered into one piece.
 */
async function* coalesced(readable: Readable): AsyncGenerator<Buffer> {
  for (;;) {
    let chunk: Buffer | null = readable.read(DATA_CHUNK_SIZE);
    if (chunk === null && readable.readableLength > 0) {
      await new Promise((resolve) => setImmediate(resolve));
      chunk = readable.read(DATA_CHUNK_SIZE) ?? readable.read();
    }
    if (chunk !== null) {
      yield chunk;
      continue;
    }
    if (readable.errored) throw readable.errored;
    if (readable.readableEnded || readable.destroyed) return;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        readable.off('readable', done).off('end', done).off('close', done).off('error', fail);
        resolve();
      };
      const fail = (error: Error) => {
        done();
        reject(error);
      };
      readable.on('readable', done).on('end', done).on('close', done).on('error', fail);
    });
  }
}

/** True once an incoming HTTP message has arrived whole and nothing is left to read. */
function drained(readable: Readable): boolean {
  return (readable as http.IncomingMessage).complete === true && readable.readableLength === 0;
}

/** Sends a Node readable to the edge in DATA frames, each waiting for credit; the last one carries End. */
async function pumpReadable(readable: Readable, id: number, window: SendWindow, send: (f: Uint8Array) => void) {
  for await (const chunk of coalesced(readable)) {
    await window.take(chunk.byteLength);
    send(encode.data(id, new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), drained(readable)));
    if (drained(readable)) return;
  }
  send(encode.end(id));
}

/** An incoming request body from the edge, granting credit back as it is consumed. */
function incomingBody(id: number, send: (f: Uint8Array) => void, onCancel: () => void) {
  const window = new ReceiveWindow();
  return new ChunkQueue((bytes) => {
    const grant = window.consumed(bytes);
    if (grant) send(encode.window(id, grant));
  }, onCancel);
}

class UpstreamHttp implements NodeStream {
  readonly #window = new SendWindow();
  readonly #body: ChunkQueue;
  #request: http.ClientRequest;
  #response: http.IncomingMessage | null = null;
  #done = false;

  constructor(
    readonly id: number,
    head: RequestHead,
    ended: boolean,
    ctx: ProxyContext,
    host: string,
    private readonly deps: StreamDeps,
    private readonly forget: () => void,
  ) {
    this.#body = incomingBody(id, deps.send, () => this.abort('request body cancelled'));
    const headers = upstreamHeaders(head.headers, ctx);
    this.#request = http.request({
      host,
      port: ctx.port,
      // Room for a whole DATA frame per read (see coalesced()); Node supports it, its types lag.
      ...({ highWaterMark: DATA_CHUNK_SIZE } as http.RequestOptions),
      method: head.method,
      path: upstreamPath(head.url, ctx),
      headers: headers.flat(),
      agent,
    });
    this.#request.on('response', (res) => this.#onResponse(res, ctx, head.method));
    this.#request.on('error', (error: NodeJS.ErrnoException) => this.#onError(error, ctx.port));
    if (ended) this.#request.end();
    else {
      const body = Readable.fromWeb(this.#body.readable() as import('node:stream/web').ReadableStream);
      // A body the edge reset must end this request, never the daemon.
      body.on('error', () => this.#request.destroy());
      body.pipe(this.#request);
    }
  }

  #onResponse(res: http.IncomingMessage, ctx: ProxyContext, method: string) {
    this.#response = res;
    const headers = downstreamHeaders(res.rawHeaders, ctx);
    const noBody = method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304 || res.headers['content-length'] === '0';
    this.deps.send(encode.response(this.id, { status: res.statusCode ?? 502, headers }, noBody));
    if (noBody) {
      res.resume();
      this.#finish();
      return;
    }
    pumpReadable(res, this.id, this.#window, this.deps.send)
      .then(() => this.#finish())
      .catch((error) => {
        if (this.#done) return;
        if (!(error instanceof StreamClosedError)) this.deps.send(encode.reset(this.id, 'upstream_error', 'the dev server broke off the response'));
        this.abort('response failed');
      });
  }

  #onError(error: NodeJS.ErrnoException, port: number) {
    if (this.#done) return;
    if (this.#response) {
      this.deps.send(encode.reset(this.id, 'upstream_error', `the dev server broke off the response (${error.code ?? 'error'})`));
    } else {
      sendPage(this.deps.send, this.id, error.code === 'ECONNREFUSED' ? pages.nothingListening(port) : pages.upstreamFailed(port, error.code ?? 'connection error'));
    }
    this.#finish();
  }

  #finish() {
    this.#done = true;
    this.#window.close();
    this.forget();
  }

  onFrame(frame: Frame) {
    switch (frame.type) {
      case FrameType.Data:
        this.#body.push(frame.data);
        if (frame.flags & Flags.End) this.#body.end();
        break;
      case FrameType.Window:
        this.#window.grant(frame.credit);
        break;
      case FrameType.Reset:
        this.abort(`${frame.reset.code}: ${frame.reset.message}`);
        break;
    }
  }

  abort(reason: string) {
    if (this.#done) return;
    this.#done = true;
    this.#window.close(new StreamClosedError(reason));
    this.#body.error(new StreamClosedError(reason));
    this.#request.destroy();
    this.#response?.destroy();
    this.forget();
  }
}

class UpstreamWebSocket implements NodeStream {
  #socket: WebSocket;
  #ping: ReturnType<typeof setInterval> | null = null;
  #open = false;
  #closed = false;

  constructor(
    readonly id: number,
    head: RequestHead,
    ctx: ProxyContext,
    host: string,
    private readonly deps: StreamDeps,
    private readonly forget: () => void,
  ) {
    const headers: Record<string, string> = {};
    let protocols: string[] = [];
    for (const [name, value] of upstreamHeaders(head.headers, ctx)) {
      const lower = name.toLowerCase();
      if (lower === 'sec-websocket-protocol') protocols = value.split(',').map((p) => p.trim()).filter(Boolean);
      else if (!lower.startsWith('sec-websocket-')) headers[lower] = headers[lower] ? `${headers[lower]}, ${value}` : value;
    }
    const hostPart = host.includes(':') ? `[${host}]` : host;
    this.#socket = new WebSocket(`ws://${hostPart}:${ctx.port}${upstreamPath(head.url, ctx)}`, protocols, {
      headers,
      perMessageDeflate: false,
      handshakeTimeout: 30_000,
      maxPayload: MAX_PAYLOAD,
    });
    this.#socket.on('upgrade', (res) => {
      this.#open = true;
      const accepted: HeaderList = [];
      const protocol = res.headers['sec-websocket-protocol'];
      if (typeof protocol === 'string') accepted.push(['sec-websocket-protocol', protocol]);
      this.deps.send(encode.response(this.id, { status: 101, headers: accepted }, false));
    });
    this.#socket.on('unexpected-response', (_req, res) => {
      // The dev server refused the upgrade: pass its answer on as plain HTTP.
      this.#open = true;
      this.deps.send(encode.response(this.id, { status: res.statusCode ?? 502, headers: downstreamHeaders(res.rawHeaders, ctx) }, false));
      const window = new SendWindow();
      pumpReadable(res, this.id, window, this.deps.send).catch(() => {});
      this.#closed = true;
      this.forget();
    });
    this.#socket.on('message', (data: Buffer, isBinary: boolean) => {
      this.deps.send(isBinary ? encode.wsMessage(this.id, new Uint8Array(data)) : encode.wsMessage(this.id, data.toString('utf8')));
    });
    this.#socket.on('close', (code, reason) => {
      if (!this.#closed) this.deps.send(encode.wsClose(this.id, code === 1005 || code === 1006 ? 1000 : code, reason.toString()));
      this.#teardown();
    });
    this.#socket.on('error', (error: NodeJS.ErrnoException) => {
      if (this.#closed) return;
      if (!this.#open) {
        sendPage(this.deps.send, this.id, error.code === 'ECONNREFUSED' ? pages.nothingListening(ctx.port) : pages.upstreamFailed(ctx.port, error.code ?? error.message));
        this.#closed = true;
      } else {
        this.deps.send(encode.wsClose(this.id, 1011, 'dev server socket error'));
        this.#closed = true;
      }
      this.#teardown();
    });
    this.#ping = setInterval(() => {
      if (this.#socket.readyState === WebSocket.OPEN) this.#socket.ping();
    }, WS_PING_MS);
  }

  #teardown() {
    if (this.#ping) clearInterval(this.#ping);
    this.#ping = null;
    this.forget();
  }

  onFrame(frame: Frame) {
    if (frame.type === FrameType.WsMessage) {
      if (this.#socket.readyState !== WebSocket.OPEN) return;
      if (frame.flags & Flags.Binary) this.#socket.send(frame.data, { binary: true });
      else this.#socket.send(textOf(frame.data), { binary: false });
    } else if (frame.type === FrameType.WsClose) {
      this.#closed = true;
      const code = frame.code >= 1000 && frame.code < 5000 && ![1004, 1005, 1006, 1015].includes(frame.code) ? frame.code : 1000;
      if (this.#socket.readyState === WebSocket.CONNECTING) this.#socket.terminate();
      else this.#socket.close(code, frame.reason);
      this.#teardown();
    } else if (frame.type === FrameType.Reset) {
      this.abort(frame.reset.code);
    }
  }

  abort(_reason?: string) {
    this.#closed = true;
    this.#socket.terminate();
    this.#teardown();
  }
}

/** A request for the node's own API, answered by the same Hono app as the local door. */
class ApiStream implements NodeStream {
  readonly #window = new SendWindow();
  readonly #body: ChunkQueue;
  #done = false;

  constructor(
    readonly id: number,
    head: RequestHead,
    ended: boolean,
    private readonly deps: StreamDeps,
    private readonly forget: () => void,
  ) {
    this.#body = incomingBody(id, deps.send, () => {});
    if (ended) this.#body.end();
    const headers = new Headers();
    for (const [name, value] of head.headers) headers.append(name, value);
    // Marks the request as coming through the edge, which has already checked the owner.
    headers.set('x-homeport-door', 'tunnel');
    const request = new Request(`http://homeportd${head.url}`, {
      method: head.method,
      headers,
      body: ended || head.method === 'GET' || head.method === 'HEAD' ? null : this.#body.readable(),
      // @ts-expect-error Node's fetch needs this for streamed request bodies
      duplex: 'half',
    });
    this.#run(request).catch(() => {
      if (!this.#done) deps.send(encode.reset(id, 'api_error', 'the node API failed'));
      this.#finish();
    });
  }

  async #run(request: Request) {
    const response = await this.deps.api(request);
    const headers: HeaderList = [];
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie') headers.push([name, value]);
    });
    this.deps.send(encode.response(this.id, { status: response.status, headers }, response.body === null));
    if (response.body) await pumpReadable(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), this.id, this.#window, this.deps.send);
    this.#finish();
  }

  #finish() {
    this.#done = true;
    this.#window.close();
    this.forget();
  }

  onFrame(frame: Frame) {
    if (frame.type === FrameType.Data) {
      this.#body.push(frame.data);
      if (frame.flags & Flags.End) this.#body.end();
    } else if (frame.type === FrameType.Window) this.#window.grant(frame.credit);
    else if (frame.type === FrameType.Reset) this.abort(frame.reset.code);
  }

  abort(reason = 'aborted') {
    this.#done = true;
    this.#window.close(new StreamClosedError(reason));
    this.#body.error(new StreamClosedError(reason));
    this.forget();
  }
}
