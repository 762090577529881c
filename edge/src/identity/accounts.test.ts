import { SELF, env, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Env } from '../env.ts';
import { configOf } from '../env.ts';
import { directoryOf, SESSION_TTL_MS } from './directory.ts';
import { cookieIsSecure, ownerOf, sessionCookieName } from './principal.ts';
import { LOCAL } from '../fake-node.ts';

// Every request comes from a non-loopback address, so the local-owner fallback never applies.
const DASH = 'https://dash.test';
const IP = '203.0.113.9';
const COOKIE = '__Host-homeport_session';
const PASSWORD = 'correct horse battery';

interface Call {
  method?: string;
  body?: unknown;
  raw?: string;
  cookie?: string;
  bearer?: string;
  origin?: string | null;
}

// Each call from its own address, so the sign-in rate limits (tested in rate-limit.test.ts) stay out of the way.
let lastOctet = 0;
const nextIp = () => `198.51.100.${(lastOctet = (lastOctet % 250) + 1)}`;

function call(path: string, { method = 'GET', body, raw, cookie, bearer, origin = DASH }: Call = {}) {
  const headers: Record<string, string> = { 'x-test-client-ip': nextIp() };
  if (origin !== null && method !== 'GET') headers.origin = origin;
  if (cookie) headers.cookie = cookie;
  if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json';
  return SELF.fetch(DASH + path, { method, headers, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)) });
}

const post = (path: string, body?: unknown, extra: Call = {}) => call(path, { method: 'POST', body, ...extra });

/** `name=value` of the session cookie a response sets. */
function sessionFrom(res: Response): string {
  const header = res.headers.get('set-cookie') ?? '';
  const match = new RegExp(`${COOKIE}=([^;]*)`).exec(header);
  expect(match, header).not.toBeNull();
  return `${COOKIE}=${match![1]}`;
}

async function login(email: string, password = PASSWORD) {
  const res = await post('/api/auth/login', { email, password });
  expect(res.status).toBe(200);
  return sessionFrom(res);
}

async function errorOf(res: Response): Promise<string> {
  expect(res.headers.get('content-type')).toContain('application/json');
  const text = await res.text();
  expect(text).not.toMatch(/at .*\.ts|stack/i);
  return (JSON.parse(text) as { error: string }).error;
}

async function register(email: string, password = PASSWORD) {
  return post('/api/auth/register', { email, password, name: email.split('@')[0] });
}

async function userIdOf(admin: string, email: string): Promise<string> {
  const users = ((await (await call('/api/admin/users', { cookie: admin })).json()) as { users: { id: string; email: string }[] }).users;
  return users.find((u) => u.email === email)!.id;
}

const directory = () => directoryOf(env as unknown as Env);

function setSessionExpiry(expiresAt: number) {
  return runInDurableObject(directory(), (_instance, state) => {
    state.storage.sql.exec('UPDATE sessions SET expires_at = ?', expiresAt);
  });
}

let owner = '';

beforeAll(async () => {
  const res = await register('Owner@Example.com');
  expect(res.status).toBe(201);
  owner = sessionFrom(res);
});

