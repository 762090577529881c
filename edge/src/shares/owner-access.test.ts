/**
 * The owner on the share host, from anywhere: an `hpt_` API token (scripts, curl), the
 * browser handshake across the dashboard and share hosts, and revocation reaching open
 * WebSockets. Every request here comes from a non-loopback address unless it says LOCAL.
 */
import { SELF, env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameType, encode, type Frame, type ShareView } from '@homeport/shared';
import type { Env } from '../env.ts';
import { FakeNode, LOCAL, LOCAL_WRITE, answer, homeNodeToken, waitOffline } from '../fake-node.ts';
import type { NodeHub } from '../node-hub.ts';
import { sha256Hex } from './crypto.ts';

vi.setConfig({ testTimeout: 20_000, hookTimeout: 20_000 });

const DASH = 'https://dash.test';
const PASSWORD = 'correct horse battery';
const SESSION = '__Host-homeport_session';
const OWNER_IP = '198.51.100.7';
const VISITOR_IP = '203.0.113.9';

interface Account {
  id: string;
  session: string;
  token: string;
}

let owner: Account;
let other: Account;
let node: FakeNode | null = null;

function dash(path: string, init: { method?: string; body?: unknown; cookie?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { 'x-test-client-ip': OWNER_IP, ...init.headers };
  if (init.method && init.method !== 'GET') headers.origin = DASH;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.cookie) headers.cookie = init.cookie;
  return SELF.fetch(DASH + path, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body), redirect: 'manual' });
}

function sessionFrom(res: Response): string {
  const match = new RegExp(`${SESSION}=([^;]*)`).exec(res.headers.get('set-cookie') ?? '');
  expect(match).not.toBeNull();
  return `${SESSION}=${match![1]}`;
}

