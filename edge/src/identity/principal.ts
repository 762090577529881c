/**
 * @module
 * Who is calling: a browser session (host-only cookie of the dashboard host), a bearer
 * API token, or, in local mode, the local owner (by its key or its signed session
 * cookie: local-owner.ts), never anyone by address. Used by the API middleware; the share
 * host resolves only bearer credentials, since sessions never reach it.
 */
import type { Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import type { EdgeConfig, Env } from '../env.ts';
import { configOf } from '../env.ts';
import { LOCAL_KEY_PREFIX, isLocalOwnerKey } from '../access.ts';
import { hasLocalSession } from './local-owner.ts';
import { directoryOf, type PublicUser } from './directory.ts';
import type { Role, Scope } from './schema.ts';
import { sha256Hex } from './secrets.ts';

export const TOKEN_PREFIX = 'hpt_';
const SECRET_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export interface Principal {
  userId: string;
  role: Role;
  via: 'session' | 'token' | 'local';
  /** what the caller may do: sessions and the local owner may do everything */
  scopes: Scope[];
  /** a renewed session: its cookie must be sent again with the new expiry */
  renewed?: { sessionId: string; expiresAt: number };
  /** the session id's hash, for logout */
  sessionHash?: string;
}

const LOCAL_HOSTNAMES = /^(localhost|[^.]+\.localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/** Cookies are Secure except on plain http to localhost (`npm start`). */
export function cookieIsSecure(config: EdgeConfig): boolean {
  return !(config.scheme === 'http' && LOCAL_HOSTNAMES.test(config.dashboardHostname));
}

/** `__Host-` makes browsers enforce Secure, Path=/ and no Domain: the share hosts never get it. */
export function sessionCookieName(config: EdgeConfig): string {
  return cookieIsSecure(config) ? '__Host-homeport_session' : 'homeport_session';
}

export function writeSessionCookie(c: Context, config: EdgeConfig, sessionId: string, expiresAt: number): void {
  setCookie(c, sessionCookieName(config), sessionId, {
    httpOnly: true,
    secure: cookieIsSecure(config),
    sameSite: 'Lax',
    path: '/',
    maxAge: Math.max(0, Math.round((expiresAt - Date.now()) / 1000)),
  });
}

export function clearSessionCookie(c: Context, config: EdgeConfig): void {
  deleteCookie(c, sessionCookieName(config), { httpOnly: true, secure: cookieIsSecure(config), sameSite: 'Lax', path: '/' });
}

export function cookieOf(request: Request, name: string): string | null {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export function bearerOf(request: Request): string | null {
  const header = request.headers.get('authorization');
  if (header === null) return null;
  return /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? '';
}

/** The active user and scopes behind an `hpt_` API token; null for a malformed, unknown or revoked one (shape checked before any lookup). */
export async function apiTokenOf(token: string, env: Env): Promise<{ user: PublicUser; scopes: Scope[] } | null> {
  if (!token.startsWith(TOKEN_PREFIX) || !SECRET_SHAPE.test(token.slice(TOKEN_PREFIX.length))) return null;
  return directoryOf(env).token(await sha256Hex(token));
}

/** The owner of a local-mode edge: an admin with no account (local-owner.ts). */
const LOCAL_OWNER: Principal = Object.freeze({ userId: 'local', role: 'admin', via: 'local', scopes: ['read', 'write'] }) as Principal;

/** Thrown when credentials were presented but are not valid (never silently ignored). */
export class BadCredentials extends Error {}

/**
 * The caller, or null when no credentials were presented. A presented but wrong,
 * expired or forged token/cookie throws BadCredentials.
 */
export async function principalOf(request: Request, env: Env, config = configOf(env)): Promise<Principal | null> {
  const bearer = bearerOf(request);
  if (bearer?.startsWith(LOCAL_KEY_PREFIX)) {
    if (!(await isLocalOwnerKey(bearer, config))) throw new BadCredentials("invalid local owner's key");
    return LOCAL_OWNER;
  }
  if (bearer !== null) {
    const found = await apiTokenOf(bearer, env);
    if (!found) throw new BadCredentials('invalid API token');
    return { userId: found.user.id, role: found.user.role, via: 'token', scopes: found.scopes };
  }
  const sessionId = cookieOf(request, sessionCookieName(config));
  if (sessionId) {
    if (!SECRET_SHAPE.test(sessionId)) throw new BadCredentials('session expired or invalid: sign in again');
    const sessionHash = await sha256Hex(sessionId);
    const found = await directoryOf(env).session(sessionHash);
    if (!found) throw new BadCredentials('session expired or invalid: sign in again');
    return { userId: found.user.id, role: found.user.role, via: 'session', scopes: ['read', 'write'], sessionHash, renewed: found.renewed ? { sessionId, expiresAt: found.expiresAt } : undefined };
  }
  if (await hasLocalSession(request, config)) return LOCAL_OWNER;
  return null;
}

/** For share policy: the signed-in user behind a request, or null (bad credentials count as none). */
export async function ownerOf(request: Request, env: Env): Promise<{ userId: string; role: Role } | null> {
  try {
    const principal = await principalOf(request, env);
    return principal && { userId: principal.userId, role: principal.role };
  } catch (error) {
    if (error instanceof BadCredentials) return null;
    throw error;
  }
}
