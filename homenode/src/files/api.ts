/**
 * @module
 * Routes for files inside a repo: /api/repos/:repo/files… The repo is looked up by
 * `resolveRepo` (the repo registry), so this module knows nothing of how repos are kept.
 */
import { Hono, type Context } from 'hono';
import { jsonBody } from '@homeport/shared/json-body';
import { makeDirBody, movePathBody, writeFileBody } from '@homeport/shared/schemas/node-api';
import { answerError } from '../api-errors.ts';
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
  app.onError((error, c) => answerError(error, c));
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
    jsonBody(writeFileBody, { maxBytes: Math.ceil(MAX_FILE_BYTES * 1.4) + 4096 }),
    async (c) => {
      const root = await repoRootOf(c, resolveRepo);
      const path = requiredPath(c);
      const { content, encoding, ifMatch, create } = c.req.valid('json');
      const result = await writeFileContent(root, path, content, { encoding, ifMatch, create });
      return c.json(result, result.created ? 201 : 200);
    },
  );

  app.delete(`${base}/content`, async (c) =>
    c.json(await deletePath(await repoRootOf(c, resolveRepo), requiredPath(c), flag(c.req.query('recursive')))),
  );

  app.post(`${base}/mkdir`, jsonBody(makeDirBody), async (c) => {
    const root = await repoRootOf(c, resolveRepo);
    const { path } = c.req.valid('json');
    return c.json(await makeDir(root, path), 201);
  });

  app.post(`${base}/move`, jsonBody(movePathBody), async (c) => {
    const root = await repoRootOf(c, resolveRepo);
    const { from, to, overwrite } = c.req.valid('json');
    return c.json(await movePath(root, from, to, overwrite ?? false));
  });

  return app;
}
