/**
 * @module
 * Which node and port a share URL points at. Two forms (DESIGN.md, Shares):
 *   path form:      <share host>/<port>/…        (the share host's default node)
 *                   <node>.<share host>/<port>/… (a named node)
 *   subdomain form: <port>-<node>.<share host>/… (for apps that break under a prefix)
 * The same parser serves the edge and the home node's LAN door.
 */

export interface ShareRoute {
  node: string;
  port: number;
  mode: 'path' | 'subdomain';
  /** the URL prefix the visitor sees before the app's own path ('' in subdomain form) */
  prefix: string;
  /** true when the path is exactly the prefix with no slash: redirect to `${prefix}/` */
  needsSlash: boolean;
}

export type ShareRouteResult = { ok: true; route: ShareRoute } | { ok: false; status: 400 | 404; message: string };

const NODE_ID = /^[a-z][a-z0-9-]{0,62}$/;
const SUBDOMAIN = /^(\d{1,5})-([a-z][a-z0-9-]{0,62})$/;
const PATH_PORT = /^\/(\d{1,5})(\/.*)?$/;

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
