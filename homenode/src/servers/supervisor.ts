/**
 * @module
 * The dev-server supervisor: runs each server's start command in its own process group,
 * keeps it up (restarts after a crash with jittered exponential backoff, gives up into
 * `errored` on a crash loop), stops the whole group so no child keeps the port, keeps
 * its logs, samples CPU and memory over its whole process tree, and stops servers
 * nobody used for their idle timeout. It only ever signals groups it spawned.
 *
 * States: starting → running (still up after `readyAfterMs`) → crashed (exited; a
 * restart is scheduled) → starting … ; errored (a crash loop, or the command exited
 * before it ever ran: nothing is retried) ; stopped (stop(), idle timeout, shutdown).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backoffDelay } from '../tunnel/client.ts';
import { TICK_MS, readProcTable, rssBytesOf, signalTree, startTimeOf, treeOf, waitTreeGone, type GroupLeader } from './proc-tree.ts';
import { LineSplitter, ServerLog, type LogLine, type LogStream } from './server-log.ts';
import { userEnvironment } from './user-env.ts';

export type { LogLine, LogStream } from './server-log.ts';

export type ServerState = 'starting' | 'running' | 'crashed' | 'errored' | 'stopped';
/** Why a server is stopped: asked to, its idle timeout, or homeportd shutting down (restore it at start). */
export type StopReason = 'requested' | 'idle' | 'shutdown';

export interface ServerSpec {
  id: string;
  /** absolute path of the working directory */
  cwd: string;
  /** run by /bin/sh -c, as typed (`npm run dev`) */
  command: string;
  /** added to homeportd's environment (minus its own HOMEPORT_* settings) */
  env: Record<string, string>;
  /** when set, exported as PORT */
  port?: number;
  /** stop the server after this long without touch() */
  idleTimeoutMs?: number;
}

export interface ServerStatus {
  id: string;
  state: ServerState;
  /** the process group leader (the shell) */
  pid: number | null;
  /** automatic restarts since the last start()/restart() */
  restarts: number;
  startedAt: number | null;
  exitCode: number | null;
  lastError: string | null;
  /** CPU of the whole tree, percent of one core, over the last sample interval */
  cpuPercent: number | null;
  rssBytes: number | null;
  /** live processes in the tree */
  pids: number;
  stopReason: StopReason | null;
}

export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  /** more crashes than this within windowMs: errored */
  maxRestarts: number;
  windowMs: number;
}

export interface SupervisorOptions {
  /** log files and pid files live here */
  logDir: string;
  backoff?: Partial<BackoffOptions>;
  /** SIGTERM, then SIGKILL after this long */
  stopTimeoutMs?: number;
  /** a server still up after this long is running; exiting sooner on a first start is an error */
  readyAfterMs?: number;
  sampleIntervalMs?: number;
  ringLines?: number;
  logFileBytes?: number;
  logFiles?: number;
  procRoot?: string;
}

