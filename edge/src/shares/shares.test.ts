import { SELF, env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameType, encode, type AccessLogEntry, type Frame, type ShareView } from '@homeport/shared';
import type { Env } from '../env.ts';
import { FakeNode, LOCAL, answer, homeNodeToken, textOfBytes, waitOffline } from '../fake-node.ts';
import type { NodeHub } from '../node-hub.ts';

// The node "home" must be paired (its hub knows its owner) before its shares can be managed.
beforeEach(async () => {
  await homeNodeToken();
});

vi.setConfig({ testTimeout: 15_000, hookTimeout: 15_000 });

const VISITOR = { 'x-test-client-ip': '203.0.113.9', 'user-agent': 'visitor-test' };
const OWNER_WRITE = { ...LOCAL, origin: 'https://dash.test', 'content-type': 'application/json' };

const api = (path: string, init: RequestInit = {}) =>
  SELF.fetch(`https://dash.test/api/nodes/home${path}`, { ...init, headers: { ...OWNER_WRITE, ...(init.headers as Record<string, string>) } });

async function shareOf(port: number | string, body: Record<string, unknown>): Promise<ShareView> {
  const res = await api(`/shares/${port}`, { method: 'PUT', body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

const unshare = (port: number) => api(`/shares/${port}`, { method: 'DELETE' });

/** A visitor's request, read to the end (the access log row is written when the body has been sent). */
async function visit(url: string, headers: Record<string, string> = {}, init: RequestInit = {}): Promise<Response> {
  const res = await SELF.fetch(url, { redirect: 'manual', ...init, headers: { ...VISITOR, ...headers } });
  const body = await res.arrayBuffer();
  return new Response([101, 204, 304].includes(res.status) ? null : body, { status: res.status, headers: res.headers });
}

const login = (prefixUrl: string, password: string, headers: Record<string, string> = {}) =>
  visit(`${prefixUrl}/__homeport/login`, { 'content-type': 'application/x-www-form-urlencoded', ...headers }, { method: 'POST', body: new URLSearchParams({ password, next: new URL(prefixUrl).pathname.replace(/\/$/, '') + '/app?x=1' }).toString() });

const cookieOf = (res: Response) => res.headers.get('set-cookie')!.split(';')[0];

async function logOf(port: number, query = ''): Promise<{ entries: AccessLogEntry[]; next: number | null }> {
  const res = await api(`/shares/${port}/log${query}`);
  expect(res.status).toBe(200);
  return res.json();
}

const hub = () => {
  const ns = (env as unknown as Env).NODE_HUB;
  return ns.get(ns.idFromName('home')) as DurableObjectStub<NodeHub>;
};

describe('share API validation', () => {
  it('should refuse bad modes, durations, ports and a password share without a password, with 400 JSON', async () => {
    const cases: [string | number, unknown, string][] = [
      [3100, { mode: 'open' }, 'mode must be one of'],
      [3100, { mode: 'public', expiresIn: '24 hours' }, 'expiresIn must be a duration'],
      [3100, { mode: 'public', expiresIn: '91d' }, 'expiresIn must be a duration'],
      [3100, { mode: 'password' }, 'needs a password'],
      [3100, { mode: 'password', password: '' }, 'non-empty'],
      [3100, { mode: 'public', password: 'x' }, 'only goes with mode "password"'],
      [0, { mode: 'public' }, 'not a port'],
      [70000, { mode: 'public' }, 'not a port'],
      ['abc', { mode: 'public' }, 'not a port'],
      [3100, [1, 2], 'the body must be a JSON object'],
    ];
    for (const [port, body, message] of cases) {
      const res = await api(`/shares/${port}`, { method: 'PUT', body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(((await res.json()) as { error: string }).error).toContain(message);
    }
    const notJson = await api('/shares/3100', { method: 'PUT', body: '{nope' });
    expect(notJson.status).toBe(400);
    expect((await api('/shares/3100/log?limit=0')).status).toBe(400);
    expect((await api('/shares/3100/log?before=x')).status).toBe(400);
    expect((await api('/shares/99999/log')).status).toBe(400);
    // A browser's write from another site is refused before any credential is looked at.
    expect((await SELF.fetch('https://dash.test/api/nodes/home/shares/3100', { method: 'DELETE', headers: { origin: 'https://evil.test' } })).status).toBe(403);
  });

  it('should refuse the share API to anyone but the owner', async () => {
    const res = await SELF.fetch('https://dash.test/api/nodes/home/shares', { headers: VISITOR });
    expect(res.status).toBe(401);
    const put = await SELF.fetch('https://dash.test/api/nodes/home/shares/3100', { method: 'PUT', headers: { ...VISITOR, origin: 'https://dash.test' }, body: '{"mode":"public"}' });
    expect(put.status).toBe(401);
  });
});

describe('share modes', () => {
  afterEach(async () => {
    for (const port of [3101, 3102, 3103, 3104]) await unshare(port);
  });

  it('should keep a port private by default: the owner passes, visitors get 403 and the row is logged', async () => {
    const denied = await visit('https://3101-home.share.test/');
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('This port is private');
    // The owner passes the gate (the node is offline in this file: 503).
    expect((await visit('https://3101-home.share.test/', LOCAL)).status).toBe(503);
    const { entries } = await logOf(3101);
    expect(entries[0]).toMatchObject({ port: 3101, status: 503, authenticated: true, mode: 'private', form: 'subdomain', clientIp: '203.0.113.9' });
    expect(entries[1]).toMatchObject({ port: 3101, status: 403, authenticated: false, clientIp: '203.0.113.9', userAgent: 'visitor-test', method: 'GET', path: '/' });
    expect(entries[1].bytes).toBeGreaterThan(100);
  });

  it('should open a public share to anyone, in every URL form, and list it with its link', async () => {
    const share = await shareOf(3102, { mode: 'public' });
    expect(share).toMatchObject({
      port: 3102,
      mode: 'public',
      url: 'https://3102-home.share.test/',
      subdomainUrl: 'https://3102-home.share.test/',
      pathUrl: 'https://share.test/3102/',
      expiresAt: null,
    });
    // The link is a host of its own that names the node.
    expect(share.linkUrl).toMatch(/^https:\/\/[0-3][0-9a-v]{26}-home\.share\.test\/$/);
    expect(share.accessToken).toBeUndefined();
    expect((await visit('https://share.test/3102/')).status).toBe(503);
    expect((await visit('https://3102-home.share.test/')).status).toBe(503);
    expect((await visit(`${share.linkUrl}deep/path`)).status).toBe(503);
    const list = (await (await api('/shares')).json()) as { shares: ShareView[] };
    expect(list.shares.find((s) => s.port === 3102)).toMatchObject({ mode: 'public', linkUrl: share.linkUrl });
    const log = await logOf(3102);
    expect(log.entries.map((e) => e.form)).toEqual(['slug', 'subdomain', 'path']);
    expect(log.entries.every((e) => e.authenticated === false && e.mode === 'public')).toBe(true);
  });

  it('should keep the link when a share is changed and give a new one after unsharing; old links 404', async () => {
    const first = await shareOf(3103, { mode: 'public' });
    const changed = await shareOf(3103, { mode: 'public', expiresIn: '7d' });
    expect(changed.linkUrl).toBe(first.linkUrl);
    expect(changed.expiresAt! - Date.now()).toBeGreaterThan(7 * 24 * 3600_000 - 60_000);
    const removed = await unshare(3103);
    expect(removed.status).toBe(200);
    expect(((await removed.json()) as ShareView).mode).toBe('private');
    const old = await visit(first.linkUrl!);
    expect(old.status).toBe(404);
    expect(await old.text()).toContain('No share lives at this link');
    expect((await visit('https://3103-home.share.test/')).status).toBe(403);
    const again = await shareOf(3103, { mode: 'public' });
    expect(again.linkUrl).not.toBe(first.linkUrl);
  });

  it('should serve only public shares in the path form: the others answer a page that links their own origin, and set no cookie', async () => {
    const refused = await visit('https://share.test/3103/app');
    expect(refused.status).toBe(403);
    const page = await refused.text();
    expect(page).toContain('served at its own origin');
    expect(page).toContain('href="https://3103-home.share.test/app"');
    const share = await shareOf(3103, { mode: 'password', password: 'pw' });
    expect((await visit('https://share.test/3103/')).status).toBe(403);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const login = await visit('https://share.test/3103/__homeport/login', form, { method: 'POST', body: 'password=pw&next=%2F3103%2F' });
    expect(login.status).toBe(403);
    expect(login.headers.get('set-cookie')).toBeNull();
    // A bearer token is no browser credential: the owner's key and the share's own token open it here too.
    expect((await visit('https://share.test/3103/app', LOCAL)).status).toBe(503);
    expect((await visit('https://share.test/3103/', { authorization: `Bearer ${share.accessToken}` })).status).toBe(503);
    expect((await visit('https://share.test/3103/', { authorization: 'Bearer nope-nope-nope-nope' })).status).toBe(401);
  });

  it('should answer unknown and malformed slugs with a 404 page that says nothing more', async () => {
    for (const url of ['https://000000000000000000000000000-home.share.test/', 'https://share.test/s/short/', 'https://share.test/s/']) {
      const res = await visit(url);
      expect(res.status, url).toBe(404);
      expect(res.headers.get('content-type')).toContain('text/html');
    }
  });

  it('should redirect an old /s/<slug>/ link to its link host, keeping the path and the query', async () => {
    const share = await shareOf(3104, { mode: 'public' });
    const slug = await runInDurableObject(hub(), (_: NodeHub, state) => state.storage.sql.exec<{ slug: string }>('SELECT slug FROM shares WHERE port = 3104').one().slug);
    for (const host of ['share.test', 'home.share.test']) {
      const res = await visit(`https://${host}/s/${slug}/deep/page?x=1`);
      expect(res.status, host).toBe(308);
      expect(res.headers.get('location')).toBe(`${share.linkUrl}deep/page?x=1`);
      expect((await visit(`https://${host}/s/${slug}`)).headers.get('location')).toBe(share.linkUrl);
    }
  });
});

describe('password shares', () => {
  afterEach(async () => {
    for (const port of [3201, 3202, 3203, 3204, 3205]) await unshare(port);
  });

  it('should show the password page, refuse a wrong password and set a cookie for the right one', async () => {
    const share = await shareOf(3201, { mode: 'password', password: 'hunter2' });
    expect(share.accessToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const page = await visit('https://3201-home.share.test/app?x=1');
    expect(page.status).toBe(401);
    const html = await page.text();
    expect(html).toContain('Password required');
    expect(html).toContain('action="/__homeport/login"');
    expect(html).toContain('value="/app?x=1"');
    expect(html).not.toContain('<script');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");

    const wrong = await login('https://3201-home.share.test', 'nope');
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('Wrong password');
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const right = await login('https://3201-home.share.test', 'hunter2');
    expect(right.status).toBe(303);
    expect(right.headers.get('location')).toBe('/app?x=1');
    const setCookie = right.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^homeport_share=\d+\.[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Lax; Secure$/);
    expect((await visit('https://3201-home.share.test/app', { cookie: cookieOf(right) })).status).toBe(503);

    const log = await logOf(3201);
    expect(log.entries.map((e) => [e.status, e.authenticated])).toEqual([
      [503, true],
      [303, false],
      [401, false],
      [401, false],
    ]);
  });

  it('should not take a forged, tampered or foreign cookie, and a new password ends old cookies', async () => {
    await shareOf(3202, { mode: 'password', password: 'pw-a' });
    await shareOf(3203, { mode: 'password', password: 'pw-a' });
    const cookie = cookieOf(await login('https://3202-home.share.test', 'pw-a'));
    expect((await visit('https://3202-home.share.test/', { cookie })).status).toBe(503);
    expect((await visit('https://3203-home.share.test/', { cookie })).status).toBe(401);
    const [name, value] = cookie.split('=');
    const [exp, sig] = value.split('.');
    expect((await visit('https://3202-home.share.test/', { cookie: `${name}=${Number(exp) + 1000}.${sig}` })).status).toBe(401);
    expect((await visit('https://3202-home.share.test/', { cookie: `${name}=${exp}.${sig.slice(0, -2)}AA` })).status).toBe(401);
    expect((await visit('https://3202-home.share.test/', { cookie: `${name}=garbage` })).status).toBe(401);
    await shareOf(3202, { mode: 'password', password: 'pw-b' });
    expect((await visit('https://3202-home.share.test/', { cookie })).status).toBe(401);
    // Changing only the expiry keeps the password (and its sessions).
    const fresh = cookieOf(await login('https://3202-home.share.test', 'pw-b'));
    await shareOf(3202, { mode: 'password', expiresIn: '24h' });
    expect((await visit('https://3202-home.share.test/', { cookie: fresh })).status).toBe(503);
    await unshare(3202);
    await shareOf(3202, { mode: 'password', password: 'pw-b' });
    expect((await visit('https://3202-home.share.test/', { cookie: fresh })).status).toBe(401);
  });

  it('should rate limit wrong passwords per client and share with 429 and Retry-After', async () => {
    await shareOf(3204, { mode: 'password', password: 'right' });
    for (let i = 0; i < 5; i++) expect((await login('https://3204-home.share.test', 'wrong')).status).toBe(401);
    const limited = await login('https://3204-home.share.test', 'right');
    expect(limited.status).toBe(429);
    const retry = Number(limited.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    expect(await limited.text()).toContain('Too many wrong passwords');
    // Another client is not affected.
    expect((await login('https://3204-home.share.test', 'right', { 'x-test-client-ip': '198.51.100.7' })).status).toBe(303);
  });

  it('should open a password share with its bearer token, and only with it', async () => {
    const share = await shareOf(3205, { mode: 'password', password: 'pw' });
    expect((await visit('https://3205-home.share.test/', { authorization: `Bearer ${share.accessToken}` })).status).toBe(503);
    expect((await visit(share.linkUrl!, { authorization: `Bearer ${share.accessToken}` })).status).toBe(503);
    expect((await visit('https://3205-home.share.test/', { authorization: `Bearer ${share.accessToken!.slice(1)}x` })).status).toBe(401);
    expect((await visit('https://3205-home.share.test/', { authorization: 'Basic Zm9vOmJhcg==' })).status).toBe(401);
    const again = await shareOf(3205, { mode: 'password', password: 'pw2' });
    expect(again.accessToken).not.toBe(share.accessToken);
    expect((await visit('https://3205-home.share.test/', { authorization: `Bearer ${share.accessToken}` })).status).toBe(401);
    // The token is never shown again.
    const list = (await (await api('/shares')).json()) as { shares: ShareView[] };
    expect(JSON.stringify(list)).not.toContain(again.accessToken);
  });
});

describe('expiry', () => {
  it('should end an expired share through the alarm while the node is offline', async () => {
    const share = await shareOf(3301, { mode: 'public', expiresIn: '30m' });
    await shareOf(3302, { mode: 'public', expiresIn: '1h' });
    const alarmAt = await runInDurableObject(hub(), (_instance, state) => state.storage.getAlarm());
    expect(alarmAt).toBe(share.expiresAt);
    // Time travel: the share's expiry is now.
    await runInDurableObject(hub(), (_instance, state) => {
      state.storage.sql.exec('UPDATE shares SET expires_at = ? WHERE port = 3301', Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(hub())).toBe(true);
    const rows = await runInDurableObject(hub(), (_i, state) => state.storage.sql.exec('SELECT port FROM shares WHERE port IN (3301, 3302)').toArray());
    expect(rows).toEqual([{ port: 3302 }]);
    const next = await runInDurableObject(hub(), (_i, state) => state.storage.getAlarm());
    expect(next).toBeGreaterThan(Date.now());
    expect((await visit('https://3301-home.share.test/')).status).toBe(403);
    expect((await visit(share.linkUrl!)).status).toBe(404);
    const list = (await (await api('/shares')).json()) as { shares: ShareView[] };
    expect(list.shares.map((s) => s.port)).not.toContain(3301);
    const ports = (await (await api('/ports')).json()) as { ports: unknown[] };
    expect(ports.ports).toEqual([]);
    await unshare(3302);
  });

  it('should treat a share past its expiry as private even before the alarm runs', async () => {
    await shareOf(3303, { mode: 'public', expiresIn: '1h' });
    await runInDurableObject(hub(), (_i, state) => {
      state.storage.sql.exec('UPDATE shares SET expires_at = ? WHERE port = 3303', Date.now() - 1);
    });
    expect((await visit('https://3303-home.share.test/')).status).toBe(403);
    await unshare(3303);
  });
});

describe('access log', () => {
  it('should page newest first with a before cursor', async () => {
    for (let i = 0; i < 5; i++) await visit(`https://3401-home.share.test/p${i}`);
    const first = await logOf(3401, '?limit=2');
    expect(first.entries.map((e) => e.path)).toEqual(['/p4', '/p3']);
    expect(first.next).toBe(first.entries[1].id);
    const second = await logOf(3401, `?limit=2&before=${first.next}`);
    expect(second.entries.map((e) => e.path)).toEqual(['/p2', '/p1']);
    const last = await logOf(3401, `?limit=2&before=${second.next}`);
    expect(last.entries.map((e) => e.path)).toEqual(['/p0']);
    expect(last.next).toBeNull();
  });

  it('should prune rows past the retention limits in the alarm', async () => {
    await visit('https://3402-home.share.test/old');
    await visit('https://3402-home.share.test/new');
    await runInDurableObject(hub(), (_i, state) => {
      state.storage.sql.exec("UPDATE access_log SET at = ? WHERE path = '/old'", Date.now() - 31 * 24 * 3600_000);
    });
    await runInDurableObject(hub(), (_i, state) => state.storage.setAlarm(Date.now()));
    await runDurableObjectAlarm(hub());
    expect((await logOf(3402)).entries.map((e) => e.path)).toEqual(['/new']);
  });
});

describe('shares through a connected node', () => {
  let node: FakeNode | null = null;
  afterEach(async () => {
    node?.close();
    node = null;
    await waitOffline();
    await unshare(3501);
  });

  it('should keep the share cookie and token from the app, and log the bytes sent', async () => {
    node = await FakeNode.connect();
    const share = await shareOf(3501, { mode: 'password', password: 'pw' });
    const cookie = cookieOf(await login('https://3501-home.share.test', 'pw'));
    const raw = (url: string, headers: Record<string, string>) => SELF.fetch(url, { headers: { ...VISITOR, ...headers } });
    const visitor = raw(`${share.linkUrl}page`, { cookie: `${cookie}; app=1` });
    const open = await node.expect(FrameType.Open);
    expect(open.head.target).toMatchObject({ kind: 'port', port: 3501, prefix: '' });
    expect(open.head.headers.filter(([n]) => n === 'cookie')).toEqual([['cookie', 'app=1']]);
    const { res, body } = await answer(node, open.streamId, visitor, { status: 200, headers: [['content-type', 'text/plain']] }, ['hello ', 'world']);
    expect(res.status).toBe(200);
    expect(textOfBytes(body)).toBe('hello world');

    const withToken = raw('https://3501-home.share.test/x', { authorization: `Bearer ${share.accessToken}` });
    const open2 = await node.expect(FrameType.Open);
    expect(open2.head.headers.some(([n]) => n === 'authorization')).toBe(false);
    await answer(node, open2.streamId, withToken, { status: 204, headers: [] });

    await vi.waitFor(async () => {
      const { entries } = await logOf(3501, '?limit=2');
      expect(entries[1]).toMatchObject({ status: 200, bytes: 11, authenticated: true, form: 'slug' });
      expect(entries[0]).toMatchObject({ status: 204, bytes: 0, authenticated: true, form: 'subdomain' });
    });
  });
});

describe('share RPC over the tunnel', () => {
  let node: FakeNode | null = null;
  afterEach(async () => {
    node?.close();
    node = null;
    await waitOffline();
    await unshare(3601);
  });

  const rpc = async (n: FakeNode, id: number, method: string, params: Record<string, unknown>) => {
    n.send(encode.control({ t: 'rpc', id, method, params }));
    const frame = await n.next((f) => f.type === FrameType.Control && f.message.t === 'rpc-result' && f.message.id === id);
    return (frame as Frame & { type: FrameType.Control }).message;
  };

  it('should let the node set, list, read the log of and remove its own shares', async () => {
    node = await FakeNode.connect();
    const set = await rpc(node, 1, 'share.set', { port: 3601, mode: 'password', password: 'pw', expiresIn: '24h' });
    expect(set).toMatchObject({ t: 'rpc-result', id: 1, ok: true, result: { port: 3601, mode: 'password' } });
    expect((set.result as ShareView).accessToken).toBeTruthy();
    expect((await visit('https://3601-home.share.test/')).status).toBe(401);
    const list = await rpc(node, 2, 'share.list', {});
    expect((list.result as { shares: ShareView[] }).shares.find((s) => s.port === 3601)?.mode).toBe('password');
    const log = await rpc(node, 3, 'share.log', { port: 3601 });
    expect((log.result as { entries: AccessLogEntry[] }).entries[0]).toMatchObject({ status: 401, clientIp: '203.0.113.9' });
    expect(await rpc(node, 4, 'share.set', { port: 3601, mode: 'password' })).toMatchObject({ ok: true });
    expect(await rpc(node, 5, 'share.set', { port: 3601, mode: 'bogus' })).toMatchObject({ ok: false, status: 400, error: expect.stringContaining('mode must be') });
    expect(await rpc(node, 6, 'node.delete', {})).toMatchObject({ ok: false, status: 404 });
    expect(await rpc(node, 7, 'share.remove', { port: 3601 })).toMatchObject({ ok: true, result: { mode: 'private', linkUrl: null } });
    expect((await visit('https://3601-home.share.test/')).status).toBe(403);
  });
});
