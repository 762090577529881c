/**
 * @module
 * The repos, servers, settings and secrets routes of the node API, as one Hono sub-app
 * that api.ts mounts. Clone progress and server logs are Server-Sent Events.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { jsonBody } from '@homeport/shared/json-body';
import { addRepoBody, githubTokenBody, nodeSettingsBody, repoServerSettingsBody } from '@homeport/shared/schemas/node-api';
import type { ApiEnv } from '../api.ts';
import { answerError } from '../api-errors.ts';
import { InvalidSettings, type NodeSettings } from '../node-settings.ts';
import { SupervisorError } from '../servers/supervisor.ts';
import type { SecretStore } from '../vault.ts';
import type { RepoServers, ServerView } from './servers.ts';
import { RepoError, type CloneEvent, type RepoService, type RepoStatus, type RepoView } from './service.ts';
import type { Detection } from './detect.ts';

export interface ReposApiDeps {
  repos: RepoService;
  settings: NodeSettings;
  secrets: SecretStore;
  /** null until the supervisor runs (server routes answer 409) */
  servers: RepoServers | null;
  log?: (message: string) => void;
}

export interface RepoDetails extends RepoView {
  detected: Detection;
  git: RepoStatus | null;
  /** why `git` is null for a ready repo */
  gitError: string | null;
  runtime: ServerView | null;
}

const KEEPALIVE_MS = 20_000;
const GIT_STATUS_CONCURRENCY = 4;

/** Maps each item with at most `limit` running at once (git status on a 2-core machine). */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

/**
 * Streams events from `subscribe` as SSE until `isEnd(event)` or the client leaves,
 * with keep-alive comments so a quiet stream survives idle cuts on the way.
 */
export async function pump<T>(stream: SSEStreamingApi, past: T[], subscribe: ((push: (e: T) => void) => () => void) | null, write: (e: T) => Promise<void>, isEnd: (e: T) => boolean) {
  const queue = [...past];
  let wake: (() => void) | null = null;
  const unsubscribe = subscribe?.((e) => {
    queue.push(e);
    wake?.();
  });
  stream.onAbort(() => wake?.());
  const keepalive = setInterval(() => void stream.write(': keep-alive\n\n').catch(() => {}), KEEPALIVE_MS);
  try {
    for (;;) {
      while (queue.length) {
        const e = queue.shift()!;
        await write(e);
        if (isEnd(e)) return;
      }
      if (!subscribe || stream.aborted) return;
      await new Promise<void>((r) => (wake = r));
      wake = null;
    }
  } finally {
    clearInterval(keepalive);
    unsubscribe?.();
  }
}

