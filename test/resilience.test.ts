/**
 * End to end: the home node drops mid-download, the edge shows a readable offline page,
 * homeportd reconnects by itself, and an edge restart (object reset) is survived too.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ownHost } from './helpers/own-origin.ts';
import { nodeApi, ownerRequest as request, startDevServer, startTestStack, waitFor, type DevServer, type TestStack } from './helpers/stack.ts';

let stack: TestStack;
let dev: DevServer;

beforeAll(async () => {
  stack = await startTestStack();
  dev = await startDevServer('resilient-app');
  await waitFor('the edge to know the dev server', async () => (await edgePorts()).ports.some((p: { port: number }) => p.port === dev.port));
});

/** The dev server at its own origin (the owner from loopback: the path form serves public shares only). */
const own = (path: string) => request(stack, path, { host: ownHost(stack, dev.port) });

function edgePorts() {
  return fetch(`http://127.0.0.1:${stack.edgePort}/api/nodes/${stack.nodeId}/ports`, { headers: { host: `localhost:${stack.edgePort}`, ...stack.ownerHeaders } }).then((r) => r.json());
}

afterAll(async () => {
  await dev?.stop();
  await stack?.stop();
});

describe('a node that drops', () => {
  // A body with a known length: cut short, it must fail at the visitor (docs/tunnel.md says
  // what a chunked body without a length does).
  it('should end a download in flight with an error, show the offline page, then serve again after the node returns', async () => {
    let received = 0;
    const outcome = new Promise<'ended' | 'errored'>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: stack.edgePort, path: '/download?mb=400&delay=5', headers: { host: ownHost(stack, dev.port), ...stack.ownerHeaders } }, (res) => {
        expect(res.statusCode).toBe(200);
        res.on('data', (c: Buffer) => {
          received += c.length;
          if (received > 2 * 1024 * 1024 && stack.node.exitCode === null && !stack.node.killed) stack.node.kill('SIGKILL');
        });
        res.on('end', () => resolve('ended'));
        res.on('error', () => resolve('errored'));
        res.on('aborted', () => resolve('errored'));
      });
      req.on('error', () => resolve('errored'));
    });
    // A truncated body must never look complete.
    expect(await outcome).toBe('errored');
    expect(received).toBeLessThan(400 * 1024 * 1024);
    await waitFor('homeportd to exit', async () => stack.node.exitCode !== null || stack.node.signalCode !== null);

    const offline = await waitFor('the offline page', async () => {
      const res = await own('/echo');
      return res.status === 503 ? res : undefined;
    });
    expect(offline.text).toContain('Home node offline');
    expect(offline.headers['retry-after']).toBe('5');
    const ports = await edgePorts();
    expect(ports.online).toBe(false);
    // The dashboard still knows the last ports while the node is away.
    expect(ports.ports.some((p: { port: number }) => p.port === dev.port)).toBe(true);

    await stack.startNode();
    await stack.waitForTunnel('online');
    const back = await own('/echo?back=1');
    expect(back.status).toBe(200);
    expect(JSON.parse(back.text).url).toBe('/echo?back=1');
  });

  it('should close a proxied WebSocket with a clear reason when the node drops', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${stack.edgePort}/live`, { headers: { host: ownHost(stack, dev.port), ...stack.ownerHeaders } });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    await stack.stopNode('SIGKILL');
    expect(await closed).toEqual({ code: 1011, reason: 'home node disconnected' });
    await stack.startNode();
    await stack.waitForTunnel('online');
  });

  it('should reconnect by itself after the tunnel is cut, with backoff', async () => {
    const before = await nodeApi<{ tunnel: { reconnects: number } }>(stack.socketPath, '/api/status');
    expect(stack.cli('reconnect').code).toBe(0);
    await waitFor('a reconnect', async () => (await nodeApi<{ tunnel: { reconnects: number; state: string } }>(stack.socketPath, '/api/status')).tunnel.reconnects > before.tunnel.reconnects);
    await stack.waitForTunnel('online');
    expect((await own('/echo')).status).toBe(200);
  });
});

describe('an edge that restarts', () => {
  it('should be survived: homeportd reconnects on its own and shares work again', async () => {
    await stack.stopEdge();
    await stack.waitForTunnel('offline', 15_000).catch(() => stack.waitForTunnel('connecting', 5000));
    await stack.startEdge();
    await stack.waitForTunnel('online', 30_000);
    const res = await own('/echo?after=restart');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).url).toBe('/echo?after=restart');
  });
});
