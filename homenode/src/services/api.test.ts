/** The /api/services routes through the node API (createApi), on a real Docker engine. */

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { ensureDocker, ensureTestImage } from '../../../test/helpers/docker.ts';
import { createApi } from '../api.ts';
import { loadConfig } from '../config.ts';
import { dockerClient } from '../docker/engine.ts';
import { NodeState } from '../node-state.ts';
import { PortSettingsStore } from '../port-settings.ts';
import type { ServiceTemplate } from './catalog.ts';
import { networkName } from './containers.ts';
import { testCatalog, testManager, uniqueName } from './fixtures.ts';

let docker: Docker;
let catalog: ServiceTemplate[];
const cleanup: (() => unknown)[] = [];
const names: string[] = [];

beforeAll(async () => {
  docker = await ensureDocker();
  catalog = testCatalog(await ensureTestImage(docker), 21000 + Math.floor(Math.random() * 8000));
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
afterAll(async () => {
  for (const name of names) {
    for (const c of await docker.listContainers({ all: true, filters: { label: [`homeport.service=${name}`] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
    await docker.getNetwork(networkName(name)).remove().catch(() => {});
    for (const v of (await docker.listVolumes({ filters: { label: [`homeport.service=${name}`] } })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
  }
});

async function setup(engine: Docker = docker) {
  const t = await testManager(engine, catalog);
  cleanup.push(() => t.close());
  const config = loadConfig({ HOMEPORT_HOME: t.dataDir });
  const state = new NodeState(config, new PortSettingsStore(t.dataDir));
  const api = createApi({ state, tunnel: () => null, localToken: 'local-token', services: { services: t.manager } });
  const request = async (method: string, path: string, body?: unknown) => {
    const res = await api.request(path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) }, { door: 'socket' });
    const text = await res.text();
    let json: Record<string, any> = {};
    try {
      json = JSON.parse(text);
    } catch {
      // SSE
    }
    return { status: res.status, json, text, headers: res.headers };
  };
  /** Opens an SSE route and reads events until `until` says stop (or the stream ends). */
  const sse = async (path: string, until: (e: { event: string; data: any }) => boolean, during?: () => Promise<unknown>) => {
    const res = await api.request(path, {}, { door: 'socket' });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const seen: { event: string; data: any }[] = [];
    let buffer = '';
    let kicked: Promise<unknown> | null = null;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      let stop = false;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const field = (name: string) => block.split('\n').find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1).trim();
        if (!field('data')) continue;
        const e = { event: field('event') ?? 'message', data: JSON.parse(field('data')!) };
        seen.push(e);
        if (until(e)) stop = true;
      }
      if (stop) break;
      if (during && !kicked && seen.length) kicked = during();
    }
    await reader.cancel().catch(() => {});
    await kicked;
    return seen;
  };
  const name = () => {
    const n = uniqueName();
    names.push(n);
    return n;
  };
  return { ...t, api, request, sse, name, dataDir: t.dataDir };
}

describe('services API', () => {
  it('should list the catalog with what each template needs and why', async () => {
    const { request } = await setup();
    const { status, json } = await request('GET', '/api/services/catalog');
    expect(status).toBe(200);
    expect(json.templates.map((t: { id: string }) => t.id)).toEqual(catalog.map((t) => t.id));
    expect(json.templates.find((t: { id: string }) => t.id === 'socket').needs).toEqual([{ grant: 'docker-socket', why: expect.stringContaining('Docker socket') }]);
    expect(json.templates[0]).toMatchObject({ id: 'web', parts: [{ name: 'web', job: false }], ports: [{ part: 'web', label: 'Web', containerPort: 8080 }], volumes: ['data'] });
  });

  it('should refuse bad installs with clear errors and change nothing', async () => {
    const { request } = await setup();
    expect(await request('POST', '/api/services', 'not json')).toMatchObject({ status: 400, json: { error: 'Malformed JSON in request body' } });
    expect(await request('POST', '/api/services', { template: 'mongo-but-wrong' })).toMatchObject({ status: 400, json: { error: expect.stringContaining('no template "mongo-but-wrong" in the catalog') } });
    expect(await request('POST', '/api/services', { template: 'web', name: '-x' })).toMatchObject({ status: 400 });
    expect(await request('POST', '/api/services', { template: 'web', grant: 'docker-socket' })).toMatchObject({ status: 400, json: { error: 'grant must be a list' } });
    const forbidden = await request('POST', '/api/services', { template: 'socket' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json).toEqual({ error: expect.stringContaining('needs your explicit grant: docker-socket'), needs: [{ grant: 'docker-socket', why: expect.any(String), parts: ['tool'] }] });
    expect((await request('GET', '/api/services')).json).toEqual({ services: [] });
    expect(await request('GET', '/api/services/nothing')).toMatchObject({ status: 404, json: { error: 'no service "nothing" is installed (`homeport services` lists them)' } });
  });

  it('should install with 202 and SSE progress, then run, show, connect, log, stop and remove it', { timeout: 120_000 }, async () => {
    const { request, sse, name: fresh } = await setup();
    const name = fresh();
    const created = await request('POST', '/api/services', { template: 'web', name });
    expect(created.status).toBe(202);
    expect(created.json).toMatchObject({ service: { name, state: 'installing' }, progress: `/api/services/${name}/progress` });
    const progress = await sse(created.json.progress, (e) => e.event === 'done' || e.event === 'error');
    expect(progress.at(-1)).toMatchObject({ event: 'done', data: { type: 'done', service: { name, template: 'web' } } });
    expect(progress.filter((e) => e.event === 'step').map((e) => e.data.message)).toEqual([`created network ${networkName(name)}`, `created volume homeport-svc-${name}-data`, `created container homeport-svc-${name}-web`, `started homeport-svc-${name}-web`]);
    // Read again after the end: the same outcome.
    expect((await sse(created.json.progress, (e) => e.event === 'done')).at(-1)!.event).toBe('done');

    const taken = await request('POST', '/api/services', { template: 'web', name });
    expect(taken).toMatchObject({ status: 409, json: { error: expect.stringContaining('already installed') } });

    let view: Record<string, any> = {};
    for (let i = 0; i < 100 && view.state !== 'running'; i++) {
      view = (await request('GET', `/api/services/${name}`)).json;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(view).toMatchObject({ state: 'running', parts: [{ part: 'web', state: 'running', health: 'healthy' }] });
    const listed = (await request('GET', '/api/services')).json.services;
    expect(listed.map((s: { name: string; state: string }) => [s.name, s.state])).toEqual([[name, 'running']]);

    const masked = await request('GET', `/api/services/${name}/connection`);
    expect(masked.json.connections[0].value).toContain('admin:********@127.0.0.1:');
    expect(masked.text).not.toMatch(/ADMIN_PASSWORD","value":"[A-Za-z0-9]{24}"/);
    const revealed = await request('GET', `/api/services/${name}/connection?reveal=1`);
    expect(revealed.json.credentials[0].value).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(revealed.json.connections[0].value).toBe(`http://admin:${revealed.json.credentials[0].value}@127.0.0.1:${view.endpoints[0].hostPort}/`);
    expect((await request('GET', `/api/services/${name}/connection?reveal=maybe`)).status).toBe(400);

    const logs = await request('GET', `/api/services/${name}/logs?tail=500`);
    expect(logs.json.lines.map((l: { part: string; text: string }) => [l.part, l.text])).toContainEqual(['web', 'web ready']);
    expect((await request('GET', `/api/services/${name}/logs?part=nope`)).json.error).toBe(`${name} has no part "nope" (it has web)`);
    expect((await request('GET', `/api/services/${name}/logs?tail=-1`)).status).toBe(400);

    // Following: the past lines, then `end` once the service is stopped.
    const followed = await sse(`/api/services/${name}/logs?follow=1&tail=5`, (e) => e.event === 'end', () => request('POST', `/api/services/${name}/stop`));
    expect(followed[0]).toMatchObject({ event: 'log', data: { part: 'web', stream: expect.any(String), text: expect.any(String) } });
    expect(followed.at(-1)!.event).toBe('end');
    expect((await request('GET', `/api/services/${name}`)).json).toMatchObject({ state: 'stopped', desiredState: 'stopped' });

    const restarted = await request('POST', `/api/services/${name}/restart`);
    expect(restarted).toMatchObject({ status: 200, json: { service: { desiredState: 'running' } } });
    expect((await request('POST', `/api/services/${name}/start`)).status).toBe(200);

    expect((await request('DELETE', `/api/services/${name}?purge=sure`)).status).toBe(400);
    expect(await request('DELETE', `/api/services/${name}?purge=1`)).toMatchObject({ status: 200, json: { name, purged: true, keptVolumes: [] } });
    expect((await request('DELETE', `/api/services/${name}`)).status).toBe(404);
  });

  it('should answer 503 with what to do when there is no Docker engine', async () => {
    const { request } = await setup(dockerClient({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' }));
    const res = await request('POST', '/api/services', { template: 'job' });
    expect(res.status).toBe(503);
    expect(res.json.error).toMatch(/^no Docker engine is reachable \(.*\)\. Install Docker and start it, or point DOCKER_HOST at one/);
    expect((await request('GET', '/api/services/catalog')).status).toBe(200);
    expect((await request('GET', '/api/services')).status).toBe(200);
  });
});


