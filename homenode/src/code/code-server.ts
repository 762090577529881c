/**
 * @module
 * Browser VS Code: homeportd supervises one code-server, bound to 127.0.0.1 on a port
 * outside the share range (so no share can ever reach it) with its own auth off: the
 * only ways in are the node API (`/api/code/`, owner-only through the edge) and the
 * LAN door (`/code/`, the LAN key). A repo opens through code-server's `?folder=` URL,
 * so one instance serves every repo without restarts.
 *
 * Which code-server: the `codeServerPath` setting, else HOMEPORT_CODE_SERVER, else
 * `code-server` on PATH. With HOMEPORT_CODE_SERVER_URL (docker-compose.yml's
 * code-server service) homeportd runs nothing and only proxies to that URL.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { createServer } from 'node:net';
import { delimiter, isAbsolute, join } from 'node:path';
import type { NodeSettings } from '../node-settings.ts';
import { Supervisor, type LogLine, type ServerStatus } from '../servers/supervisor.ts';

export type CodeState = 'not-installed' | 'stopped' | 'starting' | 'running' | 'errored' | 'external';

export interface CodeStatus {
  state: CodeState;
  /** the code-server binary (null when none was found, or external) */
  binary: string | null;
  /** where homeportd reaches it: http://127.0.0.1:<port> */
  upstream: string | null;
  pid: number | null;
  startedAt: number | null;
  lastError: string | null;
  /** how to install it, when it is not installed */
  install: string | null;
}

export interface CodeTarget {
  host: string;
  port: number;
}

/** Not installed (409), runs elsewhere (409), did not start (502). */
export class CodeServerError extends Error {
  constructor(
    readonly status: 409 | 502,
    message: string,
  ) {
    super(message);
  }
}

export const INSTALL_HINT =
  'code-server is not installed on this machine. Install it so that `code-server` is on homeportd\'s PATH ' +
  '(https://coder.com/docs/code-server/install: `curl -fsSL https://code-server.dev/install.sh | sh`, or a standalone release, which brings its own Node), ' +
  'or tell homeportd where it is: HOMEPORT_CODE_SERVER=/path/to/code-server, or the codeServerPath setting (`homeport code path /path/to/code-server`). ' +
  'With Docker, `docker compose up -d` runs it as the code-server service.';

const ID = 'code-server';

export interface CodeServerOptions {
  dataDir: string;
  /** homeportd's environment (HOMEPORT_CODE_SERVER, HOMEPORT_CODE_SERVER_URL, PATH) */
  env: NodeJS.ProcessEnv;
  settings: NodeSettings;
  /** the share range: code-server's port is always outside it */
  scanRange: { low: number; high: number };
  /** its working directory (the repos folder; the home folder while that does not exist) */
  cwd: string;
  /** how long a start may take until /healthz answers */
  readyTimeoutMs?: number;
  log?: (message: string) => void;
}

/** Single-quotes a word for /bin/sh. */
function shellWord(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A free port on 127.0.0.1 chosen by the system, outside `avoid`. */
async function freePortOutside(avoid: { low: number; high: number }): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    if (port < avoid.low || port > avoid.high) return port;
  }
  throw new Error(`found no free port outside ${avoid.low}-${avoid.high}`);
}

export class CodeServer {
  readonly #supervisor: Supervisor;
  readonly #external: CodeTarget | null;
  #port: number | null = null;
  #binary: string | null = null;
  #starting: Promise<CodeStatus> | null = null;
  #lastError: string | null = null;
  /** /healthz answered since the last launch (the supervisor says running only after a quiet second) */
  #ready = false;

