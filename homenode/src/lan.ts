/**
 * @module
 * The LAN door: the same share routing as the edge, served straight from the node
 * (the seeds' Caddy → homeportd path), so a phone on the home network needs no edge.
 * Bound to 127.0.0.1 unless HOMEPORT_LAN_HOST opens it. Every client needs the LAN key,
 * loopback included (a forwarder in front would deliver strangers from loopback): once
 * per origin as `?homeport_key=…`, which becomes an HttpOnly cookie, or as a bearer
 * token. It answers only this machine's own Host names (DNS rebinding), gives each dev
 * port its own origin (lan-urls.ts), and never proxies Homeport's own ports.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { timingSafeEqual, createHash } from 'node:crypto';
import httpProxy from 'http-proxy';
import { pages, routePath, type ErrorPage, type HeaderList } from '@homeport/shared';
import type { LanDoorPorts } from './lan-door-ports.ts';
import { isOwnHostname, parseHost } from './lan-hosts.ts';
import { doorPortOf, withLanKey } from './lan-urls.ts';
import type { NodeState } from './node-state.ts';
import { downstreamHeaders, upstreamHeaders, upstreamPath, type ProxyContext } from './proxy/rewrite.ts';

/** `<port>.localhost` (or `<port>-<anything>.localhost`): a dev port's own origin on this machine. */
const LOCALHOST_SUBDOMAIN = /^(\d{1,5})(?:-[a-z0-9-]+)?\.localhost$/;
const COOKIE = 'homeport_lan';
const KEY_PARAM = 'homeport_key';

