/**
 * @module
 * The node's repos: clone by URL (in the background, with progress), register a local
 * work tree, pull (fast-forward only), git status, remove, and each repo's dev server
 * settings. Every change is written with its outbox row in one transaction.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdir, realpath, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { eq, or } from 'drizzle-orm';
import type { PortInfo } from '@homeport/shared';
import { recordChange, schema, type Store, type Tx } from '../db/index.ts';
import type { NodeSettings } from '../node-settings.ts';
import type { SecretStore } from '../vault.ts';
import { detectStart, type Detection } from './detect.ts';
import { GitError, lastLines, progressReader, runGit, type CloneProgress, type GitAuth } from './git.ts';

export type RepoRow = typeof schema.repos.$inferSelect;
export type ServerRow = typeof schema.servers.$inferSelect;

/** A request the service cannot carry out; `status` is the HTTP status the API answers. */
export class RepoError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 422 | 502,
    message: string,
  ) {
    super(message);
  }
}

export interface ServerSettings {
  /** the owner's command; null = detected */
  command: string | null;
  env: Record<string, string>;
  desiredState: 'running' | 'stopped';
  /** null = the node's setting */
  autoRestart: boolean | null;
  /** null = the node's setting */
  idleTimeoutMinutes: number | null;
}

export type RepoView = RepoRow & { server: ServerSettings };

export interface RepoStatus {
  branch: string | null;
  detached: boolean;
  upstream: string | null;
  ahead: number | null;
  behind: number | null;
  dirty: boolean;
  /** tracked files with changes, staged or not */
  changed: number;
  untracked: number;
  lastCommit: { hash: string; subject: string; author: string; date: string } | null;
}

export type CloneEvent = ({ type: 'progress' } & CloneProgress) | { type: 'done'; repo: RepoView } | { type: 'error'; error: string };

const CLONE_TIMEOUT_MS = 60 * 60_000;
const NETWORK_TIMEOUT_MS = 5 * 60_000;
const LOCAL_TIMEOUT_MS = 20_000;
/** how long a finished clone's events stay readable (a late `progress` request) */
const JOB_RETENTION_MS = 10 * 60_000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A clone running in the background; its events are kept for late readers. */
class CloneJob extends EventEmitter<{ event: [CloneEvent] }> {
  readonly events: CloneEvent[] = [];
  readonly abort = new AbortController();
  finished = false;
  done!: Promise<void>;

  push(event: CloneEvent) {
    this.events.push(event);
    if (event.type !== 'progress') this.finished = true;
    this.emit('event', event);
  }
}

export interface RepoServiceOptions {
  store: Store;
  secrets: SecretStore;
  settings: NodeSettings;
  reposDir: string;
  log?: (message: string) => void;
}

export interface RepoServiceEvents {
  /** after a committed change; `repo` is null when it was removed */
  change: [{ type: 'added' | 'updated' | 'removed'; id: string; repo: RepoView | null }];
}

function newId(): string {
  return `repo_${randomBytes(6).toString('hex')}`;
}

function parseEnv(json: string): Record<string, string> {
  try {
    const value = JSON.parse(json);
    return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

export function viewOf(repo: RepoRow, server: ServerRow | undefined): RepoView {
  return {
    ...repo,
    server: {
      command: server?.command ?? null,
      env: parseEnv(server?.env ?? '{}'),
      desiredState: server?.desiredState ?? 'stopped',
      autoRestart: server?.autoRestart ?? null,
      idleTimeoutMinutes: server?.idleTimeoutMinutes ?? null,
    },
  };
}

/**
 * Checks a URL to clone. Credentials never go into a URL (they would be stored in
 * .git/config and shown in `git remote -v`): the GitHub token is given separately.
 */
export function checkCloneUrl(raw: unknown): string {
  if (typeof raw !== 'string' || !raw.trim()) throw new RepoError(400, 'expected {"url": "<git URL>"} (https://, ssh://, git@host:path or file://)');
  const url = raw.trim();
  if (url.length > 2000 || /[\s\x00-\x1f]/.test(url) || url.startsWith('-')) throw new RepoError(400, 'that is not a git URL');
  if (/^[\w.-]+@[\w.-]+:(?!\/\/)\S+$/.test(url)) return url; // scp-like ssh: git@github.com:owner/repo.git
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RepoError(400, `"${url}" is not a git URL (https://, ssh://, git@host:path or file://); to use a folder already on this machine, register it with \`homeport add <path>\``);
  }
  if (!['https:', 'http:', 'ssh:', 'git:', 'file:'].includes(parsed.protocol)) throw new RepoError(400, `git URLs with ${parsed.protocol} are not supported (https://, ssh://, git@host:path or file://)`);
  if (parsed.password || ((parsed.protocol === 'https:' || parsed.protocol === 'http:') && parsed.username))
    throw new RepoError(400, 'put no credentials in the URL: they would be stored in the repo; set the GitHub token with `homeport github-token` instead');
  return url;
}

/** A remote URL as stored: any user:password part removed. */
export function withoutCredentials(url: string | null): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    if (parsed.password || ((parsed.protocol === 'https:' || parsed.protocol === 'http:') && parsed.username)) {
      parsed.username = '';
      parsed.password = '';
      return parsed.href;
    }
  } catch {
    // scp-like or a path: no password part possible
  }
  return url;
}

