/**
 * @module
 * The services routes of the node API, as one Hono sub-app that api.ts mounts: the
 * catalog, installed services with their status, install (progress as SSE), start,
 * stop, restart, uninstall, logs (JSON or SSE follow) and connection strings (secrets
 * only with `?reveal=1`). No engine: 503 with what to do.
 */
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { streamSSE } from 'hono/streaming';
import { jsonBody } from '@homeport/shared/json-body';
import { installServiceBody } from '@homeport/shared/schemas/node-api';
import type { ApiEnv } from '../api.ts';
import { answerError } from '../api-errors.ts';
import { DockerUnavailable } from '../docker/engine.ts';
import { pump } from '../repos/api.ts';
import { GRANTS } from './catalog.ts';
import { ServiceError, type InstallEvent, type ServiceManager } from './manager.ts';
import type { ServiceLogLine } from './logs.ts';

export interface ServicesApiDeps {
  services: ServiceManager;
  log?: (message: string) => void;
}

function flag(c: Context, name: string): boolean {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '0' || raw === 'false') return false;
  if (raw === '' || raw === '1' || raw === 'true') return true;
  throw new HTTPException(400, { message: `${name} is 1 or 0` });
}

export function servicesApi({ services, log }: ServicesApiDeps) {
  const app = new Hono<ApiEnv>();
  app.onError((error, c) => {
    if (error instanceof ServiceError) return c.json({ error: error.message, ...error.details }, error.status);
    if (error instanceof DockerUnavailable) return c.json({ error: error.message }, 503);
    return answerError(error, c, log);
  });

  app.get('/api/services/catalog', (c) =>
    c.json({
      templates: services.catalog().map((t) => ({
        id: t.id,
        title: t.title,
        description: t.description,
        category: t.category,
        parts: t.parts.map((p) => ({ name: p.name, image: p.image, job: !!p.job })),
        ports: t.parts.flatMap((p) => (p.ports ?? []).filter((port) => port.host !== undefined).map((port) => ({ part: p.name, label: port.label, containerPort: port.container, hostPort: port.host }))),
        volumes: t.volumes ?? [],
        needs: (t.needs ?? []).map((grant) => ({ grant, why: GRANTS[grant] })),
        notes: t.notes ?? null,
        docs: t.docs ?? null,
      })),
    }),
  );

  app.get('/api/services', async (c) => c.json({ services: await services.list() }));

  // {template, name?, grant?}: 202 with the service (state `installing`) and where to follow the install.
  app.post('/api/services', jsonBody(installServiceBody), async (c) => {
    const b = c.req.valid('json');
    const { service } = await services.install({ template: b.template, name: b.name, grant: b.grant });
    return c.json({ service, progress: `/api/services/${service.name}/progress` }, 202);
  });

  app.get('/api/services/:name', async (c) => c.json(await services.get(c.req.param('name'))));

  // Install progress as SSE: `step` and `pull` events, then one `done` or `error`.
  app.get('/api/services/:name/progress', async (c) => {
    const name = c.req.param('name');
    let job = services.installEvents(name);
    if (!job) {
      const service = await services.get(name);
      job = { past: [{ type: 'done', service }], finished: true, follow: () => () => {} };
    }
    const j = job;
    return streamSSE(c, (stream) =>
      pump<InstallEvent>(
        stream,
        j.past,
        j.finished ? null : (push) => j.follow(push),
        (e) => stream.writeSSE({ event: e.type, data: JSON.stringify(e) }),
        (e) => e.type === 'done' || e.type === 'error',
      ),
    );
  });

  app.post('/api/services/:name/start', async (c) => c.json({ service: await services.start(c.req.param('name')) }));
  app.post('/api/services/:name/stop', async (c) => c.json({ service: await services.stop(c.req.param('name')) }));
  app.post('/api/services/:name/restart', async (c) => c.json({ service: await services.restart(c.req.param('name')) }));

  app.delete('/api/services/:name', async (c) => c.json(await services.uninstall(c.req.param('name'), { purge: flag(c, 'purge') })));

  // Logs: JSON `{lines}` (?tail=N, ?part=p), or SSE with ?follow=1 (event `log` per line, `end` when every container stopped).
  app.get('/api/services/:name/logs', async (c) => {
    const name = c.req.param('name');
    const tailRaw = c.req.query('tail');
    const tail = tailRaw === undefined ? 200 : Number(tailRaw);
    if (!Number.isInteger(tail) || tail < 0 || tail > 10_000) throw new HTTPException(400, { message: 'tail is a number of lines from 0 to 10000' });
    const part = c.req.query('part');
    if (!flag(c, 'follow')) return c.json({ name, lines: await services.logs(name, { tail, part }) });
    type Item = ServiceLogLine | { end: true };
    const queue: Item[] = [];
    let push: ((item: Item) => void) | null = null;
    const deliver = (item: Item) => (push ? push(item) : queue.push(item));
    const stop = await services.followLogs(name, { tail, part }, deliver, () => deliver({ end: true }));
    return streamSSE(c, async (stream) => {
      try {
        await pump<Item>(
          stream,
          [],
          (p) => {
            push = p;
            for (const item of queue.splice(0)) p(item);
            return () => (push = null);
          },
          (item) => ('end' in item ? stream.writeSSE({ event: 'end', data: '{}' }) : stream.writeSSE({ event: 'log', data: JSON.stringify(item) })),
          (item) => 'end' in item,
        );
      } finally {
        stop();
      }
    });
  });

  app.get('/api/services/:name/connection', async (c) => c.json(await services.connection(c.req.param('name'), { reveal: flag(c, 'reveal') })));

  return app;
}
