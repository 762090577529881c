import { SELF, env, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { FrameType, PROTOCOL_VERSION, encode } from '@homeport/shared';
import type { Env } from '../env.ts';
import { LOCAL } from '../fake-node.ts';

vi.setConfig({ testTimeout: 15_000 });

// Accounts act from a remote address, so the loopback owner of local mode never applies to them.
const DASH = 'https://dash.test';
const IP = '203.0.113.20';
const PASSWORD = 'correct horse battery';
const COOKIE = '__Host-homeport_session';

interface Call {
  method?: string;
  body?: unknown;
  cookie?: string;
  ip?: string;
  local?: boolean;
}

function call(path: string, { method = 'GET', body, cookie, ip = IP, local = false }: Call = {}) {
  // The local owner is its key, never an address.
  const headers: Record<string, string> = local ? { 'x-test-client-ip': ip, ...LOCAL } : { 'x-test-client-ip': ip };
  if (method !== 'GET') headers.origin = DASH;
  if (cookie) headers.cookie = cookie;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return SELF.fetch(DASH + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function json<T = Record<string, unknown>>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(text).not.toMatch(/at .*\.ts|stack/i);
  return JSON.parse(text) as T;
}

function sessionFrom(res: Response): string {
  const match = new RegExp(`${COOKIE}=([^;]*)`).exec(res.headers.get('set-cookie') ?? '');
  expect(match).not.toBeNull();
  return `${COOKIE}=${match![1]}`;
}

async function newCode(who: Call): Promise<string> {
  const body = await json<{ code: string; command: string; expiresAt: number }>(await call('/api/pairing-codes', { ...who, method: 'POST' }), 201);
  expect(body.code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
  expect(body.command).toBe(`npx homeport pair https://dash.test ${body.code}`);
  expect(body.expiresAt).toBeGreaterThan(Date.now());
  return body.code;
}

async function pair(code: string, name: string, ip = IP) {
  return call('/api/pair', { method: 'POST', body: { code, name }, ip });
}

async function pairOk(code: string, name: string) {
  return json<{ node: { id: string; name: string }; token: string; edgeUrl: string; shareBaseUrl: string }>(await pair(code, name), 201);
}

function openTunnel(token: string) {
  return SELF.fetch(`${DASH}/api/tunnel`, { headers: { upgrade: 'websocket', authorization: `Bearer ${token}` } });
}

/** A connected node: hello sent, welcome received. */
async function connect(token: string): Promise<{ ws: WebSocket; closed: Promise<CloseEvent>; welcome: Record<string, unknown> }> {
  const res = await openTunnel(token);
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  ws.binaryType = 'arraybuffer';
  ws.accept();
  const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener('close', resolve));
  const welcome = new Promise<Record<string, unknown>>((resolve) =>
    ws.addEventListener('message', (e) => {
      const bytes = new Uint8Array(e.data as ArrayBuffer);
      if (bytes[1] === FrameType.Control) resolve(JSON.parse(new TextDecoder().decode(bytes.subarray(12))));
    }),
  );
  ws.send(encode.control({ t: 'hello', nodeId: 'ignored', agent: 'test', protocol: PROTOCOL_VERSION, ports: [{ port: 3000, pid: 1, command: 'vite', cwd: '/r', repo: null }] }));
  return { ws, closed, welcome: await welcome };
}

let owner = '';
let other = '';

beforeAll(async () => {
  // Before any account exists, the local owner pairs a node (what `npm start` does).
  const early = await pairOk(await newCode({ local: true }), 'Early Box');
  expect(early.node.id).toBe('early-box');

  const first = await call('/api/auth/register', { method: 'POST', body: { email: 'owner@example.com', password: PASSWORD } });
  expect(first.status).toBe(201);
  owner = sessionFrom(first);
  await json(await call('/api/auth/register', { method: 'POST', body: { email: 'other@example.com', password: PASSWORD } }), 202);
  const users = (await json<{ users: { id: string; email: string }[] }>(await call('/api/admin/users', { cookie: owner }), 200)).users;
  const otherId = users.find((u) => u.email === 'other@example.com')!.id;
  await json(await call(`/api/admin/users/${otherId}/approve`, { method: 'POST', cookie: owner }), 200);
  other = sessionFrom(await call('/api/auth/login', { method: 'POST', body: { email: 'other@example.com', password: PASSWORD } }));
});

describe('pairing', () => {
  it('should give the first account the node the local mode paired before it existed', async () => {
    const { nodes } = await json<{ nodes: { id: string; name: string }[] }>(await call('/api/nodes', { cookie: owner }), 200);
    expect(nodes.map((n) => n.id)).toContain('early-box');
    const theirs = await json<{ nodes: unknown[] }>(await call('/api/nodes', { cookie: other }), 200);
    expect(theirs.nodes).toEqual([]);
  });

  it('should trade a code once for a token that opens the tunnel, and give the node a unique id', async () => {
    const code = await newCode({ cookie: owner });
    const paired = await pairOk(code.toLowerCase(), 'Dev Box');
    expect(paired.node).toEqual({ id: 'dev-box', name: 'Dev Box' });
    expect(paired.token).toMatch(/^hpn_[A-Za-z0-9_-]{43}$/);
    expect(paired.edgeUrl).toBe('https://dash.test');
    expect(paired.shareBaseUrl).toBe('https://dev-box.share.test');

    // Replayed: refused, with the same words as a code that never existed.
    const replay = await json<{ error: string }>(await pair(code, 'Dev Box'), 400);
    const unknown = await json<{ error: string }>(await pair('ABCD-EFGH', 'Dev Box'), 400);
    expect(replay.error).toBe(unknown.error);
    expect(replay.error).toContain('not valid');

    const second = await pairOk(await newCode({ cookie: owner }), 'Dev Box');
    expect(second.node.id).toBe('dev-box-2');

    const node = await connect(paired.token);
    // The node learns its id from the edge, whatever its hello said.
    expect(node.welcome).toMatchObject({ t: 'welcome', nodeId: 'dev-box', shareBaseUrl: 'https://dev-box.share.test' });
    const { nodes } = await json<{ nodes: { id: string; online: boolean; name: string }[] }>(await call('/api/nodes', { cookie: owner }), 200);
    expect(nodes.find((n) => n.id === 'dev-box')).toMatchObject({ online: true, name: 'Dev Box' });
    expect(nodes.find((n) => n.id === 'dev-box-2')).toMatchObject({ online: false });
    node.ws.close(1000, 'done');
  });

  it('should refuse an expired code', async () => {
    const code = await newCode({ cookie: owner });
    const directory = (env as Env).DIRECTORY.get((env as Env).DIRECTORY.idFromName('directory'));
    await runInDurableObject(directory, (_, state) => {
      state.storage.sql.exec('UPDATE pairing_codes SET expires_at = ? WHERE used_at IS NULL', Date.now() - 1);
    });
    expect((await json<{ error: string }>(await pair(code, 'Late'), 400)).error).toContain('expired');
  });

  it('should refuse malformed bodies and names with a clear 400', async () => {
    const code = await newCode({ cookie: owner });
    for (const body of [{ code }, { code, name: '' }, { code, name: 'x'.repeat(61) }, { name: 'n' }, { code: 42, name: 'n' }])
      expect((await json<{ error: string }>(await call('/api/pair', { method: 'POST', body }), 400)).error).toMatch(/name|code/);
    const raw = await SELF.fetch(`${DASH}/api/pair`, { method: 'POST', headers: { 'x-test-client-ip': IP, origin: DASH }, body: 'not json' });
    expect((await json<{ error: string }>(raw, 400)).error).toContain('JSON');
  });

  it('should make pairing codes for signed-in callers only', async () => {
    expect((await call('/api/pairing-codes', { method: 'POST' })).status).toBe(401);
    expect((await call('/api/pairing-codes', { method: 'POST', cookie: `${COOKIE}=${'x'.repeat(43)}` })).status).toBe(401);
  });

  it('should rate limit pairing attempts per client with 429 and Retry-After', async () => {
    const ip = '198.51.100.77';
    let last: Response | null = null;
    for (let i = 0; i < 11; i++) last = await pair('ZZZZ-ZZZZ', 'guess', ip);
    const body = await json<{ error: string }>(last!, 429);
    expect(body.error).toContain('too many pairing attempts');
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another client is not affected.
    expect((await pair('ZZZZ-ZZZZ', 'guess', '198.51.100.78')).status).toBe(400);
  });
});

describe('managing nodes', () => {
  it('should rename a node for its owner only; others get the same 404 as a missing node', async () => {
    const { node } = await pairOk(await newCode({ cookie: owner }), 'Renamed');
    const renamed = await json<{ node: { name: string; id: string } }>(await call(`/api/nodes/${node.id}`, { method: 'PATCH', body: { name: 'The NUC' }, cookie: owner }), 200);
    expect(renamed.node).toMatchObject({ id: 'renamed', name: 'The NUC' });
    const foreign = await json<{ error: string }>(await call(`/api/nodes/${node.id}`, { method: 'PATCH', body: { name: 'mine' }, cookie: other }), 404);
    const missing = await json<{ error: string }>(await call('/api/nodes/no-such-node', { cookie: other }), 404);
    expect(foreign.error).toBe(missing.error);
    // Every route under a node is guarded the same way.
    for (const path of ['ports', 'shares', 'api/status']) expect((await call(`/api/nodes/${node.id}/${path}`, { cookie: other })).status, path).toBe(404);
    expect((await call(`/api/nodes/${node.id}/ports`, { cookie: owner })).status).toBe(200);
    await json(await call(`/api/nodes/${node.id}`, { method: 'PATCH', body: { name: '' }, cookie: owner }), 400);
  });

  it('should close the tunnel at once on revoke, stop its shares and refuse its token after', async () => {
    const paired = await pairOk(await newCode({ cookie: owner }), 'Doomed');
    const id = paired.node.id;
    const node = await connect(paired.token);
    await json(await call(`/api/nodes/${id}/shares/3000`, { method: 'PUT', body: { mode: 'public' }, cookie: owner }), 200);
    expect((await json<{ error: string }>(await call(`/api/nodes/${id}`, { method: 'DELETE', cookie: other }), 404)).error).toBe('no such node');

    const revoked = await json<{ revoked: boolean }>(await call(`/api/nodes/${id}`, { method: 'DELETE', cookie: owner }), 200);
    expect(revoked.revoked).toBe(true);
    const closed = await node.closed;
    expect(closed.code).toBe(4003);
    expect(closed.reason).toContain('revoked');

    const share = await SELF.fetch(`https://3000-${id}.share.test/`, { headers: { 'x-test-client-ip': '198.51.100.1' } });
    expect(share.status).toBe(404);
    expect(await share.text()).toContain('removed by its owner');
    const again = await openTunnel(paired.token);
    expect(again.status).toBe(401);
    expect((await json<{ error: string }>(again, 401)).error).toContain('pair this node again');
    const { nodes } = await json<{ nodes: { id: string }[] }>(await call('/api/nodes', { cookie: owner }), 200);
    expect(nodes.map((n) => n.id)).not.toContain(id);
    expect((await call(`/api/nodes/${id}/ports`, { cookie: owner })).status).toBe(404);
    // The id stays taken: a new node never inherits the old one's share URLs.
    expect((await pairOk(await newCode({ cookie: owner }), 'Doomed')).node.id).toBe('doomed-2');
  });
});

describe('the tunnel credential', () => {
  it('should take only node tokens: API tokens, session ids and garbage are refused before any lookup', async () => {
    for (const token of ['hpt_' + 'a'.repeat(43), 'hpn_short', 'x'.repeat(47), '']) expect((await openTunnel(token)).status, token).toBe(401);
  });

  it('should keep the owner in the hub so the hub can tell the owner later', async () => {
    const paired = await pairOk(await newCode({ cookie: owner }), 'Owned');
    const hub = (env as Env).NODE_HUB.get((env as Env).NODE_HUB.idFromName(paired.node.id));
    const identity = await runInDurableObject(hub, async (_, state) => state.storage.get<{ ownerId: string | null; revoked: boolean }>('identity'));
    const me = await json<{ user: { id: string } }>(await call('/api/auth/me', { cookie: owner }), 200);
    expect(identity).toEqual({ ownerId: me.user.id, revoked: false });
  });
});
