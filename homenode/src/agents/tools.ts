/**
 * @module
 * The agent's tools over a task's Sandbox: read_file, write_file, list_files and bash run
 * inside the container; git_status and git_diff run on the host, read-only.
 *
 * Why git on the host: a task's worktree keeps its git directory in the repo's own
 * `.git/worktrees/`, which is not mounted (nor should it be: the sandbox could rewrite
 * hooks or config that homeportd's git later obeys), so git inside the container could
 * not find the repository; and images need no git. Host git gets fixed arguments only
 * (the model supplies at most a path, after `--`, as a literal pathspec), the git dir
 * given explicitly (never read from the work tree's `.git` file, which the sandbox can
 * rewrite), hooks, fsmonitor, external diff, textconv and every transport off, no
 * optional locks, and an environment holding no GIT_* variable and no secret. A git dir
 * inside the workspace (a plain clone mounted whole) is refused: its config would be
 * the sandbox's to write. The GitHub token never comes near any of this.
 *
 * `run` answers `{content, isError: true}` for anything the model can act on (a bad
 * path, a failing command, a timeout); it rejects only when the sandbox itself is unusable
 * (DockerUnavailable, SandboxGone), which should end the run.
 */
import { execFile } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { relativeToWorkspace, SandboxFileError, workspacePath, type Sandbox } from './sandbox.ts';

/** The loop's tool interface (loop.ts), repeated here so the two modules stay independent. */
export interface AgentTool {
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
  run(input: unknown, ctx: { signal: AbortSignal }): Promise<{ content: string; isError?: boolean }>;
}

export interface SandboxToolOptions {
  /** wall clock of one bash command (default 120 s) */
  bashTimeoutMs?: number;
  /** a bash command with no output for this long is killed (default 60 s) */
  bashIdleMs?: number;
  /** bash output kept (default 30 000 bytes: head and tail) */
  bashMaxOutputBytes?: number;
  /**
   * For git_status and git_diff (left out without it): the task's worktree on the host and
   * its git dir as git recorded it (never read from the work tree's `.git` file).
   */
  hostGit?: { worktree: string; gitDir: string } | null;
}

/** read_file answers files up to this size; larger ones are read in parts with bash. */
export const TOOL_READ_BYTES = 256 * 1024;
const GIT_OUTPUT_BYTES = 64 * 1024;
const GIT_TIMEOUT_MS = 15_000;

type ToolResult = { content: string; isError?: boolean };

const fail = (content: string): ToolResult => ({ content, isError: true });
const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** The input as an object of the expected fields, or a message for the model. */
function fields(tool: string, input: unknown, spec: Record<string, 'string' | 'string?' | 'integer?'>): Record<string, unknown> | string {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return `${tool} takes a JSON object as input`;
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) if (!(key in spec)) return `${tool} has no parameter "${key}" (it takes: ${Object.keys(spec).join(', ') || 'nothing'})`;
  for (const [key, kind] of Object.entries(spec)) {
    const value = record[key];
    if (value === undefined && kind.endsWith('?')) continue;
    if (kind.startsWith('string') && typeof value !== 'string') return `${tool} needs "${key}" as a string`;
    if (kind === 'integer?' && !Number.isInteger(value)) return `${tool} needs "${key}" as a whole number`;
  }
  return record;
}

/** Turns expected failures into tool errors; lets sandbox-level failures through. */
async function guarded(work: () => Promise<ToolResult>): Promise<ToolResult> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SandboxFileError || error instanceof HostGitError) return fail(error.message);
    throw error;
  }
}

