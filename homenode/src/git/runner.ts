/**
 * @module
 * Runs `git` for the repo work API: no shell, cwd = the repo, a timeout that kills the
 * whole process group (hooks, ssh and remote helpers too), capped output, and an
 * environment that can neither prompt nor point git at another repository.
 */
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { HTTPException } from 'hono/http-exception';

export interface RunOptions {
  /** what the user asked for, for messages: "git log", "git push" */
  label: string;
  timeoutMs: number;
  /** stdout kept at most; beyond it `truncated` is set */
  maxOutputBytes?: number;
  /** a read: no optional locks, and git is stopped once the output cap is reached */
  read?: boolean;
  /** exit codes that are answers, not failures (e.g. 1 for `config --get` on a missing key) */
  okCodes?: number[];
  /** set last, after the inherited environment was cleaned (credentials for network work) */
  env?: Record<string, string>;
}

export interface GitResult {
  stdout: string;
  /** stdout as bytes, for file contents that may not be text */
  bytes: Buffer;
  stderr: string;
  code: number;
  truncated: boolean;
}

export const DEFAULT_MAX_OUTPUT = 8 * 1024 * 1024;
const MAX_STDERR = 64 * 1024;

// Inherited variables that would send git to another repository or inject config.
const REDIRECTING_ENV =
  /^(GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|COMMON_DIR|NAMESPACE|PREFIX|CONFIG_PARAMETERS|CONFIG_COUNT|CONFIG_KEY_\d+|CONFIG_VALUE_\d+|ASKPASS|EXTERNAL_DIFF)|SSH_ASKPASS)$/;

/** Options Homeport itself always sets; user input never reaches this list. */
const FIXED_ARGS = ['--no-pager', '-c', 'core.quotepath=false', '-c', 'color.ui=false', '-c', 'protocol.ext.allow=never'];

function gitEnv(cwd: string, read: boolean, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!REDIRECTING_ENV.test(key)) env[key] = value;
  Object.assign(env, {
    GIT_TERMINAL_PROMPT: '0',
    SSH_ASKPASS_REQUIRE: 'never',
    GIT_LITERAL_PATHSPECS: '1', // a path is a path: no globs or :(magic)
    GIT_CEILING_DIRECTORIES: dirname(cwd), // never fall back to a repository above the repo
    GIT_EDITOR: 'true',
    GIT_SEQUENCE_EDITOR: 'true',
    GIT_PAGER: 'cat',
    LC_ALL: 'C',
  });
  if (read) env.GIT_OPTIONAL_LOCKS = '0';
  return Object.assign(env, extra);
}

function killGroup(pid: number | undefined) {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The last lines of git's complaint, for an error message. */
export function gitComplaint(stderr: string, stdout = ''): string {
  const text = (stderr.trim() || stdout.trim()).split('\n').slice(-12).join('\n');
  return text.length > 2000 ? text.slice(-2000) : text;
}

/**
 * Runs git with `args` (built by Homeport from a fixed table) in `cwd`. Rejects with a
 * 504 on timeout and a 409 carrying git's message on a failing exit code.
 */
export function runGit(cwd: string, args: string[], options: RunOptions): Promise<GitResult> {
  const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...FIXED_ARGS, ...args], {
      cwd,
      env: gitEnv(cwd, options.read ?? false, options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group (killed whole) and no terminal to prompt on
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrBytes = 0;
    let truncated = false;
    let timedOut = false;

    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, options.timeoutMs);

    child.stdout.on('data', (chunk: Buffer) => {
      if (truncated) return;
      const room = maxOutput - stdoutBytes;
      if (chunk.length > room) {
        stdout.push(chunk.subarray(0, room));
        stdoutBytes = maxOutput;
        truncated = true;
        // a read can stop here; a write must finish, so its output is drained unkept
        if (options.read) killGroup(child.pid);
        return;
      }
      stdout.push(chunk);
      stdoutBytes += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderrBytes >= MAX_STDERR) return;
      stderr.push(chunk.subarray(0, MAX_STDERR - stderrBytes));
      stderrBytes += chunk.length;
    });

    child.on('error', (error) => {
      clearTimeout(timer);
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new HTTPException(500, { message: missing ? 'git is not installed on this node' : `${options.label} could not start` }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const bytes = Buffer.concat(stdout);
      const result: GitResult = {
        stdout: bytes.toString('utf8'),
        bytes,
        stderr: Buffer.concat(stderr).toString('utf8'),
        code: code ?? -1,
        truncated,
      };
      if (timedOut) {
        const seconds = Math.round(options.timeoutMs / 100) / 10;
        return reject(new HTTPException(504, { message: `${options.label} took longer than ${seconds} s and was stopped` }));
      }
      if (truncated && options.read) return resolve(result); // killed on purpose
      if (result.code === 0 || options.okCodes?.includes(result.code)) return resolve(result);
      reject(new HTTPException(409, { message: `${options.label} failed: ${gitComplaint(result.stderr, result.stdout) || `exit code ${result.code}`}` }));
    });
  });
}
