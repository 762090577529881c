/**
 * @module
 * The agent task routes of the node API, as one Hono sub-app that api.ts mounts:
 *
 *   POST /api/tasks {repo, prompt, model?, limits?, source?}   201 {task}
 *   GET  /api/tasks[?repo=]                                    {tasks}, newest first
 *   GET  /api/tasks/:id                                        {task}
 *   GET  /api/tasks/:id/events[?after=seq]                     JSON {events, last, active}, or SSE
 *        (Accept: text/event-stream; `Last-Event-ID` or ?after= resumes: the stored events
 *        after that seq, then live ones, each once; `id:` is the seq; the stream ends after
 *        the final `status` event of a task that is no longer running)
 *   POST /api/tasks/:id/cancel                                 {task}, once it has ended
 *   POST /api/tasks/:id/messages {prompt}                      202 {task}: a follow-up
 *   GET  /api/tasks/:id/diff                                   {base, head, live, stat, patch, …}
 *   GET|PUT|DELETE /api/secrets/anthropic-key                  write-only: {set, updatedAt}
 */
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { streamSSE } from 'hono/streaming';
import { jsonBody } from '@homeport/shared/json-body';
import { anthropicKeyBody, createTaskBody, followUpBody } from '@homeport/shared/schemas/node-api';
import type { ApiEnv } from '../api.ts';
import { answerError } from '../api-errors.ts';
import type { SecretStore } from '../vault.ts';
import type { TaskEvent } from './task-events.ts';
import { TaskError } from './task-input.ts';
import type { TaskManager } from './tasks.ts';

export interface AgentsApiDeps {
  tasks: TaskManager;
  secrets: SecretStore;
  log?: (message: string) => void;
}

const KEEPALIVE_MS = 20_000;
const PAGE = 1000;

/** The seq to resume after: Last-Event-ID, else ?after=, else 0. */
function afterOf(c: Context): number {
  const raw = c.req.header('last-event-id') ?? c.req.query('after') ?? '0';
  const after = Number(raw);
  if (!Number.isSafeInteger(after) || after < 0) throw new HTTPException(400, { message: `"${raw}" is not an event sequence number (after=0 reads from the start)` });
  return after;
}

function isFinal(event: TaskEvent): boolean {
  return event.type === 'status' && (event.payload as { final?: unknown } | null)?.final === true;
}

export function agentsApi(deps: AgentsApiDeps) {
  const { tasks, secrets } = deps;
  const app = new Hono<ApiEnv>();
  app.onError((error, c) => {
    if (error instanceof TaskError) return c.json({ error: error.message }, error.status);
    return answerError(error, c, deps.log && ((message) => deps.log!(tasks.events.redact(message))));
  });

  app.post('/api/tasks', jsonBody(createTaskBody), async (c) => c.json({ task: await tasks.create(c.req.valid('json')) }, 201));
  app.get('/api/tasks', async (c) => c.json({ tasks: await tasks.list({ repo: c.req.query('repo') || undefined }) }));
  app.get('/api/tasks/:id', async (c) => c.json({ task: await tasks.get(c.req.param('id')) }));
  app.post('/api/tasks/:id/cancel', async (c) => c.json({ task: await tasks.cancel(c.req.param('id')) }));
  app.post('/api/tasks/:id/messages', jsonBody(followUpBody), async (c) => c.json({ task: await tasks.followUp(c.req.param('id'), c.req.valid('json').prompt) }, 202));
  app.get('/api/tasks/:id/diff', async (c) => c.json(await tasks.diff(c.req.param('id'))));

  app.get('/api/tasks/:id/events', async (c) => {
    const id = c.req.param('id');
    await tasks.get(id); // 404 for an unknown task
    const after = afterOf(c);
    if (!(c.req.header('accept') ?? '').includes('text/event-stream')) {
      const limitRaw = Number(c.req.query('limit') ?? PAGE);
      if (!Number.isInteger(limitRaw) || limitRaw < 1 || limitRaw > PAGE) throw new HTTPException(400, { message: `limit is a number of events from 1 to ${PAGE}` });
      const events = await tasks.events.list(id, after, limitRaw);
      return c.json({ events, last: events.at(-1)?.seq ?? after, active: tasks.isActive(id) });
    }
    return streamSSE(c, async (stream) => {
      // Subscribe before reading what is stored: an event lands in one or both, never in neither.
      const live: TaskEvent[] = [];
      let wake: (() => void) | null = null;
      const unsubscribe = tasks.events.subscribe(id, (event) => {
        live.push(event);
        wake?.();
      });
      stream.onAbort(() => wake?.());
      const keepalive = setInterval(() => void stream.write(': keep-alive\n\n').catch(() => {}), KEEPALIVE_MS);
      let last = after;
      /** writes the event unless the reader has it already */
      const send = async (event: TaskEvent): Promise<void> => {
        if (event.seq <= last) return;
        await stream.writeSSE({ id: String(event.seq), event: event.type, data: JSON.stringify(event) });
        last = event.seq;
      };
      try {
        // What is stored (a finished task's earlier runs end in final events too: no stop here).
        for (;;) {
          const page = await tasks.events.list(id, last, PAGE);
          for (const event of page) await send(event);
          if (page.length < PAGE) break;
        }
        // A task that does not run will add nothing.
        if (!tasks.isActive(id) && !live.some((e) => e.seq > last)) return;
        while (!stream.aborted) {
          while (live.length) {
            const event = live.shift()!;
            await send(event);
            if (isFinal(event) && !tasks.isActive(id)) return;
          }
          await new Promise<void>((r) => (wake = r));
          wake = null;
        }
      } finally {
        clearInterval(keepalive);
        unsubscribe();
      }
    });
  });

  // Write-only: the key is never returned, only whether it is set.
  app.get('/api/secrets/anthropic-key', async (c) => c.json(await secrets.info('anthropic-key')));
  app.put('/api/secrets/anthropic-key', jsonBody(anthropicKeyBody), async (c) => {
    const { key } = c.req.valid('json');
    await secrets.set('anthropic-key', key);
    await tasks.refreshSecrets();
    return c.json(await secrets.info('anthropic-key'));
  });
  app.delete('/api/secrets/anthropic-key', async (c) => {
    await secrets.delete('anthropic-key');
    return c.json(await secrets.info('anthropic-key'));
  });

  return app;
}