async function tokenFor(session: string, scopes = ['read', 'write']): Promise<string> {
  const res = await dash('/api/tokens', { method: 'POST', cookie: session, body: { name: 'curl', scopes } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

beforeAll(async () => {
  // "home" is paired before any account exists; the first account adopts it and becomes its owner.
  await homeNodeToken();
  const registered = await dash('/api/auth/register', { method: 'POST', body: { email: 'owner@example.com', password: PASSWORD } });
  expect(registered.status).toBe(201);
  const ownerSession = sessionFrom(registered);
  owner = { id: ((await registered.json()) as { user: { id: string } }).user.id, session: ownerSession, token: await tokenFor(ownerSession) };

  expect((await dash('/api/auth/register', { method: 'POST', body: { email: 'other@example.com', password: PASSWORD }, headers: { 'x-test-client-ip': '198.51.100.8' } })).status).toBe(202);
  const pending = (await (await dash('/api/admin/users?status=pending', { cookie: ownerSession })).json()) as { users: { id: string }[] };
  expect((await dash(`/api/admin/users/${pending.users[0].id}/approve`, { method: 'POST', cookie: ownerSession })).status).toBe(200);
  const login = await dash('/api/auth/login', { method: 'POST', body: { email: 'other@example.com', password: PASSWORD }, headers: { 'x-test-client-ip': '198.51.100.8' } });
  expect(login.status).toBe(200);
  const otherSession = sessionFrom(login);
  other = { id: pending.users[0].id, session: otherSession, token: await tokenFor(otherSession) };
});

beforeEach(async () => {
  await homeNodeToken();
});

afterEach(async () => {
  node?.close();
  node = null;
  await waitOffline();
});

async function shareOf(port: number, body: Record<string, unknown>): Promise<ShareView> {
  const res = await SELF.fetch(`${DASH}/api/nodes/home/shares/${port}`, { method: 'PUT', headers: LOCAL_WRITE, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

const unshare = (port: number) => SELF.fetch(`${DASH}/api/nodes/home/shares/${port}`, { method: 'DELETE', headers: LOCAL_WRITE });

/** A request on the share host from a remote address, read to the end. */
async function visit(url: string, headers: Record<string, string> = {}, init: RequestInit = {}): Promise<Response> {
  const res = await SELF.fetch(url, { redirect: 'manual', ...init, headers: { 'x-test-client-ip': VISITOR_IP, ...headers } });
  const body = await res.arrayBuffer();
  return new Response([101, 204, 304].includes(res.status) ? null : body, { status: res.status, headers: res.headers });
}

const flipLast = (secret: string) => secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A');
/** The same request unread, for the fake node to answer (answer() reads the body). */
const raw = (url: string, headers: Record<string, string> = {}) => SELF.fetch(url, { redirect: 'manual', headers: { 'x-test-client-ip': VISITOR_IP, ...headers } });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const headerOf = (headers: [string, string][], name: string) => headers.filter(([n]) => n === name).map(([, v]) => v);

const hub = () => {
  const ns = (env as unknown as Env).NODE_HUB;
  return ns.get(ns.idFromName('home')) as DurableObjectStub<NodeHub>;
};

/** A refusal of a token: 401, a Bearer challenge, and no password page. */
async function expectTokenRefused(res: Response) {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  const body = await res.text();
  expect(body).toContain('does not open this share');
  expect(body).not.toContain('Password required');
}

describe('the owner by API token on the share host', () => {
  it('should open private and password shares with the owner token, and never pass the token to the app', async () => {
    node = await FakeNode.connect();
    await shareOf(3711, { mode: 'password', password: 'pw' });
    // A bearer token is no browser credential: it opens the path form too.
    for (const url of ['https://share.test/3710/app', 'https://share.test/3711/app', 'https://3710-home.share.test/app', 'https://3711-home.share.test/app']) {
      const resP = raw(url, { ...bearer(owner.token), cookie: 'app=1' });
      const open = await node.expect(FrameType.Open);
      expect(headerOf(open.head.headers, 'authorization')).toEqual([]);
      expect(headerOf(open.head.headers, 'cookie')).toEqual(['app=1']);
      const { res } = await answer(node, open.streamId, resP, { status: 200, headers: [] }, ['ok']);
      expect(res.status, url).toBe(200);
    }
    const log = await SELF.fetch(`${DASH}/api/nodes/home/shares/3711/log`, { headers: LOCAL });
    expect(((await log.json()) as { entries: { authenticated: boolean; status: number }[] }).entries[0]).toMatchObject({ authenticated: true, status: 200 });
    await unshare(3711);
  });

  it("should hold a token to its scopes: a read-only token reads but does not write", async () => {
    const readOnly = await tokenFor(owner.session, ['read']);
    // The node is offline in this test: passing the gate means the offline page.
    expect((await visit('https://share.test/3712/', bearer(readOnly))).status).toBe(503);
    await expectTokenRefused(await visit('https://share.test/3712/', bearer(readOnly), { method: 'POST', body: 'x' }));
  });

  it("should refuse another user's valid token and any garbage bearer with 401, on private and password shares alike", async () => {
    const share = await shareOf(3713, { mode: 'password', password: 'pw' });
    const garbage = [other.token, flipLast(owner.token), 'hpt_short', 'nonsense-token-value', flipLast(share.accessToken!)];
    for (const token of garbage) {
      await expectTokenRefused(await visit('https://share.test/3714/', bearer(token)));
      await expectTokenRefused(await visit('https://share.test/3713/', bearer(token)));
    }
    // The share's own token still opens its share; without any bearer the password page shows as before.
    expect((await visit('https://share.test/3713/', bearer(share.accessToken!))).status).toBe(503);
    const page = await visit('https://3713-home.share.test/');
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('Password required');
    await unshare(3713);
  });

  it("should let any bearer through a public share, but keep our own tokens from the app", async () => {
    node = await FakeNode.connect();
    await shareOf(3715, { mode: 'public' });
    const appToken = raw('https://share.test/3715/', bearer('the-apps-own-token'));
    const first = await node.expect(FrameType.Open);
    expect(headerOf(first.head.headers, 'authorization')).toEqual(['Bearer the-apps-own-token']);
    await answer(node, first.streamId, appToken, { status: 204, headers: [] });
    const ours = raw('https://share.test/3715/', bearer(other.token));
    const second = await node.expect(FrameType.Open);
    expect(headerOf(second.head.headers, 'authorization')).toEqual([]);
    expect((await answer(node, second.streamId, ours, { status: 204, headers: [] })).res.status).toBe(204);
    await unshare(3715);
  });
});

/** The href of the owner's link on a refusal page. */
async function ownerLinkOn(res: Response): Promise<string> {
  const html = await res.text();
  const match = /<a href="([^"]+)">Signed in as the owner\? Open it<\/a>/.exec(html);
  expect(match, html).not.toBeNull();
  return match![1].replace(/&#38;/g, '&');
}

/** The owner's click on the confirmation page: its form, posted from the dashboard. */
function confirm(next: string, session = owner.session, origin = DASH) {
  return SELF.fetch(`${DASH}/api/nodes/home/share-access`, {
    method: 'POST',
    headers: { 'x-test-client-ip': OWNER_IP, origin, cookie: session, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ next }).toString(),
    redirect: 'manual',
  });
}

/** Steps 1–3 of the handshake: the confirmation page, the click, the dashboard's redirect to the share origin. */
async function handshakeUrl(next: string, session = owner.session): Promise<string> {
  const page = await dash(`/api/nodes/home/share-access?next=${encodeURIComponent(next)}`, { cookie: session });
  expect(page.status, await page.clone().text()).toBe(200);
  const res = await confirm(next, session);
  expect(res.status, await res.clone().text()).toBe(303);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return res.headers.get('location')!;
}

const ownerCookieOf = (res: Response) => /homeport_owner=[^;]*/.exec(res.headers.get('set-cookie') ?? '')?.[0] ?? null;

describe('the owner by browser: the handshake across both hosts', () => {
  it('should take the owner from the private page through the dashboard to a cookie that opens the share', async () => {
    node = await FakeNode.connect();
    const share = 'https://3720-home.share.test';
    const refused = await visit(`${share}/app?x=1`, { 'x-test-client-ip': OWNER_IP });
    expect(refused.status).toBe(403);
    const link = await ownerLinkOn(refused);
    expect(link).toBe(`${DASH}/api/nodes/home/share-access?next=${encodeURIComponent(`${share}/app?x=1`)}`);

    // The link only shows a page of Homeport's own: it names the origin and the node, and never runs in a frame.
    const confirmation = await dash(link.slice(DASH.length), { cookie: owner.session, headers: { 'sec-fetch-dest': 'document' } });
    expect(confirmation.status).toBe(200);
    expect(confirmation.headers.get('set-cookie')).toBeNull();
    expect(confirmation.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(confirmation.headers.get('x-frame-options')).toBe('DENY');
    const html = await confirmation.text();
    expect(html).toContain(`<code>${share}</code>`);
    expect(html).toContain('<code>home</code>');
    expect(html).not.toContain('ticket');
    expect(html).not.toContain('<script');
    expect(html).toMatch(/<form method="post" action="\/api\/nodes\/home\/share-access">/);

    const res = await confirm(`${share}/app?x=1`);
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(location.origin).toBe(share);
    expect(location.pathname).toBe('/__homeport/owner');
    expect(location.searchParams.get('next')).toBe('/app?x=1');
    expect(location.searchParams.get('ticket')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const landed = await visit(location.href, { 'x-test-client-ip': OWNER_IP });
    expect(landed.status).toBe(303);
    expect(landed.headers.get('location')).toBe('/app?x=1');
    const setCookie = landed.headers.get('set-cookie')!;
    const [pair, ...attributes] = setCookie.split(';').map((s) => s.trim());
    expect(pair).toMatch(/^homeport_owner=\d+\.[A-Za-z0-9_-]{43}$/);
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/', 'Max-Age=43200']));
    expect(setCookie.toLowerCase()).not.toContain('domain=');

    // The cookie opens the private port, and the app never sees it.
    const cookie = ownerCookieOf(landed)!;
    const resP = raw(`${share}/app?x=1`, { cookie: `${cookie}; app=1`, 'x-test-client-ip': OWNER_IP });
    const open = await node.expect(FrameType.Open);
    expect(headerOf(open.head.headers, 'cookie')).toEqual(['app=1']);
    expect((await answer(node, open.streamId, resP, { status: 200, headers: [] }, ['mine'])).res.status).toBe(200);

    // The ticket was for one use.
    const replay = await visit(location.href, { 'x-test-client-ip': OWNER_IP });
    expect(replay.status).toBe(400);
    expect(replay.headers.get('set-cookie')).toBeNull();
    expect(await replay.text()).toContain('not valid');

    // The log shows the handshake without its ticket.
    const log = (await (await SELF.fetch(`${DASH}/api/nodes/home/shares/3720/log`, { headers: LOCAL })).json()) as { entries: { path: string; status: number }[] };
    expect(log.entries.filter((e) => e.path.startsWith('/__homeport/owner')).map((e) => [e.path, e.status])).toEqual([
      ['/__homeport/owner', 400],
      ['/__homeport/owner', 303],
    ]);
  });

  it('should offer the owner link on the password page too, and let the owner cookie pass it', async () => {
    await shareOf(3721, { mode: 'password', password: 'pw' });
    const page = await visit('https://3721-home.share.test/deep');
    expect(page.status).toBe(401);
    expect(await ownerLinkOn(page)).toBe(`${DASH}/api/nodes/home/share-access?next=${encodeURIComponent('https://3721-home.share.test/deep')}`);
    const landed = await visit(await handshakeUrl('https://3721-home.share.test/deep'));
    expect(landed.headers.get('location')).toBe('/deep');
    // Node offline: the gate let the owner through to the offline page.
    expect((await visit('https://3721-home.share.test/deep', { cookie: ownerCookieOf(landed)! })).status).toBe(503);
    await unshare(3721);
  });

  it('should ignore a tampered, re-dated or foreign owner cookie, and one minted for another origin', async () => {
    const landed = await visit(await handshakeUrl('https://3722-home.share.test/'));
    const cookie = ownerCookieOf(landed)!;
    expect((await visit('https://3722-home.share.test/', { cookie })).status).toBe(503);
    // One origin only: not another port, not the path form, not a link host of the node.
    const link = await shareOf(3726, { mode: 'password', password: 'pw' });
    for (const elsewhere of ['https://3726-home.share.test/', 'https://share.test/3722/', link.linkUrl!]) expect((await visit(elsewhere, { cookie })).status, elsewhere).not.toBe(503);
    await unshare(3726);
    const [name, value] = cookie.split('=');
    const [exp, sig] = value.split('.');
    const forged = [
      `${name}=${exp}.${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`,
      `${name}=${Number(exp) + 3600_000}.${sig}`,
      `${name}=${Date.now() - 1000}.${sig}`,
      `${name}=garbage`,
      `homeport_share=${value}`,
    ];
    for (const bad of forged) {
      const res = await visit('https://3722-home.share.test/', { cookie: bad });
      expect(res.status, bad).toBe(403);
    }
  });

  it('should keep next on this node: other hosts, schemes, ports, nodes and non-URLs get 400', async () => {
    const bad = [
      '',
      'not a url',
      'javascript:alert(1)',
      'https://evil.test/3720/',
      'https://dash.test/3720/',
      'http://share.test/3720/',
      'https://share.test:8443/3720/',
      'https://other.share.test/3720/',
      'https://user:pw@share.test/3720/',
      'https://share.test/',
      'https://share.test//evil.test/',
      'https://share.test.evil.test/3720/',
      // The path form shares one origin between ports: never a handshake there.
      'https://share.test/3720/',
      'https://home.share.test/3720/',
      'https://share.test/s/AAAAAAAAAAAAAAAAAAAAAA/',
      'https://3720-other.share.test/',
    ];
    for (const next of bad) {
      for (const res of [await dash(`/api/nodes/home/share-access?next=${encodeURIComponent(next)}`, { cookie: owner.session }), await confirm(next)]) {
        expect(res.status, next).toBe(400);
        expect(((await res.json()) as { error: string }).error).toContain('"next" must be');
      }
    }
    expect((await dash('/api/nodes/home/share-access', { cookie: owner.session })).status).toBe(400);
  });

  it('should lead every URL form to its own origin and prefix, and land on the share itself, not on our pages', async () => {
    const link = await shareOf(3723, { mode: 'public' });
    const cases: [string, string, string][] = [
      ['https://3723-home.share.test/x?y=1', 'https://3723-home.share.test/__homeport/owner', '/x?y=1'],
      [`${link.linkUrl}deep`, `${link.linkUrl}__homeport/owner`, '/deep'],
      ['https://3723-home.share.test/__homeport/login?next=/a', 'https://3723-home.share.test/__homeport/owner', '/'],
    ];
    for (const [next, path, landing] of cases) {
      const location = new URL(await handshakeUrl(next));
      expect(location.origin + location.pathname, next).toBe(path);
      expect(location.searchParams.get('next'), next).toBe(landing);
    }
    // A next changed on the way never leaves the share.
    const location = new URL(await handshakeUrl('https://3723-home.share.test/'));
    location.searchParams.set('next', 'https://evil.test/');
    expect((await visit(location.href)).headers.get('location')).toBe('/');
    await unshare(3723);
  });

  it('should mint tickets for the node owner only, from a page navigation, and accept them once, in time, on their origin', async () => {
    const share = 'https://3724-home.share.test/';
    const next = encodeURIComponent(share);
    expect((await dash(`/api/nodes/home/share-access?next=${next}`)).status).toBe(401);
    expect((await confirm(share, '')).status).toBe(401);
    expect((await dash(`/api/nodes/home/share-access?next=${next}`, { cookie: other.session })).status).toBe(404);
    expect((await confirm(share, other.session)).status).toBe(404);
    const local = await SELF.fetch(`${DASH}/api/nodes/home/share-access`, {
      method: 'POST',
      headers: { ...LOCAL, origin: DASH, 'content-type': 'application/x-www-form-urlencoded' },
      body: `next=${next}`,
      redirect: 'manual',
    });
    expect(local.status).toBe(403);
    expect(((await local.json()) as { error: string }).error).toContain("only this node's owner");
    for (const dest of ['image', 'iframe', 'empty']) {
      const fromPage = await dash(`/api/nodes/home/share-access?next=${next}`, { cookie: owner.session, headers: { 'sec-fetch-dest': dest } });
      expect(fromPage.status, dest).toBe(403);
    }
    // The click must come from the dashboard itself: a page elsewhere cannot post the form.
    for (const origin of ['https://3725-home.share.test', 'https://evil.test', 'null']) {
      const crossSite = await confirm(share, owner.session, origin);
      expect(crossSite.status, origin).toBe(403);
      expect(crossSite.headers.get('location')).toBeNull();
    }

    // A ticket used on another origin of the same node is refused, and spent.
    const url = new URL(await handshakeUrl(share));
    const elsewhere = new URL(url.pathname + url.search, 'https://3725-home.share.test');
    expect((await visit(elsewhere.href)).status).toBe(400);
    expect((await visit(url.href)).status).toBe(400);

    // A ticket older than a minute is refused.
    const late = await handshakeUrl(share);
    const key = `owner-ticket:${await sha256Hex(new URL(late).searchParams.get('ticket')!)}`;
    await runInDurableObject(hub(), async (_instance, state) => {
      const ticket = await state.storage.get<{ expiresAt: number }>(key);
      expect(ticket!.expiresAt - Date.now()).toBeLessThanOrEqual(60_000);
      await state.storage.put(key, { ...ticket, expiresAt: Date.now() - 1 });
    });
    expect((await visit(late)).status).toBe(400);
    // Unknown and malformed tickets too.
    expect((await visit(`${share}__homeport/owner?ticket=${'A'.repeat(43)}`)).status).toBe(400);
    expect((await visit(`${share}__homeport/owner?ticket=x`)).status).toBe(400);
    expect((await visit(`${share}__homeport/owner`)).status).toBe(400);
    // The path form never takes a ticket: it is no origin of one share.
    expect((await visit(`https://share.test/3724/__homeport/owner?ticket=${'A'.repeat(43)}`)).status).toBe(403);
  });

  it('should end the owner cookie when the node changes hands', async () => {
    const landed = await visit(await handshakeUrl('https://3725-home.share.test/'));
    const cookie = ownerCookieOf(landed)!;
    expect((await visit('https://3725-home.share.test/', { cookie })).status).toBe(503);
    // What pairing and adoption tell a hub (nodes/routes.ts tellHubOwner).
    const handOver = new Request('https://hub/set-owner', { method: 'POST', body: JSON.stringify({ ownerId: other.id }) });
    handOver.headers.set('x-homeport-route', 'set-owner');
    handOver.headers.set('x-homeport-node', 'home');
    expect((await hub().fetch(handOver)).status).toBe(200);
    expect((await visit('https://3725-home.share.test/', { cookie })).status).toBe(403);
  });
});

interface OpenSocket {
  ws: WebSocket;
  streamId: number;
  closed: Promise<CloseEvent>;
  messages: string[];
}

/** A WebSocket through the share host, accepted by the fake node. */
async function openSocket(n: FakeNode, url: string, headers: Record<string, string>): Promise<OpenSocket> {
  const resP = SELF.fetch(url, { headers: { 'x-test-client-ip': VISITOR_IP, upgrade: 'websocket', ...headers } });
  const open = (await n.next((f) => f.type === FrameType.Open)) as Frame & { type: FrameType.Open };
  expect(open.head.websocket).toBe(true);
  n.send(encode.response(open.streamId, { status: 101, headers: [] }, false));
  const res = await resP;
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener('close', resolve));
  const messages: string[] = [];
  ws.addEventListener('message', (e) => messages.push(String(e.data)));
  ws.accept();
  return { ws, streamId: open.streamId, closed, messages };
}

/** The owner's socket still carries messages both ways. */
async function expectOpen(n: FakeNode, socket: OpenSocket) {
  n.send(encode.wsMessage(socket.streamId, 'still here'));
  await vi.waitFor(() => expect(socket.messages).toContain('still here'), { timeout: 5000, interval: 20 });
  socket.ws.send('me too');
  const echo = await n.next((f) => f.type === FrameType.WsMessage && f.streamId === socket.streamId);
  expect(new TextDecoder().decode((echo as { data: Uint8Array }).data)).toBe('me too');
}

async function loginCookie(port: number, password: string): Promise<string> {
  const res = await visit(`https://${port}-home.share.test/__homeport/login`, { 'content-type': 'application/x-www-form-urlencoded' }, { method: 'POST', body: new URLSearchParams({ password }).toString() });
  expect(res.status).toBe(303);
  return res.headers.get('set-cookie')!.split(';')[0];
}

describe('revocation reaches open WebSockets', () => {
  it("should close a visitor's socket through a password share when the password changes, and again when the share is removed, keeping the owner's", async () => {
    node = await FakeNode.connect();
    await shareOf(3730, { mode: 'password', password: 'first' });
    const firstCookie = await loginCookie(3730, 'first');
    const visitor = await openSocket(node, 'https://3730-home.share.test/ws', { cookie: firstCookie });
    const ownerSocket = await openSocket(node, 'https://3730-home.share.test/ws', bearer(owner.token));

    // Only the expiry changes: the visitor stays.
    await shareOf(3730, { mode: 'password', expiresIn: '2h' });
    await expectOpen(node, visitor);

    await shareOf(3730, { mode: 'password', password: 'second' });
    const event = await visitor.closed;
    expect([event.code, event.reason]).toEqual([1008, 'share revoked']);
    const told = await node.next((f) => f.type === FrameType.WsClose && f.streamId === visitor.streamId);
    expect(told).toMatchObject({ code: 1008, reason: 'share revoked' });
    await expectOpen(node, ownerSocket);
    // The old cookie no longer opens a new one.
    expect((await visit('https://3730-home.share.test/ws', { cookie: firstCookie, upgrade: 'websocket' })).status).toBe(401);

    const second = await openSocket(node, 'https://3730-home.share.test/ws', { cookie: await loginCookie(3730, 'second') });
    expect((await unshare(3730)).status).toBe(200);
    expect((await second.closed).code).toBe(1008);
    await expectOpen(node, ownerSocket);
    expect((await visit('https://3730-home.share.test/ws', { upgrade: 'websocket' })).status).toBe(403);
  });

  it('should close visitors of a public share made private, and of one turned into a password share', async () => {
    node = await FakeNode.connect();
    await shareOf(3731, { mode: 'public' });
    // A public share opens in the path form too.
    const a = await openSocket(node, 'https://share.test/3731/ws', {});
    await shareOf(3731, { mode: 'public', expiresIn: '1h' });
    await expectOpen(node, a);
    await shareOf(3731, { mode: 'password', password: 'pw' });
    expect((await a.closed).reason).toBe('share revoked');
    await shareOf(3731, { mode: 'public' });
    const b = await openSocket(node, 'https://3731-home.share.test/ws', {});
    await shareOf(3731, { mode: 'private' });
    expect((await b.closed).code).toBe(1008);
  });

  it('should close visitors when the share expires by the alarm, while the owner stays', async () => {
    node = await FakeNode.connect();
    const share = await shareOf(3732, { mode: 'public', expiresIn: '1h' });
    const visitor = await openSocket(node, `${share.linkUrl}ws`, {});
    const ownerSocket = await openSocket(node, 'https://3732-home.share.test/ws', bearer(owner.token));
    await runInDurableObject(hub(), (_instance, state) => {
      state.storage.sql.exec('UPDATE shares SET expires_at = ? WHERE port = 3732', Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(hub())).toBe(true);
    const event = await visitor.closed;
    expect([event.code, event.reason]).toEqual([1008, 'share expired']);
    await expectOpen(node, ownerSocket);
    expect((await visit('https://3732-home.share.test/')).status).toBe(403);
  });
});