export function sandboxTools(sandbox: Sandbox, options: SandboxToolOptions = {}): AgentTool[] {
  const bashTimeoutMs = options.bashTimeoutMs ?? 120_000;
  const bashIdleMs = options.bashIdleMs ?? 60_000;
  const bashMaxOutputBytes = options.bashMaxOutputBytes ?? 30_000;

  const tools: AgentTool[] = [
    {
      name: 'read_file',
      description:
        `Read a text file of the repository. The repository is mounted at /workspace; give "path" relative to it (e.g. "src/app.ts") or as an absolute path under /workspace. ` +
        `Returns the whole file, up to ${TOOL_READ_BYTES / 1024} KiB; for larger files read parts with bash (e.g. sed -n '1,200p' file). Binary files are not shown.`,
      input_schema: {
        type: 'object',
        properties: { path: { type: 'string', description: 'file path relative to /workspace' } },
        required: ['path'],
        additionalProperties: false,
      },
      run: (input, ctx) =>
        guarded(async () => {
          const args = fields('read_file', input, { path: 'string' });
          if (typeof args === 'string') return fail(args);
          const bytes = await sandbox.readFile(args.path as string, { maxBytes: TOOL_READ_BYTES, signal: ctx.signal });
          if (bytes.includes(0)) return fail(`${args.path} looks binary (${bytes.length} bytes): not shown`);
          return { content: bytes.length ? bytes.toString('utf8') : '(empty file)' };
        }),
    },
    {
      name: 'write_file',
      description:
        'Create a file or replace its whole content. "path" is relative to /workspace (the repository); missing folders are created. ' +
        'Give the complete new content: it replaces everything that was in the file.',
      input_schema: {
        type: 'object',
        properties: {
          path: { type: 'string', description: 'file path relative to /workspace' },
          content: { type: 'string', description: 'the complete content of the file' },
        },
        required: ['path', 'content'],
        additionalProperties: false,
      },
      run: (input, ctx) =>
        guarded(async () => {
          const args = fields('write_file', input, { path: 'string', content: 'string' });
          if (typeof args === 'string') return fail(args);
          const content = args.content as string;
          await sandbox.writeFile(args.path as string, content, { signal: ctx.signal });
          return { content: `wrote ${Buffer.byteLength(content)} bytes to ${relativeToWorkspace(workspacePath(args.path as string))}` };
        }),
    },
    {
      name: 'list_files',
      description:
        'List files and folders of the repository (mounted at /workspace), folders marked with a trailing "/". ' +
        '"path" is a folder relative to /workspace (default: the repository root); "depth" is how many levels down (1–10, default 2). ' +
        'The .git folder is left out; node_modules is shown but not entered.',
      input_schema: {
        type: 'object',
        properties: {
          path: { type: 'string', description: 'folder relative to /workspace (default ".")' },
          depth: { type: 'integer', minimum: 1, maximum: 10, description: 'levels to descend (default 2)' },
        },
        additionalProperties: false,
      },
      run: (input, ctx) =>
        guarded(async () => {
          const args = fields('list_files', input ?? {}, { path: 'string?', depth: 'integer?' });
          if (typeof args === 'string') return fail(args);
          const path = (args.path as string | undefined) ?? '.';
          const { entries, truncated } = await sandbox.listFiles(path, { depth: args.depth as number | undefined, signal: ctx.signal });
          if (!entries.length) return { content: `${relativeToWorkspace(workspacePath(path))} is empty` };
          const lines = entries.map((e) => (e.type === 'dir' ? `${e.path}/` : e.path));
          if (truncated) lines.push(`[only the first ${entries.length} entries: list a subfolder or use a smaller depth]`);
          return { content: lines.join('\n') };
        }),
    },
    {
      name: 'bash',
      description:
        'Run a shell command with `sh -c` in /workspace (the repository) inside this task\'s sandbox: a Linux container with no network unless the owner enabled it, ' +
        'where only /workspace and /tmp are writable and files you create belong to the repository. Each call is a new shell: `cd` and variables do not carry over. ' +
        `A command is killed after ${seconds(bashTimeoutMs)}, or after ${seconds(bashIdleMs)} without any output; do not start servers or watchers that never exit. ` +
        `Long output keeps its first and last parts (${bashMaxOutputBytes} bytes in all). The answer starts with the exit code.`,
      input_schema: {
        type: 'object',
        properties: { command: { type: 'string', description: 'the shell command, e.g. "npm test -- api/" or "grep -rn TODO src"' } },
        required: ['command'],
        additionalProperties: false,
      },
      run: (input, ctx) =>
        guarded(async () => {
          const args = fields('bash', input, { command: 'string' });
          if (typeof args === 'string') return fail(args);
          if (!(args.command as string).trim()) return fail('bash needs a non-empty "command"');
          const result = await sandbox.exec(args.command as string, { timeoutMs: bashTimeoutMs, idleTimeoutMs: bashIdleMs, maxOutputBytes: bashMaxOutputBytes, signal: ctx.signal });
          const code = result.exitCode === null ? 'unknown' : String(result.exitCode);
          const status = result.cancelled
            ? 'cancelled: the command was killed'
            : result.timedOut
              ? `timed out after ${seconds(bashTimeoutMs)}: the command was killed (exit code ${code})`
              : result.idleTimedOut
                ? `no output for ${seconds(bashIdleMs)}: the command was killed (exit code ${code})`
                : `exit code ${code}`;
          const killed = result.cancelled || result.timedOut || result.idleTimedOut;
          return { content: `${status}\n\n${result.output || '(no output)'}`, isError: killed || result.exitCode !== 0 };
        }),
    },
  ];

  if (options.hostGit) {
    const git = new HostGit(options.hostGit.worktree, options.hostGit.gitDir);
    tools.push(
      {
        name: 'git_status',
        description: 'Show the repository\'s branch and its changed, added and untracked files (git status --short --branch). Read-only.',
        input_schema: { type: 'object', properties: {}, additionalProperties: false },
        run: (input, ctx) =>
          guarded(async () => {
            const args = fields('git_status', input ?? {}, {});
            if (typeof args === 'string') return fail(args);
            const out = await git.run(['status', '--short', '--branch', '--untracked-files=all'], ctx.signal);
            return { content: out.trim() || '(clean)' };
          }),
      },
      {
        name: 'git_diff',
        description:
          'Show the changes made so far against the last commit (git diff HEAD), for the whole repository or one "path" (a file or folder relative to /workspace), ' +
          'followed by the names of new files git does not track yet (read those with read_file). Read-only.',
        input_schema: {
          type: 'object',
          properties: { path: { type: 'string', description: 'optional file or folder relative to /workspace' } },
          additionalProperties: false,
        },
        run: (input, ctx) =>
          guarded(async () => {
            const args = fields('git_diff', input ?? {}, { path: 'string?' });
            if (typeof args === 'string') return fail(args);
            const spec = args.path === undefined ? '.' : relativeToWorkspace(workspacePath(args.path as string));
            const diff = await git.run(['diff', '--no-color', '--no-ext-diff', '--no-textconv', 'HEAD', '--', spec], ctx.signal);
            const untracked = (await git.run(['ls-files', '--others', '--exclude-standard', '-z', '--', spec], ctx.signal)).split('\0').filter(Boolean);
            const parts = [diff.trim() || '(no changes to tracked files)'];
            if (untracked.length) parts.push(`New files, not tracked yet (${untracked.length}):\n${untracked.join('\n')}`);
            return { content: parts.join('\n\n') };
          }),
      },
    );
  }
  return tools;
}

