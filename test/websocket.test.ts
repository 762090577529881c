/**
 * End to end: WebSockets through the share (edge → tunnel → homeportd → dev server) and
 * through the LAN door: text and binary both ways, subprotocols, close codes and reasons.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { lanAuth } from './helpers/lan.ts';
import { ownerRequest as request, startDevServer, startTestStack, waitFor, type DevServer, type TestStack } from './helpers/stack.ts';

let stack: TestStack;
let dev: DevServer;

beforeAll(async () => {
  stack = await startTestStack();
  dev = await startDevServer('chat-app');
  // The path form serves public shares only, on ports that turn it on.
  await stack.waitForTunnel('online');
  expect(stack.cli('share', String(dev.port), '--public').code).toBe(0);
  expect(stack.cli('port', String(dev.port), '--path-form').code).toBe(0);
});

afterAll(async () => {
  await dev?.stop();
  await stack?.stop();
});

/** Opens a socket and collects its messages; resolves once open. */
function connect(url: string, host: string, protocols: string[] = [], headers: Record<string, string> = {}) {
  const socket = new WebSocket(url, protocols, { headers: { host, ...stack.ownerHeaders, ...headers } });
  const messages: (string | Buffer)[] = [];
  socket.on('message', (data: Buffer, isBinary) => messages.push(isBinary ? data : data.toString()));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  return { socket, messages, closed, opened };
}

const doors = () => [
  { name: 'share path form', url: `ws://127.0.0.1:${stack.edgePort}/${dev.port}/live?room=1`, host: stack.shareHost, seenPath: '/live?room=1', headers: {} },
  { name: 'share subdomain form', url: `ws://127.0.0.1:${stack.edgePort}/live?room=2`, host: `${dev.port}-${stack.nodeId}.${stack.shareHost}`, seenPath: '/live?room=2', headers: {} },
  { name: 'LAN door', url: `ws://127.0.0.1:${stack.lanPort}/live?room=3`, host: `${dev.port}.localhost:${stack.lanPort}`, seenPath: '/live?room=3', headers: lanAuth(stack.dataDir) },
];

describe('WebSocket relay', () => {
  for (const index of [0, 1, 2]) {
    it(`should relay text, binary, subprotocol and close both ways (${['share path form', 'share subdomain form', 'LAN door'][index]})`, async () => {
      const door = doors()[index];
      const c = connect(door.url, door.host, ['hmr'], door.headers);
      await c.opened;
      expect(c.socket.protocol).toBe('hmr');
      await waitFor('hello', async () => c.messages.length >= 1);
      const hello = JSON.parse(c.messages[0] as string);
      expect(hello.hello).toBe(door.seenPath);
      expect(hello.host).toBe(`localhost:${dev.port}`);

      c.socket.send('ping text ✓');
      const binary = Buffer.from([0, 1, 2, 250, 255]);
      c.socket.send(binary);
      const big = Buffer.alloc(300_000, 7);
      c.socket.send(big);
      await waitFor('echoes', async () => c.messages.length >= 4);
      expect(c.messages[1]).toBe('ping text ✓');
      expect(Buffer.isBuffer(c.messages[2]) && (c.messages[2] as Buffer).equals(binary)).toBe(true);
      expect((c.messages[3] as Buffer).equals(big)).toBe(true);

      // The dev server closes with a code and reason: the visitor sees both.
      c.socket.send('close:4001:server says bye');
      expect(await c.closed).toEqual({ code: 4001, reason: 'server says bye' });
    });
  }

  it('should carry a close from the visitor to the dev server with its code and reason', async () => {
    const door = doors()[0];
    const c = connect(door.url, door.host);
    await c.opened;
    c.socket.close(4002, 'visitor leaves');
    await c.closed;
    const last = await waitFor('close at the dev server', async () => {
      const res = await request(stack, `/${dev.port}/last-close`);
      const seen = JSON.parse(res.text);
      return seen?.code === 4002 ? seen : undefined;
    });
    expect(last).toEqual({ code: 4002, reason: 'visitor leaves' });
  });

  it('should answer an upgrade to a port with nothing listening with a clear error', async () => {
    const c = connect(`ws://127.0.0.1:${stack.edgePort}/`, `9998-${stack.nodeId}.${stack.shareHost}`);
    await expect(c.opened).rejects.toThrow(/502/);
  });
});
