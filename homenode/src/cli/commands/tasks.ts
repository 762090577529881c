/**
 * @module
 * CLI commands for agent tasks:
 *
 *   homeport task "<prompt>" --repo <repo> [--model m] [--max-turns n] [--budget 0.50] [--timeout 10m]
 *                                          creates the task and streams it (Ctrl-C cancels it)
 *   homeport task show <id> [--json]       its transcript (following it while it runs)
 *   homeport task reply <id> "<prompt>"    a follow-up on the same branch, streamed
 *   homeport task cancel <id>
 *   homeport task diff <id>
 *   homeport tasks [--repo r] [--json]
 *   homeport anthropic-key [--clear|--status]   the key from stdin or the terminal, never argv
 */
import type { TaskEvent } from '../../agents/task-events.ts';
import { parseDuration } from '../../agents/task-input.ts';
import type { TaskView } from '../../agents/tasks.ts';
import { call, DaemonUnavailable, streamEvents } from '../client.ts';
import { UsageError, readSecret, table, type Command, type CommandContext } from '../command.ts';

function usage(command: string, description: string): string {
  const left = `homeport ${command}`;
  return `${left.padEnd(Math.max(39, left.length + 2))}${description}`;
}

const tty = process.stdout.isTTY;
const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[22m` : s);
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[22m` : s);

/** Options that take a value, and the words left over (the prompt). */
function parseTaskArgs(rest: string[]) {
  const values: Record<string, string> = {};
  const words: string[] = [];
  const takes = ['--repo', '--model', '--max-turns', '--max-tokens', '--budget', '--timeout'];
  const flags = new Set<string>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq !== -1 ? a.slice(0, eq) : a;
    if (takes.includes(name)) {
      const value = eq !== -1 && a.startsWith('--') ? a.slice(eq + 1) : rest[++i];
      if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
      values[name.slice(2)] = value;
    } else if (a === '--json') flags.add(a);
    else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else words.push(a);
  }
  return { values, words, flags };
}

function duration(raw: string): number {
  try {
    return parseDuration(raw);
  } catch (error) {
    throw new UsageError(`--timeout: ${(error as Error).message}`);
  }
}

function number(raw: string, option: string): number {
  const n = Number(raw.replace(/^\$/, ''));
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${option} takes a positive number (got "${raw}")`);
  return n;
}

function shorten(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

function money(usd: number): string {
  return usd >= 1 || usd === 0 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(4)}`;
}

/** What a tool was asked, in a line: the command for bash, the path for files. */
function toolLine(name: string, input: unknown): string {
  const i = (input ?? {}) as Record<string, unknown>;
  if (name === 'bash' && typeof i.command === 'string') return `$ ${shorten(i.command, 120)}`;
  if (name === 'write_file' && typeof i.path === 'string') return `write ${i.path}${typeof i.content === 'string' ? ` (${Buffer.byteLength(i.content)} bytes)` : ''}`;
  if (typeof i.path === 'string') return `${name} ${i.path}`;
  return `${name} ${shorten(JSON.stringify(input ?? {}), 100)}`;
}

interface StreamState {
  /** the cursor is in the middle of a line of assistant text */
  midLine: boolean;
  /** deltas were shown for the text block in progress */
  streamed: boolean;
  last: number;
  final: TaskEvent | null;
  usage: { input: number; output: number; cost: number };
}

