/**
 * @module
 * Share policy rules that need no storage: durations, the owner's input to share.set,
 * and the cookie a password share sets.
 */
import { isValidPort, type ShareMode, type ShareSetParams } from '@homeport/shared';

export const MODES: readonly ShareMode[] = ['private', 'password', 'public'];
export const MAX_EXPIRY_MS = 90 * 24 * 3600_000;
export const MAX_PASSWORD_LENGTH = 256;
/** a password-share cookie lives at most this long (and never past the share's expiry) */
export const COOKIE_TTL_MS = 12 * 3600_000;
export const COOKIE_NAME = 'homeport_share';
/** the reserved path under a share's prefix that serves the password page */
export const LOGIN_PATH = '/__homeport/login';

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
  if (!raw || typeof raw !== 'object') throw new PolicyError('expected a JSON object like {"mode": "password", "password": "…", "expiresIn": "24h"}');
  const p = raw as Record<string, unknown>;
  const port = Number(p.port);
  if (!isValidPort(port)) throw new PolicyError(`"${String(p.port)}" is not a port (1-65535)`);
  if (typeof p.mode !== 'string' || !MODES.includes(p.mode as ShareMode)) throw new PolicyError(`mode must be one of ${MODES.join(', ')}`);
  if (p.password !== undefined && p.password !== null) {
    if (typeof p.password !== 'string' || p.password.length === 0) throw new PolicyError('password must be a non-empty string');
    if (p.password.length > MAX_PASSWORD_LENGTH) throw new PolicyError(`password is longer than ${MAX_PASSWORD_LENGTH} characters`);
    if (p.mode !== 'password') throw new PolicyError('a password only goes with mode "password"');
  }
  if (p.expiresIn !== undefined && p.expiresIn !== null && (typeof p.expiresIn !== 'string' || parseDuration(p.expiresIn) === null))
    throw new PolicyError('expiresIn must be a duration like "30m", "24h" or "7d" (at most 90d)');
  return { port, mode: p.mode as ShareMode, password: (p.password as string | undefined) ?? undefined, expiresIn: (p.expiresIn as string | null | undefined) ?? null };
}

export function cookieHeader(value: string, path: string, maxAgeMs: number, secure: boolean): string {
  return `${COOKIE_NAME}=${value}; Path=${path || '/'}; Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1000))}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** The values of our cookie in a Cookie header (a visitor may hold several, one per path). */
export function shareCookiesOf(header: string | null): string[] {
  if (!header) return [];
  return header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part.startsWith(COOKIE_NAME + '='))
    .map((part) => part.slice(COOKIE_NAME.length + 1));
}

/** The Cookie header the app gets: ours removed. null when nothing is left. */
export function withoutShareCookie(header: string): string | null {
  const rest = header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part && !part.startsWith(COOKIE_NAME + '='));
  return rest.length ? rest.join('; ') : null;
}

/** Where to go after the password page: a path under the share's prefix, never elsewhere. */
export function safeNext(next: string | null | undefined, prefix: string): string {
  const home = `${prefix}/`;
  if (!next || !next.startsWith(home) || next.startsWith('//') || /[\\\r\n]/.test(next)) return home;
  return next;
}
