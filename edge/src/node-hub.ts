/**
 * @module
 * NodeHub: one Durable Object per home node. It holds the node's tunnel socket
 * (hibernatable), forwards share and API traffic through it, and keeps the last known
 * picture of the node (its ports) so the dashboard renders while the node is offline.
 */
import { DurableObject } from 'cloudflare:workers';
import {
  FrameError,
  FrameType,
  PROTOCOL_VERSION,
  decodeFrame,
  encode,
  isPortInfoList,
  pages,
  type PortInfo,
  type RequestHead,
} from '@homeport/shared';
import { configOf, shareUrlsOf, type Env } from './env.ts';
import { StreamTable, pageResponse } from './relay.ts';

/** Internal headers the Worker sets when it calls this object; stripped from visitor requests. */
export const HUB_ROUTE = 'x-homeport-route';
export const HUB_TARGET = 'x-homeport-target';
export const HUB_NODE = 'x-homeport-node';

/** A node that sent nothing for this long is taken as gone (it pings every 25 s). */
const SILENCE_LIMIT_MS = 75_000;

interface NodeRecord {
  nodeId: string;
  ports: PortInfo[];
  lastSeen: number | null;
  agent: string | null;
}

export class NodeHub extends DurableObject<Env> {
  #streams = new StreamTable(() => this.#tunnel());
  #lastFrameAt = Date.now();

  #tunnel(): WebSocket | null {
    // The newest open socket: one the hub closed itself (replaced, silent, wrong protocol)
    // stays listed until the node answers the close, which a half-open node never does.
    return this.ctx.getWebSockets('tunnel').findLast((ws) => ws.readyState === WebSocket.OPEN) ?? null;
  }

  async fetch(request: Request): Promise<Response> {
    switch (request.headers.get(HUB_ROUTE)) {
      case 'tunnel':
        return this.#acceptTunnel(request);
      case 'state':
        return Response.json(await this.#state());
      case 'forward':
        return this.#forward(request);
      default:
        return new Response('unknown hub route', { status: 400 });
    }
  }

  async #record(): Promise<NodeRecord> {
    return (await this.ctx.storage.get<NodeRecord>('node')) ?? { nodeId: '', ports: [], lastSeen: null, agent: null };
  }

  async #state() {
    const record = await this.#record();
    const online = this.#tunnel() !== null;
    return { ...record, online, lastSeen: online ? Date.now() : record.lastSeen };
  }

  #acceptTunnel(request: Request): Response {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return new Response('expected a WebSocket upgrade', { status: 426 });
    // A reconnecting node replaces its old, possibly half-open, socket.
    for (const old of this.ctx.getWebSockets('tunnel')) {
      this.#streams.dropAll();
      old.close(4000, 'replaced by a newer connection');
    }
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], ['tunnel']);
    pair[1].serializeAttachment({ nodeId: request.headers.get(HUB_NODE), connectedAt: Date.now() });
    this.#lastFrameAt = Date.now();
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  async #forward(request: Request): Promise<Response> {
    const config = configOf(this.env);
    const head = JSON.parse(request.headers.get(HUB_TARGET)!) as RequestHead;
    const node = request.headers.get(HUB_NODE)!;
    let tunnel = this.#tunnel();
    if (tunnel && Date.now() - this.#lastFrameAt > SILENCE_LIMIT_MS) {
      // Half-open: the node stopped pinging. Treat it as gone rather than wait for a timeout.
      this.#closeTunnel(tunnel, 4001, 'no ping from the node');
      tunnel = null;
    }
    if (!tunnel) return pageResponse(pages.nodeOffline(node));
    const options = {
      port: head.target.kind === 'port' ? head.target.port : 0,
      maxBodyBytes: config.maxBodyBytes,
      timeoutMs: config.upstreamTimeoutMs,
    };
    if (request.headers.get('upgrade')?.toLowerCase() === 'websocket') return this.#streams.forwardWebSocket(head, options);
    return this.#streams.forward(request, head, options);
  }

  #closeTunnel(ws: WebSocket, code: number, reason: string) {
    this.#streams.dropAll();
    try {
      ws.close(code, reason);
    } catch {
      // already closing
    }
  }

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer) {
    this.#lastFrameAt = Date.now();
    if (typeof message === 'string') {
      ws.send(encode.control({ t: 'protocol-error', message: 'the tunnel carries binary frames only' }));
      return;
    }
    let frame;
    try {
      frame = decodeFrame(message);
    } catch (error) {
      // A bad frame is reported and dropped; the tunnel and its other streams go on.
      const detail = error instanceof FrameError ? error.message : 'undecodable frame';
      ws.send(encode.control({ t: 'protocol-error', message: detail }));
      return;
    }
    switch (frame.type) {
      case FrameType.Ping:
        ws.send(encode.pong(frame.data));
        return;
      case FrameType.Pong:
        return;
      case FrameType.Control:
        await this.#onControl(ws, frame.message);
        return;
      case FrameType.GoAway:
        this.#closeTunnel(ws, 1000, 'node said goodbye');
        return;
      case FrameType.Open:
        ws.send(encode.reset(frame.streamId, 'refused', 'only the edge opens streams'));
        return;
      default:
        this.#streams.onFrame(frame);
    }
  }

  async #onControl(ws: WebSocket, message: Record<string, unknown> & { t: string }) {
    const record = await this.#record();
    if (message.t === 'hello') {
      const { nodeId } = ws.deserializeAttachment() as { nodeId: string };
      if (message.protocol !== PROTOCOL_VERSION) {
        ws.close(4002, `protocol ${String(message.protocol)} not supported; the edge speaks ${PROTOCOL_VERSION}`);
        return;
      }
      record.nodeId = nodeId;
      record.agent = typeof message.agent === 'string' ? message.agent.slice(0, 100) : null;
      if (isPortInfoList(message.ports)) record.ports = message.ports;
      record.lastSeen = Date.now();
      await this.ctx.storage.put('node', record);
      ws.send(encode.control({ t: 'welcome', nodeId, ...shareUrlsOf(configOf(this.env), nodeId) }));
    } else if (message.t === 'ports' && isPortInfoList(message.ports)) {
      record.ports = message.ports;
      record.lastSeen = Date.now();
      await this.ctx.storage.put('node', record);
    }
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string) {
    await this.#onTunnelGone(ws);
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }

  async webSocketError(ws: WebSocket) {
    await this.#onTunnelGone(ws);
  }

  async #onTunnelGone(ws: WebSocket) {
    // Only the current tunnel's streams die with it; a replaced socket's were dropped already.
    if (this.#tunnel() === null || this.#tunnel() === ws) this.#streams.dropAll();
    const record = await this.#record();
    record.lastSeen = Date.now();
    await this.ctx.storage.put('node', record);
  }
}
