/**
 * The web app's live connection to one node (web/src/live.ts) against a real WebSocket
 * server (ws) speaking the hub's protocol: it subscribes, hands over events, reconnects
 * after a drop and resumes from the last resumable sequence number, refetches after a
 * `reset`; without a live endpoint (404) it polls; with the edge gone it says offline.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { EventEnvelope } from '@homeport/shared';
import { LiveConnection, type LiveStatus } from '../web/src/live.ts';
import { waitFor } from './helpers/stack.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** An HTTP server on a free port; `live` says whether /api/live upgrades to a WebSocket. */
async function startEdge(live: boolean) {
  const server = http.createServer((req, res) => {
    res.writeHead(live ? 426 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: live ? 'expected a WebSocket upgrade' : 'no such API route' }));
  });
  const wss = new WebSocketServer({ noServer: true });
  const sockets: WebSocket[] = [];
  const received: Record<string, unknown>[] = [];
  server.on('upgrade', (req, socket, head) => {
    if (!live) {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.push(ws);
      ws.on('message', (data) => received.push(JSON.parse(String(data))));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const stop = () =>
    new Promise<void>((r) => {
      for (const s of wss.clients) s.terminate();
      server.closeAllConnections();
      server.close(() => r());
    });
  cleanups.push(stop);
  return { port, sockets, received, wss, stop };
}

function envelope(nodeId: string, topic: string, seq: number): EventEnvelope {
  return { v: 1, id: `${topic}-${seq}`, nodeId, topic, type: 'changed', at: Date.now(), seq, payload: { seq } };
}

function connect(port: number, options: { pollMs?: number } = {}) {
  const statuses: LiveStatus[] = [];
  const events: EventEnvelope[] = [];
  let resyncs = 0;
  let failResync = false;
  const live = new LiveConnection(
    {
      url: `ws://127.0.0.1:${port}/api/nodes/home/live`,
      probeUrl: `http://127.0.0.1:${port}/api/nodes/home/live`,
      topics: ['ports', 'system'],
      pollMs: options.pollMs ?? 60_000,
      backoffMinMs: 20,
      backoffMaxMs: 200,
      WebSocket: WebSocket as never,
      fetch: (url) => fetch(url),
    },
    {
      onEvent: (e) => events.push(e),
      onResync: async () => {
        resyncs++;
        if (failResync) throw new Error('unreachable');
      },
      onStatus: (s) => statuses.push(s),
    },
  );
  cleanups.push(() => live.close());
  return {
    live,
    statuses,
    events,
    resyncs: () => resyncs,
    failResyncs: (fail: boolean) => (failResync = fail),
  };
}

describe('the live connection', () => {
  it('should subscribe, deliver events, resume with since after a drop, and refetch after a reset', async () => {
    const edge = await startEdge(true);
    const client = connect(edge.port);
    client.live.start();
    await waitFor('the first subscribe', async () => edge.received.length === 1, 10_000, 10);
    expect(edge.received[0]).toEqual({ type: 'subscribe', topics: ['ports', 'system'] });
    expect(client.statuses).toEqual(['connecting', 'live']);
    await waitFor('a resync after connecting', async () => client.resyncs() === 1, 10_000, 10);

    const [socket] = edge.sockets;
    socket.send(JSON.stringify(envelope('home', 'repos', 3)));
    socket.send(JSON.stringify(envelope('home', 'servers', 7)));
    // Live-only (seq 0): delivered, but not a place to resume from.
    socket.send(JSON.stringify(envelope('home', 'ports', 0)));
    socket.send('not json');
    socket.send(JSON.stringify({ type: 'error', message: 'ignored' }));
    await waitFor('the events', async () => client.events.length === 3, 10_000, 10);
    expect(client.events.map((e) => `${e.topic}:${e.seq}`)).toEqual(['repos:3', 'servers:7', 'ports:0']);
    expect(client.live.since).toBe(7);

    // The server drops the socket: the client comes back by itself and resumes.
    socket.terminate();
    await waitFor('the resubscribe', async () => edge.received.length === 2, 10_000, 10);
    expect(edge.sockets).toHaveLength(2);
    expect(edge.received[1]).toEqual({ type: 'subscribe', topics: ['ports', 'system'], since: 7 });
    expect(client.statuses).toEqual(['connecting', 'live', 'connecting', 'live']);
    await waitFor('a resync after reconnecting', async () => client.resyncs() === 2, 10_000, 10);

    // The events since 7 are gone: a reset moves since on and refetches everything.
    edge.sockets[1].send(JSON.stringify({ type: 'reset', seq: 40 }));
    await waitFor('a resync after the reset', async () => client.resyncs() === 3, 10_000, 10);
    expect(client.live.since).toBe(40);
  });

  it('should poll every pollMs while the edge has no live endpoint', async () => {
    const edge = await startEdge(false);
    const client = connect(edge.port, { pollMs: 50 });
    client.live.start();
    await waitFor('polling', async () => client.statuses.includes('polling'), 10_000, 10);
    const before = client.resyncs();
    await waitFor('several polls', async () => client.resyncs() >= before + 3, 10_000, 10);
    expect(client.live.status).toBe('polling');
    expect(edge.received).toEqual([]);
  });

  it('should say offline when the edge cannot be reached, and recover when it can', async () => {
    const edge = await startEdge(true);
    await edge.stop();
    const client = connect(edge.port, { pollMs: 50 });
    client.failResyncs(true);
    client.live.start();
    await waitFor('offline', async () => client.live.status === 'offline', 10_000, 10);
    client.failResyncs(false);
    await waitFor('no longer offline', async () => client.live.status === 'connecting', 10_000, 10);
    expect(client.statuses).toContain('offline');
  });
});
