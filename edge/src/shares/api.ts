/**
 * @module
 * The owner API for shares on the dashboard host (behind ownerOnly):
 *   GET    /api/nodes/:node/shares
 *   PUT    /api/nodes/:node/shares/:port   {mode, password?, expiresIn?}
 *   DELETE /api/nodes/:node/shares/:port
 *   GET    /api/nodes/:node/shares/:port/log?before=&limit=
 * Each call goes to the node's hub, which answers it like the node's own share RPC.
 */
import { Hono, type Context } from 'hono';
import { isValidNodeId } from '@homeport/shared';
import type { Env } from '../env.ts';
import { HUB_NODE, HUB_ROUTE } from '../node-hub.ts';

export const sharesApi = new Hono<{ Bindings: Env }>();

async function call(c: Context<{ Bindings: Env }>, method: string, params: Record<string, unknown>) {
  const node = c.req.param('node') ?? '';
  if (!isValidNodeId(node)) return c.json({ error: 'not a node id' }, 400);
  const hub = c.env.NODE_HUB.get(c.env.NODE_HUB.idFromName(node));
  const request = new Request('https://hub/rpc', { method: 'POST', body: JSON.stringify({ method, params }) });
  request.headers.set(HUB_ROUTE, 'rpc');
  request.headers.set(HUB_NODE, node);
  const res = await hub.fetch(request);
  return new Response(res.body, { status: res.status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } });
}

sharesApi.get('/api/nodes/:node/shares', (c) => call(c, 'share.list', {}));

sharesApi.put('/api/nodes/:node/shares/:port', async (c) => {
  const body = await c.req.json().catch(() => null);
  if (!body || typeof body !== 'object' || Array.isArray(body)) return c.json({ error: 'expected a JSON object like {"mode": "password", "password": "…", "expiresIn": "24h"}' }, 400);
  return call(c, 'share.set', { ...body, port: c.req.param('port') });
});

sharesApi.delete('/api/nodes/:node/shares/:port', (c) => call(c, 'share.remove', { port: c.req.param('port') }));

sharesApi.get('/api/nodes/:node/shares/:port/log', (c) =>
  call(c, 'share.log', { port: c.req.param('port'), before: c.req.query('before') ?? null, limit: c.req.query('limit') ?? null }),
);
