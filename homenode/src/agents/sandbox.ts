/**
 * @module
 * A task's Docker sandbox: one long-lived container per task, where every agent tool
 * call runs. Only the task's worktree comes in from the host (bind-mounted at
 * /workspace); no Docker socket, all capabilities dropped, no-new-privileges, a
 * read-only root with a tmpfs /tmp, memory/CPU/process limits, network `none` unless
 * asked otherwise, and none of homeportd's environment. Commands run as the owner of
 * the worktree, so the files the agent writes stay the owner's.
 *
 * Each command runs in its own session inside the container (`docker exec` makes the
 * process a session and group leader), and tells us its pid first; on timeout, silence
 * or cancel a second exec kills that session, its process group and every descendant.
 * File operations are execs too (cat, find), so the kernel of the container resolves
 * paths: a symlink in the worktree can lead only into the container's own filesystem,
 * never to the host's, because nothing else of the host is mounted.
 *
 * No engine: DockerUnavailable. Nothing here ever runs a tool on the host.
 */
import { realpath, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { DockerStreamDemuxer, type StreamType } from '../docker/demux.ts';
import { engineError, KIND_LABEL, MANAGED_LABEL, OWNER_LABEL, requireEngine, TASK_LABEL } from '../docker/engine.ts';
import { KILLER_SCRIPT, LEADER, LIST_SCRIPT, READ_SCRIPT, WRITE_SCRIPT } from './sandbox-scripts.ts';

export const WORKSPACE = '/workspace';
export const SANDBOX_KIND = 'sandbox';

export const SANDBOX_DEFAULTS = {
  /** no network at all; 'host' or a Docker network name must be asked for */
  network: 'none',
  memoryBytes: 2 * 1024 ** 3,
  /** one CPU */
  nanoCpus: 1_000_000_000,
  pidsLimit: 512,
  tmpBytes: 512 * 1024 ** 2,
} as const;

/** Read and write caps of the file operations (bigger files: bash with head/sed). */
export const MAX_READ_BYTES = 1024 * 1024;
export const MAX_WRITE_BYTES = 4 * 1024 * 1024;
const MAX_LIST_ENTRIES = 2000;
const FILE_OP_TIMEOUT_MS = 30_000;
/** how long a killed command's stream may take to end before we stop waiting for it */
const KILL_GRACE_MS = 3000;

export interface SandboxOptions {
  docker: Docker;
  image: string;
  taskId: string;
  /** who made it (homeportd's node id or data dir): removeOrphans with the same owner cleans it up */
  owner?: string;
  /** host path of the task's git worktree, mounted read-write at /workspace */
  workspace: string;
  /** 'none' (default: no network), 'host' (the host's network, loopback included), or a Docker network name */
  network?: string;
  memoryBytes?: number;
  nanoCpus?: number;
  pidsLimit?: number;
  /** size of the tmpfs at /tmp (counts against memory) */
  tmpBytes?: number;
  /** "uid:gid" inside the container; default: the owner of the workspace */
  user?: string;
  /** the only environment the container gets (besides the image's own and HOME=/tmp) */
  env?: Record<string, string>;
  /** read-only root filesystem (default true); off for images that must write outside /workspace and /tmp */
  readonlyRoot?: boolean;
}

export interface ExecOptions {
  /** wall clock for the command (default 120 s) */
  timeoutMs?: number;
  /** kill when no output came for this long (default: off) */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  /** stdout+stderr kept (default 64 KiB): the head and the tail, with a marker between */
  maxOutputBytes?: number;
}

export interface ExecResult {
  /** null when the command was killed before docker saw it exit */
  exitCode: number | null;
  /** stdout and stderr interleaved as they came */
  output: string;
  truncated: boolean;
  timedOut: boolean;
  idleTimedOut: boolean;
  cancelled: boolean;
  durationMs: number;
}

export interface FileEntry {
  /** relative to /workspace */
  path: string;
  type: 'file' | 'dir';
}

/** The container is gone (removed, stopped, or the sandbox destroyed). */
export class SandboxGone extends Error {}

/** A file operation refused or failed, with a message meant for people (and models). */
export class SandboxFileError extends Error {
  constructor(
    readonly reason: 'outside' | 'not_found' | 'is_directory' | 'not_file' | 'not_directory' | 'too_large' | 'failed',
    message: string,
  ) {
    super(message);
  }
}

/**
 * `path` (relative to /workspace, or absolute inside it) as an absolute container path;
 * refuses anything that leads out of /workspace once `..` is resolved.
 */
export function workspacePath(path: string): string {
  if (typeof path !== 'string') throw new SandboxFileError('outside', 'a path must be a string');
  if (path.includes('\0')) throw new SandboxFileError('outside', 'a path cannot contain NUL bytes');
  const absolute = posix.normalize(path.startsWith('/') ? path : posix.join(WORKSPACE, path)).replace(/(.)\/+$/, '$1');
  if (absolute !== WORKSPACE && !absolute.startsWith(`${WORKSPACE}/`)) throw new SandboxFileError('outside', `${path} is outside /workspace: only files under /workspace can be used`);
  return absolute;
}

/** The container path relative to /workspace ('.' for /workspace itself). */
export function relativeToWorkspace(absolute: string): string {
  return posix.relative(WORKSPACE, absolute) || '.';
}

interface RunOptions {
  args?: string[];
  stdin?: Buffer;
  timeoutMs: number;
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  onOutput: (stream: StreamType, chunk: Buffer) => void;
}

interface Killer {
  stream: Duplex;
  alive: boolean;
  /** callbacks per session id, called on "killed <id>" (or when the killer ends) */
  waiting: Map<number, (() => void)[]>;
}

interface RunEnd {
  exitCode: number | null;
  timedOut: boolean;
  idleTimedOut: boolean;
  cancelled: boolean;
}

/** Keeps the first and last bytes of a long output. */
class CappedOutput {
  #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  #total = 0;

  constructor(private readonly max: number) {}

  add(chunk: Buffer) {
    this.#total += chunk.length;
    const headRoom = Math.ceil(this.max / 2) - this.#headBytes;
    if (headRoom > 0) {
      const part = chunk.subarray(0, headRoom);
      this.#head.push(part);
      this.#headBytes += part.length;
      chunk = chunk.subarray(part.length);
    }
    if (!chunk.length) return;
    this.#tail.push(chunk);
    this.#tailBytes += chunk.length;
    const tailMax = Math.floor(this.max / 2);
    while (this.#tail.length > 1 && this.#tailBytes - this.#tail[0].length >= tailMax) this.#tailBytes -= this.#tail.shift()!.length;
  }

  get truncated(): boolean {
    return this.#total > this.max;
  }

  text(): string {
    const head = Buffer.concat(this.#head).toString('utf8');
    if (!this.truncated) return head + Buffer.concat(this.#tail).toString('utf8');
    const tail = Buffer.concat(this.#tail);
    const kept = tail.subarray(Math.max(0, tail.length - Math.floor(this.max / 2)));
    return `${head}\n[… ${this.#total - this.#headBytes - kept.length} bytes of output left out …]\n${kept.toString('utf8')}`;
  }
}

export class Sandbox {
  #destroyed: Promise<void> | null = null;
  #killer: Killer | null = null;

  private constructor(
    readonly docker: Docker,
    readonly container: Docker.Container,
    readonly taskId: string,
    readonly name: string,
    readonly user: string,
    readonly network: string,
  ) {}

  /** The container's name for a task. */
  static containerName(taskId: string): string {
    return `homeport-task-${taskId}`;
  }

  /** Starts the task's container (replacing one left over from an earlier run of the same task). */
  static async create(options: SandboxOptions): Promise<Sandbox> {
    const { docker, image, taskId } = options;
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$/.test(taskId)) throw new Error(`a task id for a sandbox must be letters, digits, '.', '_' or '-' (got ${JSON.stringify(taskId)})`);
    const network = options.network ?? SANDBOX_DEFAULTS.network;
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(network)) throw new Error(`sandbox network must be 'none', 'host' or a Docker network name (got ${JSON.stringify(network)})`);
    const env = { HOME: '/tmp', ...options.env };
    for (const key of Object.keys(env)) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`sandbox environment: ${JSON.stringify(key)} is not a variable name`);

    const workspace = await realpath(options.workspace).catch(() => {
      throw new Error(`the workspace ${options.workspace} does not exist`);
    });
    const info = await stat(workspace);
    if (!info.isDirectory()) throw new Error(`the workspace ${options.workspace} is not a directory`);
    const user = options.user ?? `${info.uid}:${info.gid}`;

    await requireEngine(docker);
    try {
      await docker.getImage(image).inspect();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) throw new Error(`the sandbox image ${image} is not on this Docker engine: pull or build it first (docker pull ${image})`);
      throw engineError(error);
    }

    const name = Sandbox.containerName(taskId);
    await removeLeftover(docker, name, taskId);
    const memory = options.memoryBytes ?? SANDBOX_DEFAULTS.memoryBytes;
    let container: Docker.Container;
    try {
      container = await docker.createContainer({
        name,
        Image: image,
        // Overrides any entrypoint of the image: the container only waits; tools come in by exec.
        Entrypoint: ['sleep'],
        Cmd: ['infinity'],
        User: user,
        WorkingDir: WORKSPACE,
        Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        Hostname: 'sandbox',
        Labels: { [MANAGED_LABEL]: 'true', [KIND_LABEL]: SANDBOX_KIND, [TASK_LABEL]: taskId, ...(options.owner ? { [OWNER_LABEL]: options.owner } : {}) },
        Tty: false,
        HostConfig: {
          Mounts: [{ Type: 'bind', Source: workspace, Target: WORKSPACE, ReadOnly: false }],
          NetworkMode: network,
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          Privileged: false,
          ReadonlyRootfs: options.readonlyRoot ?? true,
          Tmpfs: { '/tmp': `rw,exec,nosuid,nodev,size=${options.tmpBytes ?? SANDBOX_DEFAULTS.tmpBytes}` },
          Memory: memory,
          MemorySwap: memory, // no swap on top
          NanoCpus: options.nanoCpus ?? SANDBOX_DEFAULTS.nanoCpus,
          PidsLimit: options.pidsLimit ?? SANDBOX_DEFAULTS.pidsLimit,
          // docker-init as pid 1 reaps what killed commands leave behind
          Init: true,
          RestartPolicy: { Name: 'no' },
        },
      });
    } catch (error) {
      throw engineError(error);
    }
    try {
      await container.start();
    } catch (error) {
      await container.remove({ force: true }).catch(() => {});
      throw engineError(error);
    }
    const sandbox = new Sandbox(docker, container, taskId, name, user, network);
    try {
      sandbox.#killer = await sandbox.#startKiller();
    } catch (error) {
      await sandbox.destroy().catch(() => {});
      throw engineError(error);
    }
    return sandbox;
  }

  /**
   * Removes sandbox containers that no live task owns (left by a crashed homeportd):
   * only those made with the same `owner` (none given: those made without one), so
   * another homeportd on the same engine keeps its own. Only containers labelled as
   * Homeport sandboxes are ever touched. Returns their names.
   */
  static async removeOrphans(docker: Docker, keepTaskIds: Iterable<string> = [], options: { owner?: string } = {}): Promise<string[]> {
    const keep = new Set(keepTaskIds);
    const labels = [`${MANAGED_LABEL}=true`, `${KIND_LABEL}=${SANDBOX_KIND}`, ...(options.owner ? [`${OWNER_LABEL}=${options.owner}`] : [])];
    let found: Docker.ContainerInfo[];
    try {
      found = await docker.listContainers({ all: true, filters: { label: labels } });
    } catch (error) {
      throw engineError(error);
    }
    const removed: string[] = [];
    for (const info of found) {
      if (info.Labels[MANAGED_LABEL] !== 'true' || info.Labels[KIND_LABEL] !== SANDBOX_KIND) continue;
      if (info.Labels[OWNER_LABEL] !== options.owner) continue;
      if (keep.has(info.Labels[TASK_LABEL])) continue;
      await forceRemove(docker.getContainer(info.Id));
      removed.push(info.Names[0]?.replace(/^\//, '') ?? info.Id);
    }
    return removed;
  }

  /** Runs `command` with `sh -c` in /workspace. Never throws for the command's own failures. */
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const started = performance.now();
    const output = new CappedOutput(options.maxOutputBytes ?? 64 * 1024);
    const end = await this.#run(command, {
      timeoutMs: options.timeoutMs ?? 120_000,
      idleTimeoutMs: options.idleTimeoutMs,
      signal: options.signal,
      onOutput: (_stream, chunk) => output.add(chunk),
    });
    return { ...end, output: output.text(), truncated: output.truncated, durationMs: performance.now() - started };
  }

  /** The bytes of a file under /workspace (at most `maxBytes`, default 1 MiB). */
  async readFile(path: string, options: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<Buffer> {
    const target = workspacePath(path);
    const max = options.maxBytes ?? MAX_READ_BYTES;
    const { end, stdout, stderr } = await this.#fileOp(READ_SCRIPT, [target, String(max)], undefined, max + 64, options.signal);
    const shown = relativeToWorkspace(target);
    switch (end.exitCode) {
      case 0:
        return stdout;
      case 10:
        throw new SandboxFileError('not_found', `${shown} does not exist`);
      case 11:
        throw new SandboxFileError('is_directory', `${shown} is a directory, not a file`);
      case 12:
        throw new SandboxFileError('not_file', `${shown} is not a regular file`);
      case 14:
        throw new SandboxFileError('too_large', `${shown} is ${stdout.toString().trim()} bytes, more than the ${max} bytes read at once`);
      default:
        throw opFailed(`reading ${shown}`, end, stderr);
    }
  }

  /** Writes a file under /workspace, creating its folders. */
  async writeFile(path: string, content: string | Buffer, options: { signal?: AbortSignal } = {}): Promise<void> {
    const target = workspacePath(path);
    const shown = relativeToWorkspace(target);
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    if (target === WORKSPACE) throw new SandboxFileError('is_directory', '/workspace itself is a directory');
    if (bytes.length > MAX_WRITE_BYTES) throw new SandboxFileError('too_large', `${bytes.length} bytes is more than the ${MAX_WRITE_BYTES} bytes written at once`);
    const { end, stderr } = await this.#fileOp(WRITE_SCRIPT, [target], bytes, 4096, options.signal);
    switch (end.exitCode) {
      case 0:
        return;
      case 11:
        throw new SandboxFileError('is_directory', `${shown} is a directory`);
      case 12:
        throw new SandboxFileError('not_file', `${shown} exists and is not a regular file`);
      case 13:
        throw new SandboxFileError('not_directory', `cannot create the folder of ${shown} (a file is in the way, or no permission)`);
      default:
        throw opFailed(`writing ${shown}`, end, stderr);
    }
  }

  /** Files and folders under `path` (default /workspace), `depth` levels down (1–10), sorted. */
  async listFiles(path = '.', options: { depth?: number; maxEntries?: number; signal?: AbortSignal } = {}): Promise<{ entries: FileEntry[]; truncated: boolean }> {
    const target = workspacePath(path);
    const depth = Math.min(Math.max(Math.floor(options.depth ?? 2), 1), 10);
    const cap = options.maxEntries ?? MAX_LIST_ENTRIES;
    const { end, stdout, stderr } = await this.#fileOp(LIST_SCRIPT, [target, String(depth), String(cap + 1)], undefined, 8 * 1024 * 1024, options.signal);
    const shown = relativeToWorkspace(target);
    if (end.exitCode === 10) throw new SandboxFileError('not_found', `${shown} does not exist`);
    if (end.exitCode === 13) throw new SandboxFileError('not_directory', `${shown} is not a folder (or cannot be entered)`);
    if (end.exitCode !== 0) throw opFailed(`listing ${shown}`, end, stderr);
    const entries: FileEntry[] = [];
    let type: FileEntry['type'] = 'dir';
    const counts = { dir: 0, file: 0 };
    for (const line of stdout.toString('utf8').split('\n')) {
      if (line === '//dirs' || line === '//files') {
        type = line === '//dirs' ? 'dir' : 'file';
        continue;
      }
      if (!line.startsWith('./')) continue;
      counts[type]++;
      entries.push({ path: relativeToWorkspace(posix.join(target, line)), type });
    }
    const truncated = counts.dir > cap || counts.file > cap || entries.length > cap;
    entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { entries: entries.slice(0, cap), truncated };
  }

  /** Kills and removes the container, whatever state it is in. Safe to call again. */
  destroy(): Promise<void> {
    this.#killer?.stream.destroy();
    this.#destroyed ??= forceRemove(this.container);
    return this.#destroyed;
  }

  get destroyed(): boolean {
    return this.#destroyed !== null;
  }

  async #fileOp(script: string, args: string[], stdin: Buffer | undefined, maxStdout: number, signal?: AbortSignal) {
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    const stderr = new CappedOutput(4096);
    const end = await this.#run(script, {
      args,
      stdin,
      timeoutMs: FILE_OP_TIMEOUT_MS,
      signal,
      onOutput: (stream, chunk) => {
        if (stream === 2) return stderr.add(chunk);
        if (stdoutBytes >= maxStdout) return;
        stdout.push(chunk.subarray(0, maxStdout - stdoutBytes));
        stdoutBytes += chunk.length;
      },
    });
    if (end.cancelled) throw new SandboxFileError('failed', 'cancelled');
    return { end, stdout: Buffer.concat(stdout), stderr: stderr.text().trim() };
  }

  /** One exec: `script` via sh in its own session, killed whole on timeout, silence or abort. */
  async #run(script: string, options: RunOptions): Promise<RunEnd> {
    if (this.#destroyed) throw new SandboxGone(`the sandbox of task ${this.taskId} was destroyed`);
    const result: RunEnd = { exitCode: null, timedOut: false, idleTimedOut: false, cancelled: false };
    if (options.signal?.aborted) return { ...result, cancelled: true };

    let exec: Docker.Exec;
    let stream: Duplex;
    try {
      exec = await this.container.exec({
        Cmd: ['sh', '-c', LEADER, 'homeport', script, 'homeport', ...(options.args ?? [])],
        AttachStdin: Boolean(options.stdin),
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        WorkingDir: WORKSPACE,
        User: this.user,
      });
      stream = (await exec.start({ hijack: true, stdin: Boolean(options.stdin) })) as Duplex;
    } catch (error) {
      throw await this.#explain(error);
    }

    return new Promise<RunEnd>((resolve, reject) => {
      let pgid: number | null = null;
      let pidLine = '';
      let killWanted = false;
      let finished = false;
      let idleTimer: NodeJS.Timeout | undefined;
      let graceTimer: NodeJS.Timeout | undefined;

      const kill = () => {
        if (killWanted) return;
        killWanted = true;
        if (pgid !== null) void this.#killSession(pgid);
        // a process that escaped the kill may hold the stream open: stop waiting after a while
        graceTimer = setTimeout(() => stream.destroy(), KILL_GRACE_MS);
      };
      const armIdle = () => {
        if (!options.idleTimeoutMs || killWanted) return;
        clearTimeout(idleTimer);
        idleTimer = setTimeout(() => {
          result.idleTimedOut = true;
          kill();
        }, options.idleTimeoutMs);
      };
      const wallTimer = setTimeout(() => {
        result.timedOut = true;
        kill();
      }, options.timeoutMs);
      const onAbort = () => {
        result.cancelled = true;
        kill();
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      armIdle();

      const demuxer = new DockerStreamDemuxer((type, payload) => {
        if (pgid === null && type === 1) {
          const newline = payload.indexOf(10);
          pidLine += payload.subarray(0, newline < 0 ? payload.length : newline).toString('latin1');
          if (newline < 0) return;
          pgid = Number(pidLine);
          if (killWanted) void this.#killSession(pgid);
          payload = payload.subarray(newline + 1);
          if (!payload.length) return;
        }
        armIdle();
        options.onOutput(type, payload);
      });

      const finish = async (error?: Error) => {
        if (finished) return;
        finished = true;
        clearTimeout(wallTimer);
        clearTimeout(idleTimer);
        clearTimeout(graceTimer);
        options.signal?.removeEventListener('abort', onAbort);
        if (error && !killWanted) return reject(await this.#explain(error));
        try {
          result.exitCode = await exitCodeOf(exec);
        } catch (inspectError) {
          if (!killWanted) return reject(await this.#explain(inspectError));
        }
        resolve(result);
      };

      stream.on('data', (chunk: Buffer) => {
        try {
          demuxer.push(chunk);
        } catch (error) {
          stream.destroy(error as Error);
        }
      });
      stream.once('end', () => void finish());
      stream.once('close', () => void finish());
      stream.once('error', (error) => void finish(error));
      if (options.stdin) stream.end(options.stdin);
    });
  }

  /** Starts the killer shell (at create, and again if something killed it). */
  async #startKiller(): Promise<Killer> {
    const exec = await this.container.exec({ Cmd: ['sh', '-c', KILLER_SCRIPT], AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false, User: this.user });
    const stream = (await exec.start({ hijack: true, stdin: true })) as Duplex;
    const killer: Killer = { stream, alive: true, waiting: new Map() };
    let line = '';
    const demuxer = new DockerStreamDemuxer((type, payload) => {
      if (type !== 1) return;
      line += payload.toString('latin1');
      let newline: number;
      while ((newline = line.indexOf('\n')) >= 0) {
        const match = /^killed (\d+)$/.exec(line.slice(0, newline));
        line = line.slice(newline + 1);
        if (match) for (const done of killer.waiting.get(Number(match[1])) ?? []) done();
        if (match) killer.waiting.delete(Number(match[1]));
      }
    });
    const ended = () => {
      killer.alive = false;
      for (const list of killer.waiting.values()) for (const done of list) done();
      killer.waiting.clear();
    };
    stream.on('data', (chunk: Buffer) => {
      try {
        demuxer.push(chunk);
      } catch {
        stream.destroy();
      }
    });
    stream.once('close', ended);
    stream.once('end', ended);
    stream.once('error', ended);
    return killer;
  }

  /** Kills a command's session through the killer (errors ignored: the container may be gone). */
  async #killSession(pgid: number): Promise<void> {
    if (!Number.isInteger(pgid) || pgid <= 1) return;
    try {
      if (!this.#killer || !this.#killer.alive) this.#killer = await this.#startKiller();
      const killer = this.#killer;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 10_000);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        killer.waiting.set(pgid, [...(killer.waiting.get(pgid) ?? []), done]);
        killer.stream.write(`${pgid}\n`);
      });
    } catch {
      // the container is gone or stopping: its processes are too
    }
  }

  /** An engine error as DockerUnavailable, SandboxGone (the container is not running) or a plain Error. */
  async #explain(error: unknown): Promise<Error> {
    const mapped = engineError(error);
    if (mapped !== error) return mapped as Error;
    const gone = new SandboxGone(`the sandbox of task ${this.taskId} is gone (its container was removed or stopped)`);
    if (this.#destroyed) return gone;
    try {
      if (!(await this.container.inspect()).State.Running) return gone;
    } catch (inspectError) {
      if ((inspectError as { statusCode?: number }).statusCode === 404) return gone;
      const unreachable = engineError(inspectError);
      if (unreachable !== inspectError) return unreachable as Error;
    }
    return new Error(`sandbox of task ${this.taskId}: ${(error as Error).message}`);
  }
}

