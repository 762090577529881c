/**
 * @module
 * The dashboard API's guards, as named middleware factories: `sameOrigin` (CSRF),
 * `ownerOnly` (a session, a scoped token or the local owner's credential), `adminOnly` and
 * `sessionOnly`.
 */
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import type { Env } from '../env.ts';
import { configOf } from '../env.ts';
import { BadCredentials, bearerOf, principalOf, writeSessionCookie, type Principal } from './principal.ts';
import type { Scope } from './schema.ts';

export type ApiEnv = { Bindings: Env; Variables: { principal: Principal } };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The token scope a request needs: GET, HEAD and OPTIONS read, the rest write (the API's rule and the share host's). */
export function scopeFor(method: string): Scope {
  return SAFE_METHODS.has(method) ? 'read' : 'write';
}

/**
 * CSRF: a state-changing request (and a browser's WebSocket upgrade) must carry
 * `Origin: <scheme>://<dashboard host>`.
 * Requests with a bearer token are exempt: browsers never attach one on their own.
 */
export function sameOrigin() {
  return createMiddleware<ApiEnv>(async function sameOrigin(c, next) {
    const config = configOf(c.env);
    const dashboard = `${config.scheme}://${config.dashboardHost}`;
    if (!SAFE_METHODS.has(c.req.method) && bearerOf(c.req.raw) === null) {
      if (c.req.header('origin') !== dashboard) throw new HTTPException(403, { message: 'cross-origin request refused: Origin must be the dashboard' });
    }
    // A WebSocket upgrade is a GET, yet browsers send the session cookie on cross-site ones:
    // a page elsewhere must not open a socket (live events, browser VS Code) as the owner.
    const origin = c.req.header('origin');
    if (c.req.header('upgrade')?.toLowerCase() === 'websocket' && origin !== undefined && origin !== dashboard)
      throw new HTTPException(403, { message: 'cross-origin WebSocket refused: Origin must be the dashboard' });
    await next();
  });
}

/**
 * The caller must be signed in: an active user's session, an API token whose scopes
 * cover the method (GET/HEAD read, the rest write), or the local owner in local mode (its key or signed cookie).
 */
export function ownerOnly() {
  return createMiddleware<ApiEnv>(async function ownerOnly(c, next) {
    const config = configOf(c.env);
    let principal: Principal | null;
    try {
      principal = await principalOf(c.req.raw, c.env, config);
    } catch (error) {
      if (error instanceof BadCredentials) throw new HTTPException(401, { message: error.message });
      throw error;
    }
    if (!principal) throw new HTTPException(401, { message: config.localMode ? 'Sign-in required: open the sign-in link `npm start` printed (or `npm run sign-in-link` for a new one).' : 'Sign-in required.' });
    const needed = scopeFor(c.req.method);
    if (!principal.scopes.includes(needed)) throw new HTTPException(403, { message: `this API token lacks the "${needed}" scope` });
    c.set('principal', principal);
    await next();
    // (a WebSocket upgrade's 101 cannot be copied to add a header; the next request renews)
    if (principal.renewed && c.res.status !== 101) writeSessionCookie(c, config, principal.renewed.sessionId, principal.renewed.expiresAt);
  });
}

/** After ownerOnly: admins only. */
export function adminOnly() {
  return createMiddleware<ApiEnv>(async function adminOnly(c, next) {
    if (c.get('principal').role !== 'admin') throw new HTTPException(403, { message: 'admins only' });
    await next();
  });
}

/** After ownerOnly: a browser session only (e.g. to create API tokens). */
export function sessionOnly() {
  return createMiddleware<ApiEnv>(async function sessionOnly(c, next) {
    if (c.get('principal').via !== 'session') throw new HTTPException(403, { message: 'this needs a signed-in session, not an API token' });
    await next();
  });
}