export function reposApi(deps: ReposApiDeps) {
  const { repos, settings, secrets } = deps;
  const app = new Hono<ApiEnv>();
  app.onError((error, c) => {
    if (error instanceof RepoError) return c.json({ error: error.message }, error.status);
    if (error instanceof InvalidSettings) return c.json({ error: error.message }, 400);
    if (error instanceof SupervisorError) return c.json({ error: error.message }, error.code === 'not-found' ? 404 : error.code === 'conflict' ? 409 : 400);
    return answerError(error, c, deps.log);
  });

  const servers = () => {
    if (!deps.servers) throw new HTTPException(409, { message: 'this homeportd runs no dev-server supervisor' });
    return deps.servers;
  };

  async function details(view: RepoView): Promise<RepoDetails> {
    const row = await repos.find(view.id);
    let git: RepoStatus | null = null;
    let gitError: string | null = null;
    if (row.state === 'ready')
      try {
        git = await repos.status(row);
      } catch (error) {
        gitError = (error as Error).message;
      }
    return { ...view, detected: await repos.detect(row), git, gitError, runtime: deps.servers ? await deps.servers.view(row) : null };
  }

  app.get('/api/repos', async (c) => c.json({ repos: await mapLimited(await repos.list(), GIT_STATUS_CONCURRENCY, details) }));

  // {url, name?}: clone (202, progress at /progress); {path, name?}: register a local work tree (201).
  app.post('/api/repos', jsonBody(addRepoBody), async (c) => {
    const b = c.req.valid('json');
    if (b.path !== undefined) return c.json({ repo: await repos.register({ path: b.path, name: b.name }) }, 201);
    const repo = await repos.clone({ url: b.url, name: b.name });
    return c.json({ repo, progress: `/api/repos/${repo.id}/progress` }, 202);
  });

  app.get('/api/repos/:repo', async (c) => c.json(await details(await repos.get(c.req.param('repo')))));

  app.delete('/api/repos/:repo', async (c) => {
    const raw = c.req.query('deleteFiles');
    if (raw !== undefined && raw !== 'true' && raw !== 'false') throw new HTTPException(400, { message: 'deleteFiles is true or false' });
    return c.json(await repos.remove(c.req.param('repo'), { deleteFiles: raw === 'true' }));
  });

  app.post('/api/repos/:repo/pull', async (c) => c.json(await repos.pull(c.req.param('repo'))));

  // Clone progress as SSE: `progress` events, then one `done` or `error`.
  app.get('/api/repos/:repo/progress', async (c) => {
    const ref = c.req.param('repo');
    let job = repos.cloneEvents(ref);
    if (!job) {
      const repo = await repos.get(ref);
      job = repos.cloneEvents(repo.id) ?? { past: [{ type: 'done', repo } as CloneEvent], finished: true, follow: () => () => {} };
    }
    const j = job;
    return streamSSE(c, (stream) =>
      pump<CloneEvent>(
        stream,
        j.past,
        j.finished ? null : (push) => j.follow(push),
        (e) => stream.writeSSE({ event: e.type, data: JSON.stringify(e) }),
        (e) => e.type !== 'progress',
      ),
    );
  });

  app.get('/api/repos/:repo/settings', async (c) => {
    const view = await repos.get(c.req.param('repo'));
    return c.json({ ...view.server, detected: await repos.detect(await repos.find(view.id)) });
  });

  app.put('/api/repos/:repo/settings', jsonBody(repoServerSettingsBody), async (c) => {
    const view = await repos.updateServer(c.req.param('repo'), c.req.valid('json'));
    return c.json({ ...view.server, detected: await repos.detect(await repos.find(view.id)) });
  });

  app.get('/api/settings', async (c) => c.json({ settings: await settings.all(), githubToken: await secrets.info('github-token') }));
  app.put('/api/settings', jsonBody(nodeSettingsBody), async (c) => c.json({ settings: await settings.update(c.req.valid('json')), githubToken: await secrets.info('github-token') }));

  // Write-only: the token is never returned, only whether it is set.
  app.get('/api/secrets/github-token', async (c) => c.json(await secrets.info('github-token')));
  app.put('/api/secrets/github-token', jsonBody(githubTokenBody), async (c) => {
    const { token } = c.req.valid('json');
    await secrets.set('github-token', token);
    return c.json(await secrets.info('github-token'));
  });
  app.delete('/api/secrets/github-token', async (c) => {
    await secrets.delete('github-token');
    return c.json(await secrets.info('github-token'));
  });

  // Dev servers.
  app.get('/api/servers', async (c) => c.json({ servers: await servers().list() }));
  app.get('/api/repos/:repo/server', async (c) => c.json(await servers().view(await repos.find(c.req.param('repo')))));
  app.post('/api/repos/:repo/server/start', async (c) => c.json({ status: await servers().start(c.req.param('repo')) }));
  app.post('/api/repos/:repo/server/stop', async (c) => c.json({ status: await servers().stop(c.req.param('repo')) }));
  app.post('/api/repos/:repo/server/restart', async (c) => c.json({ status: await servers().restart(c.req.param('repo')) }));

  // Logs: JSON `{lines}` (?tail=N), or SSE with ?follow=1 (event `log`, id = line seq; Last-Event-ID resumes).
  app.get('/api/repos/:repo/server/logs', async (c) => {
    const tailRaw = c.req.query('tail');
    const tail = tailRaw === undefined ? 200 : Number(tailRaw);
    if (!Number.isInteger(tail) || tail < 0 || tail > 10_000) throw new HTTPException(400, { message: 'tail is a number of lines from 0 to 10000' });
    const lastId = Number(c.req.header('last-event-id') ?? NaN);
    const after = Number.isInteger(lastId) ? lastId : undefined;
    const s = servers();
    const repo = await repos.find(c.req.param('repo'));
    const range = after === undefined ? { tail } : { after };
    const follow = c.req.query('follow');
    if (follow !== '1' && follow !== 'true') return c.json({ repo: { id: repo.id, name: repo.name }, lines: s.lines(repo.id, range) });
    return streamSSE(c, (stream) =>
      pump(
        stream,
        // Read and subscribe in one tick: no line falls between the two.
        s.lines(repo.id, range),
        (push) => s.follow(repo.id, push),
        (line) => stream.writeSSE({ event: 'log', id: String(line.seq), data: JSON.stringify(line) }),
        () => false,
      ),
    );
  });

  return app;
}
