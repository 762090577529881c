/**
 * @module
 * Each repo's dev server, run by the Supervisor: start/stop/restart by repo, the spec
 * built from the repo's settings (command, env, idle timeout), the owner's desired state
 * kept in `servers` (and restored when homeportd starts again), runtime state changes
 * written to the outbox, and traffic through a repo's ports holding off its idle timeout.
 */
import type { PortInfo } from '@homeport/shared';
import { recordChange } from '../db/index.ts';
import type { NodeSettings } from '../node-settings.ts';
import type { ServerSpec, ServerStatus, Supervisor } from '../servers/supervisor.ts';
import type { LogLine } from '../servers/server-log.ts';
import { RepoError, type RepoRow, type RepoService } from './service.ts';

export interface ServerView {
  repoId: string;
  name: string;
  desiredState: 'running' | 'stopped';
  /** the command a start runs (the owner's or the detected one), null when there is none */
  command: string | null;
  /** null until it was started by this homeportd */
  status: ServerStatus | null;
  /** scanned ports whose process runs in this repo (also ones started by hand) */
  ports: number[];
}

export interface RepoServersOptions {
  repos: RepoService;
  supervisor: Supervisor;
  settings: NodeSettings;
  /** the latest port scan */
  ports: () => PortInfo[];
  log?: (message: string) => void;
  /** how long start() waits to tell running from a command that exits at once */
  settleMs?: number;
}

const SETTLED = new Set(['running', 'errored', 'stopped']);

export class RepoServers {
  readonly #log: (message: string) => void;
  /** last recorded state per server, so repeated snapshots do not fill the outbox */
  readonly #recorded = new Map<string, string>();

  constructor(readonly options: RepoServersOptions) {
    this.#log = options.log ?? (() => {});
    options.supervisor.on('state', (status) => void this.#onState(status).catch((e) => this.#log(`server ${status.id}: ${e.message}`)));
    options.repos.beforeRemove = (repo) => options.supervisor.remove(repo.id);
  }

  get #supervisor() {
    return this.options.supervisor;
  }

