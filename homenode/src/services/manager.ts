/**
 * @module
 * Services installed from the catalog, run as Docker containers: install (network,
 * volumes, containers; images pulled with progress; credentials generated into the
 * vault), start, stop, restart, uninstall (volumes and credentials kept unless purged),
 * honest status, logs, connection strings, and restore after homeportd restarts. The
 * owner's desired state lives in the `services` table; changes go to the outbox.
 */
import net from 'node:net';
import { eq } from 'drizzle-orm';
import type Docker from 'dockerode';
import { recordChange, schema, type Store, type Tx } from '../db/index.ts';
import { DockerUnavailable, engineError, requireEngine } from '../docker/engine.ts';
import type { SecretName, SecretStore } from '../vault.ts';
import { CATALOG, GRANTS, type Grant, type ServiceTemplate } from './catalog.ts';
import { BIND_HOST, containerName, containerSpec, isOurs, networkName, SERVICE_LABEL, SERVICE_NAME, serviceFilter, serviceLabels, TEMPLATE_LABEL, VOLUME_LABEL, volumeName } from './containers.ts';
import { followLogs, readLogs, type LogSource, type ServiceLogLine } from './logs.ts';
import { engineMessage, imagePresent, pullImage, PullError, type PullProgress } from './pull.ts';
import { partStatus, probeHttp, probeTcp, serviceState, type PartStatus, type ProbeResult, type ServiceState } from './status.ts';
import { generateSecret, portKey, render, type RenderContext } from './template.ts';

export type ServiceRow = typeof schema.services.$inferSelect;

/** A request Homeport refuses, said for people; `details` go into the JSON answer. */
export class ServiceError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 422 | 502,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Kept in `services.config`: never a secret. */
export interface ServiceConfig {
  /** host ports by `part:containerPort` */
  ports: Record<string, number>;
  grants: Grant[];
}

export interface Endpoint {
  part: string;
  label: string;
  containerPort: number;
  hostPort: number;
  /** for HTTP ports: where to open it on this machine */
  url: string | null;
}

export interface ServiceView {
  name: string;
  template: string;
  title: string;
  desiredState: 'running' | 'stopped';
  state: ServiceState;
  parts: PartStatus[];
  endpoints: Endpoint[];
  grants: Grant[];
  installedAt: number;
  updatedAt: number;
  /** why the state is `unknown` (no engine), or what the install is doing */
  detail: string | null;
}

export type InstallEvent =
  | { type: 'step'; message: string }
  | { type: 'pull'; progress: PullProgress }
  | { type: 'done'; service: ServiceView }
  | { type: 'error'; error: string; status: number };

interface InstallJob {
  past: InstallEvent[];
  finished: boolean;
  listeners: Set<(e: InstallEvent) => void>;
}

export interface ServiceManagerOptions {
  /** who this homeportd is on a shared engine (its data dir): labels its objects */
  owner: string;
  store: Store;
  secrets: SecretStore;
  docker: Docker;
  catalog?: ServiceTemplate[];
  log?: (message: string) => void;
  probeTimeoutMs?: number;
  /** how long a part without health check may fail its probe after starting */
  probeGraceMs?: number;
  /** seconds Docker waits after the stop signal before killing */
  stopTimeoutS?: number;
}

const secretName = (service: string, variable: string) => `service:${service}:${variable}` as SecretName;
const secretPrefix = (service: string) => `service:${service}:`;
const MASK = '********';

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number })?.statusCode;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, BIND_HOST, () => server.close(() => resolve(true)));
  });
}

export class ServiceManager {
  readonly #catalog: ServiceTemplate[];
  readonly #log: (message: string) => void;
  readonly #jobs = new Map<string, InstallJob>();
  /** names being installed (other actions on them wait for nothing: they are refused) */
  readonly #installing = new Set<string>();
  /** per name, the tail of its queue of start/stop/restart/uninstall/restore: one at a time, in order */
  readonly #queues = new Map<string, Promise<unknown>>();
  /** the last `service.state` written per service, so unchanged states stay out of the outbox */
  readonly #recorded = new Map<string, string>();
  #events: NodeJS.ReadableStream | null = null;
  #watching = false;
  #refreshTimers = new Map<string, NodeJS.Timeout>();

  constructor(readonly options: ServiceManagerOptions) {
    this.#catalog = options.catalog ?? CATALOG;
    this.#log = options.log ?? (() => {});
  }

