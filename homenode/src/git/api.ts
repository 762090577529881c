/**
 * @module
 * Routes for git in a repo: /api/repos/:repo/git… Reads (status, diff, log, identity)
 * are GETs; everything else is one POST of a structured operation (`{op, …}`).
 */
import { jsonBody } from '@homeport/shared/json-body';
import { gitIdentityBody, gitOperationBody } from '@homeport/shared/schemas/node-api';
import { flag, repoOf, repoRootOf, repoWorkApp, type ResolveRepo } from '../files/api.ts';
import { getIdentity, repoStatus, runOperation, setIdentity } from './git.ts';

/** Query values that are present, so absent ones stay undefined for the operation. */
function present(values: Record<string, string | undefined>) {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== ''));
}

export function gitApi(resolveRepo: ResolveRepo) {
  const app = repoWorkApp();
  const base = '/api/repos/:repo/git';

  app.get(`${base}/status`, async (c) => c.json(await repoStatus(await repoRootOf(c, resolveRepo))));

  app.get(`${base}/diff`, async (c) => {
    const root = await repoRootOf(c, resolveRepo);
    const input = { op: 'diff', ...present({ path: c.req.query('path'), ref: c.req.query('ref') }) };
    return c.json(await runOperation(root, flag(c.req.query('staged')) ? { ...input, staged: true } : input));
  });

  app.get(`${base}/log`, async (c) => {
    const root = await repoRootOf(c, resolveRepo);
    const q = (name: string) => c.req.query(name);
    return c.json(await runOperation(root, { op: 'log', ...present({ limit: q('limit'), skip: q('skip'), ref: q('ref'), path: q('path') }) }));
  });

  app.post(base, jsonBody(gitOperationBody), async (c) => {
    const repo = await repoOf(c, resolveRepo);
    return c.json(await runOperation(repo.root, c.req.valid('json'), { networkEnv: repo.gitEnv }));
  });

  app.get(`${base}/identity`, async (c) => c.json(await getIdentity(await repoRootOf(c, resolveRepo))));

  app.put(`${base}/identity`, jsonBody(gitIdentityBody), async (c) => {
    const root = await repoRootOf(c, resolveRepo);
    return c.json(await setIdentity(root, c.req.valid('json')));
  });

  return app;
}
