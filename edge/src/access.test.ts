/**
 * Attacks on "who is the owner" at the edge (issue 12): nobody is the owner because of an
 * address or a header; only a credential makes the owner. The edge here runs in local mode,
 * the mode whose every client arrives from loopback.
 */
import { SELF, env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { LOCAL_CLIENT, clientIpOf, isLocalOwnerKey, secretsEqual } from './access.ts';
import { configOf, type Env } from './env.ts';
import { LOCAL, LOCAL_OWNER_KEY, homeNodeToken } from './fake-node.ts';

const config = configOf(env as unknown as Env);
const DASH = 'https://dash.test';
/** Every address a forwarder or a client could claim for itself. */
const SPOOFS: Record<string, string>[] = [
  {},
  { 'cf-connecting-ip': '127.0.0.1' },
  { 'cf-connecting-ip': '::1' },
  { 'cf-connecting-ip': '::ffff:127.0.0.1' },
  { 'x-forwarded-for': '127.0.0.1' },
  { 'x-real-ip': '127.0.0.1' },
  { 'true-client-ip': '127.0.0.1' },
  { 'x-test-client-ip': '127.0.0.1' },
  { origin: DASH, 'cf-connecting-ip': '127.0.0.1' },
];

describe('attack: the client chooses its own address', () => {
  it('should never take cf-connecting-ip from a local edge (it cannot know who set it)', () => {
    expect(config.localMode).toBe(true);
    const spoofed = new Request(`${DASH}/`, { headers: { 'cf-connecting-ip': '::1' } });
    expect(clientIpOf(spoofed, { localMode: true, trustTestClientIp: false })).toBe(LOCAL_CLIENT);
    expect(clientIpOf(new Request(`${DASH}/`, { headers: { 'cf-connecting-ip': '203.0.113.9' } }), { localMode: true, trustTestClientIp: false })).toBe(LOCAL_CLIENT);
  });

  it('should take cf-connecting-ip where Cloudflare sets it (deployed), and nothing else', () => {
    const deployed = { localMode: false, trustTestClientIp: false };
    expect(clientIpOf(new Request(`${DASH}/`, { headers: { 'cf-connecting-ip': '203.0.113.9' } }), deployed)).toBe('203.0.113.9');
    expect(clientIpOf(new Request(`${DASH}/`, { headers: { 'x-forwarded-for': '127.0.0.1', 'x-test-client-ip': '127.0.0.1' } }), deployed)).toBe('');
  });

  it('should not let a rotating cf-connecting-ip dodge the sign-in limit of a local edge', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      const res = await SELF.fetch(`${DASH}/api/auth/login`, {
        method: 'POST',
        headers: { origin: DASH, 'content-type': 'application/json', 'cf-connecting-ip': `198.51.100.${i}` },
        body: JSON.stringify({ email: `nobody${i}@example.com`, password: 'wrong password 123' }),
      });
      statuses.push(res.status);
    }
    // Counted together as "local": the per-address limit holds.
    expect(statuses).toContain(429);
  });
});

describe('attack: anyone who reaches the local edge is the admin', () => {
  it('should answer 401 on the API to every address and header, loopback included', async () => {
    await homeNodeToken();
    for (const headers of SPOOFS) {
      for (const path of ['/api/auth/me', '/api/nodes', '/api/nodes/home/ports', '/api/nodes/home/api/status', '/api/admin/users']) {
        const res = await SELF.fetch(DASH + path, { headers });
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
      }
      const code = await SELF.fetch(`${DASH}/api/pairing-codes`, { method: 'POST', headers: { origin: DASH, ...headers } });
      expect(code.status, JSON.stringify(headers)).toBe(401);
      const share = await SELF.fetch(`${DASH}/api/nodes/home/shares/3000`, { method: 'PUT', headers: { origin: DASH, 'content-type': 'application/json', ...headers }, body: '{"mode":"public"}' });
      expect(share.status).toBe(401);
    }
  });

  it('should keep a private port private from every address and header', async () => {
    for (const headers of SPOOFS) {
      const own = await SELF.fetch('https://3000-home.share.test/', { headers });
      expect(own.status, JSON.stringify(headers)).toBe(403);
      expect(await own.text()).toContain('This port is private');
      // The path form serves public shares only: a private port there is a page that links its own origin.
      const path = await SELF.fetch('https://share.test/3000/', { headers });
      expect(path.status, JSON.stringify(headers)).toBe(403);
    }
  });

  it("should take the local owner's key, and refuse a wrong one", async () => {
    const me = await SELF.fetch(`${DASH}/api/auth/me`, { headers: LOCAL });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ local: true, role: 'admin' });
    const wrong = await SELF.fetch(`${DASH}/api/auth/me`, { headers: { authorization: `Bearer hpl_${'j'.repeat(43)}` } });
    expect(wrong.status).toBe(401);
    // The key opens a private share (offline node here: the hub answers 503, not 403).
    const share = await SELF.fetch('https://share.test/3000/', { headers: LOCAL });
    expect(share.status).toBe(503);
  });

  it('should know the key only in local mode', async () => {
    expect(await isLocalOwnerKey(LOCAL_OWNER_KEY, config)).toBe(true);
    expect(await isLocalOwnerKey(LOCAL_OWNER_KEY, { ...config, localMode: false })).toBe(false);
    expect(await isLocalOwnerKey(LOCAL_OWNER_KEY, { ...config, localOwnerKey: null })).toBe(false);
    expect(await isLocalOwnerKey(null, config)).toBe(false);
  });
});

