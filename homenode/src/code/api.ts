/**
 * @module
 * Browser VS Code on the node API (api.ts mounts it):
 *
 *   GET  /api/vscode/status        code-server's state, or how to install it
 *   POST /api/vscode/start|stop
 *   GET  /api/vscode/logs?tail=N
 *   POST /api/vscode/open {repo}   starts it if needed; the URLs that open the repo's folder
 *   *    /api/code/…               code-server itself (through the edge: owner only)
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { jsonBody } from '@homeport/shared/json-body';
import { openVscodeBody } from '@homeport/shared/schemas/node-api';
import type { ApiEnv } from '../api.ts';
import { answerError } from '../api-errors.ts';
import { CodeServerError, type CodeServer, type CodeStatus } from './code-server.ts';
import { proxyApiRequest } from './proxy.ts';

export interface CodeApiDeps {
  code: CodeServer;
  /** a registered repo's name and work tree, or null */
  repo(ref: string): Promise<{ name: string; path: string } | null>;
  /**
   * Where a browser opens code-server: through the edge (owner only; null while the node
   * has no edge connection) and on the LAN door.
   */
  baseUrls(): { edge: string | null; lan: string };
  log?: (message: string) => void;
}

export interface CodeOpenView {
  repo: string;
  folder: string;
  /** through the edge, owner only; null without an edge connection */
  url: string | null;
  lanUrl: string;
  status: CodeStatus;
}

function withFolder(base: string, folder: string): string {
  return `${base}?folder=${encodeURIComponent(folder)}`;
}

export function codeApi(deps: CodeApiDeps) {
  const { code } = deps;
  const app = new Hono<ApiEnv>();
  app.onError((error, c) => {
    if (error instanceof CodeServerError) return c.json({ error: error.message }, error.status);
    return answerError(error, c, deps.log);
  });

  const withUrls = (status: CodeStatus) => {
    const urls = deps.baseUrls();
    return { ...status, url: urls.edge, lanUrl: urls.lan };
  };

  app.get('/api/vscode/status', async (c) => c.json(withUrls(await code.status())));
  app.post('/api/vscode/start', async (c) => {
    const status = await code.start();
    if (status.state !== 'running') throw new CodeServerError(502, `code-server did not start: ${status.lastError ?? status.state}`);
    return c.json(withUrls(status));
  });
  app.post('/api/vscode/stop', async (c) => c.json(withUrls(await code.stop())));
  app.get('/api/vscode/logs', (c) => {
    const raw = c.req.query('tail');
    const tail = raw === undefined ? 200 : Number(raw);
    if (!Number.isInteger(tail) || tail < 0 || tail > 10_000) throw new HTTPException(400, { message: 'tail is a number of lines from 0 to 10000' });
    return c.json({ lines: code.logs(tail) });
  });

  app.post('/api/vscode/open', jsonBody(openVscodeBody), async (c) => {
    const body = c.req.valid('json');
    const repo = await deps.repo(body.repo);
    if (!repo) throw new HTTPException(404, { message: `no repo "${body.repo}" (\`homeport repos\` lists them)` });
    await code.ensureRunning();
    const urls = deps.baseUrls();
    const view: CodeOpenView = { repo: repo.name, folder: repo.path, url: urls.edge ? withFolder(urls.edge, repo.path) : null, lanUrl: withFolder(urls.lan, repo.path), status: await code.status() };
    return c.json(view);
  });

  app.all('/api/code', (c) => proxyApiRequest(code, c.req.raw));
  app.all('/api/code/*', (c) => proxyApiRequest(code, c.req.raw));
  return app;
}
