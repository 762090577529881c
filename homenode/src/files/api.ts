/**
 * @module
 * Routes for files inside a repo: /api/repos/:repo/files… The repo is looked up by
 * `resolveRepo` (the repo registry), so this module knows nothing of how repos are kept.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { MAX_FILE_BYTES, deletePath, listDir, makeDir, movePath, readFileContent, writeFileContent } from './files.ts';
import { refuse } from './paths.ts';

export interface ResolvedRepo {
  root: string;
  /** extra environment for git fetch/pull/push (credentials), if the registry has some */
  gitEnv?: Record<string, string>;
}

/** Finds a repo by id or name; null when there is none. */
export type ResolveRepo = (idOrName: string) => Promise<ResolvedRepo | null>;

/** A Hono app whose errors are `{error}` JSON and never leak a stack. */
export function repoWorkApp() {
  const app = new Hono();
  app.onError((error, c) => {
    if (error instanceof HTTPException) return c.json({ error: error.message }, error.status);
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}

/** The repo named in the route, or 404. */
export async function repoOf(c: Context, resolveRepo: ResolveRepo): Promise<ResolvedRepo> {
  const name = c.req.param('repo') ?? '';
  const repo = await resolveRepo(name);
  if (!repo) throw refuse(404, `there is no repo "${name}"`);
  return repo;
}

export const repoRootOf = async (c: Context, resolveRepo: ResolveRepo) => (await repoOf(c, resolveRepo)).root;

/** The JSON object body of a request, or 400. */
export async function objectBody(c: Context, expected: string): Promise<Record<string, unknown>> {
  const body = await c.req.json().catch(() => null);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw refuse(400, `expected a JSON body like ${expected}`);
  return body as Record<string, unknown>;
}

export function flag(raw: string | undefined): boolean {
  return raw === 'true' || raw === '1';
}

function requiredPath(c: Context): string {
  const path = c.req.query('path');
  if (path === undefined || path === '') throw refuse(400, 'give the file as ?path=<path inside the repo>');
  return path;
}

export function filesApi(resolveRepo: ResolveRepo) {
  const app = repoWorkApp();
  const base = '/api/repos/:repo/files';

  app.get(base, async (c) => {
    const limit = c.req.query('limit');
    const max = limit === undefined ? undefined : Number(limit);
    if (max !== undefined && (!Number.isInteger(max) || max < 1 || max > 10_000)) throw refuse(400, 'limit must be a whole number from 1 to 10000');
    return c.json(await listDir(await repoRootOf(c, resolveRepo), c.req.query('path') ?? '', max));
  });

  app.get(`${base}/content`, async (c) => c.json(await readFileContent(await repoRootOf(c, resolveRepo), requiredPath(c))));

  app.put(
    `${base}/content`,
    // base64 and JSON add about a third to the file's size
    bodyLimit({ maxSize: Math.ceil(MAX_FILE_BYTES * 1.4) + 4096, onError: () => { throw refuse(413, `the new content is larger than ${MAX_FILE_BYTES} bytes`); } }),
    async (c) => {
      const root = await repoRootOf(c, resolveRepo);
      const path = requiredPath(c);
      const body = await objectBody(c, '{"content": "…", "encoding"?: "utf8"|"base64", "ifMatch"?: "<etag>", "create"?: true}');
      const { content, encoding, ifMatch, create } = body;
      if (typeof content !== 'string') throw refuse(400, 'content must be a string');
      if (encoding !== undefined && encoding !== 'utf8' && encoding !== 'base64') throw refuse(400, 'encoding must be "utf8" or "base64"');
      if (ifMatch !== undefined && typeof ifMatch !== 'string') throw refuse(400, 'ifMatch must be the etag you read');
      if (create !== undefined && typeof create !== 'boolean') throw refuse(400, 'create must be true or false');
      const result = await writeFileContent(root, path, content, { encoding, ifMatch, create });
      return c.json(result, result.created ? 201 : 200);
    },
  );

  app.delete(`${base}/content`, async (c) =>
    c.json(await deletePath(await repoRootOf(c, resolveRepo), requiredPath(c), flag(c.req.query('recursive')))),
  );

  app.post(`${base}/mkdir`, async (c) => {
    const root = await repoRootOf(c, resolveRepo);
    const { path } = await objectBody(c, '{"path": "<folder>"}');
    if (typeof path !== 'string' || path === '') throw refuse(400, 'path must name the new folder');
    return c.json(await makeDir(root, path), 201);
  });

  app.post(`${base}/move`, async (c) => {
    const root = await repoRootOf(c, resolveRepo);
    const { from, to, overwrite } = await objectBody(c, '{"from": "<path>", "to": "<path>", "overwrite"?: false}');
    if (typeof from !== 'string' || from === '' || typeof to !== 'string' || to === '') throw refuse(400, 'from and to must be paths inside the repo');
    if (overwrite !== undefined && typeof overwrite !== 'boolean') throw refuse(400, 'overwrite must be true or false');
    return c.json(await movePath(root, from, to, overwrite ?? false));
  });

  return app;
}