describe('the one-time sign-in link of local mode', () => {
  const cookieOf = (res: Response) => /(?:__Host-)?homeport_local=[^;]+/.exec(res.headers.get('set-cookie') ?? '')?.[0] ?? null;

  it("should be made only with the local owner's key", async () => {
    for (const headers of SPOOFS) {
      const res = await SELF.fetch(`${DASH}/api/auth/local/links`, { method: 'POST', headers: { origin: DASH, ...headers } });
      expect(res.status, JSON.stringify(headers)).toBe(401);
    }
  });

  it('should sign a browser in once, with an HttpOnly cookie, and never again', async () => {
    const made = await SELF.fetch(`${DASH}/api/auth/local/links`, { method: 'POST', headers: LOCAL });
    expect(made.status).toBe(201);
    const { url } = (await made.json()) as { url: string };
    expect(url).toMatch(/^https:\/\/dash\.test\/api\/auth\/local\?ticket=[A-Za-z0-9_-]{43}$/);

    const used = await SELF.fetch(url, { redirect: 'manual' });
    expect(used.status).toBe(303);
    expect(used.headers.get('location')).toBe('/');
    expect(used.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    const cookie = cookieOf(used)!;
    expect(cookie).not.toBeNull();

    const me = await SELF.fetch(`${DASH}/api/auth/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ local: true, role: 'admin' });
    // A browser session still passes the CSRF check: a write needs the dashboard's Origin.
    expect((await SELF.fetch(`${DASH}/api/pairing-codes`, { method: 'POST', headers: { cookie } })).status).toBe(403);
    expect((await SELF.fetch(`${DASH}/api/pairing-codes`, { method: 'POST', headers: { cookie, origin: DASH } })).status).toBe(201);

    const again = await SELF.fetch(url, { redirect: 'manual' });
    expect(again.status).toBe(403);
    expect(again.headers.get('set-cookie')).toBeNull();
  });

  it('should refuse a forged or altered session cookie', async () => {
    for (const value of ['1', `${Date.now() + 1e9}.${'A'.repeat(43)}`, `99999999999999.${'A'.repeat(43)}`]) {
      const res = await SELF.fetch(`${DASH}/api/auth/me`, { headers: { cookie: `__Host-homeport_local=${value}` } });
      expect(res.status, value).toBe(401);
    }
  });

  it('should refuse made-up tickets', async () => {
    for (const ticket of ['', 'x', 'A'.repeat(43), '../../etc']) {
      const res = await SELF.fetch(`${DASH}/api/auth/local?ticket=${encodeURIComponent(ticket)}`, { redirect: 'manual' });
      expect(res.status).toBe(403);
    }
  });
});

describe('attack: DNS rebinding and bad Hosts', () => {
  it('should refuse the API on a Host it does not serve', async () => {
    for (const host of ['rebind.attacker.example', 'dash.test.attacker.example', 'attacker.example:443']) {
      const res = await SELF.fetch('https://dash.test/api/nodes', { headers: { ...LOCAL, host } });
      expect(res.status, host).toBe(421);
    }
  });

  it('should answer 400, not 500, to a malformed Host', async () => {
    for (const host of ['bad host', 'a..b', 'x'.repeat(400), '[::1', 'dash.test:99999999']) {
      const res = await SELF.fetch('https://dash.test/', { headers: { host } });
      expect(res.status, host).toBe(400);
    }
  });
});

describe('secretsEqual', () => {
  it('should compare secrets of any length', async () => {
    expect(await secretsEqual('test-node-token', 'test-node-token')).toBe(true);
    expect(await secretsEqual('test-node-token', 'test-node-tokeN')).toBe(false);
    expect(await secretsEqual('short', 'a much longer secret')).toBe(false);
    expect(await secretsEqual('', 'x')).toBe(false);
  });
});
