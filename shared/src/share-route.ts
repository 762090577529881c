/**
 * @module
 * Which node and port a share URL points at. Two forms (DESIGN.md, Shares):
 *   path form:      <share host>/<port>/…        (the share host's default node)
 *                   <node>.<share host>/<port>/… (a named node)
 *   subdomain form: <port>-<node>.<share host>/… (for apps that break under a prefix)
 *   link form:      <share host>/s/<slug>/…      (a share's unguessable link; the hub maps
 *                   <node>.<share host>/s/<slug>/…  the slug to its port)
 * The same parser serves the edge and the home node's LAN door.
 */

export interface ShareRoute {
  node: string;
  /** 0 in link form until the node's hub resolves the slug */
  port: number;
  mode: 'path' | 'subdomain' | 'slug';
  /** the link slug, in link form */
  slug?: string;
  /** the URL prefix the visitor sees before the app's own path ('' in subdomain form) */
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
 * Routes a request on a share host. `shareHostname` is the bare share hostname
 * (e.g. share.example.com); returns null when the hostname is not a share host at all.
 */
export function routeShareRequest(hostname: string, pathname: string, shareHostname: string, defaultNode: string): ShareRouteResult | null {
  let node: string;
  if (hostname === shareHostname) {
    node = defaultNode;
  } else if (hostname.endsWith('.' + shareHostname)) {
    const label = hostname.slice(0, -shareHostname.length - 1);
    const sub = SUBDOMAIN.exec(label);
    if (sub) {
      const port = Number(sub[1]);
      if (!isValidPort(port)) return { ok: false, status: 400, message: `Port ${sub[1]} is not a valid port.` };
      return { ok: true, route: { node: sub[2], port, mode: 'subdomain', prefix: '', needsSlash: false } };
    }
    if (!NODE_ID.test(label)) return { ok: false, status: 404, message: `No share lives at ${hostname}.` };
    node = label;
  } else {
    return null;
  }
  const link = PATH_SLUG.exec(pathname);
  if (link) {
    if (!SLUG.test(link[1])) return { ok: false, status: 404, message: 'No share lives at this link. It may have been revoked.' };
    return { ok: true, route: { node, port: 0, mode: 'slug', slug: link[1], prefix: `/s/${link[1]}`, needsSlash: link[2] === undefined } };
  }
  return routePath(node, pathname);
}

/** Path form: /<port>/… on a host that names the node. */
export function routePath(node: string, pathname: string): ShareRouteResult {
  const m = PATH_PORT.exec(pathname);
  if (!m) return { ok: false, status: 404, message: 'A share URL starts with the port, like /3000/.' };
  const port = Number(m[1]);
  if (!isValidPort(port)) return { ok: false, status: 400, message: `Port ${m[1]} is not a valid port.` };
  return { ok: true, route: { node, port, mode: 'path', prefix: `/${m[1]}`, needsSlash: m[2] === undefined } };
}
