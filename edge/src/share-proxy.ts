/**
 * @module
 * Requests on the share host: find the node and port, note whether the owner asks, and
 * hand the request to that node's hub object, which applies the share's policy. Share traffic never touches a global object.
 */
import { hostnameOf, pages, routeShareRequest, type RequestHead } from '@homeport/shared';
import { clientIpOf, isOwnerRequest } from './access.ts';
import type { EdgeConfig, Env } from './env.ts';
import { HUB_NODE, HUB_ROUTE, HUB_SHARE, HUB_TARGET, type ShareRequestInfo } from './node-hub.ts';
import { pageResponse } from './relay.ts';

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
  const result = routeShareRequest(hostnameOf(host), url.pathname, config.shareHostname, config.defaultNode);
  if (!result) return pageResponse(pages.notFound('This host serves no shares.'));
  if (!result.ok) return pageResponse(result.status === 400 ? pages.badRequest(result.message) : pages.notFound(result.message));
  const { route } = result;
  if (route.needsSlash) return new Response(null, { status: 308, headers: { location: `${route.prefix}/${url.search}` } });

  const headers: [string, string][] = [];
  let headerBytes = 0;
  for (const [name, value] of request.headers) {
    headerBytes += name.length + value.length;
    if (DROP.has(name) || name.startsWith('x-homeport-') || name.startsWith('cf-') || name === 'x-test-client-ip') continue;
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
  const info: ShareRequestInfo = { owner: isOwnerRequest(request, config), form: route.mode, slug: route.slug ?? null, secure: url.protocol === 'https:' };
  forwarded.headers.set(HUB_ROUTE, 'share');
  forwarded.headers.set(HUB_NODE, route.node);
  forwarded.headers.set(HUB_TARGET, JSON.stringify(head));
  forwarded.headers.set(HUB_SHARE, JSON.stringify(info));
  const hub = env.NODE_HUB.get(env.NODE_HUB.idFromName(route.node));
  return hub.fetch(forwarded);
}
