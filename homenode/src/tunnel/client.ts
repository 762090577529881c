/**
 * @module
 * The tunnel client: one outbound WebSocket from the node to the edge (no inbound
 * ports), kept alive with pings under Cloudflare's ~100 s idle cut, and reconnected
 * with jittered exponential backoff whenever it drops. Errors are sorted as in coder's
 * agent loop: stop() ends the loop; anything else is logged and retried.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { FrameError, FrameType, PROTOCOL_VERSION, decodeFrame, encode, type PortInfo, type RpcMethod, type RpcResultMessage, type WelcomeMessage } from '@homeport/shared';
import type { NodeStreams } from './streams.ts';

export type TunnelState = 'idle' | 'connecting' | 'online' | 'offline' | 'rejected' | 'stopped';

export interface TunnelOptions {
  edgeUrl: string;
  nodeId: string;
  token: string;
  agent: string;
  ports: () => PortInfo[];
  streams: NodeStreams;
  pingIntervalMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  log?: (message: string) => void;
}

export interface TunnelStatus {
  state: TunnelState;
  edgeUrl: string;
  connectedAt: number | null;
  lastError: string | null;
  reconnects: number;
  rttMs: number | null;
  welcome: WelcomeMessage | null;
}

/** Delay before reconnect attempt `attempt` (0-based): doubling, capped, with jitter. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function tunnelUrlOf(edgeUrl: string): string {
  const url = new URL('/api/tunnel', edgeUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** An RPC the edge refused (status as on the owner API) or that could not be made. */
export class RpcError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const RPC_TIMEOUT_MS = 10_000;

export class TunnelClient extends EventEmitter {
  #rpcId = 0;
  #calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  #socket: WebSocket | null = null;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #pingTimer: ReturnType<typeof setInterval> | null = null;
  #lastHeard = 0;
  #pingSentAt = 0;
  #status: TunnelStatus;

  constructor(private readonly options: TunnelOptions) {
    super();
    this.#status = { state: 'idle', edgeUrl: options.edgeUrl, connectedAt: null, lastError: null, reconnects: 0, rttMs: null, welcome: null };
  }

  get status(): TunnelStatus {
    return { ...this.#status };
  }

  #log(message: string) {
    this.options.log?.(message);
  }

  #setState(state: TunnelState) {
    if (this.#status.state === state) return;
    this.#status.state = state;
    this.emit('state', state);
  }