class HostGitError extends Error {}

/** Read-only git on the host against the task's worktree, with everything fixed by us. */
class HostGit {
  #checked: string | null = null;

  constructor(
    private readonly worktree: string,
    private readonly gitDir: string,
  ) {}

  /** The git dir and its common dir must lie outside the worktree (else the sandbox could write their config). */
  #check(): string {
    if (this.#checked) return this.#checked;
    const inside = (path: string, root: string) => {
      const rel = relative(root, path);
      return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
    };
    let root: string;
    let gitDir: string;
    let commonDir: string;
    try {
      root = realpathSync(this.worktree);
      gitDir = realpathSync(this.gitDir);
      const common = readFileOrNull(resolve(gitDir, 'commondir'))?.trim();
      commonDir = common ? realpathSync(resolve(gitDir, common)) : gitDir;
    } catch {
      throw new HostGitError('git is not available for this task: its worktree or git directory is missing');
    }
    if (inside(gitDir, root) || inside(commonDir, root)) throw new HostGitError('git tools are off for this task: its git directory is inside the sandbox\'s workspace. Use bash if the image has git.');
    this.#checked = gitDir;
    return gitDir;
  }

  run(args: string[], signal: AbortSignal): Promise<string> {
    const gitDir = this.#check();
    const argv = [
      '--no-pager',
      `--git-dir=${gitDir}`,
      `--work-tree=${this.worktree}`,
      ...['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'core.quotePath=false', '-c', 'protocol.allow=never', '-c', 'color.ui=false'],
      ...args,
    ];
    // Nothing of homeportd's environment but what git needs to find itself and the owner's config.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/',
      LC_ALL: 'C',
      GIT_TERMINAL_PROMPT: '0',
      GIT_OPTIONAL_LOCKS: '0',
      GIT_LITERAL_PATHSPECS: '1',
    };
    return new Promise((resolvePromise, reject) => {
      execFile('git', argv, { cwd: this.worktree, env, signal, timeout: GIT_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, encoding: 'buffer' }, (error, stdout, stderr) => {
        if (error) {
          if (signal.aborted) return reject(new HostGitError(`git ${args[0]} was cancelled`));
          const complaint = stderr.toString('utf8').trim().split('\n').slice(-5).join('\n');
          return reject(new HostGitError(`git ${args[0]} failed: ${complaint || error.message}`));
        }
        if (stdout.length <= GIT_OUTPUT_BYTES) return resolvePromise(stdout.toString('utf8'));
        resolvePromise(`${stdout.subarray(0, GIT_OUTPUT_BYTES).toString('utf8')}\n[… cut at ${GIT_OUTPUT_BYTES} of ${stdout.length} bytes: ask for one path]`);
      });
    });
  }
}

function readFileOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