describe('registration', () => {
  it('should make the first account the active admin and sign it in', async () => {
    const me = await call('/api/auth/me', { cookie: owner });
    expect(me.status).toBe(200);
    const body = (await me.json()) as { user: { email: string; role: string; status: string; passwordHash?: string }; via: string };
    expect(body.user).toMatchObject({ email: 'owner@example.com', role: 'admin', status: 'active' });
    expect(body.via).toBe('session');
    expect(JSON.stringify(body)).not.toContain('pbkdf2');
  });

  it('should keep later accounts pending until an admin approves them', async () => {
    const res = await register('second@example.com');
    expect(res.status).toBe(202);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(((await res.json()) as { status: string }).status).toBe('pending');

    const early = await post('/api/auth/login', { email: 'second@example.com', password: PASSWORD });
    expect(early.status).toBe(403);
    expect(await errorOf(early)).toContain('approve');

    const pending = (await (await call('/api/admin/users?status=pending', { cookie: owner })).json()) as { users: { email: string; role: string }[] };
    expect(pending.users.map((u) => u.email)).toEqual(['second@example.com']);
    expect(pending.users[0]!.role).toBe('user');

    const listed = (await (await call('/api/admin/users/pending', { cookie: owner })).json()) as { users: { email: string }[] };
    expect(listed.users.map((u) => u.email)).toEqual(['second@example.com']);

    const id = await userIdOf(owner, 'second@example.com');
    const approved = await post(`/api/admin/users/${id}/approve`, undefined, { cookie: owner });
    expect(approved.status).toBe(200);
    expect(((await approved.json()) as { user: { status: string; approvedAt: number } }).user).toMatchObject({ status: 'active' });

    const session = await login('second@example.com');
    const me = (await (await call('/api/auth/me', { cookie: session })).json()) as { user: { role: string } };
    expect(me.user.role).toBe('user');
    // Not an admin.
    expect((await call('/api/admin/users', { cookie: session })).status).toBe(403);
    expect((await post(`/api/admin/users/${id}/deactivate`, undefined, { cookie: session })).status).toBe(403);
  });

  it('should answer a taken email exactly like a new one', async () => {
    const fresh = await register('third@example.com');
    const taken = await register('OWNER@example.com');
    expect(taken.status).toBe(fresh.status);
    expect(await taken.text()).toBe(await fresh.text());
    const users = (await (await call('/api/admin/users', { cookie: owner })).json()) as { users: { email: string }[] };
    expect(users.users.filter((u) => u.email === 'owner@example.com')).toHaveLength(1);
  });

  it('should refuse bad input with a clear 400', async () => {
    const cases: [Call, string][] = [
      [{ raw: '{"email": ' }, 'JSON'],
      [{ raw: '[1,2]' }, 'object'],
      [{ body: { password: PASSWORD } }, '"email"'],
      [{ body: { email: 'x@example.com' } }, '"password"'],
      [{ body: { email: 'x@example.com', password: 12345678901 } }, '"password"'],
      [{ body: { email: 'not-an-email', password: PASSWORD } }, 'email'],
      [{ body: { email: 'x@example.com', password: 'short1234' } }, '10 characters'],
      [{ body: { email: 'x@example.com', password: PASSWORD, name: 42 } }, '"name"'],
    ];
    for (const [extra, message] of cases) {
      const res = await call('/api/auth/register', { method: 'POST', ...extra });
      expect(res.status, message).toBe(400);
      expect(await errorOf(res)).toContain(message);
    }
  });
});

