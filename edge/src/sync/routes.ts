/**
 * @module
 * The dashboard API for a node's synced state (mounted after ownerOnly and nodeAccess):
 *   GET    /api/nodes/:node/state      the mirror: {online, lastSeen, stale, seq, topics: {repos: […], servers: […], …}}
 *   GET    /api/nodes/:node/live       WebSocket: live events, resumable (protocol in hub-sync.ts)
 *   GET    /api/nodes/:node/commands   recent commands and their answers
 *   POST   /api/nodes/:node/commands   {id?, method, path, body?}: runs now, or queued until the node is back (202)
 *   DELETE /api/nodes/:node/commands/:id   cancel a queued command
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { hubOf, hubRequest } from '../hub-client.ts';
import type { NodeEnv } from '../nodes/routes.ts';
import { jsonBody } from '../identity/routes.ts';

export const syncRoutes = new Hono<NodeEnv>();

function relay(res: Response): Response {
  return new Response(res.body, { status: res.status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } });
}

syncRoutes.get('/nodes/:node/state', async (c) => {
  const node = c.get('node').id;
  const res = await hubOf(c.env, node).fetch(hubRequest(c.req.url, 'mirror', node));
  const body = (await res.json()) as { online: boolean };
  // While the node is offline this is its last known state: say so.
  return c.json({ node, ...body, stale: !body.online }, 200, { 'cache-control': 'no-store' });
});

syncRoutes.get('/nodes/:node/live', async (c) => {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') throw new HTTPException(426, { message: 'expected a WebSocket upgrade' });
  // (sameOrigin refused cross-site upgrades before this: browsers send cookies on them too)
  const node = c.get('node').id;
  return hubOf(c.env, node).fetch(hubRequest(c.req.url, 'live', node, { headers: c.req.raw.headers }));
});

syncRoutes.get('/nodes/:node/commands', async (c) => {
  const node = c.get('node').id;
  return relay(await hubOf(c.env, node).fetch(hubRequest(c.req.url, 'commands', node)));
});

syncRoutes.post('/nodes/:node/commands', async (c) => {
  const node = c.get('node').id;
  const body = await jsonBody(c);
  return relay(await hubOf(c.env, node).fetch(hubRequest(c.req.url, 'commands', node, { method: 'POST', body: JSON.stringify(body) })));
});

syncRoutes.delete('/nodes/:node/commands/:id', async (c) => {
  const node = c.get('node').id;
  return relay(await hubOf(c.env, node).fetch(hubRequest(c.req.url, 'commands', node, { method: 'DELETE', body: JSON.stringify({ id: c.req.param('id') }) })));
});
