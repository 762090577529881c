/**
 * @module
 * CLI commands for repos and their dev servers:
 *
 *   homeport repos [--json]
 *   homeport clone <url> [--name n]        progress live in the terminal
 *   homeport add <path> [--name n]
 *   homeport pull <repo>
 *   homeport remove <repo> [--delete-files]
 *   homeport github-token [--clear|--status]   the token from stdin, never argv
 *   homeport start|stop|restart <repo>
 *   homeport logs <repo> [-f] [--tail N]     (a port number shows the share access log)
 */
import { resolve } from 'node:path';
import type { RepoDetails } from '../../repos/api.ts';
import type { CloneEvent, RepoStatus, RepoView } from '../../repos/service.ts';
import type { LogLine, ServerStatus } from '../../servers/supervisor.ts';
import { call, streamEvents } from '../client.ts';
import { UsageError, optionValue, readSecret, table, type Command, type CommandContext } from '../command.ts';

/** A help line aligned like main.ts's HELP. */
function usage(command: string, description: string): string {
  const left = `homeport ${command}`;
  return `${left.padEnd(Math.max(39, left.length + 2))}${description}`;
}

function repoArg(ctx: CommandContext, what = 'repo'): string {
  const ref = ctx.args[0];
  if (!ref) throw new UsageError(`say which ${what} (its name, as \`homeport repos\` lists it)`);
  return encodeURIComponent(ref);
}

function gitSummary(git: RepoStatus | null, error: string | null): string {
  if (!git) return error ? 'git: error' : '—';
  const parts = [git.detached ? '(detached)' : (git.branch ?? '?')];
  parts.push(git.dirty ? `dirty (${git.changed} changed, ${git.untracked} new)` : 'clean');
  if (git.ahead) parts.push(`↑${git.ahead}`);
  if (git.behind) parts.push(`↓${git.behind}`);
  return parts.join(' ');
}

function serverSummary(repo: RepoDetails): string {
  const status = repo.runtime?.status;
  const state = status?.state ?? 'stopped';
  const ports = repo.runtime?.ports.length ? ` :${repo.runtime.ports.join(' :')}` : '';
  return `${state}${ports}`;
}

/** One line of clone progress: `Receiving objects  45% (450/1000)`. */
function progressLine(e: Extract<CloneEvent, { type: 'progress' }>): string {
  return `${e.phase.padEnd(20)} ${String(e.percent).padStart(3)}% (${e.done}/${e.total})`;
}

const repos: Command = {
  name: 'repos',
  usage: [usage('repos [--json]', 'repos: branch, clean/dirty, dev server state, start command')],
  async run(ctx) {
    const { repos } = await call<{ repos: RepoDetails[] }>('GET', '/api/repos');
    if (ctx.flags.has('--json')) return ctx.out(JSON.stringify(repos, null, 2)), 0;
    if (!repos.length) return ctx.out('No repos yet: `homeport clone <url>` or `homeport add <path>`.'), 0;
    ctx.out(
      table([
        ['NAME', 'GIT', 'LAST COMMIT', 'SERVER', 'COMMAND', 'PATH'],
        ...repos.map((r) => [
          r.name + (r.state === 'cloning' ? ' (cloning)' : ''),
          gitSummary(r.git, r.gitError),
          r.git?.lastCommit ? `${r.git.lastCommit.hash.slice(0, 7)} ${r.git.lastCommit.subject.slice(0, 40)}` : '—',
          serverSummary(r),
          r.server.command ?? r.detected.command ?? '(none)',
          r.path,
        ]),
      ]),
    );
    return 0;
  },
};

const clone: Command = {
  name: 'clone',
  usage: [usage('clone <url> [--name n]', 'clone a repo into the repos folder (private GitHub repos: github-token first)')],
  async run(ctx) {
    const url = ctx.args[0];
    if (!url) throw new UsageError('say what to clone: homeport clone <git url>');
    const name = optionValue(ctx.rest, '--name');
    const { repo } = await call<{ repo: RepoView; progress: string }>('POST', '/api/repos', { url, ...(name ? { name } : {}) });
    process.stderr.write(`Cloning ${url} into ${repo.path}\n`);
    const tty = process.stderr.isTTY;
    let lastPhase = '';
    let result: CloneEvent | null = null;
    await streamEvents(`/api/repos/${repo.id}/progress`, (event) => {
      const e = JSON.parse(event.data) as CloneEvent;
      if (e.type === 'progress') {
        // A terminal gets one live line per phase; a pipe gets each phase once, when done.
        if (tty) process.stderr.write(`${e.phase !== lastPhase && lastPhase ? '\n' : '\r'}  ${progressLine(e)}`);
        else if (e.percent === 100) process.stderr.write(`  ${progressLine(e)}\n`);
        lastPhase = e.phase;
        return false;
      }
      result = e;
      return true;
    });
    if (tty && lastPhase) process.stderr.write('\n');
    const end = result as CloneEvent | null;
    if (!end) {
      process.stderr.write('homeport: the progress stream ended early; `homeport repos` shows whether the clone finished\n');
      return 1;
    }
    if (end.type === 'error') {
      process.stderr.write(`homeport: ${end.error}\n`);
      return 1;
    }
    if (end.type === 'done') {
      const details = await call<RepoDetails>('GET', `/api/repos/${end.repo.id}`);
      ctx.out(`cloned ${details.name} (${details.defaultBranch ?? 'no branch'}) into ${details.path}`);
      ctx.out(details.detected.command ? `start it with \`homeport start ${details.name}\` (runs \`${details.detected.command}\`)` : `no start command found: ${details.detected.reason}`);
    }
    return 0;
  },
};