/** Prints one event for people. */
function render(event: TaskEvent, state: StreamState, write: (s: string) => void) {
  const p = (event.payload ?? {}) as Record<string, any>;
  const line = (s: string) => {
    if (state.midLine) write('\n');
    state.midLine = false;
    write(s + '\n');
  };
  switch (event.type) {
    case 'run.started':
      line(dim(`▶ ${p.model}, at most ${p.limits?.maxTurns} turns, ${money(p.limits?.maxCostUsd ?? 0)}`));
      break;
    case 'user.message':
      line(bold(`› ${shorten(String(p.text ?? ''), 200)}`));
      break;
    case 'assistant.delta':
      write(String(p.text ?? ''));
      state.midLine = !String(p.text ?? '').endsWith('\n');
      state.streamed = true;
      break;
    case 'assistant.text':
      if (!state.streamed) line(String(p.text ?? ''));
      else if (state.midLine) line('');
      state.streamed = false;
      break;
    case 'tool.call':
      line(dim(`⚙ ${toolLine(String(p.name), p.input)}`));
      break;
    case 'tool.result': {
      const content = String(p.content ?? '');
      const lines = content.split('\n').filter((l) => l.trim());
      const more = lines.length > 1 ? ` (+${lines.length - 1} lines)` : '';
      line(dim(`  ${p.isError ? '✗' : '↳'} ${shorten(lines[0] ?? '(nothing)', 120)}${more}`));
      break;
    }
    case 'usage':
      state.usage = { input: p.totalInputTokens ?? 0, output: p.totalOutputTokens ?? 0, cost: p.totalCostUsd ?? 0 };
      break;
    case 'error':
      line(`✗ ${p.message}`);
      break;
    case 'cancelled':
      line(`■ cancelled: ${p.reason}`);
      break;
    case 'status':
      if (p.final) {
        state.final = event;
        break;
      }
      if (p.status === 'queued') line(dim(p.followUp ? '… queued (follow-up)' : '… queued'));
      else if (p.status === 'retrying' || p.status === 'limit') line(`! ${p.detail}`);
      else if (p.status === 'committed') line(p.committed ? `✓ committed ${String(p.commitSha).slice(0, 7)} on ${p.branch}${p.diffStat ? ` (${p.diffStat.files} files, +${p.diffStat.insertions} −${p.diffStat.deletions})` : ''}` : dim(`nothing new to commit on ${p.branch}`));
      else if (p.status === 'pushed') line(`✓ pushed ${p.branch} to ${p.remote}`);
      else if (p.status === 'pull-request') line(`✓ pull request ${p.prUrl}`);
      else if (['kept-local', 'push-failed', 'commit-failed', 'sandbox-not-removed'].includes(p.status)) line(`! ${p.detail}`);
      break;
  }
  state.last = event.seq;
}

function summary(task: TaskView): string {
  const parts = [`task ${task.id}: ${task.status}${task.reason ? ` (${task.reason})` : ''}`];
  if (task.diffStat) parts.push(`${task.diffStat.files} files +${task.diffStat.insertions} −${task.diffStat.deletions}`);
  if (task.commitSha && task.branch) parts.push(`${task.commitSha.slice(0, 7)} on ${task.branch}`);
  if (task.prUrl) parts.push(task.prUrl);
  parts.push(`${task.usage.inputTokens.toLocaleString('en-US')} in / ${task.usage.outputTokens.toLocaleString('en-US')} out tokens, ${money(task.costUsd)}`);
  return parts.join(' · ');
}

/**
 * Streams a task's events from `after` until its run ends, reconnecting (from the last
 * seq seen) when the stream breaks. Ctrl-C cancels the task when `cancelOnInterrupt`.
 */
async function follow(ctx: CommandContext, id: string, options: { after?: number; json?: boolean; cancelOnInterrupt?: boolean } = {}): Promise<number> {
  const state: StreamState = { midLine: false, streamed: false, last: options.after ?? 0, final: null, usage: { input: 0, output: 0, cost: 0 } };
  const write = (s: string) => void process.stdout.write(s);
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write(`\ncancelling task ${id}… (Ctrl-C again to leave now)\n`);
    void call('POST', `/api/tasks/${id}/cancel`).catch((error: Error) => process.stderr.write(`homeport: ${error.message}\n`));
  };
  if (options.cancelOnInterrupt) process.on('SIGINT', onInterrupt);
  try {
    for (let attempt = 0; !state.final; attempt++) {
      try {
        await streamEvents(`/api/tasks/${id}/events?after=${state.last}`, (sse) => {
          const event = JSON.parse(sse.data) as TaskEvent;
          if (event.seq <= state.last) return false;
          if (options.json) {
            ctx.out(JSON.stringify(event));
            state.last = event.seq;
            if (event.type === 'status' && (event.payload as { final?: boolean }).final) state.final = event;
          } else render(event, state, write);
          return false;
        });
      } catch (error) {
        if (!(error instanceof DaemonUnavailable) || attempt > 30) throw error;
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (state.final) break;
      const { task } = await call<{ task: TaskView }>('GET', `/api/tasks/${id}`);
      if (task.status !== 'queued' && task.status !== 'running') break;
    }
  } finally {
    if (options.cancelOnInterrupt) process.off('SIGINT', onInterrupt);
  }
  if (state.midLine) write('\n');
  const { task } = await call<{ task: TaskView }>('GET', `/api/tasks/${id}`);
  if (!options.json) ctx.out(summary(task));
  return task.status === 'completed' ? 0 : 1;
}

