/**
 * @module
 * Browser VS Code from the CLI:
 *
 *   homeport open <repo> [--lan]          the URL that opens the repo in code-server
 *   homeport code [status] [--json]       code-server's state (or how to install it)
 *   homeport code start|stop|logs
 *   homeport code path <path>|--clear     which code-server binary homeportd runs
 */
import { resolve } from 'node:path';
import type { CodeOpenView } from '../../code/api.ts';
import type { CodeStatus } from '../../code/code-server.ts';
import { dataDirOf } from '../../config.ts';
import { lanKeyOf, withLanKey } from '../../lan-urls.ts';
import type { LogLine } from '../../servers/server-log.ts';
import { call } from '../client.ts';
import { UsageError, table, type Command, type CommandContext } from '../command.ts';

type StatusView = CodeStatus & { url: string | null; lanUrl: string };

function usage(command: string, description: string): string {
  const left = `homeport ${command}`;
  return `${left.padEnd(Math.max(39, left.length + 2))}${description}`;
}

function printStatus(ctx: CommandContext, s: StatusView) {
  const rows = [['code-server', s.state + (s.pid ? ` (pid ${s.pid})` : '')]];
  if (s.binary) rows.push(['binary', s.binary]);
  if (s.upstream) rows.push(['listens on', `${s.upstream} (this machine only)`]);
  if (s.state !== 'not-installed') rows.push(['open', s.url ?? '(no edge connection: use the LAN URL)'], ['LAN', s.lanUrl]);
  if (s.lastError) rows.push(['last error', s.lastError]);
  ctx.out(table(rows));
  if (s.install) ctx.out(`\n${s.install}`);
}

const open: Command = {
  name: 'open',
  usage: [usage('open <repo> [--lan]', 'browser VS Code on the repo: prints the URL (owner only through the edge; --lan: with the LAN key)')],
  async run(ctx) {
    const repo = ctx.args[0];
    if (!repo) throw new UsageError('say which repo: homeport open <repo>');
    const view = await call<CodeOpenView>('POST', '/api/vscode/open', { repo });
    if (ctx.flags.has('--json')) return ctx.out(JSON.stringify(view, null, 2)), 0;
    if (ctx.flags.has('--lan') || !view.url) {
      if (!view.url && !ctx.flags.has('--lan')) process.stderr.write('(the tunnel is not connected, so this is the LAN URL)\n');
      ctx.out(withLanKey(view.lanUrl, lanKeyOf(dataDirOf())));
    } else ctx.out(view.url);
    return 0;
  },
};

const code: Command = {
  name: 'code',
  usage: [
    usage('code [status] [--json]', 'browser VS Code (code-server): state, URLs, or how to install it'),
    usage('code start|stop|logs', 'run code-server or not (`open` starts it too); its output'),
    usage('code path <path>|--clear', 'the code-server binary to run (default: HOMEPORT_CODE_SERVER, then PATH)'),
  ],
  async run(ctx) {
    const [sub] = ctx.args;
    switch (sub) {
      case undefined:
      case 'status': {
        const s = await call<StatusView>('GET', '/api/vscode/status');
        if (ctx.flags.has('--json')) return ctx.out(JSON.stringify(s, null, 2)), 0;
        printStatus(ctx, s);
        return s.state === 'not-installed' ? 1 : 0;
      }
      case 'start':
      case 'stop':
        printStatus(ctx, await call<StatusView>('POST', `/api/vscode/${sub}`));
        return 0;
      case 'logs': {
        const { lines } = await call<{ lines: LogLine[] }>('GET', '/api/vscode/logs');
        if (!lines.length) ctx.out('(no output from code-server yet)');
        for (const line of lines) ctx.out(`${new Date(line.at).toISOString().slice(11, 19)} ${line.stream === 'system' ? '[homeport] ' : ''}${line.text}`);
        return 0;
      }
      case 'path': {
        const clear = ctx.flags.has('--clear');
        const path = ctx.args[1];
        if (!clear && !path) throw new UsageError('say where code-server is: homeport code path /usr/bin/code-server (or --clear)');
        await call('PUT', '/api/settings', { codeServerPath: clear ? null : resolve(path) });
        ctx.out(clear ? 'homeportd looks for code-server in HOMEPORT_CODE_SERVER, then on PATH' : `homeportd runs ${resolve(path)} as code-server from its next start (\`homeport code stop\` first if it runs)`);
        return 0;
      }
      default:
        throw new UsageError(`unknown code command "${sub}"`);
    }
  },
};

export const codeCommands: Command[] = [open, code];
