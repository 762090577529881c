/**
 * @module
 * The path form made as good as a path can be (docs/decisions.md, 2026-12-06): a
 * root-absolute request on a path-form host (`/@vite/client`, `/_next/static/…`,
 * `/main.js`) whose Referer lies under `/<port>/` on the same host goes into that prefix
 * (307 keeps the method and body); where that cannot help (no Referer, or a WebSocket at
 * the root) a page explains it and links the port's own origin.
 */
import { pages, pathFormPortOf } from '@homeport/shared';
import { shareUrlsFrom, type EdgeConfig } from '../env.ts';
import { pageResponse } from '../relay.ts';

/** The answer to a request outside any `/<port>/` prefix on the path-form host of `node`. */
export function pathFormFallback(request: Request, hostname: string, node: string, config: EdgeConfig): Response {
  const url = new URL(request.url);
  const port = pathFormPortOf(request.headers.get('referer'), hostname);
  const websocket = request.headers.get('upgrade')?.toLowerCase() === 'websocket';
  if (port !== null && !websocket)
    return new Response(null, { status: 307, headers: { location: `/${port}${url.pathname}${url.search}`, 'cache-control': 'no-store', vary: 'referer' } });
  const ownUrl = port === null ? null : shareUrlsFrom(config, node).subdomainUrl(port);
  return pageResponse(pages.pathFormRoot(ownUrl));
}
