/**
 * Attack, end to end on a real `npm start`-like stack: the review's "anyone who reaches the
 * local edge is the admin" and "the client chooses its own address". Every request here
 * comes from loopback, through a forwarder like ssh -R or ngrok would be, with whatever
 * headers a client likes. None of it may make anyone the owner or dodge a limit.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.ts';
import { request, startDevServer, startTestStack, type DevServer, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;
let app: DevServer;
let forwarder: net.Server;
let forwarderPort: number;

/** A reverse tunnel's far end in 10 lines: every byte to the edge, every byte back. */
function startForwarder(target: number): Promise<net.Server> {
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  return new Promise((resolve) => server.listen(forwarderPort, '127.0.0.1', () => resolve(server)));
}

const SPOOFED: Record<string, string>[] = [{}, { 'cf-connecting-ip': '127.0.0.1' }, { 'cf-connecting-ip': '::1' }, { 'x-forwarded-for': '127.0.0.1' }, { 'x-real-ip': '127.0.0.1' }];

beforeAll(async () => {
  stack = await startTestStack();
  app = await startDevServer('address-app');
  forwarderPort = await freePort(60001, 64000);
  forwarder = await startForwarder(stack.edgePort);
  await stack.waitForTunnel('online');
});

afterAll(async () => {
  forwarder?.close();
  await app?.stop();
  await stack?.stop();
});

const dashboard = () => `localhost:${stack.edgePort}`;
const subdomain = (port: number) => `${port}-${stack.nodeId}.${stack.shareHost}`;

describe('attack: anyone who reaches the local edge is the admin', () => {
  it('should make nobody the owner through a forwarder, whatever the headers', async () => {
    for (const headers of SPOOFED) {
      for (const port of [stack.edgePort, forwarderPort]) {
        const me = await request(stack, '/api/auth/me', { port, host: dashboard(), headers });
        expect(me.status, `${port} ${JSON.stringify(headers)}`).toBe(401);
        expect(me.text).not.toContain('"role"');
        const code = await request(stack, '/api/pairing-codes', { port, method: 'POST', host: dashboard(), headers: { origin: stack.dashboardUrl, ...headers } });
        expect(code.status).toBe(401);
        const share = await request(stack, '/', { port, host: subdomain(app.port), headers: { connection: 'close', ...headers } });
        expect(share.status).toBe(403);
      }
    }
    // The owner's credential works through the same forwarder: it is the key, not the path.
    const owner = await request(stack, '/api/auth/me', { port: forwarderPort, host: dashboard(), headers: stack.ownerHeaders });
    expect(owner.status).toBe(200);
  });
});

describe('attack: the client chooses its own address', () => {
  it('should hold the password limit against a rotating cf-connecting-ip, and log no invented address', async () => {
    expect(stack.cli('share', String(app.port), '--password', 'the right password 1').code).toBe(0);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await request(stack, '/__homeport/login', {
        method: 'POST',
        host: subdomain(app.port),
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'cf-connecting-ip': `198.51.100.${i}`, connection: 'close' },
        body: 'password=wrong+guess&next=%2F',
      });
      statuses.push(res.status);
    }
    expect(statuses, statuses.join(' ')).toContain(429);
    // Rows are written as each answer ends: wait until the twelve attempts are all there.
    const logged = () => (JSON.parse(stack.cli('logs', String(app.port), '--json').stdout) as { entries: { clientIp: string }[] }).entries;
    await expect.poll(() => logged().length, { timeout: 15_000 }).toBeGreaterThanOrEqual(12);
    const entries = logged();
    expect(entries.every((e) => !e.clientIp.startsWith('198.51.100.'))).toBe(true);
    expect(entries.some((e) => e.clientIp === 'local')).toBe(true);
  });

  it('should hold the pairing-code limit against a rotating cf-connecting-ip', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await request(stack, '/api/pair', {
        method: 'POST',
        host: dashboard(),
        headers: { 'content-type': 'application/json', 'cf-connecting-ip': `198.51.100.${i}` },
        body: JSON.stringify({ code: 'ABCD-EFGH', name: 'intruder' }),
      });
      statuses.push(res.status);
    }
    expect(statuses, statuses.join(' ')).toContain(429);
  });
});

describe('attack: DNS rebinding on the edge', () => {
  it('should refuse the API and the app on a Host it does not serve', async () => {
    for (const host of ['rebind.attacker.example', `rebind.attacker.example:${stack.edgePort}`]) {
      const res = await request(stack, '/api/nodes', { host, headers: stack.ownerHeaders });
      expect(res.status, host).toBe(421);
      expect(res.text).not.toContain('"nodes"');
    }
    // Malformed Hosts that reach the Worker get 400. (Ones workerd itself cannot parse into a
    // URL, like `[::1`, it answers 500 before any Worker runs; Cloudflare answers those 400.)
    for (const host of ['a..b', 'x_y.localhost', 'x'.repeat(400)]) expect((await request(stack, '/', { host })).status, host).toBe(400);
  });
});