const add: Command = {
  name: 'add',
  usage: [usage('add <path> [--name n]', 'register a git work tree already on this machine')],
  async run(ctx) {
    if (!ctx.args[0]) throw new UsageError('say which folder: homeport add <path>');
    const name = optionValue(ctx.rest, '--name');
    const { repo } = await call<{ repo: RepoView }>('POST', '/api/repos', { path: resolve(ctx.args[0]), ...(name ? { name } : {}) });
    ctx.out(`added ${repo.name} (${repo.path})`);
    return 0;
  },
};

const pull: Command = {
  name: 'pull',
  usage: [usage('pull <repo>', 'git pull --ff-only in the repo')],
  async run(ctx) {
    const r = await call<{ repo: RepoView; updated: boolean; from: string | null; to: string | null; status: RepoStatus }>('POST', `/api/repos/${repoArg(ctx)}/pull`);
    if (!r.updated) ctx.out(`${r.repo.name} is already up to date (${r.to?.slice(0, 7) ?? 'no commits'})`);
    else ctx.out(`${r.repo.name}: ${r.from?.slice(0, 7) ?? '(empty)'} → ${r.to?.slice(0, 7)} ${r.status.lastCommit?.subject ?? ''}`.trimEnd());
    return 0;
  },
};

const remove: Command = {
  name: 'remove',
  usage: [usage('remove <repo> [--delete-files]', 'forget a repo (its files stay unless --delete-files)')],
  async run(ctx) {
    const deleteFiles = ctx.flags.has('--delete-files');
    const r = await call<{ removed: RepoView; filesDeleted: boolean }>('DELETE', `/api/repos/${repoArg(ctx)}${deleteFiles ? '?deleteFiles=true' : ''}`);
    ctx.out(r.filesDeleted ? `removed ${r.removed.name} and deleted ${r.removed.path}` : `removed ${r.removed.name}; its files are still in ${r.removed.path}`);
    return 0;
  },
};

const githubToken: Command = {
  name: 'github-token',
  usage: [usage('github-token [--clear|--status]', 'store a GitHub token for private repos (read from stdin, kept encrypted)')],
  async run(ctx) {
    if (ctx.flags.has('--status')) {
      const info = await call<{ set: boolean; updatedAt: number | null }>('GET', '/api/secrets/github-token');
      ctx.out(info.set ? `a GitHub token is set (since ${new Date(info.updatedAt!).toISOString().slice(0, 16).replace('T', ' ')} UTC)` : 'no GitHub token is set');
      return 0;
    }
    if (ctx.flags.has('--clear')) {
      await call('DELETE', '/api/secrets/github-token');
      ctx.out('GitHub token removed');
      return 0;
    }
    if (ctx.args.length) throw new UsageError('the token is read from stdin, never from the command line (others can read command lines): echo "$TOKEN" | homeport github-token');
    const token = (await readSecret('GitHub token (input hidden): ')).trim();
    if (!token) throw new UsageError('no token given');
    await call('PUT', '/api/secrets/github-token', { token });
    ctx.out('GitHub token stored, encrypted; homeportd uses it for clone and pull and never shows it again');
    return 0;
  },
};

function printStatus(ctx: CommandContext, name: string, status: ServerStatus | null) {
  if (!status) return ctx.out(`${name}: stopped`);
  ctx.out(`${name}: ${status.state}${status.pid ? ` (pid ${status.pid})` : ''}`);
}

function serverCommand(name: 'start' | 'stop' | 'restart', help: string): Command {
  return {
    name,
    usage: [help],
    async run(ctx) {
      const ref = repoArg(ctx);
      const { status } = await call<{ status: ServerStatus | null }>('POST', `/api/repos/${ref}/server/${name}`);
      printStatus(ctx, decodeURIComponent(ref), status);
      return 0;
    },
  };
}

function printLine(out: (s: string) => void, line: LogLine) {
  const time = new Date(line.at).toISOString().slice(11, 19);
  out(`${time} ${line.stream === 'system' ? '[homeport] ' : line.stream === 'stderr' ? '! ' : ''}${line.text}`);
}

/** `homeport logs <repo>`: main.ts hands over when the argument is not a port number. */
export const serverLogs: Command = {
  name: 'server-logs',
  usage: [usage('logs <repo> [-f] [--tail N]', "a repo dev server's output (-f: follow; a port number shows its share access log)")],
  async run(ctx) {
    const ref = repoArg(ctx);
    const tailRaw = optionValue(ctx.rest, '--tail');
    const tail = tailRaw === undefined ? 100 : Number(tailRaw);
    if (!Number.isInteger(tail) || tail < 0) throw new UsageError('--tail is a number of lines');
    const follow = ctx.args.includes('-f') || ctx.flags.has('--follow');
    if (!follow) {
      const { lines } = await call<{ lines: LogLine[] }>('GET', `/api/repos/${ref}/server/logs?tail=${tail}`);
      if (!lines.length) ctx.out(`(no output from ${decodeURIComponent(ref)}'s dev server yet)`);
      for (const line of lines) printLine(ctx.out, line);
      return 0;
    }
    await streamEvents(`/api/repos/${ref}/server/logs?follow=1&tail=${tail}`, (event) => {
      printLine(ctx.out, JSON.parse(event.data) as LogLine);
    });
    return 0;
  },
};

export const repoCommands: Command[] = [
  repos,
  clone,
  add,
  pull,
  remove,
  githubToken,
  serverLogs,
  serverCommand('start', usage('start <repo>', "start the repo's dev server (the detected command, or the one set)")),
  serverCommand('stop', usage('stop <repo>', 'stop it, and everything it started')),
  serverCommand('restart', usage('restart <repo>', 'stop and start with the current command and env')),
];
