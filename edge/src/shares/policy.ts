/**
 * @module
 * Share policy rules that need no storage: durations, the owner's input to share.set,
 * the cookies a password share and the owner's handshake set, and which changes
 * revoke visitors already in.
 */
import { isValidPort, type ShareMode, type ShareSetParams } from '@homeport/shared';
import { describeIssues, friendlyIssue } from '@homeport/shared/json-body';
import { SHARE_MODES, shareSetParams } from '@homeport/shared/schemas/shares';
import type { ShareRow } from './store.ts';

export const MODES: readonly ShareMode[] = SHARE_MODES;
export const MAX_EXPIRY_MS = 90 * 24 * 3600_000;
/** a password-share cookie lives at most this long (and never past the share's expiry) */
export const COOKIE_TTL_MS = 12 * 3600_000;
export const COOKIE_NAME = 'homeport_share';
/** the reserved path under a share's prefix that serves the password page */
export const LOGIN_PATH = '/__homeport/login';

/** The owner's cookie on a share host, set by the sign-in handshake (owner-access.ts). */
export const OWNER_COOKIE = 'homeport_owner';
/** the reserved path under a share's prefix that ends the owner's handshake */
export const OWNER_PATH = '/__homeport/owner';
export const OWNER_COOKIE_TTL_MS = 12 * 3600_000;
/** how long the one-time ticket of the handshake may wait to be used */
export const OWNER_TICKET_TTL_MS = 60_000;

/** Wrong passwords per client IP and share per window before 429. */
export const LOGIN_LIMIT = 5;
export const LOGIN_WINDOW_MS = 60_000;

/** Access log retention, enforced by the hub's alarm. */
export const LOG_MAX_AGE_MS = 30 * 24 * 3600_000;
export const LOG_MAX_ROWS = 10_000;
export const PRUNE_EVERY_MS = 3600_000;

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3600_000, d: 24 * 3600_000 };

/** "90s", "30m", "24h", "7d" → milliseconds; null when it is not a duration we accept. */
export function parseDuration(text: string): number | null {
  const m = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (!m) return null;
  const ms = Number(m[1]) * UNITS[m[2]];
  return ms > 0 && ms <= MAX_EXPIRY_MS ? ms : null;
}

export class PolicyError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 = 400,
  ) {
    super(message);
  }
}

/** Checks share.set input from the owner API or the node; throws PolicyError with a message meant for people. */
export function checkSetParams(raw: unknown): ShareSetParams {
  // the same strict schema as the owner API's door: the node's RPC is a door too
  const parsed = shareSetParams.safeParse(raw, { error: friendlyIssue });
  if (!parsed.success) throw new PolicyError(describeIssues(parsed.error));
  const p = parsed.data;
  const port = Number(p.port);
  if (!isValidPort(port)) throw new PolicyError(`"${String(p.port)}" is not a port (1-65535)`);
  if (p.password != null && p.mode !== 'password') throw new PolicyError('a password only goes with mode "password"');
  if (p.expiresIn != null && parseDuration(p.expiresIn) === null) throw new PolicyError('expiresIn must be a duration like "30m", "24h" or "7d" (at most 90d)');
  return { port, mode: p.mode, password: p.password ?? undefined, expiresIn: p.expiresIn ?? null };
}

export function cookieHeader(value: string, path: string, maxAgeMs: number, secure: boolean, name = COOKIE_NAME): string {
  return `${name}=${value}; Path=${path || '/'}; Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1000))}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** The values of one of our cookies in a Cookie header (a visitor may hold several, one per path). */
export function shareCookiesOf(header: string | null, name = COOKIE_NAME): string[] {
  if (!header) return [];
  return header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part.startsWith(name + '='))
    .map((part) => part.slice(name.length + 1));
}

/** The Cookie header the app gets: ours (the share's and the owner's) removed. null when nothing is left. */
export function withoutShareCookie(header: string): string | null {
  const rest = header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part && !part.startsWith(COOKIE_NAME + '=') && !part.startsWith(OWNER_COOKIE + '='));
  return rest.length ? rest.join('; ') : null;
}

/** Where to go after the password page: a path under the share's prefix, never elsewhere. */
export function safeNext(next: string | null | undefined, prefix: string): string {
  const home = `${prefix}/`;
  if (!next || !next.startsWith(home) || next.startsWith('//') || /[\\\r\n]/.test(next)) return home;
  return next;
}

/**
 * Whether visitors let in under `before` lose their access under `after`: the share was
 * removed or made private, got a new password (which rotates its cookie secret and
 * token), or went from public to password. Their open WebSockets are closed at once.
 */
export function revokesVisitors(before: ShareRow | null, after: ShareRow | null): boolean {
  if (!before) return false;
  if (!after) return true;
  if (after.mode === 'public') return false;
  return before.mode === 'public' || before.cookieSecret !== after.cookieSecret;
}
