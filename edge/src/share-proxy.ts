/**
 * @module
 * Requests on the share host: find the node and port from the Host (and in the path form
 * the path), note who asks (the local owner by its `hpl_` key, or the user behind an `hpt_` API token), and
 * hand the request to that node's hub object, which applies the share's policy. Share
 * traffic never touches a global object, except to resolve an API token when a request
 * carries one. Old links (`/s/<slug>/`) move to their link host; requests outside any
 * port on a path-form host are placed by their Referer (shares/path-form.ts).
 */
import { hostnameOf, pages, pathFormNodeOf, routeShareRequest, type RequestHead } from '@homeport/shared';
import { LOCAL_KEY_PREFIX, clientIpOf, isLocalOwnerKey } from './access.ts';
import { shareUrlsFrom, type EdgeConfig, type Env } from './env.ts';
import { scopeFor } from './identity/middleware.ts';
import { TOKEN_PREFIX, apiTokenOf, bearerOf } from './identity/principal.ts';
import { HUB_NODE, HUB_ROUTE, HUB_SHARE, HUB_TARGET, type ShareRequestInfo } from './node-hub.ts';
import { pageResponse } from './relay.ts';
import { pathFormFallback } from './shares/path-form.ts';

/** Headers a visitor may not send through: ours, and hop-by-hop ones. */
const DROP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'host']);
const MAX_HEADER_BYTES = 32 * 1024;

export function isShareHost(host: string, config: EdgeConfig): boolean {
  const hostname = hostnameOf(host);
  return hostname === config.shareHostname || hostname.endsWith('.' + config.shareHostname);
}

export async function handleShare(request: Request, env: Env, config: EdgeConfig): Promise<Response> {
  const url = new URL(request.url);
  const host = request.headers.get('host') ?? url.host;
  const hostname = hostnameOf(host);
  const result = routeShareRequest(hostname, url.pathname, config.shareHostname, config.defaultNode);
  if (!result) return pageResponse(pages.notFound('This host serves no shares.'));
  if (!result.ok) {
    const pathNode = result.status === 404 ? pathFormNodeOf(hostname, config.shareHostname, config.defaultNode) : null;
    if (pathNode !== null) return pathFormFallback(request, hostname, pathNode, config);
    return pageResponse(result.status === 400 ? pages.badRequest(result.message) : pages.notFound(result.message));
  }
  const { route } = result;
  if (route.mode === 'slug' && route.prefix) {
    // An old link: the same share now lives on a host of its own.
    const linkUrl = shareUrlsFrom(config, route.node).linkUrl(route.slug!);
    if (linkUrl === null) return pageResponse(pages.notFound(`Node "${route.node}" has an id too long for a link host; ask its owner for the share's own URL.`));
    const rest = url.pathname.slice(route.prefix.length) || '/';
    return new Response(null, { status: 308, headers: { location: linkUrl.slice(0, -1) + rest + url.search } });
  }
  if (route.needsSlash) return new Response(null, { status: 308, headers: { location: `${route.prefix}/${url.search}` } });

  // `hpt_` and `hpl_` tokens are ours: they name the owner (or nobody) and never reach the app.
  const bearer = bearerOf(request);
  const apiToken = bearer?.startsWith(TOKEN_PREFIX) ? bearer : null;
  const localKey = bearer?.startsWith(LOCAL_KEY_PREFIX) ? bearer : null;
  const headers: [string, string][] = [];
  let headerBytes = 0;
  for (const [name, value] of request.headers) {
    headerBytes += name.length + value.length;
    if (DROP.has(name) || name.startsWith('x-homeport-') || name.startsWith('cf-') || name === 'x-test-client-ip') continue;
    if (name === 'authorization' && (apiToken !== null || localKey !== null)) continue;
    // Headers joins repeated headers with ", " except Set-Cookie; visitors do not send that one.
    headers.push([name, value]);
  }
  if (headerBytes > MAX_HEADER_BYTES) return pageResponse(pages.badRequest('Request headers are too large.'));
  // Checked here, where the visitor's Content-Length is still known; streamed bodies are counted in the relay.
  if (Number(request.headers.get('content-length') ?? 0) > config.maxBodyBytes) return pageResponse(pages.tooLarge(config.maxBodyBytes));
  if (request.headers.get('upgrade')?.toLowerCase() === 'websocket') headers.push(['upgrade', 'websocket'], ['connection', 'upgrade']);

  const head: RequestHead = {
    method: request.method,
    url: url.pathname + url.search,
    headers,
    target: { kind: 'port', port: route.port, prefix: route.prefix },
    clientIp: clientIpOf(request, config),
    origin: `${url.protocol}//${host}`,
  };
  const forwarded = new Request(request, { headers: new Headers(request.headers) });
  // Who asks and how is decided here, once; the node's hub applies the share's policy.
  const info: ShareRequestInfo = {
    local: await isLocalOwnerKey(localKey, config),
    userId: apiToken === null ? null : await tokenUserOf(apiToken, request.method, env),
    form: route.mode,
    slug: route.slug ?? null,
    secure: url.protocol === 'https:',
  };
  forwarded.headers.set(HUB_ROUTE, 'share');
  forwarded.headers.set(HUB_NODE, route.node);
  forwarded.headers.set(HUB_TARGET, JSON.stringify(head));
  forwarded.headers.set(HUB_SHARE, JSON.stringify(info));
  const hub = env.NODE_HUB.get(env.NODE_HUB.idFromName(route.node));
  return hub.fetch(forwarded);
}

/** The user an API token names when its scopes cover the method (as on the API), else null. */
async function tokenUserOf(token: string, method: string, env: Env): Promise<string | null> {
  const found = await apiTokenOf(token, env);
  return found && found.scopes.includes(scopeFor(method)) ? found.user.id : null;
}