  get #docker() {
    return this.options.docker;
  }

  #ours(labels: Record<string, string> | null | undefined, name: string) {
    return isOurs(labels, this.options.owner, name);
  }

  #labels(name: string, template: string, extra: Record<string, string> = {}) {
    return serviceLabels(this.options.owner, name, template, extra);
  }

  #filter(name?: string) {
    return serviceFilter(this.options.owner, name);
  }

  catalog(): ServiceTemplate[] {
    return this.#catalog;
  }

  template(id: string): ServiceTemplate | undefined {
    return this.#catalog.find((t) => t.id === id);
  }

  async #row(name: string): Promise<ServiceRow | undefined> {
    const [row] = await this.options.store.db.select().from(schema.services).where(eq(schema.services.name, name));
    return row;
  }

  async #find(name: string): Promise<{ row: ServiceRow; template: ServiceTemplate; config: ServiceConfig }> {
    const row = await this.#row(name);
    if (!row) throw new ServiceError(404, `no service "${name}" is installed (\`homeport services\` lists them)`);
    const template = this.template(row.template);
    if (!template) throw new ServiceError(409, `service "${name}" was installed from "${row.template}", which this homeportd's catalog no longer has`);
    return { row, template, config: JSON.parse(row.config) as ServiceConfig };
  }

  async #engine() {
    await requireEngine(this.#docker);
  }

  // ---- status ------------------------------------------------------------

  async #inspect(name: string): Promise<Docker.ContainerInspectInfo | null> {
    try {
      return await this.#docker.getContainer(name).inspect();
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw engineError(error);
    }
  }

  #endpoints(template: ServiceTemplate, config: ServiceConfig): Endpoint[] {
    const out: Endpoint[] = [];
    for (const part of template.parts)
      for (const port of part.ports ?? []) {
        const hostPort = config.ports[portKey(part.name, port.container)];
        if (hostPort === undefined) continue;
        out.push({ part: part.name, label: port.label, containerPort: port.container, hostPort, url: port.http !== undefined ? `http://${BIND_HOST}:${hostPort}/` : null });
      }
    return out;
  }

  async #partStatuses(row: ServiceRow, template: ServiceTemplate, config: ServiceConfig): Promise<PartStatus[]> {
    const timeout = this.options.probeTimeoutMs ?? 1000;
    return Promise.all(
      template.parts.map(async (part) => {
        const name = containerName(row.name, part.name);
        let inspect = await this.#inspect(name);
        // A container with our name that is not ours is not this service's.
        if (inspect && !this.#ours(inspect.Config.Labels, row.name)) inspect = null;
        const probes: ProbeResult[] = [];
        if (inspect?.State.Running)
          for (const port of part.ports ?? []) {
            const hostPort = config.ports[portKey(part.name, port.container)];
            if (hostPort === undefined) continue;
            const result = port.http !== undefined ? await probeHttp(hostPort, port.http, timeout) : await probeTcp(hostPort, timeout);
            probes.push({ containerPort: port.container, hostPort, kind: port.http !== undefined ? 'http' : 'tcp', ...result });
          }
        return partStatus({ part: part.name, container: name, image: part.image, job: !!part.job, desired: row.desiredState, inspect, probes, now: Date.now(), graceMs: this.options.probeGraceMs ?? 30_000 });
      }),
    );
  }

  async #view(row: ServiceRow): Promise<ServiceView> {
    const template = this.template(row.template);
    const config = JSON.parse(row.config) as ServiceConfig;
    const base = {
      name: row.name,
      template: row.template,
      title: template?.title ?? row.template,
      desiredState: row.desiredState,
      endpoints: template ? this.#endpoints(template, config) : [],
      grants: config.grants,
      installedAt: row.installedAt,
      updatedAt: row.updatedAt,
    };
    const job = this.#jobs.get(row.name);
    if (job && !job.finished) {
      const last = job.past.at(-1);
      const detail = last?.type === 'pull' ? `pulling ${last.progress.image}: ${last.progress.percent}%` : last?.type === 'step' ? last.message : 'installing';
      return { ...base, state: 'installing', parts: [], detail };
    }
    if (!template) return { ...base, state: 'unknown', parts: [], detail: `the catalog has no template "${row.template}"` };
    try {
      const parts = await this.#partStatuses(row, template, config);
      return { ...base, state: serviceState(parts.map((p) => p.state)), parts, detail: null };
    } catch (error) {
      const mapped = engineError(error);
      if (mapped instanceof DockerUnavailable) return { ...base, state: 'unknown', parts: [], detail: mapped.message };
      throw mapped;
    }
  }

  async list(): Promise<ServiceView[]> {
    const rows = await this.options.store.db.select().from(schema.services).orderBy(schema.services.name);
    return Promise.all(rows.map((row) => this.#view(row)));
  }

  async get(name: string): Promise<ServiceView> {
    const row = await this.#row(name);
    if (!row) throw new ServiceError(404, `no service "${name}" is installed (\`homeport services\` lists them)`);
    return this.#view(row);
  }

  // ---- install -----------------------------------------------------------

  /** Checks the request, reserves the name, stores credentials; the containers come in the background (`done`, `installEvents`). */
  async install(input: { template?: unknown; name?: unknown; grant?: unknown }): Promise<{ service: ServiceView; done: Promise<ServiceView> }> {
    if (typeof input.template !== 'string' || !input.template) throw new ServiceError(400, 'say which template to install: {"template": "postgres"} (GET /api/services/catalog lists them)');
    const template = this.template(input.template);
    if (!template) throw new ServiceError(400, `no template "${input.template}" in the catalog; there are: ${this.#catalog.map((t) => t.id).join(', ')}`);
    if (input.grant !== undefined && (!Array.isArray(input.grant) || !input.grant.every((g) => typeof g === 'string')))
      throw new ServiceError(400, 'grant is a list of privileges, e.g. ["docker-socket"]');
    const grants = [...new Set((input.grant ?? []) as string[])].sort();
    for (const g of grants) if (!(g in GRANTS)) throw new ServiceError(400, `"${g}" is not a grant Homeport knows (${Object.keys(GRANTS).join(', ')})`);
    if (input.name !== undefined && (typeof input.name !== 'string' || !SERVICE_NAME.test(input.name)))
      throw new ServiceError(400, 'a service name is 1-32 lower case letters, digits and dashes, starting with a letter and not ending with a dash');
    const missing = (template.needs ?? []).filter((g) => !grants.includes(g));
    if (missing.length) {
      const needs = missing.map((grant) => ({ grant, why: GRANTS[grant], parts: template.parts.filter((p) => (grant === 'docker-socket' ? p.dockerSocket : p.privileged)).map((p) => p.name) }));
      throw new ServiceError(
        403,
        `${template.title} needs your explicit grant: ${needs.map((n) => `${n.grant} for ${n.parts.join(', ')} (${n.why})`).join('; ')}. ` +
          `Install it again with grant ${JSON.stringify(missing)} (CLI: ${missing.map((g) => `--grant ${g}`).join(' ')}) if you accept.`,
        { needs },
      );
    }
    await this.#engine();
    const name = (input.name as string | undefined) ?? (await this.#freeName(template.id));
    if (this.#installing.has(name) || this.#queues.has(name) || (await this.#row(name))) throw new ServiceError(409, `a service named "${name}" is already installed; choose another name ("name", or --name)`);
    this.#installing.add(name);
    try {
      await this.#refuseForeign(name, template);
      const ports = await this.#allocatePorts(template);
      const kept = new Set(await this.options.secrets.namesWithPrefix(secretPrefix(name)));
      const fresh: Record<string, string> = {};
      for (const [variable, kind] of Object.entries(template.secrets ?? {})) if (!kept.has(secretName(name, variable))) fresh[variable] = generateSecret(kind);
      const config: ServiceConfig = { ports, grants: grants as Grant[] };
      const now = Date.now();
      const row: ServiceRow = { name, template: template.id, desiredState: 'running', config: JSON.stringify(config), installedAt: now, updatedAt: now };
      await this.options.store.write(async (tx) => {
        await tx.insert(schema.services).values(row);
        for (const [variable, value] of Object.entries(fresh)) await this.options.secrets.setIn(tx, secretName(name, variable), value);
        await this.#recordUpdated(tx, row, template, config);
      });
      const job: InstallJob = { past: [], finished: false, listeners: new Set() };
      this.#jobs.set(name, job);
      const done = this.#runInstall(name, template, job, Object.keys(fresh));
      done.catch(() => {});
      return { service: await this.#view(row), done };
    } catch (error) {
      this.#installing.delete(name);
      throw error;
    }
  }

  async #freeName(base: string): Promise<string> {
    for (let i = 1; i < 100; i++) {
      const name = i === 1 ? base : `${base}-${i}`;
      if (!this.#installing.has(name) && !(await this.#row(name))) return name;
    }
    throw new ServiceError(409, `too many services named ${base}-N; give a name`);
  }

  /** A container, network or volume with one of our names that Homeport did not make for this service stops the install. */
  async #refuseForeign(name: string, template: ServiceTemplate) {
    for (const part of template.parts) {
      const info = await this.#inspect(containerName(name, part.name));
      if (info && !this.#ours(info.Config.Labels, name))
        throw new ServiceError(409, `a container named ${containerName(name, part.name)} exists that this homeportd did not create; it is left alone. Install under another name, or remove that container yourself`);
    }
    const network = await this.#docker
      .getNetwork(networkName(name))
      .inspect()
      .catch((e) => (statusOf(e) === 404 ? null : Promise.reject(engineError(e))));
    if (network && !this.#ours(network.Labels, name)) throw new ServiceError(409, `a network named ${networkName(name)} exists that this homeportd did not create; install under another name`);
    for (const volume of template.volumes ?? []) {
      const info = await this.#docker
        .getVolume(volumeName(name, volume))
        .inspect()
        .catch((e) => (statusOf(e) === 404 ? null : Promise.reject(engineError(e))));
      if (!info) continue;
      if (!this.#ours(info.Labels, name)) throw new ServiceError(409, `a volume named ${volumeName(name, volume)} exists that this homeportd did not create; install under another name`);
      if (info.Labels[TEMPLATE_LABEL] !== template.id)
        throw new ServiceError(409, `"${name}" was a ${info.Labels[TEMPLATE_LABEL]} service whose volumes are kept; remove them first (\`homeport services rm ${name} --purge\`) or choose another name`);
    }
  }

  /** The template's host ports, or the next free ones above them (other services' ports and anything listening are skipped). */
  async #allocatePorts(template: ServiceTemplate): Promise<Record<string, number>> {
    const taken = new Set<number>();
    for (const row of await this.options.store.db.select({ config: schema.services.config }).from(schema.services))
      for (const port of Object.values((JSON.parse(row.config) as ServiceConfig).ports ?? {})) taken.add(port);
    const ports: Record<string, number> = {};
    for (const part of template.parts)
      for (const port of part.ports ?? []) {
        if (port.host === undefined) continue;
        let candidate = port.host;
        while (taken.has(candidate) || !(await isFree(candidate))) {
          candidate++;
          if (candidate > 65535 || candidate > port.host + 200) throw new ServiceError(409, `no free port near ${port.host} for ${template.title}'s ${port.label}`);
        }
        taken.add(candidate);
        ports[portKey(part.name, port.container)] = candidate;
      }
    return ports;
  }

  #emit(job: InstallJob, event: InstallEvent) {
    // Only the latest figure per image is kept for late readers; steps are all kept.
    const last = job.past.at(-1);
    if (event.type === 'pull' && last?.type === 'pull' && last.progress.image === event.progress.image) job.past[job.past.length - 1] = event;
    else job.past.push(event);
    for (const listener of job.listeners) listener(event);
  }

  async #runInstall(name: string, template: ServiceTemplate, job: InstallJob, freshSecrets: string[]): Promise<ServiceView> {
    const emit = (e: InstallEvent) => this.#emit(job, e);
    const existingVolumes = new Set<string>();
    try {
      for (const volume of template.volumes ?? []) {
        const info = await this.#docker
          .getVolume(volumeName(name, volume))
          .inspect()
          .catch(() => null);
        if (info) existingVolumes.add(volume);
      }
      if (existingVolumes.size) emit({ type: 'step', message: `reusing kept volumes: ${[...existingVolumes].map((v) => volumeName(name, v)).join(', ')}` });
      await this.#provision(name, { pull: true, runJobs: true, emit });
      job.finished = true;
      const service = await this.get(name);
      emit({ type: 'done', service });
      this.#log(`service ${name} (${template.id}) installed`);
      void this.#refreshState(name);
      return service;
    } catch (error) {
      const mapped = engineError(error);
      const message = mapped instanceof ServiceError || mapped instanceof PullError || mapped instanceof DockerUnavailable ? (mapped as Error).message : `install failed: ${engineMessage(mapped)}`;
      this.#log(`service ${name} (${template.id}): ${message}; undoing the install`);
      await this.#undoInstall(name, template, existingVolumes, freshSecrets).catch((e) => this.#log(`service ${name}: undoing the install failed too: ${e.message}`));
      job.finished = true;
      emit({ type: 'error', error: message, status: mapped instanceof ServiceError ? mapped.status : mapped instanceof DockerUnavailable ? 503 : 502 });
      throw mapped instanceof ServiceError || mapped instanceof DockerUnavailable ? mapped : new ServiceError(502, message);
    } finally {
      this.#installing.delete(name);
      // Late readers of the progress stream still see how it ended, for a while.
      setTimeout(() => this.#jobs.get(name) === job && this.#jobs.delete(name), 10 * 60_000).unref();
    }
  }

  /** Takes back a failed install: its containers, network, the volumes and credentials it made, the row. */
  async #undoInstall(name: string, template: ServiceTemplate, existingVolumes: Set<string>, freshSecrets: string[]) {
    await this.#removeContainers(name);
    await this.#removeNetwork(name);
    for (const volume of template.volumes ?? []) if (!existingVolumes.has(volume)) await this.#removeVolume(name, volume);
    await this.options.store.write(async (tx) => {
      await tx.delete(schema.services).where(eq(schema.services.name, name));
      for (const variable of freshSecrets) await this.options.secrets.deleteIn(tx, secretName(name, variable));
      await recordChange(tx, 'services', 'service.removed', { name });
    });
  }

  /** Progress of an install under way (or finished in the last minutes), for the SSE route. */
  installEvents(name: string): { past: InstallEvent[]; finished: boolean; follow: (push: (e: InstallEvent) => void) => () => void } | null {
    const job = this.#jobs.get(name);
    if (!job) return null;
    return {
      past: [...job.past],
      finished: job.finished,
      follow: (push) => {
        job.listeners.add(push);
        return () => job.listeners.delete(push);
      },
    };
  }

  // ---- provisioning ------------------------------------------------------

  async #secretsOf(name: string, template: ServiceTemplate): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const variable of Object.keys(template.secrets ?? {})) {
      const value = await this.options.secrets.get(secretName(name, variable));
      if (value === null) throw new ServiceError(409, `the credential ${variable} of "${name}" is missing from the vault; reinstall the service (\`homeport services rm ${name}\`, then \`homeport up\`)`);
      out[variable] = value;
    }
    return out;
  }

  #dockerSocketPath(): string | null {
    const modem = this.#docker.modem as { socketPath?: string };
    return typeof modem.socketPath === 'string' ? modem.socketPath : null;
  }

  /**
   * Makes every object of the service exist (pulling missing images when `pull`), then
   * starts the parts in order: jobs only when `runJobs` (install and start run them
   * again; restore leaves a completed job alone).
   */
  async #provision(name: string, opts: { pull: boolean; runJobs: boolean; emit?: (e: InstallEvent) => void }) {
    const { template, config } = await this.#find(name);
    const emit = opts.emit ?? (() => {});
    const ctx: RenderContext = { name, network: networkName(name), secrets: await this.#secretsOf(name, template), ports: config.ports };
    for (const image of new Set(template.parts.map((p) => p.image))) {
      if (await imagePresent(this.#docker, image)) continue;
      if (!opts.pull) throw new ServiceError(409, `image ${image} is no longer on this machine; \`homeport up ${name}\` pulls it`);
      emit({ type: 'step', message: `pulling ${image}` });
      await pullImage(this.#docker, image, (progress) => emit({ type: 'pull', progress }));
    }
    const network = await this.#docker
      .getNetwork(networkName(name))
      .inspect()
      .catch((e) => (statusOf(e) === 404 ? null : Promise.reject(engineError(e))));
    if (!network) {
      await this.#docker.createNetwork({ Name: networkName(name), Driver: 'bridge', CheckDuplicate: true, Labels: this.#labels(name, template.id) });
      emit({ type: 'step', message: `created network ${networkName(name)}` });
    } else if (!this.#ours(network.Labels, name)) throw new ServiceError(409, `a network named ${networkName(name)} exists that this homeportd did not create`);
    for (const volume of template.volumes ?? []) {
      const info = await this.#docker
        .getVolume(volumeName(name, volume))
        .inspect()
        .catch((e) => (statusOf(e) === 404 ? null : Promise.reject(engineError(e))));
      if (info && !this.#ours(info.Labels, name)) throw new ServiceError(409, `a volume named ${volumeName(name, volume)} exists that this homeportd did not create`);
      if (!info) {
        await this.#docker.createVolume({ Name: volumeName(name, volume), Labels: this.#labels(name, template.id, { [VOLUME_LABEL]: volume }) });
        emit({ type: 'step', message: `created volume ${volumeName(name, volume)}` });
      }
    }
    for (const part of template.parts) {
      const cname = containerName(name, part.name);
      let info = await this.#inspect(cname);
      if (info && !this.#ours(info.Config.Labels, name)) throw new ServiceError(409, `a container named ${cname} exists that this homeportd did not create; it is left alone`);
      if (!info) {
        await this.#docker.createContainer(containerSpec({ owner: this.options.owner, service: name, template, part, ctx, grants: config.grants, dockerSocketPath: this.#dockerSocketPath() }));
        emit({ type: 'step', message: `created container ${cname}` });
        info = await this.#inspect(cname);
      }
      if (info?.State.Running) continue;
      const jobDone = part.job && info?.State.Status === 'exited' && info.State.ExitCode === 0;
      if (part.job && !opts.runJobs && jobDone) continue;
      try {
        await this.#docker.getContainer(cname).start();
      } catch (error) {
        if (statusOf(error) === 304) continue;
        const mapped = engineError(error);
        if (mapped instanceof DockerUnavailable) throw mapped;
        throw new ServiceError(409, `${cname} did not start: ${engineMessage(error)}`);
      }
      emit({ type: 'step', message: `started ${cname}` });
    }
  }

  // ---- lifecycle ---------------------------------------------------------

  async #setDesired(name: string, desiredState: 'running' | 'stopped') {
    const { row, template, config } = await this.#find(name);
    const updated = { ...row, desiredState, updatedAt: Date.now() };
    await this.options.store.write(async (tx) => {
      await tx.update(schema.services).set({ desiredState, updatedAt: updated.updatedAt }).where(eq(schema.services.name, name));
      await this.#recordUpdated(tx, updated, template, config);
    });
  }

  async #recordUpdated(tx: Tx, row: ServiceRow, template: ServiceTemplate, config: ServiceConfig) {
    await recordChange(tx, 'services', 'service.updated', {
      name: row.name,
      template: row.template,
      title: template.title,
      desiredState: row.desiredState,
      endpoints: this.#endpoints(template, config),
      grants: config.grants,
      installedAt: row.installedAt,
      updatedAt: row.updatedAt,
    });
  }

  /** Runs `fn` after the name's earlier actions (a stop right after a start waits for it). */
  #exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (this.#installing.has(name)) return Promise.reject(new ServiceError(409, `"${name}" is still being installed; wait until it is done (GET /api/services/${name}/progress)`));
    const run = (this.#queues.get(name) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => {});
    this.#queues.set(name, tail);
    void tail.then(() => this.#queues.get(name) === tail && this.#queues.delete(name));
    return run;
  }

  async start(name: string): Promise<ServiceView> {
    await this.#find(name);
    await this.#engine();
    return this.#exclusive(name, async () => {
      await this.#setDesired(name, 'running');
      await this.#provision(name, { pull: true, runJobs: true });
      void this.#refreshState(name);
      return this.get(name);
    });
  }

  async stop(name: string): Promise<ServiceView> {
    const { template } = await this.#find(name);
    await this.#engine();
    return this.#exclusive(name, async () => {
      await this.#setDesired(name, 'stopped');
      await this.#stopParts(name, template);
      void this.#refreshState(name);
      return this.get(name);
    });
  }

  async restart(name: string): Promise<ServiceView> {
    const { template } = await this.#find(name);
    await this.#engine();
    return this.#exclusive(name, async () => {
      await this.#setDesired(name, 'running');
      await this.#stopParts(name, template);
      await this.#provision(name, { pull: true, runJobs: true });
      void this.#refreshState(name);
      return this.get(name);
    });
  }

  /** Stops the parts in reverse order (the app before its database). */
  async #stopParts(name: string, template: ServiceTemplate) {
    for (const part of [...template.parts].reverse()) {
      const cname = containerName(name, part.name);
      const info = await this.#inspect(cname);
      if (!info || !this.#ours(info.Config.Labels, name) || !info.State.Running) continue;
      await this.#docker
        .getContainer(cname)
        .stop({ t: this.options.stopTimeoutS ?? 10 })
        .catch((e) => (statusOf(e) === 304 ? undefined : Promise.reject(engineError(e))));
    }
  }

  /**
   * Removes the containers and network; volumes and credentials stay unless `purge`
   * (installing the same name again reuses them). With no such service installed,
   * `purge` still removes what an earlier uninstall kept.
   */
  async uninstall(name: string, { purge = false } = {}): Promise<{ name: string; purged: boolean; keptVolumes: string[]; keptCredentials: boolean }> {
    if (!SERVICE_NAME.test(name) || (!purge && !(await this.#row(name)))) throw new ServiceError(404, `no service "${name}" is installed (\`homeport services\` lists them)`);
    await this.#engine();
    return this.#exclusive(name, async () => {
      const row = await this.#row(name);
      const volumes = await this.#volumesOf(name);
      const credentials = await this.options.secrets.namesWithPrefix(secretPrefix(name));
      if (!row && !(purge && (volumes.length || credentials.length))) throw new ServiceError(404, `no service "${name}" is installed (\`homeport services\` lists them)`);
      const template = row && this.template(row.template);
      if (template) await this.#stopParts(name, template);
      await this.#removeContainers(name);
      await this.#removeNetwork(name);
      if (purge) for (const v of volumes) await this.#removeVolume(name, v);
      await this.options.store.write(async (tx) => {
        if (row) await tx.delete(schema.services).where(eq(schema.services.name, name));
        if (purge) for (const secret of credentials) await this.options.secrets.deleteIn(tx, secret);
        if (row) await recordChange(tx, 'services', 'service.removed', { name });
      });
      this.#recorded.delete(name);
      this.#log(`service ${name} removed${purge ? ' with its volumes and credentials' : ''}`);
      return { name, purged: purge, keptVolumes: purge ? [] : volumes.map((v) => volumeName(name, v)), keptCredentials: !purge && credentials.length > 0 };
    });
  }

  /** Volume names (template names, not Docker's) that carry this service's labels. */
  async #volumesOf(name: string): Promise<string[]> {
    try {
      const { Volumes } = await this.#docker.listVolumes({ filters: this.#filter(name) });
      return (Volumes ?? []).filter((v) => this.#ours(v.Labels, name)).map((v) => v.Labels[VOLUME_LABEL] ?? v.Name.slice(`homeport-svc-${name}-`.length));
    } catch (error) {
      throw engineError(error);
    }
  }

  async #removeContainers(name: string) {
    const containers = await this.#docker.listContainers({ all: true, filters: this.#filter(name) }).catch((e) => Promise.reject(engineError(e)));
    for (const c of containers) {
      if (!this.#ours(c.Labels, name)) continue;
      await this.#docker
        .getContainer(c.Id)
        .remove({ force: true, v: false })
        .catch((e) => (statusOf(e) === 404 ? undefined : Promise.reject(engineError(e))));
    }
  }

  async #removeNetwork(name: string) {
    const network = this.#docker.getNetwork(networkName(name));
    const info = await network.inspect().catch(() => null);
    if (info && this.#ours(info.Labels, name)) await network.remove().catch((e) => (statusOf(e) === 404 ? undefined : Promise.reject(engineError(e))));
  }

  async #removeVolume(name: string, volume: string) {
    const handle = this.#docker.getVolume(volumeName(name, volume));
    const info = await handle.inspect().catch(() => null);
    if (info && this.#ours(info.Labels, name)) await handle.remove().catch((e) => (statusOf(e) === 404 ? undefined : Promise.reject(engineError(e))));
  }

  /** Starts every service whose desired state is running (after homeportd or the machine restarted). */
  async restore(): Promise<{ restored: string[]; failed: { name: string; error: string }[] }> {
    const rows = await this.options.store.db.select().from(schema.services).where(eq(schema.services.desiredState, 'running'));
    const restored: string[] = [];
    const failed: { name: string; error: string }[] = [];
    if (!rows.length) return { restored, failed };
    try {
      await this.#engine();
    } catch (error) {
      for (const row of rows) failed.push({ name: row.name, error: (error as Error).message });
      this.#log(`services not restored: ${(error as Error).message}`);
      return { restored, failed };
    }
    for (const row of rows) {
      if (this.#installing.has(row.name)) continue;
      try {
        await this.#exclusive(row.name, () => this.#provision(row.name, { pull: false, runJobs: false }));
        restored.push(row.name);
      } catch (error) {
        failed.push({ name: row.name, error: (error as Error).message });
        this.#log(`service ${row.name} not restored: ${(error as Error).message}`);
      }
    }
    if (restored.length) this.#log(`services restored: ${restored.join(', ')}`);
    return { restored, failed };
  }

  // ---- logs and connection -----------------------------------------------

  async #logSources(name: string, part?: string): Promise<LogSource[]> {
    const { template } = await this.#find(name);
    await this.#engine();
    if (part !== undefined && !template.parts.some((p) => p.name === part))
      throw new ServiceError(400, `${name} has no part "${part}" (it has ${template.parts.map((p) => p.name).join(', ')})`);
    const sources: LogSource[] = [];
    for (const p of template.parts) {
      if (part !== undefined && p.name !== part) continue;
      const info = await this.#inspect(containerName(name, p.name));
      if (info && this.#ours(info.Config.Labels, name)) sources.push({ part: p.name, container: this.#docker.getContainer(info.Id) });
    }
    return sources;
  }

  async logs(name: string, { tail = 200, part }: { tail?: number; part?: string } = {}): Promise<ServiceLogLine[]> {
    return readLogs(await this.#logSources(name, part), tail).catch((e) => Promise.reject(engineError(e)));
  }

  async followLogs(name: string, { tail = 200, part }: { tail?: number; part?: string }, onLine: (line: ServiceLogLine) => void, onEnd: () => void): Promise<() => void> {
    return followLogs(await this.#logSources(name, part), tail, onLine, onEnd).catch((e) => Promise.reject(engineError(e)));
  }

  /** Connection strings and credentials; secret values are masked unless `reveal`. */
  async connection(name: string, { reveal = false } = {}) {
    const { template, config } = await this.#find(name);
    const real = await this.#secretsOf(name, template);
    const secrets = reveal ? real : Object.fromEntries(Object.keys(real).map((k) => [k, MASK]));
    const ctx: RenderContext = { name, network: networkName(name), secrets, ports: config.ports };
    return {
      name,
      template: template.id,
      revealed: reveal,
      connections: (template.connections ?? []).map((c) => ({ label: c.label, value: render(c.template, ctx) })),
      credentials: Object.entries(secrets).map(([variable, value]) => ({ name: variable, value })),
      endpoints: this.#endpoints(template, config),
      notes: template.notes ? render(template.notes, { ...ctx, secrets: Object.fromEntries(Object.keys(real).map((k) => [k, MASK])) }) : null,
    };
  }

  // ---- runtime state to the outbox ---------------------------------------

  /** Writes `service.state` when a service's state changed since the last one written. */
  async #refreshState(name: string): Promise<void> {
    try {
      const row = await this.#row(name);
      if (!row) return;
      const view = await this.#view(row);
      if (view.state === 'unknown' || view.state === 'installing') return;
      const payload = { name, state: view.state, parts: view.parts.map((p) => ({ part: p.part, state: p.state, health: p.health, exitCode: p.exitCode, detail: p.detail })) };
      const key = JSON.stringify(payload);
      if (this.#recorded.get(name) === key) return;
      this.#recorded.set(name, key);
      await this.options.store.write((tx) => recordChange(tx, 'services', 'service.state', { ...payload, at: Date.now() }));
    } catch (error) {
      this.#log(`service ${name}: state not recorded: ${(error as Error).message}`);
    }
  }

  #scheduleRefresh(name: string) {
    clearTimeout(this.#refreshTimers.get(name));
    this.#refreshTimers.set(
      name,
      setTimeout(() => {
        this.#refreshTimers.delete(name);
        void this.#refreshState(name);
      }, 300),
    );
  }

  /** Follows the engine's container events for services (start, die, health) into the outbox; reconnects with backoff. */
  watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    let backoff = 1000;
    const connect = async () => {
      if (!this.#watching) return;
      try {
        const stream = await this.#docker.getEvents({ filters: { type: ['container'], ...this.#filter() } });
        this.#events = stream;
        backoff = 1000;
        let buffer = '';
        stream.on('data', (chunk: Buffer) => {
          buffer += chunk.toString('utf8');
          let end: number;
          while ((end = buffer.indexOf('\n')) !== -1) {
            const line = buffer.slice(0, end);
            buffer = buffer.slice(end + 1);
            try {
              const event = JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } };
              const service = event.Actor?.Attributes?.[SERVICE_LABEL];
              if (service) this.#scheduleRefresh(service);
            } catch {
              // not a whole event
            }
          }
        });
        stream.once('close', retry);
        stream.once('end', retry);
        stream.once('error', retry);
      } catch {
        retry();
      }
    };
    let pending: NodeJS.Timeout | null = null;
    const retry = () => {
      this.#events = null;
      if (!this.#watching || pending) return;
      pending = setTimeout(() => {
        pending = null;
        void connect();
      }, backoff);
      pending.unref();
      backoff = Math.min(backoff * 2, 30_000);
    };
    void connect();
  }

  close(): void {
    this.#watching = false;
    (this.#events as (NodeJS.ReadableStream & { destroy?: () => void }) | null)?.destroy?.();
    this.#events = null;
    for (const timer of this.#refreshTimers.values()) clearTimeout(timer);
    this.#refreshTimers.clear();
  }
}