describe('login', () => {
  it('should not tell a wrong password from an unknown account', async () => {
    const wrong = await post('/api/auth/login', { email: 'owner@example.com', password: 'not the password' });
    const unknown = await post('/api/auth/login', { email: 'nobody@example.com', password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await errorOf(wrong)).toBe(await errorOf(unknown));
  });

  it('should refuse malformed bodies and missing fields', async () => {
    expect((await call('/api/auth/login', { method: 'POST', raw: 'nope' })).status).toBe(400);
    expect((await post('/api/auth/login', { email: 'owner@example.com' })).status).toBe(400);
  });

  it('should set a host-only, HttpOnly, Secure, SameSite=Lax session cookie', async () => {
    const res = await post('/api/auth/login', { email: 'OWNER@example.com', password: PASSWORD });
    expect(res.status).toBe(200);
    const header = res.headers.get('set-cookie')!;
    const [pair, ...attributes] = header.split(';').map((s) => s.trim());
    expect(pair).toMatch(new RegExp(`^${COOKIE}=[A-Za-z0-9_-]{43}$`));
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/', `Max-Age=${SESSION_TTL_MS / 1000}`]));
    expect(header.toLowerCase()).not.toContain('domain=');
  });
});

describe('cookie security', () => {
  const config = configOf(env as unknown as Env);
  it('should be Secure everywhere but plain http on localhost', () => {
    expect(cookieIsSecure(config)).toBe(true);
    expect(cookieIsSecure({ ...config, scheme: 'http' })).toBe(true);
    expect(cookieIsSecure({ ...config, scheme: 'http', dashboardHostname: 'localhost' })).toBe(false);
    expect(cookieIsSecure({ ...config, scheme: 'http', dashboardHostname: '127.0.0.1' })).toBe(false);
    expect(cookieIsSecure({ ...config, scheme: 'https', dashboardHostname: 'localhost' })).toBe(true);
    expect(sessionCookieName({ ...config, scheme: 'http', dashboardHostname: 'localhost' })).toBe('homeport_session');
  });
});

describe('sessions', () => {
  it('should refuse forged, tampered and missing cookies', async () => {
    const real = await login('owner@example.com');
    const tampered = real.slice(0, -1) + (real.endsWith('A') ? 'B' : 'A');
    const forged = `${COOKIE}=${'A'.repeat(43)}`;
    for (const cookie of [tampered, forged, `${COOKIE}=garbage`, `${COOKIE}=`]) {
      const res = await call('/api/auth/me', { cookie });
      expect(res.status, cookie).toBe(401);
      await errorOf(res);
    }
    // The value under a name without the __Host- prefix is not a session.
    expect((await call('/api/auth/me', { cookie: real.replace(COOKIE, 'homeport_session') })).status).toBe(401);
    expect((await call('/api/auth/me')).status).toBe(401);
    expect((await call('/api/nodes')).status).toBe(401);
    expect((await call('/api/auth/me', { cookie: real })).status).toBe(200);
  });

  it('should expire, and renew once less than half the term is left', async () => {
    const session = await login('owner@example.com');
    // More than half left: no new cookie.
    const fresh = await call('/api/auth/me', { cookie: session });
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('set-cookie')).toBeNull();

    await setSessionExpiry(Date.now() + 3 * 24 * 3600 * 1000);
    const renewed = await call('/api/nodes', { cookie: session });
    expect(renewed.status).toBe(200);
    expect(renewed.headers.get('set-cookie')).toContain(`${session};`);
    expect(Number(/Max-Age=(\d+)/.exec(renewed.headers.get('set-cookie')!)?.[1])).toBeGreaterThan(SESSION_TTL_MS / 1000 - 60);
    const stored = await runInDurableObject(directory(), (_i, state) => state.storage.sql.exec<{ e: number }>('SELECT max(expires_at) AS e FROM sessions').one().e);
    expect(stored).toBeGreaterThan(Date.now() + SESSION_TTL_MS - 60_000);

    await setSessionExpiry(Date.now() - 1000);
    const expired = await call('/api/auth/me', { cookie: session });
    expect(expired.status).toBe(401);
    expect(await errorOf(expired)).toContain('sign in again');
    owner = await login('owner@example.com');
  });

  it('should end the session on logout', async () => {
    const session = await login('owner@example.com');
    const out = await post('/api/auth/logout', undefined, { cookie: session });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(new RegExp(`^${COOKIE}=; Max-Age=0`));
    expect((await call('/api/auth/me', { cookie: session })).status).toBe(401);
    expect((await call('/api/auth/me', { cookie: owner })).status).toBe(200);
  });
});

