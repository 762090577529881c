/**
 * @module
 * Homeport's own readable answers for share visitors: node offline, gateway errors,
 * timeouts, oversized bodies. Plain HTML, no scripts, never a stack trace. The edge
 * and the node's LAN door both answer with these.
 */

export interface ErrorPage {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A way on from an error page, e.g. the owner's sign-in on a private share. */
export interface PageLink {
  href: string;
  label: string;
}

export function errorPage(status: number, title: string, detail: string, headers: Record<string, string> = {}, link?: PageLink): ErrorPage {
  const action = link ? `<p><a href="${escape(link.href)}">${escape(link.label)}</a></p>` : '';
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escape(title)} · Homeport</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1rem;color:#1f2328}
h1{font-size:1.4rem}p{color:#57606a}</style></head>
<body><h1>${escape(title)}</h1><p>${escape(detail)}</p>${action}<p><small>Homeport · ${status}</small></p></body></html>`;
  return {
    status,
    body,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-homeport-error': String(status), ...headers },
  };
}

export const pages = {
  nodeOffline: (node: string) =>
    errorPage(503, 'Home node offline', `The home node "${node}" is not connected right now. It reconnects by itself; try again in a moment.`, {
      'retry-after': '5',
    }),
  nodeDropped: () => errorPage(502, 'Home node disconnected', 'The home node dropped while answering this request. Try again in a moment.'),
  nothingListening: (port: number) =>
    errorPage(502, 'Nothing is listening', `No dev server answers on port ${port} of the home node. Start it, then reload.`),
  upstreamFailed: (port: number, why: string) => errorPage(502, 'Dev server connection failed', `The dev server on port ${port} failed: ${why}.`),
  timeout: (port: number, seconds: number) =>
    errorPage(504, 'Dev server did not answer', `The dev server on port ${port} did not answer within ${seconds} s.`),
  tooLarge: (limit: number) =>
    errorPage(413, 'Upload too large', `Requests through a share may carry at most ${Math.floor(limit / 1_000_000)} MB (the edge plan's limit).`),
  outOfRange: (port: number, low: number, high: number) =>
    errorPage(403, 'Port not shared', `Port ${port} is outside this node's share range ${low}–${high}.`),
  ownPort: (port: number, what: string) =>
    errorPage(403, "Homeport's own port", `Port ${port} is ${what}: one of Homeport's own listeners, which are never shared or proxied.`),
  unknownHost: (host: string) =>
    errorPage(421, 'Unknown host', `This door answers only this machine's own names and addresses, not "${host}" (a page on another site may be trying DNS rebinding).`),
  notFound: (message: string) => errorPage(404, 'Not found', message),
  badRequest: (message: string) => errorPage(400, 'Bad request', message),
  forbidden: (message: string) => errorPage(403, 'Not allowed', message),
  /** a private or password share opened in the path form, which shares one origin between ports */
  ownOrigin: (url: string) =>
    errorPage(
      403,
      'Open this share at its own origin',
      'This share is served at its own origin. The path form (/<port>/) puts every port of a node on one origin, so it serves public shares only.',
      {},
      { href: url, label: `Open ${url}` },
    ),
  /** the node's answer when the owner did not turn the path form on for a port */
  pathFormOff: (port: number, url: string | null) =>
    errorPage(
      404,
      'Path form off for this port',
      `Port ${port} is served at its own origin. Its path form (/${port}/) is off: the owner turns it on with \`homeport port ${port} --path-form\`, for apps built with that base path.`,
      {},
      url ? { href: url, label: `Open ${url}` } : undefined,
    ),
  /** a request at the root of a path-form host that no Referer places under a port */
  pathFormRoot: (url: string | null) =>
    errorPage(
      404,
      'Not under a port',
      'This request asks for a path outside any /<port>/ prefix. Apps that load root-absolute paths (like /@vite/client or /_next/static/…) or open their hot-reload socket at the root work at their own origin: <port>-<node>.<share host>.',
      {},
      url ? { href: url, label: `Open ${url}` } : undefined,
    ),
};
