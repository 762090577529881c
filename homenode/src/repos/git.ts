/**
 * @module
 * Runs git for the repos module: execFile (no shell), a timeout, never a prompt, English
 * messages to parse. The owner's GitHub token reaches git only through the child's
 * environment, as an `http.<github>.extraHeader` config entry (GIT_CONFIG_COUNT/KEY/VALUE)
 * that git sends to that host alone: never in argv, a URL, a log line or an error.
 */
import { execFile } from 'node:child_process';

export interface GitAuth {
  token: string;
  /** remotes under this URL get the token (https://github.com/ unless configured) */
  baseUrl: string;
}

export interface GitRunOptions {
  cwd?: string;
  auth?: GitAuth | null;
  timeoutMs?: number;
  /** raw stderr as it arrives (clone progress) */
  onStderr?: (chunk: string) => void;
  /** kills git (a clone cancelled by removing its repo, or homeportd stopping) */
  signal?: AbortSignal;
}

export interface GitInvocation {
  file: 'git';
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** git failed; `message` and `stderr` are already redacted. */
export class GitError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly exitCode: number | null,
    readonly timedOut: boolean,
  ) {
    super(message);
  }
}

export const DEFAULT_TIMEOUT_MS = 120_000;

/** Variables a parent's environment could use to aim git elsewhere or smuggle config in. */
const INHERITED_GIT_VARS = /^GIT_(CONFIG_(COUNT|KEY_\d+|VALUE_\d+|PARAMETERS)|DIR|WORK_TREE|INDEX_FILE|COMMON_DIR|NAMESPACE)$/;

function authHeader(token: string): string {
  return `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
}

/** The exact command and environment runGit starts (tests check the token stays out of argv). */
export function gitInvocation(args: string[], auth?: GitAuth | null, baseEnv: NodeJS.ProcessEnv = process.env): GitInvocation {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(baseEnv)) if (!INHERITED_GIT_VARS.test(key)) env[key] = value;
  Object.assign(env, {
    // Fail at once instead of waiting for a person at a terminal that is not there.
    GIT_TERMINAL_PROMPT: '0',
    GCM_INTERACTIVE: 'never',
    GIT_SSH_COMMAND: baseEnv.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
    // No index refresh behind the owner's back while they use git themselves.
    GIT_OPTIONAL_LOCKS: '0',
    // Messages we parse are in English.
    LC_ALL: 'C',
    LANGUAGE: 'C',
    GIT_CONFIG_COUNT: '0',
  });
  if (auth?.token) {
    env.GIT_CONFIG_COUNT = '1';
    env.GIT_CONFIG_KEY_0 = `http.${auth.baseUrl}.extraHeader`;
    env.GIT_CONFIG_VALUE_0 = authHeader(auth.token);
  }
  return { file: 'git', args, env };
}

/** Replaces the token (and the header built from it) in text meant for people. */
export function redact(text: string, auth?: GitAuth | null): string {
  if (!auth?.token) return text;
  const forms = [auth.token, Buffer.from(`x-access-token:${auth.token}`).toString('base64')];
  let out = text;
  for (const form of forms) out = out.split(form).join('***');
  return out;
}

/** The last few meaningful lines of git's stderr (progress meters left out). */
export function lastLines(stderr: string, count = 5): string {
  return stderr
    .split(/[\r\n]+/)
    .map((l) => l.trim())
    .filter((l) => l && !parseProgress(l))
    .slice(-count)
    .join('\n');
}

export function runGit(args: string[], options: GitRunOptions = {}): Promise<{ stdout: string; stderr: string }> {
  const { file, env } = gitInvocation(args, options.auth);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { cwd: options.cwd, env, signal: options.signal, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 32 * 1024 * 1024, encoding: 'utf8', windowsHide: true },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr });
        const clean = redact(stderr, options.auth);
        const timedOut = (error as { killed?: boolean }).killed === true;
        const code = typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code as number) : null;
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return reject(new GitError(options.cwd ? `could not run git in ${options.cwd}: is git installed, and does the folder exist?` : 'could not run git: is it installed (on PATH)?', '', null, false));
        if (options.signal?.aborted) return reject(new GitError(`git ${args[0]} was cancelled`, clean, null, false));
        const what = `git ${args[0]}`;
        const message = timedOut ? `${what} took longer than ${Math.round(timeoutMs / 1000)} s and was stopped` : lastLines(clean) || `${what} failed (exit code ${code})`;
        reject(new GitError(message, clean, code, timedOut));
      },
    );
    if (options.onStderr) {
      const onStderr = options.onStderr;
      child.stderr?.on('data', (chunk: string) => onStderr(redact(chunk, options.auth)));
    }
  });
}

export interface CloneProgress {
  /** git's phase: "Receiving objects", "Resolving deltas", … */
  phase: string;
  percent: number;
  done: number;
  total: number;
}

const PROGRESS = /^(?:remote:\s*)?([A-Z][A-Za-z ]*?):\s+(\d{1,3})% \((\d+)\/(\d+)\)/;

/** One progress meter line of `git clone --progress`, or null. */
export function parseProgress(line: string): CloneProgress | null {
  const m = PROGRESS.exec(line.trim());
  if (!m) return null;
  return { phase: m[1], percent: Number(m[2]), done: Number(m[3]), total: Number(m[4]) };
}

/**
 * Turns stderr chunks into progress events, one per phase and percent (git redraws its
 * meters with \r many times a second; listeners only need each step once).
 */
export function progressReader(emit: (progress: CloneProgress) => void): (chunk: string) => void {
  let partial = '';
  let last = '';
  return (chunk) => {
    const parts = (partial + chunk).split(/[\r\n]/);
    partial = parts.pop() ?? '';
    for (const line of parts) {
      const progress = parseProgress(line);
      if (!progress) continue;
      const key = `${progress.phase}:${progress.percent}`;
      if (key === last) continue;
      last = key;
      emit(progress);
    }
  };
}
