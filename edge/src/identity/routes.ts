/**
 * @module
 * Accounts, sessions and API tokens (the seeds' v0.4 auth API, with cookies instead of
 * JWTs): `authRoutes` need no sign-in (register, login, logout); `accountRoutes` run
 * after ownerOnly (me, admin, tokens).
 */
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { clientIpOf } from '../access.ts';
import { configOf } from '../env.ts';
import { directoryOf, type AdminAction } from './directory.ts';
import { tellHubOwner } from '../nodes/routes.ts';
import { clearLocalSession } from './local-owner.ts';
import { adminOnly, sessionOnly, type ApiEnv } from './middleware.ts';
import { clearSessionCookie, principalOf, sessionCookieName, TOKEN_PREFIX, writeSessionCookie } from './principal.ts';
import { LOGIN_PER_EMAIL, LOGIN_PER_IP, REGISTER_PER_IP, enforceLimit } from './rate-limit.ts';
import type { Scope, UserStatus } from './schema.ts';
import { hashPassword, randomSecret, sha256Hex, verifyPassword } from './secrets.ts';

const MAX_BODY = 16 * 1024;
const EMAIL = /^[^\s@]+@[^\s@]+$/;
const STATUSES: UserStatus[] = ['pending', 'active', 'rejected', 'inactive'];
const ACTIONS: AdminAction[] = ['approve', 'reject', 'deactivate', 'activate'];
const SCOPES: Scope[] = ['read', 'write'];
const WRONG_LOGIN = 'wrong email or password';

export async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  if (Number(c.req.header('content-length') ?? 0) > MAX_BODY) throw new HTTPException(413, { message: 'request body too large' });
  const text = await c.req.text();
  if (text.length > MAX_BODY) throw new HTTPException(413, { message: 'request body too large' });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HTTPException(400, { message: 'the body must be JSON' });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HTTPException(400, { message: 'the body must be a JSON object' });
  return body as Record<string, unknown>;
}

export function requiredString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw new HTTPException(400, { message: `"${field}" is required (a string)` });
  return value;
}

function normalEmail(value: string): string {
  return value.trim().toLowerCase();
}

export const authRoutes = new Hono<ApiEnv>();

authRoutes.post('/auth/register', async (c) => {
  await enforceLimit(c, `register-ip:${clientIpOf(c.req.raw, configOf(c.env))}`, REGISTER_PER_IP, 'new accounts from your address');
  const body = await jsonBody(c);
  const email = normalEmail(requiredString(body, 'email'));
  const password = requiredString(body, 'password');
  const name = body.name ?? body.display_name ?? null;
  if (email.length > 254 || !EMAIL.test(email)) throw new HTTPException(400, { message: 'not an email address' });
  if (password.length < 10) throw new HTTPException(400, { message: 'the password must have at least 10 characters' });
  if (password.length > 1024) throw new HTTPException(400, { message: 'the password is too long (1024 characters at most)' });
  if (name !== null && (typeof name !== 'string' || name.length > 100)) throw new HTTPException(400, { message: '"name" must be a string of at most 100 characters' });
  const result = await directoryOf(c.env).register({ email, name: name?.trim() || null, passwordHash: await hashPassword(password) });
  if ('user' in result && result.user.status === 'active') {
    // The very first account: the owner, signed in at once, owning the nodes paired before it.
    await Promise.all(result.adopted.map((node) => tellHubOwner(c.env, node, result.user.id)));
    const sessionId = randomSecret();
    const { expiresAt } = await directoryOf(c.env).createSession(result.user.id, await sha256Hex(sessionId));
    writeSessionCookie(c, configOf(c.env), sessionId, expiresAt);
    return c.json({ user: result.user }, 201);
  }
  // The same answer whether or not the email was already taken: registration must not
  // tell strangers which addresses have accounts.
  return c.json({ status: 'pending', message: 'Registration received. An admin must approve it before you can sign in.' }, 202);
});

