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
import { jsonBody } from '@homeport/shared/json-body';
import { MAX_SHARE_BODY_BYTES, shareSetBody } from '@homeport/shared/schemas/shares';
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

// Checked here, before the tunnel: only the three known fields, a few KiB, travel on.
sharesApi.put('/api/nodes/:node/shares/:port', jsonBody(shareSetBody, { maxBytes: MAX_SHARE_BODY_BYTES }), async (c) =>
  call(c, 'share.set', { ...c.req.valid('json'), port: c.req.param('port') }),
);

sharesApi.delete('/api/nodes/:node/shares/:port', (c) => call(c, 'share.remove', { port: c.req.param('port') }));

sharesApi.get('/api/nodes/:node/shares/:port/log', (c) =>
  call(c, 'share.log', { port: c.req.param('port'), before: c.req.query('before') ?? null, limit: c.req.query('limit') ?? null }),
);