function idArg(ctx: CommandContext, words: string[], what: string): string {
  const id = words[0];
  if (!id) throw new UsageError(`say which task: homeport task ${what} <task id> (\`homeport tasks\` lists them)`);
  return encodeURIComponent(id);
}

const task: Command = {
  name: 'task',
  usage: [
    usage('task "<prompt>" --repo <repo> [--model m] [--max-turns n] [--budget 0.50] [--timeout 10m]', 'run an agent task on a repo, streamed here (Ctrl-C cancels it)'),
    usage('task show <id> [--json]', "a task's transcript, followed while it runs"),
    usage('task reply <id> "<prompt>"', 'a follow-up prompt: same conversation, same branch'),
    usage('task cancel <id>', 'cancel a queued or running task (its work so far is committed)'),
    usage('task diff <id>', "the task's changes as a patch"),
  ],
  async run(ctx) {
    const { values, words, flags } = parseTaskArgs(ctx.rest);
    const json = flags.has('--json');
    const sub = words[0];
    if (words.length >= 2 && ['show', 'cancel', 'diff'].includes(sub) && /^task_/.test(words[1])) {
      const id = idArg(ctx, words.slice(1), sub);
      if (sub === 'cancel') {
        const { task } = await call<{ task: TaskView }>('POST', `/api/tasks/${id}/cancel`);
        ctx.out(summary(task));
        return 0;
      }
      if (sub === 'diff') {
        const diff = await call<{ patch: string; live: boolean; truncated: boolean; untracked: string[] }>('GET', `/api/tasks/${id}/diff`);
        if (diff.live) process.stderr.write('(the task is still running: its changes so far, against the work tree)\n');
        process.stdout.write(diff.patch || '(no changes)\n');
        if (diff.untracked.length) process.stderr.write(`new files not shown: ${diff.untracked.join(', ')}\n`);
        if (diff.truncated) process.stderr.write('(cut at 1 MiB)\n');
        return 0;
      }
      return await follow(ctx, id, { json });
    }
    if (sub === 'reply' && words.length >= 2) {
      const id = idArg(ctx, words.slice(1), 'reply');
      const prompt = words.slice(2).join(' ');
      if (!prompt.trim()) throw new UsageError('say what the agent should do next: homeport task reply <id> "<prompt>"');
      const { task } = await call<{ task: TaskView }>('POST', `/api/tasks/${id}/messages`, { prompt });
      return await follow(ctx, task.id, { json, cancelOnInterrupt: true, after: await lastSeqBeforeFollowUp(task.id) });
    }
    const prompt = words.join(' ');
    if (!prompt.trim()) throw new UsageError('say what the agent should do: homeport task "<prompt>" --repo <repo>');
    if (!values.repo) throw new UsageError('say which repo: --repo <name> (`homeport repos` lists them)');
    const limits: Record<string, number> = {};
    if (values['max-turns']) limits.maxTurns = Math.round(number(values['max-turns'], '--max-turns'));
    if (values['max-tokens']) limits.maxTokens = Math.round(number(values['max-tokens'], '--max-tokens'));
    if (values.budget) limits.maxCostUsd = number(values.budget, '--budget');
    if (values.timeout) limits.wallClockMs = duration(values.timeout);
    const { task } = await call<{ task: TaskView }>('POST', '/api/tasks', { repo: values.repo, prompt, source: 'cli', ...(values.model ? { model: values.model } : {}), ...(Object.keys(limits).length ? { limits } : {}) });
    if (!json) process.stderr.write(dim(`task ${task.id} on ${task.repo.name} (branch homeport/${task.id}); Ctrl-C cancels it\n`));
    return await follow(ctx, task.id, { json, cancelOnInterrupt: true });
  },
};

