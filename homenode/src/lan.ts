/**
 * @module
 * The LAN door: the same share routing as the edge, served straight from the node
 * (the seeds' Caddy → homeportd path), so a phone on the home network needs no edge.
 * Bound to 127.0.0.1 unless HOMEPORT_LAN_HOST opens it; clients other than this
 * machine then need the LAN key once (?homeport_key=…), which sets a cookie.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { timingSafeEqual, createHash } from 'node:crypto';
import httpProxy from 'http-proxy';
import { pages, routePath, type ErrorPage, type HeaderList } from '@homeport/shared';
import type { NodeState } from './node-state.ts';
import { downstreamHeaders, upstreamHeaders, upstreamPath, type ProxyContext } from './proxy/rewrite.ts';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;
const SUBDOMAIN = /^(\d{1,5})(?:-[a-z0-9-]+)?\./;
const IP_HOST = /^(\d+\.\d+\.\d+\.\d+|\[[0-9a-f:]+\])(:\d+)?$/i;

function sameSecret(a: string, b: string) {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

function writePage(res: http.ServerResponse, page: ErrorPage) {
  res.writeHead(page.status, page.headers).end(page.body);
}

function headerObject(list: HeaderList): http.OutgoingHttpHeaders {
  const out: Record<string, string> = {};
  for (const [name, value] of list) {
    const lower = name.toLowerCase();
    out[lower] = out[lower] ? `${out[lower]}${lower === 'cookie' ? '; ' : ', '}${value}` : value;
  }
  return out;
}

function rawList(raw: string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i], raw[i + 1]]);
  return out;
}

/** Paths the LAN door hands to another service instead of a port (browser VS Code under /code/). */
export interface LanExtraRoute {
  matches(pathname: string): boolean;
  web(req: http.IncomingMessage, res: http.ServerResponse): void;
  ws(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
}

export function createLanServer(state: NodeState, lanKey: string, extra?: LanExtraRoute) {
  const proxy = httpProxy.createProxyServer({ selfHandleResponse: true, proxyTimeout: state.config.upstreamTimeoutMs, ws: true });

  function allowed(req: http.IncomingMessage, url: URL): { ok: boolean; setCookie?: string } {
    if (LOOPBACK.test(req.socket.remoteAddress ?? '')) return { ok: true };
    const key = url.searchParams.get('homeport_key');
    if (key && sameSecret(key, lanKey)) return { ok: true, setCookie: `homeport_lan=${lanKey}; Path=/; HttpOnly; SameSite=Lax` };
    const cookie = /(?:^|;\s*)homeport_lan=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    return { ok: Boolean((cookie && sameSecret(cookie, lanKey)) || (bearer && sameSecret(bearer, lanKey))) };
  }

  /** Resolves a request to a proxy context and target, or an error page. */
  function route(req: http.IncomingMessage, publicOrigin: string): { ctx: ProxyContext; target: string; path: string } | { page: ErrorPage } | { redirect: string } {
    const url = new URL(req.url ?? '/', 'http://lan');
    const hostHeader = req.headers.host ?? '';
    const sub = IP_HOST.test(hostHeader) ? null : SUBDOMAIN.exec(hostHeader);
    let port: number;
    let prefix = '';
    if (sub) port = Number(sub[1]);
    else {
      const r = routePath(state.config.nodeId, url.pathname);
      if (!r.ok) return { page: r.status === 400 ? pages.badRequest(r.message) : pages.notFound(r.message) };
      if (r.route.needsSlash) return { redirect: `${r.route.prefix}/${url.search}` };
      port = r.route.port;
      prefix = r.route.prefix;
    }
    const resolved = state.resolvePort(port);
    if ('page' in resolved) return resolved;
    const ctx: ProxyContext = { port, prefix, keepPrefix: state.settings.get(port).keepPrefix, publicOrigin, clientIp: req.socket.remoteAddress };
    const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
    return { ctx, target: `http://${host}:${port}`, path: upstreamPath(req.url ?? '/', ctx) };
  }

  function prepare(req: http.IncomingMessage, ctx: ProxyContext, path: string, websocket: boolean) {
    const list = upstreamHeaders(rawList(req.rawHeaders), ctx);
    if (websocket) list.push(['connection', 'upgrade'], ['upgrade', 'websocket']);
    req.headers = headerObject(list) as http.IncomingHttpHeaders;
    req.url = path;
  }

  const contexts = new WeakMap<http.IncomingMessage, { ctx: ProxyContext; started: number }>();
  proxy.on('proxyRes', (proxyRes, req, res) => {
    const ctx = contexts.get(req as http.IncomingMessage)?.ctx;
    if (!ctx) return;
    (res as http.ServerResponse).writeHead(proxyRes.statusCode ?? 502, downstreamHeaders(proxyRes.rawHeaders, ctx).flat());
    proxyRes.pipe(res as http.ServerResponse);
  });
  proxy.on('error', (error: NodeJS.ErrnoException, req, res) => {
    const info = contexts.get(req as http.IncomingMessage);
    const port = info?.ctx.port ?? 0;
    if (res instanceof http.ServerResponse) {
      if (res.headersSent) return void res.destroy();
      const timedOut = info && Date.now() - info.started >= state.config.upstreamTimeoutMs;
      writePage(res, timedOut ? pages.timeout(port, Math.round(state.config.upstreamTimeoutMs / 1000)) : error.code === 'ECONNREFUSED' ? pages.nothingListening(port) : pages.upstreamFailed(port, error.code ?? 'error'));
    } else (res as Duplex).destroy();
  });

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://lan');
    const access = allowed(req, url);
    if (!access.ok) return writePage(res, pages.forbidden('This LAN door needs the node\'s LAN key: open the link `homeport url --lan` prints.'));
    if (access.setCookie) res.setHeader('set-cookie', access.setCookie);
    if (extra?.matches(url.pathname)) return extra.web(req, res);
    const r = route(req, `http://${req.headers.host ?? 'localhost'}`);
    if ('page' in r) return writePage(res, r.page);
    if ('redirect' in r) return void res.writeHead(308, { location: r.redirect }).end();
    contexts.set(req, { ctx: r.ctx, started: Date.now() });
    prepare(req, r.ctx, r.path, false);
    proxy.web(req, res, { target: r.target });
  });

  server.on('upgrade', (req, socket: Duplex, head) => {
    const url = new URL(req.url ?? '/', 'http://lan');
    if (extra?.matches(url.pathname) && allowed(req, url).ok) return extra.ws(req, socket, head);
    const r = allowed(req, url).ok ? route(req, `http://${req.headers.host ?? 'localhost'}`) : { page: pages.forbidden('LAN key required') };
    if (!('target' in r)) {
      socket.end(`HTTP/1.1 ${'page' in r ? r.page.status : 400} Refused\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    contexts.set(req, { ctx: r.ctx, started: Date.now() });
    prepare(req, r.ctx, r.path, true);
    proxy.ws(req, socket, head, { target: r.target });
  });
  return server;
}