/** The exit code once docker has it (the stream can end a moment before). */
async function exitCodeOf(exec: Docker.Exec): Promise<number | null> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const info = await exec.inspect();
    if (!info.Running) return info.ExitCode ?? null;
    await new Promise((r) => setTimeout(r, 20));
  }
  return null;
}

function opFailed(what: string, end: RunEnd, stderr: string): SandboxFileError {
  if (end.timedOut) return new SandboxFileError('failed', `${what} took longer than ${FILE_OP_TIMEOUT_MS / 1000} s and was stopped`);
  return new SandboxFileError('failed', `${what} failed${stderr ? `: ${stderr}` : ` (exit code ${end.exitCode})`}`);
}

async function forceRemove(container: Docker.Container): Promise<void> {
  try {
    await container.remove({ force: true, v: true });
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 404) return; // already gone
    if (status === 409) {
      // a removal already in progress: wait for it
      for (let i = 0; i < 50; i++) {
        try {
          await container.inspect();
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw engineError(error);
  }
}

/** A container already holding the task's name: ours (an earlier run) is removed; anyone else's is an error. */
async function removeLeftover(docker: Docker, name: string, taskId: string): Promise<void> {
  const existing = docker.getContainer(name);
  let info: Docker.ContainerInspectInfo;
  try {
    info = await existing.inspect();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return;
    throw engineError(error);
  }
  const labels = info.Config.Labels ?? {};
  if (labels[MANAGED_LABEL] !== 'true' || labels[KIND_LABEL] !== SANDBOX_KIND || labels[TASK_LABEL] !== taskId) {
    throw new Error(`a container named ${name} exists and is not this task's sandbox: remove or rename it`);
  }
  await forceRemove(existing);
}