/** The seq of the follow-up's `queued` event minus one: the reply's stream starts there. */
async function lastSeqBeforeFollowUp(id: string): Promise<number> {
  let after = 0;
  let queuedAt = 0;
  for (;;) {
    const { events, last } = await call<{ events: TaskEvent[]; last: number }>('GET', `/api/tasks/${id}/events?after=${after}`);
    for (const e of events) if (e.type === 'status' && (e.payload as { status?: string; followUp?: boolean }).followUp) queuedAt = e.seq;
    if (events.length < 1000) break;
    after = last;
  }
  return Math.max(0, queuedAt - 1);
}

const tasks: Command = {
  name: 'tasks',
  usage: [usage('tasks [--repo r] [--json]', 'agent tasks, newest first: status, branch, PR, cost')],
  async run(ctx) {
    const { values, flags } = parseTaskArgs(ctx.rest);
    const { tasks } = await call<{ tasks: TaskView[] }>('GET', `/api/tasks${values.repo ? `?repo=${encodeURIComponent(values.repo)}` : ''}`);
    if (flags.has('--json')) return ctx.out(JSON.stringify(tasks, null, 2)), 0;
    if (!tasks.length) return ctx.out('No tasks yet: homeport task "<prompt>" --repo <repo>'), 0;
    ctx.out(
      table([
        ['ID', 'REPO', 'STATUS', 'CREATED', 'BRANCH', 'CHANGES', 'COST', 'PR', 'PROMPT'],
        ...tasks.map((t) => [
          t.id,
          t.repo.name,
          t.status,
          new Date(t.createdAt).toISOString().slice(0, 16).replace('T', ' '),
          t.branch ?? '—',
          t.diffStat ? `${t.diffStat.files}f +${t.diffStat.insertions} −${t.diffStat.deletions}` : '—',
          money(t.costUsd),
          t.prUrl ?? '—',
          shorten(t.prompt, 50),
        ]),
      ]),
    );
    return 0;
  },
};

const anthropicKey: Command = {
  name: 'anthropic-key',
  usage: [usage('anthropic-key [--clear|--status]', 'store your Anthropic API key for agent tasks (read from stdin, kept encrypted)')],
  async run(ctx) {
    if (ctx.flags.has('--status')) {
      const info = await call<{ set: boolean; updatedAt: number | null }>('GET', '/api/secrets/anthropic-key');
      ctx.out(info.set ? `an Anthropic API key is set (since ${new Date(info.updatedAt!).toISOString().slice(0, 16).replace('T', ' ')} UTC)` : 'no Anthropic API key is set');
      return 0;
    }
    if (ctx.flags.has('--clear')) {
      await call('DELETE', '/api/secrets/anthropic-key');
      ctx.out('Anthropic API key removed; tasks fail until a new one is set');
      return 0;
    }
    if (ctx.args.length || ctx.flags.size) throw new UsageError('the key is read from stdin or the terminal, never from the command line (others can read command lines): homeport anthropic-key, or echo "$KEY" | homeport anthropic-key');
    const key = (await readSecret('Anthropic API key (input hidden): ')).trim();
    if (!key) throw new UsageError('no key given');
    await call('PUT', '/api/secrets/anthropic-key', { key });
    ctx.out('Anthropic API key stored, encrypted; homeportd uses it for agent tasks and never shows it again');
    return 0;
  },
};

export const taskCommands: Command[] = [task, tasks, anthropicKey];
