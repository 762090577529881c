/**
 * Services on a real Docker engine, with images built from the busybox test image
 * (no registry here): install, status, probe, logs, stop/start, uninstall and purge,
 * jobs, grants, credentials, foreign containers, restore, and no engine at all.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { ensureDocker, ensureTestImage } from '../../../test/helpers/docker.ts';
import { schema } from '../db/index.ts';
import { DockerUnavailable, dockerClient } from '../docker/engine.ts';
import type { ServiceTemplate } from './catalog.ts';
import { containerName, networkName, volumeName } from './containers.ts';
import { testCatalog, testManager, uniqueName, type TestManager } from './fixtures.ts';
import { ServiceError, type InstallEvent, type ServiceView } from './manager.ts';
import type { ServiceLogLine } from './logs.ts';
import { catalogProblems } from './template.ts';

let docker: Docker;
let catalog: ServiceTemplate[];
const cleanup: (() => unknown)[] = [];
const names: string[] = [];

beforeAll(async () => {
  docker = await ensureDocker();
  const image = await ensureTestImage(docker);
  catalog = testCatalog(image, 21000 + Math.floor(Math.random() * 8000));
});

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

// Whatever a failed test left behind: only objects labelled for the names these tests made.
afterAll(async () => {
  for (const name of names) {
    for (const c of await docker.listContainers({ all: true, filters: { label: [`homeport.service=${name}`] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
    await docker.getNetwork(networkName(name)).remove().catch(() => {});
    for (const v of (await docker.listVolumes({ filters: { label: [`homeport.service=${name}`] } })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
  }
});

async function setup(options = {}): Promise<TestManager & { name: () => string }> {
  const t = await testManager(docker, catalog, options);
  cleanup.push(() => t.close());
  return {
    ...t,
    name: () => {
      const n = uniqueName();
      names.push(n);
      return n;
    },
  };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const stateIs = (t: TestManager, name: string, state: ServiceView['state']) => waitFor(`${name} ${state}`, async () => ((await t.manager.get(name)).state === state ? t.manager.get(name) : null));

async function exists(kind: 'container' | 'network' | 'volume', id: string): Promise<boolean> {
  const handle = kind === 'container' ? docker.getContainer(id) : kind === 'network' ? docker.getNetwork(id) : docker.getVolume(id);
  return handle.inspect().then(
    () => true,
    (e: { statusCode?: number }) => (e.statusCode === 404 ? false : Promise.reject(e)),
  );
}

function execIn(container: string, ...cmd: string[]): string {
  return execFileSync('docker', ['exec', container, ...cmd], { encoding: 'utf8' });
}

async function outbox(t: TestManager) {
  return (await t.store.db.select().from(schema.outbox)).filter((o) => o.topic === 'services').map((o) => ({ type: o.type, payload: JSON.parse(o.payload) }));
}

describe('services on a real engine', () => {
  it('should install, run healthy, answer on 127.0.0.1, log, stop, start, and uninstall keeping then purging its volume', { timeout: 120_000 }, async () => {
    const t = await setup();
    const name = t.name();
    const { service, done } = await t.manager.install({ template: 'web', name });
    expect(service).toMatchObject({ name, template: 'web', state: 'installing', desiredState: 'running' });
    await done;
    const running = await stateIs(t, name, 'running');
    expect(running.parts).toMatchObject([{ part: 'web', container: containerName(name, 'web'), state: 'running', health: 'healthy', probes: [{ kind: 'http', ok: true, status: 200 }] }]);
    const port = running.endpoints[0].hostPort;
    expect(running.endpoints).toEqual([{ part: 'web', label: 'Web', containerPort: 8080, hostPort: port, url: `http://127.0.0.1:${port}/` }]);

    // Docker's view: our names and labels, the port on the loopback only, the part's alias on its own network.
    const info = await docker.getContainer(containerName(name, 'web')).inspect();
    expect(info.Config.Labels).toMatchObject({ 'homeport.managed': 'true', 'homeport.kind': 'service', 'homeport.service': name, 'homeport.part': 'web', 'homeport.template': 'web' });
    expect(info.HostConfig.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] });
    expect(info.NetworkSettings.Networks[networkName(name)].Aliases).toContain('web');
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe(`hello from ${name}\n`);

    const lines = await waitFor('the request in the log', async () => {
      const l = await t.manager.logs(name);
      return l.some((x) => x.text.endsWith('url:/')) && l;
    });
    expect(lines[0]).toMatchObject({ part: 'web', stream: 'stdout', text: 'web ready' });
    expect(Math.abs(lines[0].at - Date.now())).toBeLessThan(60_000);

    // Following: a new request shows up while the stream is open.
    const followed: ServiceLogLine[] = [];
    const stop = await t.manager.followLogs(name, { tail: 0 }, (line) => followed.push(line), () => {});
    await fetch(`http://127.0.0.1:${port}/followed`);
    await waitFor('the followed line', async () => followed.some((l) => l.text.includes('/followed')));
    stop();

    const stopped = await t.manager.stop(name);
    expect(stopped).toMatchObject({ state: 'stopped', desiredState: 'stopped', parts: [{ state: 'stopped' }] });
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    expect((await t.manager.start(name)).desiredState).toBe('running');
    await stateIs(t, name, 'running');
    expect(execIn(containerName(name, 'web'), 'cat', '/data/starts')).toBe('start\nstart\n');
    const password = (await t.manager.connection(name, { reveal: true })).credentials[0].value;

    const removed = await t.manager.uninstall(name);
    expect(removed).toEqual({ name, purged: false, keptVolumes: [volumeName(name, 'data')], keptCredentials: true });
    expect(await exists('container', containerName(name, 'web'))).toBe(false);
    expect(await exists('network', networkName(name))).toBe(false);
    expect(await exists('volume', volumeName(name, 'data'))).toBe(true);
    await expect(t.manager.get(name)).rejects.toThrow(`no service "${name}" is installed`);

    // The same name again: the kept volume and credentials come back.
    await (await t.manager.install({ template: 'web', name })).done;
    await stateIs(t, name, 'running');
    expect(execIn(containerName(name, 'web'), 'cat', '/data/starts')).toBe('start\nstart\nstart\n');
    expect((await t.manager.connection(name, { reveal: true })).credentials[0].value).toBe(password);

    expect(await t.manager.uninstall(name, { purge: true })).toEqual({ name, purged: true, keptVolumes: [], keptCredentials: false });
    expect(await exists('volume', volumeName(name, 'data'))).toBe(false);
    expect(await t.secrets.namesWithPrefix(`service:${name}:`)).toEqual([]);
    const types = (await outbox(t)).map((o) => o.type);
    expect(types.filter((x) => x !== 'service.state')).toEqual(['service.updated', 'service.updated', 'service.updated', 'service.removed', 'service.updated', 'service.removed']);
  });

  it('should show a one-shot job that exited 0 as completed, and one that exited 3 as failed', { timeout: 60_000 }, async () => {
    const t = await setup();
    const ok = t.name();
    const bad = t.name();
    await (await t.manager.install({ template: 'job', name: ok })).done;
    await (await t.manager.install({ template: 'failjob', name: bad })).done;
    const completed = await stateIs(t, ok, 'completed');
    expect(completed.parts[0]).toMatchObject({ state: 'completed', exitCode: 0, job: true, detail: null });
    const failed = await stateIs(t, bad, 'failed');
    expect(failed.parts[0]).toMatchObject({ state: 'failed', exitCode: 3, detail: 'exited with code 3' });
    expect((await t.manager.logs(bad)).map((l) => [l.stream, l.text])).toEqual([['stderr', 'broken']]);
    // restore leaves a completed job alone; start runs it again.
    expect((await t.manager.restore()).restored.sort()).toEqual([ok, bad].sort());
    expect((await t.manager.logs(ok)).map((l) => l.text)).toEqual(['migrated']);
    await t.manager.start(ok);
    await waitFor('the second run', async () => (await t.manager.logs(ok)).length === 2);
    await t.manager.uninstall(ok, { purge: true });
    await t.manager.uninstall(bad, { purge: true });
  });

  it('should leave containers it did not create alone', { timeout: 60_000 }, async () => {
    const t = await setup();
    const name = t.name();
    const taken = t.name();
    const image = catalog[0].parts[0].image;
    const foreign = [
      await docker.createContainer({ name: `${containerName(name, 'web')}-copy`, Image: image, Cmd: ['sleep', '3600'] }),
      // Our service label, but not Homeport's managed label.
      await docker.createContainer({ name: `homeport-svc-${name}-other`, Image: image, Cmd: ['sleep', '3600'], Labels: { 'homeport.service': name, 'homeport.kind': 'service' } }),
      // Exactly the name Homeport would give `taken`'s web part.
      await docker.createContainer({ name: containerName(taken, 'web'), Image: image, Cmd: ['sleep', '3600'] }),
    ];
    cleanup.push(() => Promise.all(foreign.map((c) => c.remove({ force: true }).catch(() => {}))));
    await foreign[0].start();

    const refused = await t.manager.install({ template: 'web', name: taken }).catch((e) => e);
    expect(refused).toBeInstanceOf(ServiceError);
    expect(refused.status).toBe(409);
    expect(refused.message).toContain(`a container named ${containerName(taken, 'web')} exists that this homeportd did not create; it is left alone`);
    expect(await t.store.db.select().from(schema.services)).toEqual([]);

    await (await t.manager.install({ template: 'web', name })).done;
    // Another homeportd on the same engine: the same name is not its service.
    const other = await testManager(docker, catalog);
    cleanup.push(() => other.close());
    expect((await other.manager.install({ template: 'web', name }).catch((e) => e)).status).toBe(409);
    expect(await other.manager.uninstall(name, { purge: true }).catch((e) => e.status)).toBe(404);
    expect((await t.manager.get(name)).parts[0].state).not.toBe('missing');
    await t.manager.stop(name);
    await t.manager.uninstall(name, { purge: true });
    for (const c of foreign) expect(await exists('container', c.id)).toBe(true);
    expect((await foreign[0].inspect()).State.Running).toBe(true);
  });

  it('should refuse a template that needs the Docker socket until the owner grants it', { timeout: 60_000 }, async () => {
    const t = await setup();
    const name = t.name();
    const refused = await t.manager.install({ template: 'socket', name }).catch((e) => e);
    expect(refused).toBeInstanceOf(ServiceError);
    expect(refused.status).toBe(403);
    expect(refused.message).toMatch(/^Needs the socket needs your explicit grant: docker-socket for tool \(mounts the Docker socket.*\)\. Install it again with grant \["docker-socket"\] \(CLI: --grant docker-socket\) if you accept\.$/);
    expect(refused.details.needs).toEqual([{ grant: 'docker-socket', why: expect.stringContaining('act as root'), parts: ['tool'] }]);
    expect(await t.store.db.select().from(schema.services)).toEqual([]);

    await expect(t.manager.install({ template: 'socket', name, grant: ['root'] })).rejects.toThrow('"root" is not a grant Homeport knows');
    await (await t.manager.install({ template: 'socket', name, grant: ['docker-socket'] })).done;
    const view = await stateIs(t, name, 'running');
    expect(view.grants).toEqual(['docker-socket']);
    const mounts = (await docker.getContainer(containerName(name, 'tool')).inspect()).Mounts;
    expect(mounts.some((m) => m.Type === 'bind' && m.Destination === '/var/run/docker.sock')).toBe(true);
    await t.manager.uninstall(name, { purge: true });
  });

  it('should keep generated credentials only encrypted: not in the services table, the outbox or the secrets table in clear', { timeout: 60_000 }, async () => {
    const t = await setup();
    const name = t.name();
    await (await t.manager.install({ template: 'web', name })).done;
    const revealed = await t.manager.connection(name, { reveal: true });
    const password = revealed.credentials.find((c) => c.name === 'ADMIN_PASSWORD')!.value;
    expect(password).toMatch(/^[A-Za-z0-9]{24}$/);
    const port = revealed.endpoints[0].hostPort;
    expect(revealed.connections).toEqual([{ label: 'URL', value: `http://admin:${password}@127.0.0.1:${port}/` }]);
    expect(revealed.notes).toBe(`Open http://127.0.0.1:${port}/ (${name})`);
    const masked = await t.manager.connection(name);
    expect(masked).toMatchObject({ revealed: false, connections: [{ label: 'URL', value: `http://admin:********@127.0.0.1:${port}/` }], credentials: [{ name: 'ADMIN_PASSWORD', value: '********' }] });

    // The container gets it (that is what it is for)…
    expect((await docker.getContainer(containerName(name, 'web')).inspect()).Config.Env).toContain(`ADMIN_PASSWORD=${password}`);
    // …and the database only ever sees it sealed.
    const dump = async (table: string) => JSON.stringify((await t.store.client.execute(`SELECT * FROM ${table}`)).rows);
    for (const table of ['services', 'outbox', 'secrets']) expect(await dump(table)).not.toContain(password);
    expect(await dump('secrets')).toContain(`service:${name}:ADMIN_PASSWORD`);
    await t.manager.uninstall(name, { purge: true });
  });

  it('should fail an install whose image cannot be pulled with the reason, and leave nothing behind', { timeout: 60_000 }, async () => {
    const t = await setup();
    const name = t.name();
    const { done } = await t.manager.install({ template: 'absent', name });
    const events: InstallEvent[] = [];
    const job = t.manager.installEvents(name)!;
    job.follow((e) => events.push(e));
    const error = await done.catch((e) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error.message).toMatch(/^image homeport-test\/absent:1 is not on this machine and pulling it failed: .+/);
    const all = [...job.past, ...events];
    expect(all[0]).toEqual({ type: 'step', message: 'pulling homeport-test/absent:1' });
    expect(all.at(-1)).toEqual({ type: 'error', error: error.message, status: 502 });
    expect(await t.store.db.select().from(schema.services)).toEqual([]);
    expect(await exists('network', networkName(name))).toBe(false);
    expect(await exists('container', containerName(name, 'app'))).toBe(false);
    expect((await outbox(t)).map((o) => o.type)).toEqual(['service.updated', 'service.removed']);
  });

  it('should be honest about a failing health check and a port that does not answer', { timeout: 60_000 }, async () => {
    const t = await setup();
    const sick = t.name();
    const deaf = t.name();
    await (await t.manager.install({ template: 'sick', name: sick })).done;
    await (await t.manager.install({ template: 'deaf', name: deaf })).done;
    const unhealthy = await stateIs(t, sick, 'unhealthy');
    expect(unhealthy.parts[0]).toMatchObject({ state: 'unhealthy', health: 'unhealthy', detail: 'health check failing: database not ready' });
    // No health check: `starting` during the grace period, then `unhealthy` with the probe's reason.
    const notAnswering = await stateIs(t, deaf, 'unhealthy');
    const port = notAnswering.endpoints[0].hostPort;
    expect(notAnswering.parts[0].detail).toBe(`port 9999 does not answer on 127.0.0.1:${port} (connection closed at once (nothing listens behind the published port))`);
    expect(notAnswering.parts[0].probes[0]).toMatchObject({ kind: 'tcp', ok: false, hostPort: port });
    await t.manager.uninstall(sick, { purge: true });
    await t.manager.uninstall(deaf, { purge: true });
  });

  it('should start services whose desired state is running when homeportd starts again, and leave stopped ones stopped', { timeout: 90_000 }, async () => {
    const t = await setup();
    const up = t.name();
    const down = t.name();
    await (await t.manager.install({ template: 'web', name: up })).done;
    await (await t.manager.install({ template: 'web', name: down })).done;
    await stateIs(t, up, 'running');
    await t.manager.stop(down);
    // As after a reboot with an engine that did not bring it back: stopped behind Homeport's back, even removed.
    await docker.getContainer(containerName(up, 'web')).remove({ force: true });
    expect((await t.manager.get(up)).parts[0].state).toBe('missing');
    t.manager.close();

    const again = await testManager(docker, catalog, { probeGraceMs: 1000 }, t.dataDir);
    cleanup.push(() => again.close());
    expect(await again.manager.restore()).toEqual({ restored: [up], failed: [] });
    await stateIs(again, up, 'running');
    expect((await again.manager.get(down)).state).toBe('stopped');
    await again.manager.uninstall(up, { purge: true });
    await again.manager.uninstall(down, { purge: true });
  });

  it('should write runtime state changes to the outbox as the engine reports them', { timeout: 60_000 }, async () => {
    const t = await setup();
    t.manager.watch();
    const name = t.name();
    await (await t.manager.install({ template: 'web', name })).done;
    await waitFor('service.state running', async () => (await outbox(t)).some((o) => o.type === 'service.state' && o.payload.name === name && o.payload.state === 'running'));
    // Killed outside Homeport: Docker does not bring it back, and the mirror learns why it is down.
    await docker.getContainer(containerName(name, 'web')).kill();
    const killed = await waitFor('service.state after the kill', async () => (await outbox(t)).find((o) => o.type === 'service.state' && o.payload.state === 'stopped'));
    expect(killed.payload).toMatchObject({ name, parts: [{ part: 'web', state: 'stopped', exitCode: 137, detail: 'stopped outside Homeport; start brings it back' }] });
    await t.manager.uninstall(name, { purge: true });
  });
});

describe('install requests', () => {
  it('should refuse unknown templates, bad names and names taken, and number default names', { timeout: 60_000 }, async () => {
    const t = await setup();
    await expect(t.manager.install({ template: 'nope' })).rejects.toThrow('no template "nope" in the catalog; there are: web, job, failjob, socket, sick, deaf, absent');
    await expect(t.manager.install({ template: 'job', name: 'Bad_Name' })).rejects.toThrow('a service name is 1-32 lower case letters');
    const name = t.name();
    await (await t.manager.install({ template: 'job', name })).done;
    const taken = await t.manager.install({ template: 'job', name }).catch((e) => e);
    expect([taken.status, taken.message]).toEqual([409, `a service named "${name}" is already installed; choose another name ("name", or --name)`]);
    await t.manager.uninstall(name, { purge: true });
    expect(catalogProblems(catalog)).toEqual([]);

    // Without a name: the template's id, then -2, -3…
    const id = uniqueName('n');
    const numbered = await testManager(docker, [{ ...catalog.find((c) => c.id === 'job')!, id }]);
    cleanup.push(() => numbered.close());
    names.push(id, `${id}-2`);
    const first = await numbered.manager.install({ template: id });
    const second = await numbered.manager.install({ template: id });
    expect([first.service.name, second.service.name]).toEqual([id, `${id}-2`]);
    await Promise.all([first.done, second.done]);
    // Actions on one name queue up instead of tripping over each other.
    const [stopped, started] = await Promise.all([numbered.manager.stop(id), numbered.manager.start(id)]);
    expect([stopped.desiredState, started.desiredState]).toEqual(['stopped', 'running']);
    for (const n of [id, `${id}-2`]) await numbered.manager.uninstall(n, { purge: true });
  });

  it('should say plainly that there is no engine, and list services as unknown', async () => {
    const t = await setup({ docker: dockerClient({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' }) });
    await expect(t.manager.install({ template: 'job' })).rejects.toBeInstanceOf(DockerUnavailable);
    await t.store.write((tx) => tx.insert(schema.services).values({ name: 'old', template: 'job', desiredState: 'running', config: '{"ports":{},"grants":[]}', installedAt: 1, updatedAt: 1 }));
    const [view] = await t.manager.list();
    expect(view).toMatchObject({ name: 'old', state: 'unknown', detail: expect.stringContaining('no Docker engine is reachable') });
    await expect(t.manager.start('old')).rejects.toBeInstanceOf(DockerUnavailable);
    expect(await t.manager.restore()).toEqual({ restored: [], failed: [{ name: 'old', error: expect.stringContaining('no Docker engine is reachable') }] });
  });
});