export function nameFromUrl(url: string): string {
  const last = url.replace(/[/:]+$/, '').split(/[/:]/).pop() ?? '';
  return last.replace(/\.git$/, '');
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) throw new RepoError(400, `"${String(name)}" cannot be a repo name: use letters, digits, ".", "_" and "-" (at most 100), starting with a letter or digit`);
  return name;
}

/** Validates a PUT /api/repos/:repo/settings body into a servers row patch. */
export function parseServerSettings(body: unknown): Partial<Omit<ServerSettings, 'desiredState'>> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new RepoError(400, 'expected {"command"?: "…"|null, "env"?: {"NAME": "value"}, "autoRestart"?: true|false|null, "idleTimeoutMinutes"?: N|null}');
  const b = body as Record<string, unknown>;
  const patch: Partial<Omit<ServerSettings, 'desiredState'>> = {};
  for (const key of Object.keys(b)) if (!['command', 'env', 'autoRestart', 'idleTimeoutMinutes'].includes(key)) throw new RepoError(400, `unknown setting "${key}": a repo has command, env, autoRestart and idleTimeoutMinutes`);
  if ('command' in b) {
    if (b.command === null || b.command === '') patch.command = null;
    else if (typeof b.command !== 'string' || b.command.length > 4000 || b.command.includes('\0')) throw new RepoError(400, 'command must be a shell command line (at most 4000 characters), or null for the detected one');
    else patch.command = b.command.trim();
  }
  if ('env' in b) {
    const env = b.env;
    if (!env || typeof env !== 'object' || Array.isArray(env)) throw new RepoError(400, 'env must be an object of names to string values, e.g. {"PORT": "3000"}');
    const entries = Object.entries(env);
    if (entries.length > 200) throw new RepoError(400, 'at most 200 environment variables per repo');
    for (const [k, v] of entries) {
      if (!ENV_NAME.test(k)) throw new RepoError(400, `"${k}" is not an environment variable name (letters, digits and _, not starting with a digit)`);
      if (typeof v !== 'string') throw new RepoError(400, `env ${k} must be a string (write "${String(v)}" in quotes)`);
    }
    if (JSON.stringify(env).length > 64 * 1024) throw new RepoError(400, "a repo's environment may hold at most 64 KiB");
    patch.env = env as Record<string, string>;
  }
  if ('autoRestart' in b) {
    if (b.autoRestart !== null && typeof b.autoRestart !== 'boolean') throw new RepoError(400, 'autoRestart must be true, false or null (the node setting)');
    patch.autoRestart = b.autoRestart as boolean | null;
  }
  if ('idleTimeoutMinutes' in b) {
    const v = b.idleTimeoutMinutes;
    if (v !== null && (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 10080)) throw new RepoError(400, 'idleTimeoutMinutes must be whole minutes from 0 (never) to 10080, or null (the node setting)');
    patch.idleTimeoutMinutes = v as number | null;
  }
  return patch;
}

