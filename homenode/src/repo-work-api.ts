/**
 * @module
 * Working inside repos from anywhere: files and git under /api/repos/:repo/…, as one
 * Hono app to mount in the node API after its door guard:
 * `app.route('/', repoWorkApi((idOrName) => registry.find(idOrName)))`.
 */
import { Hono } from 'hono';
import { filesApi, type ResolveRepo } from './files/api.ts';
import { gitApi } from './git/api.ts';

export type { ResolveRepo };

export function repoWorkApi(resolveRepo: ResolveRepo) {
  const app = new Hono();
  app.route('/', filesApi(resolveRepo));
  app.route('/', gitApi(resolveRepo));
  return app;
}
