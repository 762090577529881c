/**
 * @module
 * What changes between the visitor's request and the dev server's, and back: the path
 * prefix, the Host header dev servers check, X-Forwarded-* and X-Real-IP, and in the response the
 * Location and cookie paths, so an app that knows nothing of /<port>/ still works.
 */
import { isIP } from 'node:net';
import type { HeaderList } from '@homeport/shared';

export interface ProxyContext {
  port: number;
  /** the path prefix the visitor sees ('/3000'), '' in subdomain form */
  prefix: string;
  /** leave the prefix on the path (the app is configured with that base path) */
  keepPrefix: boolean;
  /** the visitor's origin, e.g. https://share.example.com */
  publicOrigin?: string;
  clientIp?: string;
}

/**
 * Headers in which a client states its own address. Apps behind a proxy believe them, so
 * a visitor's are dropped; X-Forwarded-For and X-Real-IP are set from `clientIp`, the
 * address the edge or the LAN door vouches for.
 */
const CLIENT_ADDRESS = new Set(['x-real-ip', 'true-client-ip', 'x-client-ip', 'x-cluster-client-ip', 'cf-connecting-ip', 'fastly-client-ip']);

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** Header names a Connection header declares hop-by-hop (RFC 9110 §7.6.1). */
function connectionTokens(headers: HeaderList): Set<string> {
  const tokens = new Set<string>();
  for (const [name, value] of headers)
    if (name.toLowerCase() === 'connection') for (const t of value.split(',')) if (t.trim()) tokens.add(t.trim().toLowerCase());
  return tokens;
}

/** The path (with query) to ask the dev server for. */
export function upstreamPath(url: string, ctx: ProxyContext): string {
  if (!ctx.prefix || ctx.keepPrefix || !url.startsWith(ctx.prefix)) return url;
  const rest = url.slice(ctx.prefix.length);
  return rest.startsWith('/') ? rest : '/' + rest;
}

/** Request headers for the dev server. Host is the one dev servers accept without setup. */
export function upstreamHeaders(headers: HeaderList, ctx: ProxyContext): HeaderList {
  const out: HeaderList = [];
  const named = connectionTokens(headers);
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower) || CLIENT_ADDRESS.has(lower) || lower.startsWith('x-forwarded-') || lower === 'forwarded') continue;
    out.push([name, value]);
  }
  out.push(['host', `localhost:${ctx.port}`]);
  if (ctx.publicOrigin) {
    const u = new URL(ctx.publicOrigin);
    out.push(['x-forwarded-host', u.host], ['x-forwarded-proto', u.protocol.replace(':', '')]);
  }
  // Only an address the edge or door vouches for (a local edge says "local": it cannot know).
  if (ctx.clientIp && isIP(ctx.clientIp)) out.push(['x-forwarded-for', ctx.clientIp], ['x-real-ip', ctx.clientIp]);
  if (ctx.prefix) out.push(['x-forwarded-prefix', ctx.prefix]);
  return out;
}

function isLocalHost(host: string, port: number): boolean {
  return host === `localhost:${port}` || host === `127.0.0.1:${port}` || host === `[::1]:${port}` || host === `0.0.0.0:${port}`;
}

/** Rewrites a Location header so redirects stay inside the share. */
export function rewriteLocation(location: string, ctx: ProxyContext): string {
  const stripping = ctx.prefix && !ctx.keepPrefix;
  if (location.startsWith('/') && !location.startsWith('//')) return stripping ? ctx.prefix + location : location;
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return location;
  }
  const publicHost = ctx.publicOrigin ? new URL(ctx.publicOrigin).host : null;
  if (isLocalHost(url.host, ctx.port)) {
    const path = (stripping ? ctx.prefix : '') + url.pathname + url.search + url.hash;
    return ctx.publicOrigin ? ctx.publicOrigin + path : path;
  }
  if (stripping && publicHost && url.host === publicHost && !url.pathname.startsWith(ctx.prefix + '/')) {
    return ctx.publicOrigin + ctx.prefix + url.pathname + url.search + url.hash;
  }
  return location;
}

/** Rewrites one Set-Cookie value: the path gains the prefix, a localhost Domain goes. */
export function rewriteSetCookie(cookie: string, ctx: ProxyContext): string {
  const stripping = ctx.prefix && !ctx.keepPrefix;
  const parts = cookie.split(';');
  const out = [parts[0]];
  for (const raw of parts.slice(1)) {
    const attr = raw.trim();
    const eq = attr.indexOf('=');
    const key = (eq === -1 ? attr : attr.slice(0, eq)).toLowerCase();
    const value = eq === -1 ? '' : attr.slice(eq + 1).trim();
    if (key === 'domain') continue; // the dev server's domain is never the share's
    if (key === 'path' && stripping && value.startsWith('/')) {
      out.push(`Path=${ctx.prefix}${value === '/' ? '/' : value}`);
      continue;
    }
    out.push(attr);
  }
  return out.join('; ');
}

/** Response headers for the visitor, multi-value headers kept as separate entries. */
export function downstreamHeaders(rawHeaders: string[], ctx: ProxyContext, keepUpgrade = false): HeaderList {
  const out: HeaderList = [];
  const pairs: HeaderList = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i], rawHeaders[i + 1]]);
  const named = connectionTokens(pairs);
  for (let [name, value] of pairs) {
    const lower = name.toLowerCase();
    if ((HOP_BY_HOP.has(lower) || named.has(lower)) && !(keepUpgrade && (lower === 'upgrade' || lower === 'connection'))) continue;
    if (lower === 'location') value = rewriteLocation(value, ctx);
    else if (lower === 'set-cookie') value = rewriteSetCookie(value, ctx);
    out.push([name, value]);
  }
  return out;
}