export class RepoService extends EventEmitter<RepoServiceEvents> {
  readonly #jobs = new Map<string, CloneJob>();
  /** repo root → registered repo, for tagging scanned ports */
  #byPath = new Map<string, { id: string; name: string }>();
  readonly #log: (message: string) => void;
  /** runs before a repo is forgotten (its dev server is stopped there) */
  beforeRemove: ((repo: RepoRow) => Promise<void>) | null = null;

  constructor(readonly options: RepoServiceOptions) {
    super();
    this.#log = options.log ?? (() => {});
  }

  get store() {
    return this.options.store;
  }

  /** Loads the path index and cleans up after clones a previous homeportd did not finish. */
  async init(): Promise<void> {
    const stale = await this.store.db.select().from(schema.repos).where(eq(schema.repos.state, 'cloning'));
    for (const repo of stale) {
      this.#log(`repo ${repo.name}: its clone was interrupted when homeportd stopped; removing the partial clone`);
      await rm(repo.path, { recursive: true, force: true });
      await this.#deleteRow(repo, 'clone interrupted');
    }
    await this.#reindex();
  }

  async #reindex() {
    const rows = await this.store.db.select({ id: schema.repos.id, name: schema.repos.name, path: schema.repos.path }).from(schema.repos);
    this.#byPath = new Map(rows.map((r) => [r.path, { id: r.id, name: r.name }]));
  }

  /** The owner's GitHub credentials for git over https, or null (also for the files/git API). */
  async gitAuth(): Promise<GitAuth | null> {
    return this.#auth();
  }

  async #auth(): Promise<GitAuth | null> {
    const token = await this.options.secrets.get('github-token');
    return token ? { token, baseUrl: await this.options.settings.get('githubBaseUrl') } : null;
  }

  async #serverOf(id: string): Promise<ServerRow | undefined> {
    const [row] = await this.store.db.select().from(schema.servers).where(eq(schema.servers.repoId, id));
    return row;
  }

  async #viewInTx(tx: Tx, id: string): Promise<RepoView> {
    const [repo] = await tx.select().from(schema.repos).where(eq(schema.repos.id, id));
    const [server] = await tx.select().from(schema.servers).where(eq(schema.servers.repoId, id));
    return viewOf(repo, server);
  }

  async #changed(type: 'added' | 'updated' | 'removed', id: string, repo: RepoView | null) {
    await this.#reindex();
    this.emit('change', { type, id, repo });
  }

  async list(): Promise<RepoView[]> {
    const repos = await this.store.db.select().from(schema.repos).orderBy(schema.repos.name);
    const servers = await this.store.db.select().from(schema.servers);
    return repos.map((r) => viewOf(r, servers.find((s) => s.repoId === r.id)));
  }

  /** A repo by id or name; 404 when there is none. */
  async find(ref: string): Promise<RepoRow> {
    const [repo] = await this.store.db
      .select()
      .from(schema.repos)
      .where(or(eq(schema.repos.id, ref), eq(schema.repos.name, ref)));
    if (!repo) throw new RepoError(404, `no repo "${ref}" (\`homeport repos\` lists them)`);
    return repo;
  }

  async get(ref: string): Promise<RepoView> {
    const repo = await this.find(ref);
    return viewOf(repo, await this.#serverOf(repo.id));
  }

  async detect(repo: RepoRow): Promise<Detection> {
    return detectStart(repo.path);
  }

  /** The command a start runs: the owner's, else the detected one; null with the reason. */
  async startCommand(repo: RepoRow): Promise<{ command: string | null; reason: string }> {
    const server = await this.#serverOf(repo.id);
    if (server?.command) return { command: server.command, reason: 'set by hand' };
    const d = await detectStart(repo.path);
    return { command: d.command, reason: d.reason };
  }

  /** Branch, dirty state, ahead/behind and the last commit. */
  async status(repo: RepoRow): Promise<RepoStatus> {
    if (repo.state !== 'ready') throw new RepoError(409, `${repo.name} is still being cloned`);
    await this.#checkFolder(repo);
    const { stdout } = await runGit(['status', '--porcelain=v2', '--branch'], { cwd: repo.path, timeoutMs: LOCAL_TIMEOUT_MS }).catch((e) => this.#fail(e, 502, `git status failed in ${repo.path}`));
    const status: RepoStatus = { branch: null, detached: false, upstream: null, ahead: null, behind: null, dirty: false, changed: 0, untracked: 0, lastCommit: null };
    for (const line of stdout.split('\n')) {
      if (line.startsWith('# branch.head ')) {
        const head = line.slice('# branch.head '.length);
        status.detached = head === '(detached)';
        status.branch = status.detached ? null : head;
      } else if (line.startsWith('# branch.upstream ')) status.upstream = line.slice('# branch.upstream '.length);
      else if (line.startsWith('# branch.ab ')) {
        const m = /\+(\d+) -(\d+)/.exec(line);
        if (m) [status.ahead, status.behind] = [Number(m[1]), Number(m[2])];
      } else if (line.startsWith('? ')) status.untracked++;
      else if (/^[12u] /.test(line)) status.changed++;
    }
    status.dirty = status.changed + status.untracked > 0;
    try {
      const { stdout: log } = await runGit(['log', '-1', '--format=%H%x00%s%x00%an%x00%aI'], { cwd: repo.path, timeoutMs: LOCAL_TIMEOUT_MS });
      const [hash, subject, author, date] = log.replace(/\n$/, '').split('\0');
      if (hash) status.lastCommit = { hash, subject, author, date };
    } catch {
      // a repository without commits yet
    }
    return status;
  }

  async #checkFolder(repo: RepoRow) {
    const info = await stat(repo.path).catch(() => null);
    if (!info?.isDirectory()) throw new RepoError(409, `${repo.name}'s folder ${repo.path} is gone; remove the repo (\`homeport remove ${repo.name}\`) or put the folder back`);
  }

  #fail(error: unknown, status: 400 | 409 | 502, what: string): never {
    if (error instanceof GitError) throw new RepoError(status, `${what}:\n${error.message}`);
    throw error;
  }

  /**
   * Starts a clone and returns the new repo (state `cloning`) once git has reached the
   * remote; progress and the end are events (cloneEvents). A URL git cannot read is an
   * error right away, with git's own words.
   */
  async clone(input: { url: unknown; name?: unknown }): Promise<RepoView> {
    const url = checkCloneUrl(input.url);
    const name = checkName(input.name === undefined || input.name === null || input.name === '' ? nameFromUrl(url) : input.name);
    await mkdir(this.options.reposDir, { recursive: true });
    // The real path, as the scanner will see it in /proc/<pid>/cwd.
    const dir = join(await realpath(this.options.reposDir), name);
    await this.#checkNameFree(name);
    if (await stat(dir).catch(() => null)) throw new RepoError(409, `${dir} already exists: register it with \`homeport add ${dir}\`, or clone under another name (--name)`);

    const auth = await this.#auth();
    let defaultBranch: string | null = null;
    try {
      // Reaches the remote before answering, so a wrong URL or missing access is a 4xx now.
      const { stdout } = await runGit(['ls-remote', '--symref', '--', url, 'HEAD'], { auth, timeoutMs: NETWORK_TIMEOUT_MS });
      defaultBranch = /^ref: refs\/heads\/(\S+)\s+HEAD$/m.exec(stdout)?.[1] ?? null;
    } catch (error) {
      if (!(error instanceof GitError)) throw error;
      const needsToken = !auth && /Authentication failed|could not read Username|terminal prompts disabled|403|401/i.test(error.stderr);
      throw new RepoError(400, `git cannot clone ${url}:\n${error.message}${needsToken ? '\n(a private repo? set a GitHub token: `homeport github-token`)' : ''}`);
    }

    // Made here, atomically (git clones into an empty folder): a failed clone then only ever deletes a folder of its own.
    try {
      await mkdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new RepoError(409, `${dir} already exists: register it with \`homeport add ${dir}\`, or clone under another name (--name)`);
      throw error;
    }
    const id = newId();
    const now = Date.now();
    const view = await this.#insert({ id, name, path: dir, remoteUrl: url, defaultBranch, source: 'clone', state: 'cloning', addedAt: now, updatedAt: now }).catch(async (error) => {
      await rm(dir, { recursive: true, force: true });
      throw error;
    });

    const job = new CloneJob();
    this.#jobs.set(id, job);
    job.done = this.#runClone(job, view, auth).finally(() => {
      setTimeout(() => this.#jobs.delete(id), JOB_RETENTION_MS).unref();
    });
    return view;
  }

  async #runClone(job: CloneJob, repo: RepoView, auth: GitAuth | null) {
    const onProgress = progressReader((p) => job.push({ type: 'progress', ...p }));
    try {
      await runGit(['clone', '--progress', '--', repo.remoteUrl!, repo.path], { auth, timeoutMs: CLONE_TIMEOUT_MS, onStderr: onProgress, signal: job.abort.signal });
      const branch = await runGit(['symbolic-ref', '--short', '-q', 'HEAD'], { cwd: repo.path, timeoutMs: LOCAL_TIMEOUT_MS }).then(
        (r) => r.stdout.trim() || null,
        () => null,
      );
      const view = await this.store.write(async (tx) => {
        await tx
          .update(schema.repos)
          .set({ state: 'ready', defaultBranch: branch ?? repo.defaultBranch, updatedAt: Date.now() })
          .where(eq(schema.repos.id, repo.id));
        const view = await this.#viewInTx(tx, repo.id);
        await recordChange(tx, 'repos', 'repo.updated', view);
        return view;
      });
      this.#log(`repo ${repo.name}: cloned into ${repo.path}`);
      await this.#changed('updated', repo.id, view);
      job.push({ type: 'done', repo: view });
    } catch (error) {
      const message = error instanceof GitError ? error.message : (error as Error).message;
      this.#log(`repo ${repo.name}: clone failed: ${lastLines(message, 1)}`);
      await rm(repo.path, { recursive: true, force: true }).catch(() => {});
      await this.#deleteRow(repo, 'clone failed').catch((e) => this.#log(`repo ${repo.name}: could not remove its row: ${e.message}`));
      job.push({ type: 'error', error: `git cannot clone ${repo.remoteUrl}:\n${message}` });
    }
  }

  /** The events of a clone so far and a way to follow it; null when no clone is known. */
  cloneEvents(id: string): { past: CloneEvent[]; finished: boolean; follow(listener: (e: CloneEvent) => void): () => void } | null {
    const job = this.#jobs.get(id);
    if (!job) return null;
    return {
      past: [...job.events],
      finished: job.finished,
      follow(listener) {
        job.on('event', listener);
        return () => job.off('event', listener);
      },
    };
  }

  /** Registers a git work tree already on this machine (its top level). */
  async register(input: { path: unknown; name?: unknown }): Promise<RepoView> {
    if (typeof input.path !== 'string' || !input.path.trim()) throw new RepoError(400, 'expected {"path": "/absolute/path/to/a/git/work/tree"}');
    if (!isAbsolute(input.path)) throw new RepoError(400, `"${input.path}" is not an absolute path`);
    const info = await stat(input.path).catch(() => null);
    if (!info?.isDirectory()) throw new RepoError(400, `${input.path} is not a folder on this machine`);
    let top: string;
    try {
      const { stdout } = await runGit(['rev-parse', '--show-toplevel'], { cwd: input.path, timeoutMs: LOCAL_TIMEOUT_MS });
      top = await realpath(stdout.trim());
    } catch (error) {
      if (error instanceof GitError) throw new RepoError(400, `${input.path} is not a git work tree (git init it, or clone it with \`homeport clone <url>\`)`);
      throw error;
    }
    const name = checkName(input.name === undefined || input.name === null || input.name === '' ? basename(top) : input.name);
    const [existing] = await this.store.db.select().from(schema.repos).where(eq(schema.repos.path, top));
    if (existing) throw new RepoError(409, `${top} is already registered as "${existing.name}"`);
    await this.#checkNameFree(name);
    const git = (args: string[]) =>
      runGit(args, { cwd: top, timeoutMs: LOCAL_TIMEOUT_MS }).then(
        (r) => r.stdout.trim() || null,
        () => null,
      );
    const remoteUrl = withoutCredentials(await git(['remote', 'get-url', 'origin']));
    const defaultBranch = (await git(['symbolic-ref', '--short', '-q', 'refs/remotes/origin/HEAD']))?.replace(/^origin\//, '') ?? (await git(['symbolic-ref', '--short', '-q', 'HEAD']));
    const now = Date.now();
    const view = await this.#insert({ id: newId(), name, path: top, remoteUrl, defaultBranch, source: 'local', state: 'ready', addedAt: now, updatedAt: now });
    this.#log(`repo ${name}: registered ${top}`);
    return view;
  }

  async #checkNameFree(name: string) {
    const [taken] = await this.store.db.select({ id: schema.repos.id }).from(schema.repos).where(eq(schema.repos.name, name));
    if (taken) throw new RepoError(409, `there is already a repo named "${name}"; choose another name (--name)`);
  }

  async #insert(repo: RepoRow): Promise<RepoView> {
    let view: RepoView;
    try {
      view = await this.store.write(async (tx) => {
        await tx.insert(schema.repos).values(repo);
        await tx.insert(schema.servers).values({ repoId: repo.id, updatedAt: repo.addedAt });
        const view = await this.#viewInTx(tx, repo.id);
        await recordChange(tx, 'repos', 'repo.added', view);
        return view;
      });
    } catch (error) {
      // Two requests for one name or path at once: the unique index lets one through.
      if (/UNIQUE constraint failed/.test(String((error as Error).message) + String((error as { cause?: Error }).cause?.message)))
        throw new RepoError(409, `a repo named "${repo.name}" or at ${repo.path} was added just now`);
      throw error;
    }
    await this.#changed('added', repo.id, view);
    return view;
  }

  async #deleteRow(repo: RepoRow, reason: string) {
    await this.store.write(async (tx) => {
      await tx.delete(schema.servers).where(eq(schema.servers.repoId, repo.id));
      await tx.delete(schema.repos).where(eq(schema.repos.id, repo.id));
      await recordChange(tx, 'repos', 'repo.removed', { id: repo.id, name: repo.name, reason });
    });
    await this.#changed('removed', repo.id, null);
  }

  /** `git pull --ff-only`; a branch that cannot fast-forward is a 409 that says so. */
  async pull(ref: string): Promise<{ repo: RepoView; updated: boolean; from: string | null; to: string | null; status: RepoStatus }> {
    const repo = await this.find(ref);
    if (repo.state !== 'ready') throw new RepoError(409, `${repo.name} is still being cloned`);
    await this.#checkFolder(repo);
    const head = () =>
      runGit(['rev-parse', '-q', '--verify', 'HEAD'], { cwd: repo.path, timeoutMs: LOCAL_TIMEOUT_MS }).then(
        (r) => r.stdout.trim() || null,
        () => null,
      );
    const from = await head();
    try {
      await runGit(['pull', '--ff-only', '--no-rebase'], { cwd: repo.path, auth: await this.#auth(), timeoutMs: NETWORK_TIMEOUT_MS });
    } catch (error) {
      if (!(error instanceof GitError)) throw error;
      const s = error.stderr;
      if (/Not possible to fast-forward|diverg/i.test(s))
        throw new RepoError(409, `${repo.name} cannot fast-forward: its branch and the remote's have both moved on. Merge or rebase by hand in ${repo.path} (Homeport only fast-forwards).\n${error.message}`);
      if (/no tracking information/i.test(s)) throw new RepoError(409, `${repo.name}'s current branch tracks no remote branch, so there is nothing to pull (git branch --set-upstream-to=origin/<branch>)`);
      if (/would be overwritten|commit your changes or stash/i.test(s)) throw new RepoError(409, `${repo.name} has local changes the pull would overwrite: commit or stash them first.\n${error.message}`);
      throw new RepoError(502, `git pull failed in ${repo.path}:\n${error.message}`);
    }
    const to = await head();
    const updated = from !== to;
    let view: RepoView;
    if (updated) {
      view = await this.store.write(async (tx) => {
        await tx.update(schema.repos).set({ updatedAt: Date.now() }).where(eq(schema.repos.id, repo.id));
        const view = await this.#viewInTx(tx, repo.id);
        await recordChange(tx, 'repos', 'repo.updated', { ...view, head: to });
        return view;
      });
      await this.#changed('updated', repo.id, view);
    } else view = await this.get(repo.id);
    return { repo: view, updated, from, to, status: await this.status(repo) };
  }

  /** Forgets a repo; its files stay unless `deleteFiles`. A clone still running is cancelled. */
  async remove(ref: string, options: { deleteFiles?: boolean } = {}): Promise<{ removed: RepoView; filesDeleted: boolean }> {
    const repo = await this.find(ref);
    const removed = viewOf(repo, await this.#serverOf(repo.id));
    const job = this.#jobs.get(repo.id);
    if (repo.state === 'cloning' && job && !job.finished) {
      // The clone's own failure path removes the row and the partial folder.
      job.abort.abort();
      await job.done;
      return { removed, filesDeleted: true };
    }
    if (options.deleteFiles) await this.#checkDeletable(repo);
    await this.beforeRemove?.(repo);
    await this.#deleteRow(repo, 'removed by the owner');
    if (options.deleteFiles) {
      await rm(repo.path, { recursive: true, force: true });
      this.#log(`repo ${repo.name}: removed, with its files at ${repo.path}`);
    } else this.#log(`repo ${repo.name}: removed (files kept at ${repo.path})`);
    return { removed, filesDeleted: !!options.deleteFiles };
  }

  /** Deletes only what is still that repo's own work tree, never a parent or a home folder. */
  async #checkDeletable(repo: RepoRow) {
    const path = resolve(repo.path);
    if (path === '/' || path === resolve(homedir()) || path === resolve(this.options.reposDir)) throw new RepoError(400, `refusing to delete ${path}`);
    if (!(await stat(path).catch(() => null))) return;
    const top = await runGit(['rev-parse', '--show-toplevel'], { cwd: path, timeoutMs: LOCAL_TIMEOUT_MS }).then(
      async (r) => realpath(r.stdout.trim()),
      () => null,
    );
    if (top !== path) throw new RepoError(409, `${path} is no longer the top of a git work tree, so Homeport will not delete it; remove the repo without deleting files, then delete what you want by hand`);
  }

  /** Changes a repo's server settings (command, env, restart, idle timeout). */
  async updateServer(ref: string, body: unknown): Promise<RepoView> {
    const patch = parseServerSettings(body);
    const repo = await this.find(ref);
    const values: Partial<ServerRow> = { updatedAt: Date.now() };
    if ('command' in patch) values.command = patch.command;
    if ('env' in patch) values.env = JSON.stringify(patch.env);
    if ('autoRestart' in patch) values.autoRestart = patch.autoRestart;
    if ('idleTimeoutMinutes' in patch) values.idleTimeoutMinutes = patch.idleTimeoutMinutes;
    return this.#updateServerRow(repo, values);
  }

  /** Records what the owner asked for, so homeportd can restore it after a restart. */
  async setDesiredState(ref: string, desiredState: 'running' | 'stopped'): Promise<RepoView> {
    const repo = await this.find(ref);
    return this.#updateServerRow(repo, { desiredState, updatedAt: Date.now() });
  }

  async #updateServerRow(repo: RepoRow, values: Partial<ServerRow>): Promise<RepoView> {
    const view = await this.store.write(async (tx) => {
      await tx
        .insert(schema.servers)
        .values({ repoId: repo.id, updatedAt: Date.now(), ...values })
        .onConflictDoUpdate({ target: schema.servers.repoId, set: values });
      const view = await this.#viewInTx(tx, repo.id);
      await recordChange(tx, 'servers', 'server.updated', { repoId: repo.id, name: repo.name, ...view.server });
      return view;
    });
    await this.#changed('updated', repo.id, view);
    return view;
  }

  /** Scanned ports with the registered repo's name and id where the root matches. */
  tagPorts(ports: PortInfo[]): PortInfo[] {
    return ports.map((p) => {
      const known = p.repo ? this.#byPath.get(p.repo.root) : undefined;
      return known && p.repo ? { ...p, repo: { ...p.repo, name: known.name, id: known.id } } : p;
    });
  }

  /** Cancels running clones (homeportd is stopping); their cleanup finishes first. */
  async close(): Promise<void> {
    const running = [...this.#jobs.values()].filter((j) => !j.finished);
    for (const job of running) job.abort.abort();
    await Promise.all(running.map((j) => j.done));
  }
}