  start() {
    if (this.#status.state === 'stopped') return;
    this.#connect();
  }

  /** Ends the loop for good: the socket closes and no reconnect follows. */
  stop() {
    this.#setState('stopped');
    if (this.#timer) clearTimeout(this.#timer);
    this.#stopPinging();
    this.#failCalls('homeportd is shutting down');
    const socket = this.#socket;
    this.#socket = null;
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(encode.goAway('node shutting down'));
      socket.close(1000, 'node shutting down');
    } else socket?.terminate();
    this.options.streams.dropAll();
  }

  /** Sends a control message if the tunnel is up; returns whether it went out. */
  sendControl(message: { t: string } & Record<string, unknown>): boolean {
    if (this.#socket?.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(encode.control(message));
    return true;
  }

  /** Calls a method on this node's hub at the edge (its shares); fails fast when offline. */
  rpc<T = unknown>(method: RpcMethod, params: Record<string, unknown>): Promise<T> {
    if (this.#socket?.readyState !== WebSocket.OPEN || this.#status.state !== 'online')
      return Promise.reject(new RpcError(503, 'the tunnel to the edge is not connected; try again when `homeport status` says online'));
    const id = ++this.#rpcId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#calls.delete(id);
        reject(new RpcError(504, 'the edge did not answer in time'));
      }, RPC_TIMEOUT_MS);
      this.#calls.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.#socket!.send(encode.control({ t: 'rpc', id, method, params }));
    });
  }

  #settle(message: RpcResultMessage) {
    const call = this.#calls.get(message.id);
    if (!call) return;
    this.#calls.delete(message.id);
    clearTimeout(call.timer);
    if (message.ok) call.resolve(message.result);
    else call.reject(new RpcError(message.status, message.error));
  }

  #failCalls(why: string) {
    for (const call of this.#calls.values()) {
      clearTimeout(call.timer);
      call.reject(new RpcError(503, why));
    }
    this.#calls.clear();
  }

  send(frame: Uint8Array) {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(frame);
  }

  /** Drops the current connection as a network failure would (used by `homeport reconnect`). */
  drop() {
    this.#socket?.terminate();
  }

  #connect() {
    this.#setState('connecting');
    const socket = new WebSocket(tunnelUrlOf(this.options.edgeUrl), {
      headers: { authorization: `Bearer ${this.options.token}`, 'x-homeport-node': this.options.nodeId },
      perMessageDeflate: false,
      handshakeTimeout: 15_000,
      // An all-zero mask lets ws skip masking and its copy of every frame. Masking protects
      // browsers' intermediaries from forged requests; this client is a daemon on TLS.
      generateMask: (mask: Buffer) => mask.fill(0),
      maxPayload: 2 * 1024 * 1024,
    });
    socket.binaryType = 'nodebuffer';
    this.#socket = socket;
    let rejected = false;

    socket.on('unexpected-response', (_req, res) => {
      rejected = res.statusCode === 401 || res.statusCode === 403;
      this.#status.lastError = `edge answered ${res.statusCode} to the tunnel upgrade${rejected ? ': the node token is unknown or revoked; pair again with `homeport pair <edge url> <code>`' : ''}`;
      res.resume();
      socket.terminate();
    });
    socket.on('open', () => {
      this.#lastHeard = Date.now();
      socket.send(encode.control({ t: 'hello', nodeId: this.options.nodeId, agent: this.options.agent, protocol: PROTOCOL_VERSION, ports: this.options.ports() }));
      this.#startPinging(socket);
    });
    socket.on('message', (data: Buffer) => this.#onMessage(socket, data));
    socket.on('error', (error) => {
      // terminate() after a refused upgrade errors too; keep the reason the edge gave.
      if (!rejected) this.#status.lastError = error.message;
    });
    socket.on('close', (code: number, reason: Buffer) => {
      // 4003: the owner revoked this node; its token will not work again.
      if (code === 4003) {
        rejected = true;
        this.#status.lastError = reason.toString() || 'this node was revoked by its owner';
      }
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#stopPinging();
      this.options.streams.dropAll();
      this.#failCalls('the tunnel dropped before the edge answered');
      if (this.#status.state === 'stopped') return;
      this.#status.connectedAt = null;
      this.#setState(rejected ? 'rejected' : 'offline');
      // A rejected token will not fix itself quickly: retry at the slowest pace.
      const delay = rejected ? this.options.backoffMaxMs : backoffDelay(this.#attempt++, this.options.backoffMinMs, this.options.backoffMaxMs);
      this.#log(`tunnel down (${this.#status.lastError ?? 'closed'}); reconnecting in ${delay} ms`);
      this.#timer = setTimeout(() => {
        this.#status.reconnects++;
        this.#connect();
      }, delay);
    });
  }

  #onMessage(socket: WebSocket, data: Buffer) {
    this.#lastHeard = Date.now();
    let frame;
    try {
      frame = decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } catch (error) {
      this.#log(`dropped a bad frame from the edge: ${error instanceof FrameError ? error.message : String(error)}`);
      return;
    }
    switch (frame.type) {
      case FrameType.Ping:
        socket.send(encode.pong(frame.data));
        return;
      case FrameType.Pong:
        this.#status.rttMs = Date.now() - this.#pingSentAt;
        return;
      case FrameType.GoAway:
        this.#status.lastError = `edge closed the tunnel: ${frame.reason}`;
        socket.close(1000);
        return;
      case FrameType.Control:
        if (frame.message.t === 'welcome') {
          this.#status.welcome = frame.message as unknown as WelcomeMessage;
          this.#status.connectedAt = Date.now();
          this.#status.lastError = null;
          this.#attempt = 0;
          this.#setState('online');
          this.#log(`tunnel online to ${this.options.edgeUrl}`);
        } else if (frame.message.t === 'rpc-result') {
          this.#settle(frame.message as unknown as RpcResultMessage);
        } else if (frame.message.t === 'protocol-error') {
          this.#log(`edge reported a protocol error: ${String(frame.message.message)}`);
        }
        // Others (welcome, ack…) are for whoever listens: the outbox sender among them.
        this.emit('control', frame.message);
        return;
      default:
        this.options.streams.onFrame(frame);
    }
  }

  #startPinging(socket: WebSocket) {
    this.#stopPinging();
    this.#pingTimer = setInterval(() => {
      // Nothing heard for two intervals and a half: the link is dead even if TCP says otherwise.
      if (Date.now() - this.#lastHeard > this.options.pingIntervalMs * 2.5) {
        this.#status.lastError = 'no answer to pings';
        socket.terminate();
        return;
      }
      this.#pingSentAt = Date.now();
      const stamp = new Uint8Array(8);
      new DataView(stamp.buffer).setFloat64(0, this.#pingSentAt);
      socket.send(encode.ping(stamp));
    }, this.options.pingIntervalMs);
  }

  #stopPinging() {
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#pingTimer = null;
  }
}