describe('admin actions', () => {
  it('should reject, then reactivate an account', async () => {
    await register('reject@example.com');
    const id = await userIdOf(owner, 'reject@example.com');
    const rejected = await post(`/api/admin/users/${id}/reject`, undefined, { cookie: owner });
    expect(((await rejected.json()) as { user: { status: string } }).user.status).toBe('rejected');
    expect((await post('/api/auth/login', { email: 'reject@example.com', password: PASSWORD })).status).toBe(403);
    expect((await post(`/api/admin/users/${id}/approve`, undefined, { cookie: owner })).status).toBe(409);
    expect((await post(`/api/admin/users/${id}/activate`, undefined, { cookie: owner })).status).toBe(200);
    await login('reject@example.com');
  });

  it('should lock a deactivated user out at once, sessions and tokens alike', async () => {
    await register('gone@example.com');
    const id = await userIdOf(owner, 'gone@example.com');
    await post(`/api/admin/users/${id}/approve`, undefined, { cookie: owner });
    const session = await login('gone@example.com');
    const token = ((await (await post('/api/tokens', { name: 'script', scopes: ['read'] }, { cookie: session })).json()) as { token: string }).token;
    expect((await call('/api/auth/me', { bearer: token })).status).toBe(200);

    const off = await post(`/api/admin/users/${id}/deactivate`, undefined, { cookie: owner });
    expect(((await off.json()) as { user: { status: string } }).user.status).toBe('inactive');
    expect((await call('/api/auth/me', { cookie: session })).status).toBe(401);
    expect((await call('/api/auth/me', { bearer: token })).status).toBe(401);
    expect((await post('/api/auth/login', { email: 'gone@example.com', password: PASSWORD })).status).toBe(403);

    expect((await post(`/api/admin/users/${id}/activate`, undefined, { cookie: owner })).status).toBe(200);
    // Its old sessions stay ended; signing in again works.
    expect((await call('/api/auth/me', { cookie: session })).status).toBe(401);
    await login('gone@example.com');
  });

  it('should refuse unknown users, unknown actions and locking oneself out', async () => {
    expect((await post('/api/admin/users/nope/approve', undefined, { cookie: owner })).status).toBe(404);
    const me = ((await (await call('/api/auth/me', { cookie: owner })).json()) as { user: { id: string } }).user.id;
    expect((await post(`/api/admin/users/${me}/deactivate`, undefined, { cookie: owner })).status).toBe(409);
    expect((await post(`/api/admin/users/${me}/explode`, undefined, { cookie: owner })).status).toBe(404);
    expect((await call('/api/admin/users?status=weird', { cookie: owner })).status).toBe(400);
  });
});

describe('CSRF', () => {
  it('should refuse state-changing requests without the dashboard Origin', async () => {
    for (const origin of [null, 'https://evil.test', 'https://share.test', 'http://dash.test', 'null']) {
      for (const [path, cookie] of [['/api/auth/login', undefined], ['/api/auth/logout', owner], ['/api/tokens', owner]] as const) {
        const res = await call(path, { method: 'POST', body: { email: 'owner@example.com', password: PASSWORD, name: 't', scopes: ['read'] }, cookie, origin });
        expect(res.status, `${path} ${origin}`).toBe(403);
        expect(await errorOf(res)).toContain('Origin');
      }
    }
    // The node API through the tunnel too.
    const put = await call('/api/nodes/home/api/ports/3000', { method: 'PUT', body: { share: 'public' }, cookie: owner, origin: 'https://share.test' });
    expect(put.status).toBe(403);
    // The session survived: logout was refused.
    expect((await call('/api/auth/me', { cookie: owner })).status).toBe(200);
  });

  it('should let safe methods through without Origin', async () => {
    expect((await call('/api/auth/me', { cookie: owner, origin: null })).status).toBe(200);
  });
});

