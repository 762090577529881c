/**
 * @module
 * The owner of a local-mode edge (`npm start`), signed in by a credential, never by an
 * address (Jupyter's way):
 *   - the local owner's key (`hpl_…`, LOCAL_OWNER_KEY, a 0600 file in .homeport/) is a
 *     bearer credential for scripts and the local stack itself;
 *   - `POST /api/auth/local/links` (with the key) makes a one-time sign-in link;
 *   - `GET /api/auth/local?ticket=…` uses the ticket up and sets an HttpOnly session
 *     cookie signed with the key (so changing the key signs every browser out).
 */
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { isLocalOwnerKey } from '../access.ts';
import { configOf, type EdgeConfig } from '../env.ts';
import { signCookie, verifyCookie } from '../shares/crypto.ts';
import { directoryOf } from './directory.ts';
import type { ApiEnv } from './middleware.ts';
import { bearerOf, cookieIsSecure, cookieOf } from './principal.ts';
import { randomSecret, sha256Hex } from './secrets.ts';

/** How long a printed sign-in link waits to be opened (it works once). */
export const SIGN_IN_LINK_TTL_MS = 12 * 3600_000;
/** How long the local owner's browser stays signed in. */
const LOCAL_SESSION_TTL_MS = 14 * 24 * 3600_000;
const SESSION_ID = 'local-owner-session';
const TICKET_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function localSessionCookieName(config: EdgeConfig): string {
  return cookieIsSecure(config) ? '__Host-homeport_local' : 'homeport_local';
}

/** Whether the request carries a valid local owner's session cookie. */
export async function hasLocalSession(c: Context | Request, config: EdgeConfig): Promise<boolean> {
  if (!config.localOwnerKey) return false;
  const request = c instanceof Request ? c : c.req.raw;
  const value = cookieOf(request, localSessionCookieName(config));
  return value !== null && verifyCookie(config.localOwnerKey, SESSION_ID, value);
}

export function clearLocalSession(c: Context, config: EdgeConfig): void {
  if (getCookie(c, localSessionCookieName(config)) !== undefined)
    deleteCookie(c, localSessionCookieName(config), { httpOnly: true, secure: cookieIsSecure(config), sameSite: 'Lax', path: '/' });
}

export const localOwnerRoutes = new Hono<ApiEnv>();

localOwnerRoutes.post('/auth/local/links', async (c) => {
  const config = configOf(c.env);
  if (!(await isLocalOwnerKey(bearerOf(c.req.raw), config))) throw new HTTPException(401, { message: "this needs the local owner's key (.homeport/local-owner.key)" });
  const ticket = randomSecret();
  const expiresAt = Date.now() + SIGN_IN_LINK_TTL_MS;
  await directoryOf(c.env).addSignInTicket(await sha256Hex(ticket), expiresAt);
  return c.json({ url: `${config.scheme}://${config.dashboardHost}/api/auth/local?ticket=${ticket}`, expiresAt }, 201);
});

localOwnerRoutes.get('/auth/local', async (c) => {
  const config = configOf(c.env);
  const ticket = c.req.query('ticket') ?? '';
  c.header('cache-control', 'no-store');
  c.header('referrer-policy', 'no-referrer');
  const valid = config.localOwnerKey !== null && TICKET_SHAPE.test(ticket) && (await directoryOf(c.env).useSignInTicket(await sha256Hex(ticket)));
  if (!valid) {
    return c.html(
      '<!doctype html><meta charset="utf-8"><title>Sign-in link used up</title><h1>This sign-in link has been used or has expired</h1><p>Each link signs in once. Print a new one on the machine that runs Homeport: <code>npm run sign-in-link</code></p>',
      403,
    );
  }
  const expiresAt = Date.now() + LOCAL_SESSION_TTL_MS;
  setCookie(c, localSessionCookieName(config), await signCookie(config.localOwnerKey!, SESSION_ID, expiresAt), {
    httpOnly: true,
    secure: cookieIsSecure(config),
    sameSite: 'Lax',
    path: '/',
    maxAge: Math.round(LOCAL_SESSION_TTL_MS / 1000),
  });
  return c.redirect('/', 303);
});