authRoutes.post('/auth/login', async (c) => {
  await enforceLimit(c, `login-ip:${clientIpOf(c.req.raw, configOf(c.env))}`, LOGIN_PER_IP, 'sign-in attempts from your address');
  const body = await jsonBody(c);
  const email = normalEmail(requiredString(body, 'email'));
  const password = requiredString(body, 'password');
  // Per account too (a guesser with many addresses); the key holds a digest, not the address.
  await enforceLimit(c, `login-email:${await sha256Hex(email)}`, LOGIN_PER_EMAIL, 'sign-in attempts for this account');
  const found = email.length <= 254 && password.length <= 1024 ? await directoryOf(c.env).credentialsOf(email) : null;
  // verifyPassword does the same work for a missing account (a dummy hash).
  const ok = await verifyPassword(password.slice(0, 1024), found?.passwordHash ?? null);
  if (!ok || !found) throw new HTTPException(401, { message: WRONG_LOGIN });
  const { user } = found;
  if (user.status === 'pending') throw new HTTPException(403, { message: 'your account is waiting for an admin to approve it' });
  if (user.status !== 'active') throw new HTTPException(403, { message: 'your account is not active; ask an admin' });
  const sessionId = randomSecret();
  const { expiresAt } = await directoryOf(c.env).createSession(user.id, await sha256Hex(sessionId));
  writeSessionCookie(c, configOf(c.env), sessionId, expiresAt);
  return c.json({ user });
});

authRoutes.post('/auth/logout', async (c) => {
  const config = configOf(c.env);
  // A session that is already invalid is as good as logged out.
  const principal = await principalOf(c.req.raw, c.env, config).catch(() => null);
  if (principal?.sessionHash) await directoryOf(c.env).deleteSession(principal.sessionHash);
  if (c.req.header('cookie')?.includes(sessionCookieName(config))) clearSessionCookie(c, config);
  clearLocalSession(c, config);
  return c.json({ message: 'Logged out' });
});

export const accountRoutes = new Hono<ApiEnv>();

accountRoutes.get('/auth/me', async (c) => {
  const principal = c.get('principal');
  if (principal.via === 'local') return c.json({ user: null, local: true, role: principal.role, via: principal.via, providers: { github: null } });
  const directory = directoryOf(c.env);
  const [user, providers] = await Promise.all([directory.user(principal.userId), directory.providersOf(principal.userId)]);
  return c.json({ user, via: principal.via, scopes: principal.scopes, providers: { github: providers.github ?? null } });
});

accountRoutes.use('/admin/*', adminOnly());

accountRoutes.get('/admin/users', async (c) => {
  const status = c.req.query('status');
  if (status !== undefined && !STATUSES.includes(status as UserStatus)) throw new HTTPException(400, { message: `status must be one of ${STATUSES.join(', ')}` });
  return c.json({ users: await directoryOf(c.env).users(status as UserStatus | undefined) });
});

accountRoutes.get('/admin/users/pending', async (c) => c.json({ users: await directoryOf(c.env).users('pending') }));

accountRoutes.post('/admin/users/:id/:action', async (c) => {
  const action = c.req.param('action') as AdminAction;
  if (!ACTIONS.includes(action)) throw new HTTPException(404, { message: 'no such API route' });
  const result = await directoryOf(c.env).setStatus(c.get('principal').userId, c.req.param('id'), action);
  if ('error' in result) throw new HTTPException(result.status, { message: result.error });
  return c.json({ user: result.user });
});

accountRoutes.use('/tokens', sessionOnly());
accountRoutes.use('/tokens/*', sessionOnly());

accountRoutes.post('/tokens', async (c) => {
  const body = await jsonBody(c);
  const name = requiredString(body, 'name').trim();
  if (!name || name.length > 100) throw new HTTPException(400, { message: '"name" must be 1 to 100 characters' });
  const scopes = body.scopes;
  if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => SCOPES.includes(s as Scope)))
    throw new HTTPException(400, { message: `"scopes" must be a non-empty list of ${SCOPES.map((s) => `"${s}"`).join(', ')}` });
  const token = randomSecret(TOKEN_PREFIX);
  const info = await directoryOf(c.env).createToken(c.get('principal').userId, name, [...new Set(scopes as Scope[])], await sha256Hex(token));
  // The only time the token is shown.
  return c.json({ ...info, token }, 201);
});

accountRoutes.get('/tokens', async (c) => c.json({ tokens: await directoryOf(c.env).tokens(c.get('principal').userId) }));

accountRoutes.delete('/tokens/:id', async (c) => {
  if (!(await directoryOf(c.env).deleteToken(c.get('principal').userId, c.req.param('id')))) throw new HTTPException(404, { message: 'no such token' });
  return c.json({ deleted: true });
});
