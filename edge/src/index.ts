/**
 * @module
 * The Homeport edge Worker. Two origins: the dashboard host (API, tunnel, web app) and
 * the share host (visitors' traffic to dev servers). A page served through a share
 * can never call the API as the owner because the API does not answer on share hosts.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { RequestHead } from '@homeport/shared';
import { hostnameOf } from '@homeport/shared';
import { configOf, shareUrlsFrom, type EdgeConfig, type Env } from './env.ts';
import { ownerOnly, sameOrigin, type ApiEnv } from './identity/middleware.ts';
import { accountRoutes, authRoutes } from './identity/routes.ts';
import { oauthRoutes } from './identity/oauth.ts';
import { localOwnerRoutes } from './identity/local-owner.ts';
import { hubCall, hubOf, hubRequest } from './hub-client.ts';
import { HUB_NODE, HUB_OWNER, HUB_ROUTE, HUB_TARGET } from './node-hub.ts';
import { nodeAccess, nodeOfToken, nodeRoutes, pairRoutes } from './nodes/routes.ts';
import { syncRoutes } from './sync/routes.ts';
import { handleShare, isShareHost } from './share-proxy.ts';
import { sharesApi } from './shares/api.ts';
import { shareAccessApi } from './shares/owner-api.ts';
import { webhookApi } from './webhooks/api.ts';
import { webhookRoutes } from './webhooks/routes.ts';
import { answerAfterBody } from './unread-body.ts';

export { NodeHub } from './node-hub.ts';
export { Directory } from './identity/directory.ts';
export { Webhooks } from './webhooks/webhooks-do.ts';

const api = new Hono<ApiEnv>();

api.onError((error, c) => {
  if (error instanceof HTTPException) return c.json({ error: error.message }, error.status);
  console.error('api error', error instanceof Error ? error.message : 'unknown');
  return c.json({ error: 'internal error' }, 500);
});

// The node's tunnel, authenticated by the node token `homeport pair` obtained.
api.get('/api/tunnel', async (c) => {
  const token = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
  const node = await nodeOfToken(c.env, token);
  const claimed = c.req.header('x-homeport-node');
  if (!node) return c.json({ error: 'unknown or revoked node token: pair this node again (homeport pair <edge url> <code>)' }, 401);
  if (claimed && claimed !== node.id) return c.json({ error: `this token belongs to node "${node.id}", not "${claimed}"` }, 401);
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') return c.json({ error: 'expected a WebSocket upgrade' }, 426);
  const request = hubRequest(c.req.url, 'tunnel', node.id, { headers: c.req.raw.headers });
  request.headers.set(HUB_OWNER, node.ownerId ?? '');
  return hubOf(c.env, node.id).fetch(request);
});

// Webhooks are signed, not signed in (webhooks/routes.ts).
api.route('/', webhookRoutes);

// Pairing is not cookie-authenticated (the code is the credential), so no CSRF check.
api.route('/api', pairRoutes);
api.use('/api/*', sameOrigin());
api.route('/api', authRoutes);
api.route('/api', localOwnerRoutes);
api.route('/api', oauthRoutes);
api.use('/api/*', ownerOnly());
api.route('/api', accountRoutes);
api.route('/api', webhookApi);
api.use('/api/nodes/:node', nodeAccess());
api.use('/api/nodes/:node/*', nodeAccess());
api.route('/api', nodeRoutes);
api.route('/api', syncRoutes);

api.get('/api/nodes/:node/ports', async (c) => {
  const node = c.req.param('node');
  const config = configOf(c.env);
  const state = await hubCall<{
    online: boolean;
    lastSeen: number | null;
    ports: { port: number }[];
    shares: { port: number; mode: string; expiresAt: number | null }[];
  }>(c.env, node, 'state');
  const urls = shareUrlsFrom(config, node);
  return c.json({
    node,
    online: state.online,
    lastSeen: state.lastSeen,
    ports: state.ports.map((p) => {
      const share = state.shares.find((s) => s.port === p.port);
      // `url` is the one to give first: the port's own origin; the path form is opt-in (docs/decisions.md).
      const url = urls.subdomainUrl(p.port);
      return { ...p, url, subdomainUrl: url, pathUrl: `${urls.pathBaseUrl}/${p.port}/`, mode: share?.mode ?? 'private', expiresAt: share?.expiresAt ?? null };
    }),
  });
});

api.route('/', sharesApi);
api.route('/', shareAccessApi);

/**
 * What reaches the node API from a browser: content negotiation, caching and resuming
 * (browser VS Code loads megabytes) and SSE resumption; never cookies or the owner's
 * credentials, nor Accept-Encoding (the edge compresses for the browser itself).
 */
const NODE_API_HEADERS = new Set(['content-type', 'accept', 'accept-language', 'if-none-match', 'if-modified-since', 'range', 'last-event-id']);

// One API, two doors: the node's own API, reached through its tunnel.
api.all('/api/nodes/:node/api/*', async (c) => {
  const node = c.req.param('node');
  const url = new URL(c.req.url);
  const path = url.pathname.slice(`/api/nodes/${node}`.length);
  const headers: [string, string][] = [];
  for (const [name, value] of c.req.raw.headers) if (NODE_API_HEADERS.has(name)) headers.push([name, value]);
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

/** A Host header as browsers and HTTP clients send it: a DNS name or an IP literal, and a port. */
const HOST_SHAPE = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;
/** What a local edge's own machine calls it besides DASHBOARD_HOST (homeportd dials 127.0.0.1). */
const LOCAL_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

function isDashboardHost(hostname: string, config: EdgeConfig): boolean {
  return hostname === config.dashboardHostname || (config.localMode && LOCAL_NAMES.has(hostname));
}

const plain = (status: number, text: string) => new Response(text + '\n', { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } });

/** How long a local edge waits for more of a refused body before answering anyway. */
const DRAIN_IDLE_MS = 5_000;

export default {
  async fetch(request, env, ctx) {
    const config = configOf(env);
    const host = request.headers.get('host') ?? new URL(request.url).host;
    const handle = async (request: Request): Promise<Response> => {
      if (host.length > 300 || !HOST_SHAPE.test(host)) return plain(400, 'Bad Host header.');
      if (isShareHost(host, config)) return handleShare(request, env, config);
      // DNS rebinding: a page on another name that resolves here must not reach the API.
      if (!isDashboardHost(hostnameOf(host), config)) return plain(421, `This Homeport edge does not serve ${hostnameOf(host)}.`);
      return api.fetch(request, env, ctx);
    };
    // Only wrangler dev breaks on answers sent before the body was read (unread-body.ts).
    return config.localMode ? answerAfterBody(request, handle, { maxBytes: config.maxBodyBytes, idleMs: DRAIN_IDLE_MS }) : handle(request);
  },
} satisfies ExportedHandler<Env>;