  constructor(private readonly options: CodeServerOptions) {
    this.#supervisor = new Supervisor({ logDir: join(options.dataDir, 'code-server'), readyAfterMs: 1000, stopTimeoutMs: 5000 });
    this.#supervisor.on('state', (s) => {
      if (s.state !== 'running' && s.state !== 'starting') this.#ready = false;
    });
    const url = options.env.HOMEPORT_CODE_SERVER_URL;
    this.#external = url ? CodeServer.parseUpstream(url) : null;
    const { low, high } = options.scanRange;
    if (this.#external && this.#external.port >= low && this.#external.port <= high)
      throw new Error(`HOMEPORT_CODE_SERVER_URL's port ${this.#external.port} is inside the share range ${low}-${high}, so a share could reach code-server, which has no password: give it a port outside that range`);
  }

  /** http://host:port, nothing else (the proxy adds the paths). */
  static parseUpstream(raw: string): CodeTarget {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new Error(`HOMEPORT_CODE_SERVER_URL must be a URL like http://127.0.0.1:8443, not "${raw}"`);
    }
    if (url.protocol !== 'http:' || url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search)
      throw new Error(`HOMEPORT_CODE_SERVER_URL must be http://<host>:<port> without a path, not "${raw}"`);
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) };
  }

  /** Ends a code-server a previous homeportd left running (call once at start). */
  async init(): Promise<void> {
    const ended = await this.#supervisor.endLeftovers();
    if (ended) this.options.log?.('stopped a code-server a previous homeportd left running');
  }

  /**
   * The binary homeportd would run: the codeServerPath setting, else HOMEPORT_CODE_SERVER,
   * else code-server on PATH; `problem` says why a configured one cannot be used.
   */
  async locate(): Promise<{ binary: string | null; problem: string | null }> {
    const setting = await this.options.settings.get('codeServerPath');
    const configured = setting ? { path: setting, by: 'the codeServerPath setting' } : this.options.env.HOMEPORT_CODE_SERVER ? { path: this.options.env.HOMEPORT_CODE_SERVER, by: 'HOMEPORT_CODE_SERVER' } : null;
    if (configured)
      return isExecutableFile(configured.path) ? { binary: configured.path, problem: null } : { binary: null, problem: `${configured.by} names ${configured.path}, which is not an executable file` };
    for (const dir of (this.options.env.PATH ?? '').split(delimiter)) {
      if (!dir || !isAbsolute(dir)) continue;
      const candidate = join(dir, 'code-server');
      if (isExecutableFile(candidate)) return { binary: candidate, problem: null };
    }
    return { binary: null, problem: null };
  }

  /** Where the proxies send requests: the running instance (or the external one), else null. */
  target(): CodeTarget | null {
    if (this.#external) return this.#external;
    const s = this.#supervisor.status(ID);
    return this.#port !== null && s && (s.state === 'running' || s.state === 'starting') ? { host: '127.0.0.1', port: this.#port } : null;
  }

  async status(): Promise<CodeStatus> {
    if (this.#external) {
      const up = await this.#healthy(this.#external);
      return { state: 'external', binary: null, upstream: `http://${this.#external.host}:${this.#external.port}`, pid: null, startedAt: null, lastError: up ? null : 'it does not answer /healthz', install: null };
    }
    const s = this.#supervisor.status(ID);
    if (s && s.state !== 'stopped') return this.#view(s);
    const { binary, problem } = await this.locate();
    if (!binary) return { state: 'not-installed', binary: null, upstream: null, pid: null, startedAt: null, lastError: problem, install: INSTALL_HINT };
    return { state: 'stopped', binary, upstream: null, pid: null, startedAt: null, lastError: this.#lastError, install: null };
  }

  /** Starts code-server unless it runs; resolves once it answers /healthz. */
  async start(): Promise<CodeStatus> {
    if (this.#external) throw new CodeServerError(409, `code-server runs outside homeportd (HOMEPORT_CODE_SERVER_URL): start and stop it there, e.g. \`docker compose up -d code-server\``);
    this.#starting ??= this.#start().finally(() => (this.#starting = null));
    return this.#starting;
  }

  /** The target, starting code-server first when it is installed and not running. */
  async ensureRunning(): Promise<CodeTarget> {
    const running = this.target();
    if (running && (this.#external || this.#ready)) return running;
    const status = await this.start();
    const target = this.target();
    if (status.state !== 'running' || !target) throw new CodeServerError(502, `code-server did not start: ${status.lastError ?? status.state}`);
    return target;
  }

  async stop(): Promise<CodeStatus> {
    if (this.#external) throw new CodeServerError(409, 'code-server runs outside homeportd (HOMEPORT_CODE_SERVER_URL): stop it there, e.g. `docker compose stop code-server`');
    await this.#supervisor.stop(ID);
    return this.status();
  }

  logs(tail = 200): LogLine[] {
    return this.#supervisor.logs(ID, { tail });
  }

  /** homeportd is stopping. */
  async close(): Promise<void> {
    await this.#supervisor.stopAll();
  }

  async #start(): Promise<CodeStatus> {
    const current = this.#supervisor.status(ID);
    // Already up, coming up, or about to be restarted by the supervisor: wait for it instead.
    const active = current && (current.state === 'running' || current.state === 'starting' || current.state === 'crashed') && this.#port !== null;
    if (!active) await this.#launch();
    const target = { host: '127.0.0.1', port: this.#port! };
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 30_000);
    for (;;) {
      const s = this.#supervisor.status(ID)!;
      if (s.state === 'errored' || s.state === 'stopped') {
        this.#lastError = s.lastError;
        return this.#view(s);
      }
      if (await this.#healthy(target)) {
        this.#lastError = null;
        this.#ready = true;
        return this.#view(s);
      }
      if (Date.now() > deadline) {
        await this.#supervisor.stop(ID);
        this.#lastError = `it did not answer on 127.0.0.1:${this.#port}/healthz within ${Math.round((this.options.readyTimeoutMs ?? 30_000) / 1000)} s`;
        return { ...(await this.status()), lastError: this.#lastError };
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Runs the binary on a fresh port outside the share range. */
  async #launch() {
    const { binary, problem } = await this.locate();
    if (!binary) throw new CodeServerError(409, problem ? `${problem}. ${INSTALL_HINT}` : INSTALL_HINT);
    this.#binary = binary;
    this.#ready = false;
    this.#port = await freePortOutside(this.options.scanRange);
    const command = [
      'exec',
      shellWord(binary),
      '--bind-addr',
      `127.0.0.1:${this.#port}`,
      // Its own auth is off: the edge's owner-only API route and the LAN key guard it.
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
    ].join(' ');
    this.options.log?.(`starting code-server (${binary}) on 127.0.0.1:${this.#port}`);
    // The repos folder exists once a repo was cloned; until then, the home folder.
    const cwd = existsSync(this.options.cwd) ? this.options.cwd : homedir();
    this.#supervisor.start({ id: ID, cwd, command, env: {} });
  }

  async #healthy(target: CodeTarget): Promise<boolean> {
    try {
      const res = await fetch(`http://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }

  #view(s: ServerStatus): CodeStatus {
    // /healthz is the better sign of running than the supervisor's quiet second.
    const state: CodeState = s.state === 'crashed' ? 'starting' : s.state === 'starting' && this.#ready ? 'running' : s.state;
    return {
      state,
      binary: this.#binary,
      upstream: this.#port !== null && state !== 'stopped' ? `http://127.0.0.1:${this.#port}` : null,
      pid: s.pid,
      startedAt: s.startedAt,
      lastError: s.lastError,
      install: null,
    };
  }
}
