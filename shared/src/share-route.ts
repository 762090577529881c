/**
 * @module
 * Which node and port a share URL points at. Every share is its own origin (DESIGN.md,
 * Shares); the forms, first the ones Homeport offers first:
 *   subdomain form: <port>-<node>.<share host>/…   (the default: one origin per port)
 *   link form:      <link>-<node>.<share host>/…   (a share's unguessable link; <link> is
 *                   the slug's 132 bits in base32, 27 characters, digit-led, so the Worker
 *                   knows the node from the Host alone and the hub maps the slug to a port)
 *   path form:      <share host>/<port>/…          (the share host's default node)
 *                   <node>.<share host>/<port>/…   (a named node; one origin for all ports,
 *                   so public shares and bearer tokens only: share-proxy.ts)
 *   old link form:  <share host>/s/<slug>/…, <node>.<share host>/s/<slug>/…  (redirected
 *                   to the link host)
 * A link label starts with a digit and has 27 characters before its first hyphen, so it is
 * never a node id (a letter first) nor `<port>-<node>` (at most 5 digits before it).
 * The same parser serves the edge and the home node's LAN door.
 */

export interface ShareRoute {
  node: string;
  /** 0 in link form until the node's hub resolves the slug */
  port: number;
  mode: 'path' | 'subdomain' | 'slug';
  /** the link slug, in link form */
  slug?: string;
  /**
   * The URL prefix the visitor sees before the app's own path: '' on a host of its own
   * (subdomain and link form), `/<port>` in path form, `/s/<slug>` for an old link (which
   * the edge only redirects to its link host).
   */
  prefix: string;
  /** true when the path is exactly the prefix with no slash: redirect to `${prefix}/` */
  needsSlash: boolean;
}

export type ShareRouteResult = { ok: true; route: ShareRoute } | { ok: false; status: 400 | 404; message: string };

const NODE_ID = /^[a-z][a-z0-9-]{0,62}$/;
const SUBDOMAIN = /^(\d{1,5})-([a-z][a-z0-9-]{0,62})$/;
const PATH_PORT = /^\/(\d{1,5})(\/.*)?$/;
const PATH_SLUG = /^\/s\/([^/]*)(\/.*)?$/;
/** Link slugs: 22 characters of base64url (132 random bits). */
export const SLUG = /^[A-Za-z0-9_-]{22}$/;

/** A DNS label holds at most 63 characters. */
const MAX_LABEL = 63;
const LINK_CHARS = 27;
/** The longest node id a link host can name: 63 - 27 - 1 (the hyphen). */
export const MAX_LINK_NODE_ID = MAX_LABEL - LINK_CHARS - 1;
/** The longest node id the subdomain form can name: 63 - 5 (port) - 1. */
export const MAX_SUBDOMAIN_NODE_ID = MAX_LABEL - 5 - 1;
const LINK_LABEL = new RegExp(`^([0-3][0-9a-v]{${LINK_CHARS - 1}})-([a-z][a-z0-9-]{0,${MAX_LINK_NODE_ID - 1}})$`);
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** base32hex, lower case: DNS-safe, and its first character (2 bits of 132) is always a digit */
const BASE32 = '0123456789abcdefghijklmnopqrstuv';

export function isValidNodeId(id: string): boolean {
  return NODE_ID.test(id);
}