  async #spec(repo: RepoRow): Promise<ServerSpec> {
    if (repo.state !== 'ready') throw new RepoError(409, `${repo.name} is still being cloned`);
    const view = await this.options.repos.get(repo.id);
    const { command, reason } = await this.options.repos.startCommand(repo);
    if (!command) throw new RepoError(409, `${repo.name} has no start command: ${reason} (\`homeport repos\` shows it; set one with PUT /api/repos/${repo.name}/settings {"command": "…"})`);
    const idleMinutes = view.server.idleTimeoutMinutes ?? (await this.options.settings.get('idleTimeoutMinutes'));
    return { id: repo.id, cwd: repo.path, command, env: view.server.env, ...(idleMinutes ? { idleTimeoutMs: idleMinutes * 60_000 } : {}) };
  }

  /** Waits until a fresh start is running or has failed; a command that exits at once is a 422 with its last lines. */
  async #settle(repo: RepoRow, initial: ServerStatus): Promise<ServerStatus> {
    let status = initial;
    if (!SETTLED.has(status.state)) {
      status = await new Promise<ServerStatus>((resolve) => {
        const done = (s: ServerStatus) => {
          clearTimeout(timer);
          this.#supervisor.off('state', onState);
          resolve(s);
        };
        const onState = (s: ServerStatus) => s.id === repo.id && SETTLED.has(s.state) && done(s);
        const timer = setTimeout(() => done(this.#supervisor.status(repo.id) ?? initial), this.options.settleMs ?? 5000);
        this.#supervisor.on('state', onState);
      });
    }
    if (status.state === 'errored') throw new RepoError(422, `${repo.name}'s dev server did not start: ${status.lastError ?? 'it exited'}`);
    return status;
  }

  async start(ref: string): Promise<ServerStatus> {
    const repo = await this.options.repos.find(ref);
    const spec = await this.#spec(repo);
    const current = this.#supervisor.status(repo.id);
    if (current && ['starting', 'running', 'crashed'].includes(current.state)) throw new RepoError(409, `${repo.name}'s dev server is already ${current.state}; restart it to apply changes`);
    await this.options.repos.setDesiredState(repo.id, 'running');
    return this.#settle(repo, this.#supervisor.start(spec));
  }

  async stop(ref: string): Promise<ServerStatus | null> {
    const repo = await this.options.repos.find(ref);
    await this.options.repos.setDesiredState(repo.id, 'stopped');
    await this.#supervisor.stop(repo.id);
    return this.#supervisor.status(repo.id);
  }

  /** Stops and starts with the repo's current settings (a changed command or env applies now). */
  async restart(ref: string): Promise<ServerStatus> {
    const repo = await this.options.repos.find(ref);
    const spec = await this.#spec(repo);
    await this.options.repos.setDesiredState(repo.id, 'running');
    return this.#settle(repo, await this.#supervisor.restart(repo.id, spec));
  }

  async view(repo: RepoRow): Promise<ServerView> {
    const settings = await this.options.repos.get(repo.id);
    const { command } = await this.options.repos.startCommand(repo).catch(() => ({ command: null }));
    return {
      repoId: repo.id,
      name: repo.name,
      desiredState: settings.server.desiredState,
      command,
      status: this.#supervisor.status(repo.id),
      ports: this.options
        .ports()
        .filter((p) => p.repo?.id === repo.id)
        .map((p) => p.port),
    };
  }

  async list(): Promise<ServerView[]> {
    const repos = await this.options.repos.list();
    return Promise.all(repos.map((r) => this.view(r)));
  }

  /** A server's log lines, oldest first (see Supervisor.logs). Synchronous, so a follow can start in the same tick. */
  lines(repoId: string, options: { tail?: number; after?: number } = {}): LogLine[] {
    return this.#supervisor.logs(repoId, options);
  }

  /** New log lines of one server as they come; returns the unsubscribe function. */
  follow(repoId: string, listener: (line: LogLine) => void): () => void {
    const onLog = (id: string, line: LogLine) => id === repoId && listener(line);
    this.#supervisor.on('log', onLog);
    return () => this.#supervisor.off('log', onLog);
  }

  /** Traffic reached `port`: the server of its repo is in use (idle timeout). */
  touchPort(port: number) {
    const id = this.options.ports().find((p) => p.port === port)?.repo?.id;
    if (id) this.#supervisor.touch(id);
  }

  /**
   * At homeportd start: ends process groups a previous homeportd left behind, then starts
   * the servers whose desired state is `running` (unless the restoreServers setting is off).
   */
  async restore(): Promise<string[]> {
    const ended = await this.#supervisor.endLeftovers();
    if (ended) this.#log(`ended ${ended} dev server process group(s) a previous homeportd left running`);
    if (!(await this.options.settings.get('restoreServers'))) return [];
    const started: string[] = [];
    for (const repo of await this.options.repos.list()) {
      if (repo.server.desiredState !== 'running' || repo.state !== 'ready') continue;
      try {
        this.#supervisor.start(await this.#spec(repo));
        started.push(repo.name);
      } catch (error) {
        this.#log(`could not restore ${repo.name}'s dev server: ${(error as Error).message}`);
      }
    }
    if (started.length) this.#log(`restoring dev servers: ${started.join(', ')}`);
    return started;
  }

  async #onState(status: ServerStatus) {
    const key = `${status.state}/${status.pid}/${status.restarts}`;
    if (this.#recorded.get(status.id) === key) return;
    this.#recorded.set(status.id, key);
    const repo = await this.options.repos.find(status.id).catch(() => null);
    if (!repo) return;
    await this.options.repos.store.write(async (tx) => {
      const { id, state, pid, restarts, startedAt, exitCode, lastError, stopReason } = status;
      await recordChange(tx, 'servers', 'server.state', { repoId: id, name: repo.name, state, pid, restarts, startedAt, exitCode, lastError, stopReason: stopReason ?? null, at: Date.now() });
    });
    // Stopped for being idle: it should not come back at the next homeportd start.
    if (status.state === 'stopped' && status.stopReason === 'idle') await this.options.repos.setDesiredState(repo.id, 'stopped');
    if (status.state === 'crashed') {
      const view = await this.options.repos.get(repo.id);
      const autoRestart = view.server.autoRestart ?? (await this.options.settings.get('autoRestart'));
      if (!autoRestart) {
        this.#log(`${repo.name}'s dev server crashed and auto-restart is off for it: not restarting`);
        await this.#supervisor.stop(repo.id);
      }
    }
  }
}
