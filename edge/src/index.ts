/**
 * @module
 * The Homeport edge Worker. Two origins: the dashboard host (API, tunnel, web app) and
 * the share host (visitors' traffic to dev servers). A page served through a share
 * can never call the API as the owner because the API does not answer on share hosts.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { isValidNodeId, type RequestHead } from '@homeport/shared';
import { secretsEqual } from './access.ts';
import { configOf, shareUrlsOf, type Env } from './env.ts';
import { ownerOnly, sameOrigin, type ApiEnv } from './identity/middleware.ts';
import { accountRoutes, authRoutes } from './identity/routes.ts';
import { HUB_NODE, HUB_ROUTE, HUB_TARGET } from './node-hub.ts';
import { handleShare, isShareHost } from './share-proxy.ts';
import { sharesApi } from './shares/api.ts';

export { NodeHub } from './node-hub.ts';
export { Directory } from './identity/directory.ts';

const api = new Hono<ApiEnv>();

api.onError((error, c) => {
  if (error instanceof HTTPException) return c.json({ error: error.message }, error.status);
  console.error('api error', error instanceof Error ? error.message : 'unknown');
  return c.json({ error: 'internal error' }, 500);
});

function hubOf(env: Env, node: string) {
  return env.NODE_HUB.get(env.NODE_HUB.idFromName(node));
}

function hubRequest(url: string, route: string, node: string, init?: RequestInit): Request {
  const request = new Request(url, init);
  request.headers.set(HUB_ROUTE, route);
  request.headers.set(HUB_NODE, node);
  return request;
}

// The node's tunnel. Authenticated by the node token (pairing replaces this single token).
api.get('/api/tunnel', async (c) => {
  const config = configOf(c.env);
  const node = c.req.header('x-homeport-node') ?? '';
  const token = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
  if (!c.env.NODE_TOKEN || node !== config.defaultNode || !(await secretsEqual(token, c.env.NODE_TOKEN)))
    return c.json({ error: 'unknown node or wrong token' }, 401);
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') return c.json({ error: 'expected a WebSocket upgrade' }, 426);
  return hubOf(c.env, node).fetch(hubRequest(c.req.url, 'tunnel', node, { headers: c.req.raw.headers }));
});

api.use('/api/*', sameOrigin());
api.route('/api', authRoutes);
api.use('/api/*', ownerOnly());
api.route('/api', accountRoutes);

api.get('/api/nodes', async (c) => {
  const config = configOf(c.env);
  const node = config.defaultNode;
  const state = (await (await hubOf(c.env, node).fetch(hubRequest(c.req.url, 'state', node))).json()) as Record<string, unknown>;
  return c.json({ nodes: [{ id: node, online: state.online, lastSeen: state.lastSeen, agent: state.agent, ...shareUrlsOf(config, node) }] });
});

api.get('/api/nodes/:node/ports', async (c) => {
  const node = c.req.param('node');
  if (!isValidNodeId(node)) return c.json({ error: 'not a node id' }, 400);
  const config = configOf(c.env);
  const state = (await (await hubOf(c.env, node).fetch(hubRequest(c.req.url, 'state', node))).json()) as {
    online: boolean;
    lastSeen: number | null;
    ports: { port: number }[];
    shares: { port: number; mode: string; expiresAt: number | null }[];
  };
  const urls = shareUrlsOf(config, node);
  return c.json({
    node,
    online: state.online,
    lastSeen: state.lastSeen,
    ports: state.ports.map((p) => {
      const share = state.shares.find((s) => s.port === p.port);
      return { ...p, url: `${urls.shareBaseUrl}/${p.port}/`, subdomainUrl: urls.subdomainUrlTemplate.replace('{port}', String(p.port)), mode: share?.mode ?? 'private', expiresAt: share?.expiresAt ?? null };
    }),
  });
});

api.route('/', sharesApi);

// One API, two doors: the node's own API, reached through its tunnel.
api.all('/api/nodes/:node/api/*', async (c) => {
  const node = c.req.param('node');
  if (!isValidNodeId(node)) return c.json({ error: 'not a node id' }, 400);
  const url = new URL(c.req.url);
  const path = url.pathname.slice(`/api/nodes/${node}`.length);
  const headers: [string, string][] = [];
  for (const [name, value] of c.req.raw.headers) if (name === 'content-type' || name === 'accept') headers.push([name, value]);
  const head: RequestHead = { method: c.req.method, url: path + url.search, headers, target: { kind: 'api' } };
  const forwarded = new Request(c.req.raw, { headers: new Headers(c.req.raw.headers) });
  forwarded.headers.set(HUB_ROUTE, 'forward');
  forwarded.headers.set(HUB_NODE, node);
  forwarded.headers.set(HUB_TARGET, JSON.stringify(head));
  return hubOf(c.env, node).fetch(forwarded);
});

api.all('/api/*', (c) => c.json({ error: 'no such API route' }, 404));

// Everything else on the dashboard host is the web app.
api.all('*', (c) => c.env.ASSETS.fetch(c.req.raw));

export default {
  async fetch(request, env, ctx) {
    const config = configOf(env);
    const host = request.headers.get('host') ?? new URL(request.url).host;
    if (isShareHost(host, config)) return handleShare(request, env, config);
    return api.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