export function isValidPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** Lower-cased hostname without the port. */
export function hostnameOf(host: string): string {
  const h = host.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

/**
 * The link host's label for a share slug of `node`: the slug's bits in base32 then
 * `-<node>`. null when the node id is too long for one DNS label (over MAX_LINK_NODE_ID).
 */
export function linkLabelOf(slug: string, node: string): string | null {
  if (!SLUG.test(slug) || !NODE_ID.test(node) || node.length > MAX_LINK_NODE_ID) return null;
  // 3 zero bits in front make 135 = 27 × 5.
  const bits = '000' + [...slug].map((c) => BASE64URL.indexOf(c).toString(2).padStart(6, '0')).join('');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += BASE32[parseInt(bits.slice(i, i + 5), 2)];
  return `${out}-${node}`;
}

/** The slug and node a link label names, or null when it is not one. */
export function parseLinkLabel(label: string): { slug: string; node: string } | null {
  const m = LINK_LABEL.exec(label);
  if (!m) return null;
  const bits = [...m[1]].map((c) => BASE32.indexOf(c).toString(2).padStart(5, '0')).join('').slice(3);
  let slug = '';
  for (let i = 0; i < bits.length; i += 6) slug += BASE64URL[parseInt(bits.slice(i, i + 6), 2)];
  return { slug, node: m[2] };
}

/**
 * Routes a request on a share host. `shareHostname` is the bare share hostname
 * (e.g. share.example.com); returns null when the hostname is not a share host at all.
 */
export function routeShareRequest(hostname: string, pathname: string, shareHostname: string, defaultNode: string): ShareRouteResult | null {
  if (hostname !== shareHostname && !hostname.endsWith('.' + shareHostname)) return null;
  const node = pathFormNodeOf(hostname, shareHostname, defaultNode);
  if (node === null) {
    const label = hostname.slice(0, -shareHostname.length - 1);
    const sub = SUBDOMAIN.exec(label);
    if (sub) {
      const port = Number(sub[1]);
      if (!isValidPort(port)) return { ok: false, status: 400, message: `Port ${sub[1]} is not a valid port.` };
      return { ok: true, route: { node: sub[2], port, mode: 'subdomain', prefix: '', needsSlash: false } };
    }
    const link = parseLinkLabel(label);
    if (link) return { ok: true, route: { node: link.node, port: 0, mode: 'slug', slug: link.slug, prefix: '', needsSlash: false } };
    return { ok: false, status: 404, message: `No share lives at ${hostname}.` };
  }
  const oldLink = PATH_SLUG.exec(pathname);
  if (oldLink) {
    if (!SLUG.test(oldLink[1])) return { ok: false, status: 404, message: 'No share lives at this link. It may have been revoked.' };
    return { ok: true, route: { node, port: 0, mode: 'slug', slug: oldLink[1], prefix: `/s/${oldLink[1]}`, needsSlash: oldLink[2] === undefined } };
  }
  return routePath(node, pathname);
}

/** The node a path-form host serves (the bare share host or `<node>.<share host>`), else null. */
export function pathFormNodeOf(hostname: string, shareHostname: string, defaultNode: string): string | null {
  if (hostname === shareHostname) return defaultNode;
  if (!hostname.endsWith('.' + shareHostname)) return null;
  const label = hostname.slice(0, -shareHostname.length - 1);
  return NODE_ID.test(label) ? label : null;
}

/** Path form: /<port>/… on a host that names the node. */
export function routePath(node: string, pathname: string): ShareRouteResult {
  const m = PATH_PORT.exec(pathname);
  if (!m) return { ok: false, status: 404, message: 'A share URL starts with the port, like /3000/.' };
  const port = Number(m[1]);
  if (!isValidPort(port)) return { ok: false, status: 400, message: `Port ${m[1]} is not a valid port.` };
  return { ok: true, route: { node, port, mode: 'path', prefix: `/${m[1]}`, needsSlash: m[2] === undefined } };
}

/** The port a path-form page lives under, from its URL (e.g. a Referer), or null. */
export function pathFormPortOf(url: string | null, hostname: string): number | null {
  if (!url) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (hostnameOf(parsed.host) !== hostname) return null;
  const m = /^\/(\d{1,5})\//.exec(parsed.pathname);
  return m && isValidPort(Number(m[1])) ? Number(m[1]) : null;
}

/** Public URLs of one node's shares on a share host (with its port, e.g. share.localhost:8787). */
export function shareUrlsFor(scheme: string, shareHost: string, node: string, defaultNode: string) {
  return {
    /** the path form's base: `${pathBaseUrl}/<port>/` */
    pathBaseUrl: `${scheme}://${node === defaultNode ? shareHost : `${node}.${shareHost}`}`,
    subdomainUrl: (port: number) => `${scheme}://${port}-${node}.${shareHost}/`,
    /** null when the node id is too long for a link host */
    linkUrl: (slug: string) => {
      const label = linkLabelOf(slug, node);
      return label === null ? null : `${scheme}://${label}.${shareHost}/`;
    },
  };
}
