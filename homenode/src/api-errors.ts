/**
 * @module
 * The last word of every node API error handler: HTTP errors as they are, a full disk
 * as 507 "disk full" (the owner can act on that; a bare 500 only says something broke),
 * anything else as 500 with the details in the log only.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';

/** Whether SQLite (libSQL) said the database or its disk is full, however deep in causes. */
export function isDiskFull(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (code === 'SQLITE_FULL' || code === 'ENOSPC') return true;
    if (typeof message === 'string' && /SQLITE_FULL|database or disk is full/.test(message)) return true;
  }
  return false;
}

export function answerError(error: unknown, c: Context, log?: (message: string) => void): Response {
  if (error instanceof HTTPException) return c.json({ error: error.message }, error.status);
  if (isDiskFull(error)) {
    log?.(`API ${c.req.method} ${c.req.path}: disk full`);
    return c.json({ error: 'disk full: homeportd could not save this change; free some space on the node and try again' }, 507);
  }
  log?.(`API ${c.req.method} ${c.req.path} failed: ${(error as Error)?.message ?? String(error)}`);
  return c.json({ error: 'internal error' }, 500);
}
