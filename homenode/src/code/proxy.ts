/**
 * @module
 * Relays browser VS Code traffic to code-server under a path prefix: `/api/code/` on the
 * node API (both local doors and, through the edge, the owner's browser) and `/code/` on
 * the LAN door. code-server uses relative URLs, so it works under any prefix once the
 * prefix is stripped; the few absolute redirects it sends are made relative here, as the
 * prefix the browser sees differs per door (`/api/nodes/<node>/api/code/` at the edge).
 *
 * What never reaches code-server: the local API token (Authorization), homeportd's and
 * the edge's cookies, and X-Forwarded-* from outside.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { Readable } from 'node:stream';
import httpProxy from 'http-proxy';
import type { HeaderList } from '@homeport/shared';
import { downstreamHeaders, upstreamHeaders, upstreamPath, type ProxyContext } from '../proxy/rewrite.ts';
import { CodeServerError, type CodeServer, type CodeTarget } from './code-server.ts';

export const CODE_API_PREFIX = '/api/code';
export const CODE_LAN_PREFIX = '/code';

/** Request headers that belong to homeportd's doors, not to code-server. */
const DOOR_HEADERS = new Set(['authorization', 'cookie', 'x-homeport-door']);

/** `/a/b/c` + Location `/x` → `../../x`: the same place, whatever prefix the browser sees. */
export function relativeLocation(location: string, upstreamRequestPath: string): string {
  if (!location.startsWith('/') || location.startsWith('//')) return location;
  const path = upstreamRequestPath.split('?')[0];
  const depth = Math.max(0, path.split('/').length - 2);
  return (depth ? '../'.repeat(depth) : './') + location.slice(1);
}

/** The path a request under `prefix` has at code-server (`/api/code/x?y` → `/x?y`). */
function pathAt(url: string, prefix: string): string {
  return upstreamPath(url, { port: 0, prefix, keepPrefix: false });
}

function contextFor(target: CodeTarget, prefix: string, publicOrigin?: string): ProxyContext {
  return { port: target.port, prefix, keepPrefix: false, publicOrigin };
}

/** Headers for code-server: hop-by-hop and the doors' own headers out, Host set to its address. */
function headersFor(list: HeaderList, ctx: ProxyContext, target: CodeTarget, keepOrigin: boolean): HeaderList {
  const out = upstreamHeaders(
    list.filter(([name]) => {
      const lower = name.toLowerCase();
      return !DOOR_HEADERS.has(lower) && (keepOrigin || lower !== 'origin');
    }),
    ctx,
  );
  return out.map(([name, value]) => (name === 'host' ? [name, `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`] : [name, value]));
}

/** Response headers: the usual rewrites, then absolute redirects made relative. */
function responseHeaders(raw: string[], ctx: ProxyContext, upstreamRequestPath: string): HeaderList {
  return downstreamHeaders(raw, { ...ctx, prefix: '', publicOrigin: undefined }).map(([name, value]) => (name.toLowerCase() === 'location' ? [name, relativeLocation(value, upstreamRequestPath)] : [name, value]));
}

function jsonError(status: number, message: string): Response {
  return Response.json({ error: message }, { status });
}

/**
 * Answers a node-API request under /api/code/ from code-server (starting it first when
 * it is installed but not running). Request and response bodies stream.
 */
export async function proxyApiRequest(code: CodeServer, request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === CODE_API_PREFIX) return new Response(null, { status: 308, headers: { location: `code/${url.search}` } });
  let target: CodeTarget;
  try {
    target = await code.ensureRunning();
  } catch (error) {
    if (error instanceof CodeServerError) return jsonError(error.status === 409 ? 503 : 502, error.message);
    throw error;
  }
  const ctx = contextFor(target, CODE_API_PREFIX);
  const path = pathAt(url.pathname + url.search, CODE_API_PREFIX);
  const headers: HeaderList = [];
  request.headers.forEach((value, name) => headers.push([name, value]));
  // Every door of the API has authenticated the caller already; code-server's origin check is for direct visitors.
  const outgoing = headersFor(headers, ctx, target, false);
  return new Promise<Response>((resolve) => {
    const req = http.request({ host: target.host, port: target.port, method: request.method, path, headers: outgoing.flat() });
    req.on('response', (res) => {
      const status = res.statusCode ?? 502;
      const out = new Headers();
      for (const [name, value] of responseHeaders(res.rawHeaders, ctx, path)) out.append(name, value);
      const noBody = request.method === 'HEAD' || status === 204 || status === 304;
      if (noBody) res.resume();
      resolve(new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, headers: out }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(jsonError(502, `code-server did not answer (${error.code ?? error.message})`)));
    request.signal?.addEventListener('abort', () => req.destroy(), { once: true });
    if (!request.body || request.method === 'GET' || request.method === 'HEAD') req.end();
    else Readable.fromWeb(request.body as import('node:stream/web').ReadableStream).on('error', () => req.destroy()).pipe(req);
  });
}