/** Misuse of the supervisor, for the API to map: conflict → 409, not-found → 404, invalid → 400. */
export class SupervisorError extends Error {
  constructor(
    readonly code: 'conflict' | 'not-found' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

export const DEFAULT_BACKOFF: BackoffOptions = { minMs: 500, maxMs: 30_000, maxRestarts: 5, windowMs: 120_000 };
const LAST_LINES = 10;
/** how long an exit waits for the rest of the output still in the pipes */
const DRAIN_MS = 500;

interface Server {
  spec: ServerSpec;
  status: ServerStatus;
  log: ServerLog;
  pidFile: string;
  child: ChildProcess | null;
  leader: GroupLeader | null;
  /** resolves when the current process's stdout and stderr have ended */
  drained: Promise<unknown>;
  /** bumped by every launch and stop, so late callbacks of an old process do nothing */
  generation: number;
  /** crash times within the backoff window */
  crashes: number[];
  /** reached running since the last start()/restart() */
  everRan: boolean;
  lastActivity: number;
  stopping: Promise<void> | null;
  timers: { ready?: NodeJS.Timeout; restart?: NodeJS.Timeout; idle?: NodeJS.Timeout };
  /** per pid CPU ticks at the last sample */
  cpuTicks: Map<number, number>;
  sampledAt: number;
}

type Events = { state: [ServerStatus]; log: [string, LogLine]; stats: [ServerStatus] };

/** A file name for a server id: the id itself when it is plain, else a readable part plus a hash. */
function fileNameOf(id: string): string {
  if (/^[A-Za-z0-9._-]{1,80}$/.test(id) && !id.startsWith('.')) return id;
  const readable = id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
  return `${readable}-${createHash('sha256').update(id).digest('hex').slice(0, 12)}`;
}

function validate(spec: ServerSpec) {
  const bad = (message: string) => new SupervisorError('invalid', message);
  if (!spec || typeof spec !== 'object') throw bad('expected a server spec');
  if (typeof spec.id !== 'string' || !spec.id) throw bad('a server needs an id');
  if (typeof spec.command !== 'string' || !spec.command.trim()) throw bad(`server "${spec.id}" has no start command`);
  if (typeof spec.cwd !== 'string' || !spec.cwd.startsWith('/')) throw bad(`server "${spec.id}": the working directory must be an absolute path`);
  if (spec.env !== undefined && (!spec.env || typeof spec.env !== 'object' || Object.values(spec.env).some((v) => typeof v !== 'string')))
    throw bad(`server "${spec.id}": environment values must be strings`);
  if (spec.port !== undefined && !(Number.isInteger(spec.port) && spec.port >= 1 && spec.port <= 65535)) throw bad(`server "${spec.id}": ${spec.port} is not a port`);
  if (spec.idleTimeoutMs !== undefined && !(typeof spec.idleTimeoutMs === 'number' && spec.idleTimeoutMs > 0))
    throw bad(`server "${spec.id}": the idle timeout must be a positive number of milliseconds`);
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

/** The group a pid file names, if its leader still runs (same pid and start time). */
function leftoverIn(pidFile: string, procRoot: string): GroupLeader | null {
  try {
    const leader = JSON.parse(readFileSync(pidFile, 'utf8')) as GroupLeader;
    if (Number.isInteger(leader.pid) && leader.pid > 1 && startTimeOf(leader.pid, procRoot) === leader.startTime) return leader;
  } catch {
    // no pid file, or not ours: nothing left over
  }
  return null;
}

/** Removes the pid file if it still names `leader` (another homeportd may have written its own since). */
function removePidFile(pidFile: string, leader: GroupLeader) {
  try {
    const named = JSON.parse(readFileSync(pidFile, 'utf8')) as GroupLeader;
    if (named.pid === leader.pid && named.startTime === leader.startTime) rmSync(pidFile, { force: true });
  } catch {
    // already gone
  }
}

export class Supervisor extends EventEmitter<Events> {
  readonly #servers = new Map<string, Server>();
  readonly #backoff: BackoffOptions;
  readonly #stopTimeoutMs: number;
  readonly #readyAfterMs: number;
  readonly #sampleIntervalMs: number;
  readonly #procRoot: string;
  #sampler: NodeJS.Timeout | null = null;
  #sampling = false;

  constructor(private readonly options: SupervisorOptions) {
    super();
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 5000;
    this.#readyAfterMs = options.readyAfterMs ?? 2000;
    this.#sampleIntervalMs = options.sampleIntervalMs ?? 3000;
    this.#procRoot = options.procRoot ?? '/proc';
    mkdirSync(options.logDir, { recursive: true, mode: 0o700 });
  }

  /** Starts a server that is not running. Runtime failures (missing folder…) come back as an errored status. */
  start(spec: ServerSpec): ServerStatus {
    validate(spec);
    let s = this.#servers.get(spec.id);
    if (s && this.#isActive(s)) throw new SupervisorError('conflict', `server "${spec.id}" is already ${s.stopping ? 'stopping' : s.status.state}; restart it to apply changes`);
    if (!s) s = this.#create(spec);
    s.spec = { ...spec, env: { ...(spec.env ?? {}) } };
    Object.assign(s.status, { restarts: 0, exitCode: null, lastError: null, stopReason: null });
    s.crashes = [];
    s.everRan = false;
    s.lastActivity = Date.now();

    const leftover = this.#leftoverGroup(s);
    if (leftover) {
      // A previous homeportd died without stopping this server: end that group first.
      this.#setState(s, 'starting', { pid: null, startedAt: Date.now() });
      this.#system(s, `a process group (${leftover.pid}) from a previous homeportd is still running this server: stopping it first`);
      const generation = ++s.generation;
      this.#terminate(leftover)
        .catch(() => {})
        .finally(() => {
          if (s.generation === generation && !s.stopping) this.#launch(s);
        });
    } else this.#launch(s);
    return this.#snapshot(s);
  }

  /** Stops the server and everything it started; resolves when the whole tree is gone. */
  stop(id: string, reason: StopReason = 'requested'): Promise<void> {
    const s = this.#servers.get(id);
    if (!s) return Promise.resolve();
    if (s.stopping) return s.stopping;
    this.#clearTimers(s);
    s.generation++;
    const leader = s.leader;
    if (!leader) {
      if (s.status.state !== 'stopped') this.#setState(s, 'stopped', { stopReason: reason, pid: null });
      return Promise.resolve();
    }
    s.stopping = (async () => {
      const child = s.child;
      const exited = child && child.exitCode === null && child.signalCode === null ? new Promise((r) => child.once('exit', r)) : null;
      this.#system(s, reason === 'idle' ? `idle for ${Math.round((Date.now() - s.lastActivity) / 1000)} s: stopping` : 'stopping');
      const killed = await this.#terminate(leader);
      if (killed) this.#system(s, `did not stop within ${this.#stopTimeoutMs} ms after SIGTERM: killed`);
      // Wait for the exit, and for the output still in the pipes (its last partial line too).
      await Promise.race([Promise.all([exited, s.drained]), new Promise((r) => setTimeout(r, DRAIN_MS))]);
      s.child = null;
      s.leader = null;
      removePidFile(s.pidFile, leader);
      this.#system(s, 'stopped');
      s.log.close();
      this.#setState(s, 'stopped', { pid: null, stopReason: reason, exitCode: child?.exitCode ?? null, cpuPercent: null, rssBytes: null, pids: 0 });
    })().finally(() => {
      s.stopping = null;
      this.#updateSampler();
    });
    return s.stopping;
  }

  /** Stops (if needed) and starts again; a new spec (command, env…) replaces the old one. */
  async restart(id: string, spec?: ServerSpec): Promise<ServerStatus> {
    if (spec) {
      validate(spec);
      if (spec.id !== id) throw new SupervisorError('invalid', `the spec is for "${spec.id}", not "${id}"`);
    }
    const s = this.#servers.get(id);
    if (!s && !spec) throw new SupervisorError('not-found', `no server "${id}"`);
    if (s) await this.stop(id);
    const now = this.#servers.get(id);
    // Someone else started it meanwhile (two restarts at once): that start stands.
    if (now && this.#isActive(now)) return this.#snapshot(now);
    return this.start(spec ?? s!.spec);
  }

  status(id: string): ServerStatus | null {
    const s = this.#servers.get(id);
    return s ? this.#snapshot(s) : null;
  }

  list(): ServerStatus[] {
    return [...this.#servers.values()].map((s) => this.#snapshot(s));
  }

  /** The spec a server was last started with (for restarts and restore). */
  spec(id: string): ServerSpec | null {
    const s = this.#servers.get(id);
    return s ? { ...s.spec, env: { ...s.spec.env } } : null;
  }

  /** Log lines, oldest first: at most the last `tail`, only those with seq > `after` (follow mode). */
  logs(id: string, options: { tail?: number; after?: number } = {}): LogLine[] {
    return this.#servers.get(id)?.log.lines(options) ?? [];
  }

  /** Marks activity (traffic through the server's port), which holds off its idle timeout. */
  touch(id: string) {
    const s = this.#servers.get(id);
    if (s) s.lastActivity = Date.now();
  }

  /** Stops the server and forgets it (its log files stay on disk). */
  async remove(id: string): Promise<void> {
    await this.stop(id);
    this.#servers.get(id)?.log.close();
    this.#servers.delete(id);
  }

  /** homeportd is stopping: every server stops with reason `shutdown`. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#servers.keys()].map((id) => this.stop(id, 'shutdown')));
    this.#updateSampler();
  }

  /**
   * Ends every process group a previous homeportd left running (found by the pid files
   * in logDir, checked by start time), except servers this supervisor runs. Call once at
   * start, before restoring servers; returns how many groups were ended.
   */
  async endLeftovers(): Promise<number> {
    const ours = new Set([...this.#servers.values()].map((s) => s.pidFile));
    const files = readdirSync(this.options.logDir).filter((f) => f.endsWith('.pid') && !ours.has(join(this.options.logDir, f)));
    let ended = 0;
    await Promise.all(
      files.map(async (f) => {
        const file = join(this.options.logDir, f);
        const leader = leftoverIn(file, this.#procRoot);
        if (leader) {
          await this.#terminate(leader);
          ended++;
        }
        rmSync(file, { force: true });
      }),
    );
    return ended;
  }

  // ------------------------------------------------------------------ lifecycle

  #create(spec: ServerSpec): Server {
    const name = fileNameOf(spec.id);
    const s: Server = {
      spec,
      status: { id: spec.id, state: 'stopped', pid: null, restarts: 0, startedAt: null, exitCode: null, lastError: null, cpuPercent: null, rssBytes: null, pids: 0, stopReason: null },
      log: new ServerLog({
        file: join(this.options.logDir, `${name}.log`),
        ringLines: this.options.ringLines ?? 2000,
        fileBytes: this.options.logFileBytes ?? 5 * 1024 * 1024,
        files: this.options.logFiles ?? 3,
      }),
      pidFile: join(this.options.logDir, `${name}.pid`),
      child: null,
      leader: null,
      drained: Promise.resolve(),
      generation: 0,
      crashes: [],
      everRan: false,
      lastActivity: Date.now(),
      stopping: null,
      timers: {},
      cpuTicks: new Map(),
      sampledAt: 0,
    };
    this.#servers.set(spec.id, s);
    return s;
  }

  #isActive(s: Server): boolean {
    return s.stopping !== null || s.status.state === 'starting' || s.status.state === 'running' || s.status.state === 'crashed';
  }

  #launch(s: Server) {
    const generation = ++s.generation;
    const { spec } = s;
    const missing = (() => {
      try {
        return statSync(spec.cwd).isDirectory() ? null : `${spec.cwd} is not a directory`;
      } catch {
        return `the working directory ${spec.cwd} does not exist`;
      }
    })();
    if (missing) return this.#giveUp(s, missing);

    const env = { ...userEnvironment(), ...spec.env, ...(spec.port ? { PORT: String(spec.port) } : {}) };
    let child: ChildProcess;
    try {
      child = spawn('/bin/sh', ['-c', spec.command], { cwd: spec.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      return this.#giveUp(s, `could not start: ${(error as Error).message}`);
    }
    if (child.pid === undefined) {
      child.once('error', (error) => {
        if (s.generation === generation) this.#giveUp(s, `could not start: ${error.message}`);
      });
      return;
    }
    child.on('error', () => {}); // signals to a reaped child; the exit handler does the work
    const leader = { pid: child.pid, startTime: startTimeOf(child.pid, this.#procRoot) ?? -1 };
    s.child = child;
    s.leader = leader;
    s.cpuTicks = new Map();
    s.sampledAt = Date.now();
    writeFileSync(s.pidFile, JSON.stringify(leader), { mode: 0o600 });

    const drained = [this.#pipe(s, child, 'stdout'), this.#pipe(s, child, 'stderr')];
    s.drained = Promise.all(drained);
    this.#setState(s, 'starting', { pid: child.pid, startedAt: Date.now(), exitCode: null, cpuPercent: null, rssBytes: null, pids: 1, stopReason: null });
    this.#system(s, `starting \`${spec.command}\` in ${spec.cwd} (pid ${child.pid})`);

    s.timers.ready = setTimeout(() => {
      if (s.generation !== generation || s.status.state !== 'starting') return;
      s.everRan = true;
      this.#setState(s, 'running', {});
    }, this.#readyAfterMs);
    child.once('exit', (code, signal) => {
      if (s.generation !== generation) return; // stop() handles its own exits
      void this.#onExit(s, generation, leader, drained, code, signal);
    });
    this.#armIdle(s);
    this.#updateSampler();
  }

  /** Feeds one output stream into the log; resolves when it has ended. */
  #pipe(s: Server, child: ChildProcess, stream: 'stdout' | 'stderr'): Promise<void> {
    const splitter = new LineSplitter();
    const source = child[stream]!;
    source.on('data', (chunk: Buffer) => this.#append(s, stream, splitter.push(chunk)));
    return new Promise((resolve) => {
      source.once('close', () => {
        this.#append(s, stream, splitter.flush());
        resolve();
      });
    });
  }

  async #onExit(s: Server, generation: number, leader: GroupLeader, drained: Promise<void>[], code: number | null, signal: NodeJS.Signals | null) {
    clearTimeout(s.timers.ready);
    // The leader is gone; anything left in its group would hold the port against the next start.
    await signalTree(leader, 'SIGKILL', this.#procRoot).catch(() => 0);
    await Promise.race([Promise.all(drained), new Promise((r) => setTimeout(r, DRAIN_MS))]);
    if (s.generation !== generation) return;
    s.child = null;
    s.leader = null;
    removePidFile(s.pidFile, leader);
    const how = describeExit(code, signal);
    const exit = { pid: null, exitCode: code, cpuPercent: null, rssBytes: null, pids: 0 };

    if (!s.everRan) return this.#giveUp(s, `the start command ${how} before it was up for ${this.#readyAfterMs} ms`, exit);
    const now = Date.now();
    s.crashes = [...s.crashes.filter((t) => now - t < this.#backoff.windowMs), now];
    if (s.crashes.length > this.#backoff.maxRestarts)
      return this.#giveUp(s, `it crashed ${s.crashes.length} times within ${Math.round(this.#backoff.windowMs / 1000)} s (last: ${how}); not restarting`, exit);

    const delay = backoffDelay(s.crashes.length - 1, this.#backoff.minMs, this.#backoff.maxMs);
    this.#setState(s, 'crashed', { ...exit, lastError: `${how}` });
    this.#system(s, `${how}; restarting in ${delay} ms`);
    s.timers.restart = setTimeout(() => {
      if (s.generation !== generation || s.status.state !== 'crashed') return;
      s.status.restarts++;
      this.#launch(s);
    }, delay);
  }

  /** errored: nothing is retried; lastError carries the reason and the last output lines. */
  #giveUp(s: Server, reason: string, extra: Partial<ServerStatus> = {}) {
    this.#clearTimers(s);
    const last = s.log
      .lines()
      .filter((l) => l.stream !== 'system')
      .slice(-LAST_LINES)
      .map((l) => l.text);
    this.#system(s, `errored: ${reason}`);
    s.log.close();
    this.#setState(s, 'errored', { pid: null, ...extra, lastError: last.length ? `${reason}. Last output:\n${last.join('\n')}` : `${reason} (it printed nothing)` });
    this.#updateSampler();
  }

  /** SIGTERM, then SIGKILL after the stop timeout. True when SIGKILL was needed. */
  async #terminate(leader: GroupLeader): Promise<boolean> {
    if (!(await signalTree(leader, 'SIGTERM', this.#procRoot))) return false;
    if (await waitTreeGone(leader, this.#stopTimeoutMs, this.#procRoot)) return false;
    await signalTree(leader, 'SIGKILL', this.#procRoot);
    await waitTreeGone(leader, 2000, this.#procRoot);
    return true;
  }

  /** The group a previous homeportd left running for this server, if its leader is still that process. */
  #leftoverGroup(s: Server): GroupLeader | null {
    const leader = leftoverIn(s.pidFile, this.#procRoot);
    if (!leader) rmSync(s.pidFile, { force: true });
    return leader;
  }

  #armIdle(s: Server) {
    clearTimeout(s.timers.idle);
    const timeout = s.spec.idleTimeoutMs;
    if (!timeout) return;
    const check = () => {
      if (!this.#isActive(s) || s.stopping) return;
      const left = s.lastActivity + timeout - Date.now();
      if (left > 0) s.timers.idle = setTimeout(check, left).unref();
      else void this.stop(s.spec.id, 'idle');
    };
    s.timers.idle = setTimeout(check, Math.max(0, s.lastActivity + timeout - Date.now())).unref();
  }

  #clearTimers(s: Server) {
    clearTimeout(s.timers.ready);
    clearTimeout(s.timers.restart);
    clearTimeout(s.timers.idle);
    s.timers = {};
  }

  // ------------------------------------------------------------------ logs and stats

  #append(s: Server, stream: LogStream, texts: string[]) {
    for (const line of s.log.append(stream, texts)) this.emit('log', s.spec.id, line);
  }

  #system(s: Server, text: string) {
    this.#append(s, 'system', [text]);
  }

  #setState(s: Server, state: ServerState, changes: Partial<ServerStatus>) {
    Object.assign(s.status, changes, { state });
    this.emit('state', this.#snapshot(s));
  }

  #snapshot(s: Server): ServerStatus {
    return { ...s.status };
  }

  /** One sampler for all servers, running while any has a process. */
  #updateSampler() {
    const any = [...this.#servers.values()].some((s) => s.leader);
    if (any && !this.#sampler) this.#sampler = setInterval(() => void this.#sample(), this.#sampleIntervalMs).unref();
    if (!any && this.#sampler) {
      clearInterval(this.#sampler);
      this.#sampler = null;
    }
  }

  async #sample() {
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      const table = await readProcTable(this.#procRoot);
      for (const s of this.#servers.values()) {
        const leader = s.leader;
        if (!leader || s.stopping) continue;
        const tree = treeOf(leader, table);
        const now = Date.now();
        // Per-pid deltas: a process that exited between samples does not make the sum go negative.
        let ticks = 0;
        const seen = new Map<number, number>();
        for (const p of tree) {
          ticks += p.cpuTicks - (s.cpuTicks.get(p.pid) ?? 0);
          seen.set(p.pid, p.cpuTicks);
        }
        const rssBytes = await rssBytesOf(tree.map((p) => p.pid), this.#procRoot);
        if (s.leader !== leader) continue; // it exited while we read
        const wallMs = Math.max(1, now - s.sampledAt);
        s.cpuTicks = seen;
        s.sampledAt = now;
        Object.assign(s.status, { cpuPercent: Math.round(((ticks * TICK_MS) / wallMs) * 1000) / 10, rssBytes, pids: tree.length });
        this.emit('stats', this.#snapshot(s));
      }
    } finally {
      this.#sampling = false;
    }
  }
}
