/**
 * @module
 * Rate limits on the sign-in routes, counted in the Directory (fixed windows,
 * `Directory.hitLimit`). Checked before any password hashing, so a flood of guesses
 * costs the edge a table lookup, not PBKDF2.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { directoryOf } from './directory.ts';
import type { ApiEnv } from './middleware.ts';

export interface Limit {
  limit: number;
  windowMs: number;
}

/** Sign-in attempts per client address, and per account email, in 15 minutes. */
export const LOGIN_PER_IP: Limit = { limit: 10, windowMs: 15 * 60_000 };
export const LOGIN_PER_EMAIL: Limit = { limit: 10, windowMs: 15 * 60_000 };
/** New accounts per client address in an hour. */
export const REGISTER_PER_IP: Limit = { limit: 5, windowMs: 3600_000 };

/**
 * Counts one attempt against `key`; over the limit, answers 429 `{error}` with
 * Retry-After. `what` names the attempts for people ("sign-in attempts").
 */
export async function enforceLimit(c: Context<ApiEnv>, key: string, { limit, windowMs }: Limit, what: string): Promise<void> {
  const wait = await directoryOf(c.env).hitLimit(key, limit, windowMs);
  if (wait <= 0) return;
  const seconds = Math.max(1, Math.ceil(wait / 1000));
  c.header('retry-after', String(seconds));
  throw new HTTPException(429, { message: `too many ${what}; try again in ${waitText(seconds)}` });
}

function waitText(seconds: number): string {
  if (seconds < 120) return `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}