/** For the tunnel: a WebSocket to the node API under /api/code/ goes to code-server. */
export function apiWebSocketTarget(code: CodeServer, url: string): { host: string; port: number; prefix: string } | null {
  if (url !== CODE_API_PREFIX && !url.startsWith(`${CODE_API_PREFIX}/`) && !url.startsWith(`${CODE_API_PREFIX}?`)) return null;
  const target = code.target();
  return target ? { ...target, prefix: CODE_API_PREFIX } : null;
}

function rawList(raw: string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i], raw[i + 1]]);
  return out;
}

function headerObject(list: HeaderList): http.OutgoingHttpHeaders {
  const out: Record<string, string> = {};
  for (const [name, value] of list) {
    const lower = name.toLowerCase();
    out[lower] = out[lower] ? `${out[lower]}, ${value}` : value;
  }
  return out;
}

export interface LanCodeProxy {
  /** whether the LAN door should hand this path to code-server */
  matches(pathname: string): boolean;
  web(req: http.IncomingMessage, res: http.ServerResponse): void;
  ws(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
}

/**
 * The LAN door's `/code/`: the LAN key has been checked by lan.ts. The browser's Origin
 * is kept and its Host passed as X-Forwarded-Host, so code-server's own origin check
 * still turns away WebSockets opened by other sites.
 */
export function lanCodeProxy(code: CodeServer): LanCodeProxy {
  const proxy = httpProxy.createProxyServer({ selfHandleResponse: true, ws: true });
  const paths = new WeakMap<http.IncomingMessage, { ctx: ProxyContext; path: string }>();
  proxy.on('proxyRes', (proxyRes, req, res) => {
    const info = paths.get(req as http.IncomingMessage);
    if (!info) return;
    (res as http.ServerResponse).writeHead(proxyRes.statusCode ?? 502, responseHeaders(proxyRes.rawHeaders, info.ctx, info.path).flat());
    proxyRes.pipe(res as http.ServerResponse);
  });
  proxy.on('error', (error: NodeJS.ErrnoException, _req, res) => {
    if (res instanceof http.ServerResponse) {
      if (res.headersSent) return void res.destroy();
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `code-server did not answer (${error.code ?? error.message})` }));
    } else (res as Duplex).destroy();
  });

  function prepare(req: http.IncomingMessage, target: CodeTarget, websocket: boolean) {
    const ctx = contextFor(target, CODE_LAN_PREFIX, `http://${req.headers.host ?? 'localhost'}`);
    const path = pathAt(req.url ?? '/', CODE_LAN_PREFIX);
    const list = headersFor(rawList(req.rawHeaders), ctx, target, true);
    if (websocket) list.push(['connection', 'upgrade'], ['upgrade', 'websocket']);
    req.headers = headerObject(list) as http.IncomingHttpHeaders;
    req.url = path;
    paths.set(req, { ctx, path });
    return `http://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  }

  return {
    matches: (pathname) => pathname === CODE_LAN_PREFIX || pathname.startsWith(`${CODE_LAN_PREFIX}/`),
    web(req, res) {
      const url = new URL(req.url ?? '/', 'http://lan');
      if (url.pathname === CODE_LAN_PREFIX) return void res.writeHead(308, { location: `code/${url.search}` }).end();
      code.ensureRunning().then(
        (target) => proxy.web(req, res, { target: prepare(req, target, false) }),
        (error: Error) => {
          const status = error instanceof CodeServerError && error.status === 409 ? 503 : 502;
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: error.message }));
        },
      );
    },
    ws(req, socket, head) {
      const target = code.target();
      if (!target) return void socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      proxy.ws(req, socket, head, { target: prepare(req, target, true) });
    },
  };
}