function sameSecret(a: string, b: string) {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

function writePage(res: http.ServerResponse, page: ErrorPage) {
  res.writeHead(page.status, page.headers).end(page.body);
}

function refuseUpgrade(socket: Duplex, page: ErrorPage) {
  socket.end(`HTTP/1.1 ${page.status} Refused\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: 0\r\n\r\n`);
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

/** The request target without `homeport_key`, other parameters left byte for byte. */
export function withoutKeyParam(target: string): string {
  const q = target.indexOf('?');
  if (q === -1) return target;
  const kept = target.slice(q + 1).split('&').filter((part) => part.split('=')[0] !== KEY_PARAM);
  return target.slice(0, q) + (kept.length ? `?${kept.join('&')}` : '');
}

/** Replaces (or with null removes) a request header in both of Node's views of it (the proxy reads rawHeaders). */
function setHeader(req: http.IncomingMessage, name: string, value: string | null) {
  const raw: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) if (req.rawHeaders[i].toLowerCase() !== name) raw.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
  if (value === null) delete req.headers[name];
  else {
    req.headers[name] = value;
    raw.push(name, value);
  }
  req.rawHeaders = raw;
}

/** The app's cookies without the door's own. */
function withoutDoorCookie(cookie: string): string {
  return cookie
    .split(';')
    .map((c) => c.trim())
    .filter((c) => c && !c.startsWith(`${COOKIE}=`))
    .join('; ');
}

/** Paths the LAN door hands to another service instead of a port (browser VS Code under /code/). */
export interface LanExtraRoute {
  matches(pathname: string): boolean;
  web(req: http.IncomingMessage, res: http.ServerResponse): void;
  ws(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
}

type Routed = { ctx: ProxyContext; target: string; path: string } | { page: ErrorPage } | { redirect: string } | { extra: true };

export function createLanServer(state: NodeState, lanKey: string, extra?: LanExtraRoute, doorPorts?: LanDoorPorts) {
  const proxy = httpProxy.createProxyServer({ selfHandleResponse: true, proxyTimeout: state.config.upstreamTimeoutMs, ws: true });

  /** The Host, when it names this machine on the port the request came in on; else null. */
  function checkedHost(req: http.IncomingMessage): { hostname: string; host: string } | null {
    const host = req.headers.host ?? '';
    const parsed = parseHost(host);
    if (!parsed || (parsed.port ?? 80) !== req.socket.localPort) return null;
    return isOwnHostname(parsed.hostname, state.config.lanHost) ? { hostname: parsed.hostname, host } : null;
  }

  /** Whether the request carries the LAN key; where it came from decides what the door does next. */
  function keyOf(req: http.IncomingMessage): 'query' | 'cookie' | 'bearer' | null {
    const url = new URL(req.url ?? '/', 'http://lan');
    const query = url.searchParams.get(KEY_PARAM);
    if (query && sameSecret(query, lanKey)) return 'query';
    const cookie = new RegExp(`(?:^|;\\s*)${COOKIE}=([^;]+)`).exec(req.headers.cookie ?? '')?.[1];
    if (cookie && sameSecret(cookie, lanKey)) return 'cookie';
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer && sameSecret(bearer, lanKey)) return 'bearer';
    return null;
  }

  /** Takes the door's own credentials off the request: the app never sees the key. */
  function stripKey(req: http.IncomingMessage, from: 'query' | 'cookie' | 'bearer') {
    req.url = withoutKeyParam(req.url ?? '/');
    const cookie = withoutDoorCookie(req.headers.cookie ?? '');
    setHeader(req, 'cookie', cookie || null);
    if (from === 'bearer') setHeader(req, 'authorization', null);
  }

  /** Where dev port `port` has its own origin, for a visitor who asked on `hostname`. */
  function ownOrigin(hostname: string, port: number): string {
    const door = doorPortOf(state.config, port);
    const localhostName = hostname === 'localhost' || hostname.endsWith('.localhost');
    return door && !localhostName ? `http://${hostname}:${door}` : `http://${port}.localhost:${state.config.lanPort}`;
  }

  /** Resolves a request to a proxy target, a redirect, code-server, or an error page. */
  function route(req: http.IncomingMessage, host: { hostname: string; host: string }, websocket: boolean): Routed {
    const target = req.url ?? '/';
    const pathname = new URL(target, 'http://lan').pathname;
    const sub = LOCALHOST_SUBDOMAIN.exec(host.hostname);
    const door = doorPorts?.devPortOf(req.socket.localPort);
    let port: number;
    let prefix = '';
    if (door) port = door;
    else if (sub) port = Number(sub[1]);
    else if (extra?.matches(pathname)) return { extra: true };
    else {
      const r = routePath(state.config.nodeId, pathname);
      if (!r.ok) return { page: r.status === 400 ? pages.badRequest(r.message) : pages.notFound(`${r.message} Each dev port has its own URL: \`homeport url <port> --lan\`.`) };
      port = r.route.port;
      // The path form is opt-in per port (keep-prefix implies it), as on the edge.
      const pathForm = state.settings.get(port).pathForm;
      if (!pathForm) {
        // Stock dev servers break under a prefix: send the visitor to the port's own origin
        // (the key once more, as that origin has no cookie yet).
        if (websocket) return { page: pages.notFound(`Port ${port} is served on its own origin: ${ownOrigin(host.hostname, port)}/`) };
        const rest = target.slice(r.route.prefix.length) || '/';
        const location = ownOrigin(host.hostname, port) + (rest.startsWith('/') ? rest : `/${rest}`);
        return { redirect: withLanKey(location, lanKey) };
      }
      if (r.route.needsSlash) return { redirect: `${r.route.prefix}/${new URL(target, 'http://lan').search}` };
      prefix = r.route.prefix;
    }
    const resolved = state.resolvePort(port);
    if ('page' in resolved) return resolved;
    const ctx: ProxyContext = { port, prefix, keepPrefix: state.settings.get(port).keepPrefix, publicOrigin: `http://${host.host}`, clientIp: req.socket.remoteAddress };
    const connect = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
    return { ctx, target: `http://${connect}:${port}`, path: upstreamPath(target, ctx) };
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

  const keyPage = pages.forbidden("This LAN door needs the node's LAN key: open the link `homeport url <port> --lan` prints.");

  const server = http.createServer((req, res) => {
    const host = checkedHost(req);
    if (!host) return writePage(res, pages.unknownHost(req.headers.host ?? ''));
    const from = keyOf(req);
    if (!from) return writePage(res, keyPage);
    if (from === 'query') {
      res.setHeader('set-cookie', `${COOKIE}=${lanKey}; Path=/; HttpOnly; SameSite=Lax`);
      // A page load: the same URL without the key, so it stays out of the app's location and history.
      if (req.method === 'GET' || req.method === 'HEAD') return void res.writeHead(303, { location: withoutKeyParam(req.url ?? '/') }).end();
    }
    stripKey(req, from);
    const r = route(req, host, false);
    if ('page' in r) return writePage(res, r.page);
    if ('redirect' in r) return void res.writeHead(307, { location: r.redirect }).end();
    if ('extra' in r) return extra!.web(req, res);
    contexts.set(req, { ctx: r.ctx, started: Date.now() });
    prepare(req, r.ctx, r.path, false);
    proxy.web(req, res, { target: r.target });
  });

  server.on('upgrade', (req, socket: Duplex, head) => {
    const host = checkedHost(req);
    if (!host) return refuseUpgrade(socket, pages.unknownHost(req.headers.host ?? ''));
    const from = keyOf(req);
    if (!from) return refuseUpgrade(socket, keyPage);
    stripKey(req, from);
    const r = route(req, host, true);
    if ('extra' in r) return extra!.ws(req, socket, head);
    if (!('target' in r)) return refuseUpgrade(socket, 'page' in r ? r.page : pages.badRequest('no WebSocket here'));
    contexts.set(req, { ctx: r.ctx, started: Date.now() });
    prepare(req, r.ctx, r.path, true);
    proxy.ws(req, socket, head, { target: r.target });
  });
  return server;
}