describe('API tokens', () => {
  it('should show a token once, store it hashed, and honour its scopes', async () => {
    const created = await post('/api/tokens', { name: 'ci', scopes: ['read'] }, { cookie: owner });
    expect(created.status).toBe(201);
    const { token, id, scopes } = (await created.json()) as { token: string; id: string; scopes: string[] };
    expect(token).toMatch(/^hpt_[A-Za-z0-9_-]{43}$/);
    expect(scopes).toEqual(['read']);

    const list = await (await call('/api/tokens', { cookie: owner })).text();
    expect(list).toContain(id);
    expect(list).not.toContain(token.slice(4));
    const stored = await runInDurableObject(directory(), (_i, state) => JSON.stringify(state.storage.sql.exec('SELECT * FROM api_tokens').toArray()));
    expect(stored).not.toContain(token.slice(4));

    // Read scope: GETs work, without a cookie and from a stranger's address.
    expect((await call('/api/nodes', { bearer: token })).status).toBe(200);
    const me = (await (await call('/api/auth/me', { bearer: token })).json()) as { via: string; user: { email: string } };
    expect(me).toMatchObject({ via: 'token', user: { email: 'owner@example.com' } });
    // ...but not writes, and no token management.
    const write = await post('/api/admin/users/nope/approve', undefined, { bearer: token, origin: null });
    expect(write.status).toBe(403);
    expect(await errorOf(write)).toContain('"write" scope');
    expect((await call('/api/tokens', { bearer: token })).status).toBe(403);

    // Write scope: state changes without Origin (a bearer token is not sent by browsers on their own).
    const writer = ((await (await post('/api/tokens', { name: 'admin script', scopes: ['write'] }, { cookie: owner })).json()) as { token: string }).token;
    expect((await post('/api/admin/users/nope/approve', undefined, { bearer: writer, origin: null })).status).toBe(404);
    expect((await call('/api/nodes', { bearer: writer })).status).toBe(403);

    const deleted = await call(`/api/tokens/${id}`, { method: 'DELETE', cookie: owner });
    expect(deleted.status).toBe(200);
    expect((await call('/api/nodes', { bearer: token })).status).toBe(401);
    expect((await call(`/api/tokens/${id}`, { method: 'DELETE', cookie: owner })).status).toBe(404);
  });

  it('should refuse wrong and forged tokens, and bad token requests', async () => {
    for (const bearer of ['', 'nope', `hpt_${'A'.repeat(43)}`, `hpt_${'A'.repeat(42)}!`]) {
      const res = await call('/api/nodes', { bearer });
      expect(res.status, bearer).toBe(401);
      await errorOf(res);
    }
    for (const body of [{ scopes: ['read'] }, { name: 'x' }, { name: 'x', scopes: [] }, { name: 'x', scopes: ['admin'] }, { name: 'x', scopes: 'read' }])
      expect((await post('/api/tokens', body, { cookie: owner })).status, JSON.stringify(body)).toBe(400);
  });

  it('should keep one user from deleting another user\'s token', async () => {
    const { id } = (await (await post('/api/tokens', { name: 'mine', scopes: ['read'] }, { cookie: owner })).json()) as { id: string };
    const other = await login('second@example.com');
    expect((await call(`/api/tokens/${id}`, { method: 'DELETE', cookie: other })).status).toBe(404);
    expect(await (await call('/api/tokens', { cookie: other })).text()).not.toContain(id);
  });
});

describe('ownerOf', () => {
  const e = env as unknown as Env;
  it('should name the user behind a session or token, and nobody for bad credentials', async () => {
    const me = ((await (await call('/api/auth/me', { cookie: owner })).json()) as { user: { id: string } }).user.id;
    const req = (headers: Record<string, string>) => new Request('https://share.test/3000/', { headers: { 'x-test-client-ip': IP, ...headers } });
    expect(await ownerOf(req({ cookie: owner }), e)).toEqual({ userId: me, role: 'admin' });
    const token = ((await (await post('/api/tokens', { name: 'share', scopes: ['read'] }, { cookie: owner })).json()) as { token: string }).token;
    expect(await ownerOf(req({ authorization: `Bearer ${token}` }), e)).toEqual({ userId: me, role: 'admin' });
    expect(await ownerOf(req({ cookie: `${COOKIE}=${'B'.repeat(43)}` }), e)).toBeNull();
    expect(await ownerOf(req({ authorization: 'Bearer hpt_x' }), e)).toBeNull();
    expect(await ownerOf(req({}), e)).toBeNull();
    // Loopback is nobody; the local owner's key is the local owner.
    expect(await ownerOf(new Request('https://share.test/', { headers: { 'x-test-client-ip': '127.0.0.1' } }), e)).toBeNull();
    expect(await ownerOf(new Request('https://share.test/', { headers: LOCAL }), e)).toEqual({ userId: 'local', role: 'admin' });
  });
});

describe('local mode', () => {
  it("should take the local owner's key for the owner, under the Origin check in a browser", async () => {
    const me = await SELF.fetch(`${DASH}/api/auth/me`, { headers: LOCAL });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ local: true, role: 'admin' });
    // No tokens for the local owner: it is not an account.
    const token = await SELF.fetch(`${DASH}/api/tokens`, { method: 'POST', headers: { ...LOCAL, origin: DASH }, body: JSON.stringify({ name: 'x', scopes: ['read'] }) });
    expect(token.status).toBe(403);
  });
});
