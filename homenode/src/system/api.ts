/**
 * @module
 * `GET /api/system`: the machine's latest sample and its short history, for the
 * dashboard's charts. Mounted on the node's one Hono app, behind its door guard.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ApiEnv } from '../api.ts';
import type { SystemStats } from './stats.ts';

export function systemApi(stats: () => SystemStats | null) {
  const app = new Hono<ApiEnv>();
  app.get('/api/system', (c) => {
    const system = stats();
    if (!system) throw new HTTPException(503, { message: 'this homeportd does not sample system stats' });
    return c.json({ intervalMs: system.intervalMs, latest: system.latest(), history: system.history() });
  });
  return app;
}
