/**
 * @module
 * The `homeport` CLI. Every command asks the local homeportd; output is a table for
 * people, or JSON with --json.
 */
import type { AccessLogEntry, ShareView } from '@homeport/shared';
import { dataDirOf } from '../config.ts';
import { lanKeyOf, withLanKey } from '../lan-urls.ts';
import type { PortView } from '../node-state.ts';
import type { TunnelStatus } from '../tunnel/client.ts';
import { ApiError, DaemonUnavailable, call } from './client.ts';
import { UsageError, readSecret, table, type Command } from './command.ts';
import { accountCommands } from './commands/account.ts';
import { codeCommands } from './commands/code.ts';
import { mcpCommands } from './commands/mcp.ts';
import { repoCommands, serverLogs } from './commands/repos.ts';
import { serviceCommands } from './commands/services.ts';
import { taskCommands } from './commands/tasks.ts';
import { webhookCommands } from './commands/webhooks.ts';

export { table };

/** Commands of other areas, each from its own module under commands/. */
const COMMANDS: Command[] = [...accountCommands, ...repoCommands, ...taskCommands, ...webhookCommands, ...mcpCommands, ...codeCommands, ...serviceCommands];

const BASE_HELP = `homeport — your home machine's dev servers, from anywhere

Usage:
  homeport list [--json]                 listening ports: repo, share mode, expiry, URL
  homeport url <port> [--link|--path|--lan]  the port's URL: its own origin (<port>-<node>.<share host>);
                                         --link the share's unguessable link, --path the path form,
                                         --lan its own origin on the LAN door (with the LAN key)
  homeport share <port> --public [--expires 24h]           anyone with the URL may open it
  homeport share <port> --password [pw] [--expires 24h]    a password page first (asks when pw is left out)
  homeport unshare <port>                private again (owner only); old links stop working
  homeport logs <port> [--limit N] [--before ID] [--json]  who opened the share, newest first
  homeport status [--json]               tunnel state, edge, share URLs
  homeport port <port> --path-form       let the path form <share host>/<port>/ answer (public shares only)
  homeport port <port> --no-path-form    the path form answers with the port's own URL (the default)
  homeport port <port> --keep-prefix     keep /<port> on forwarded paths (app has that base path; implies --path-form)
  homeport port <port> --strip-prefix    strip /<port> (the default)
  homeport reconnect                     drop the tunnel and reconnect now
  homeport help`;

const HELP = [BASE_HELP, ...COMMANDS.flatMap((c) => c.usage.map((line) => `  ${line}`))].join('\n');

interface Status {
  node: { id: string; version: string; pid: number };
  tunnel: TunnelStatus | { state: 'disabled'; edgeUrl: null };
  scan: { low: number; high: number; intervalMs: number; lastScanAt: number | null; ports: number };
  lan: { url: string };
  shareUrlTemplate: string | null;
  shareBaseUrl: string | null;
  dashboardUrl: string | null;
}


function ago(ms: number | null): string {
  if (ms === null) return '—';
  const s = Math.round((Date.now() - ms) / 1000);
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

function parsePort(raw: string | undefined): number {
  const port = Number(raw);
  if (!raw || !Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`"${raw ?? ''}" is not a port number`);
  return port;
}


function when(ms: number | null): string {
  if (ms === null) return 'never';
  const s = Math.round((ms - Date.now()) / 1000);
  const left = s < 60 ? `${s}s` : s < 3600 ? `${Math.round(s / 60)}m` : s < 172800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86400)}d`;
  return `in ${left} (${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC)`;
}

/** Options of `homeport share`: `--password` may take a value, `--expires` must. */
function shareOptions(rest: string[]) {
  const opts: { port?: string; password?: string | true; public: boolean; expires?: string } = { public: false };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--public') opts.public = true;
    else if (a === '--password') opts.password = rest[i + 1] && !rest[i + 1].startsWith('--') ? rest[++i] : true;
    else if (a.startsWith('--password=')) opts.password = a.slice('--password='.length);
    else if (a === '--expires') {
      if (!rest[i + 1] || rest[i + 1].startsWith('--')) throw new UsageError('--expires needs a duration like 30m, 24h or 7d');
      opts.expires = rest[++i];
    } else if (a.startsWith('--expires=')) opts.expires = a.slice('--expires='.length);
    else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else if (opts.port === undefined) opts.port = a;
    else throw new UsageError(`unexpected "${a}"`);
  }
  return opts;
}

function printShare(out: (s: string) => void, share: ShareView) {
  const rows = [
    ['port', String(share.port)],
    ['mode', share.mode],
    ['url', share.url],
  ];
  if (share.linkUrl) rows.push(['link', share.linkUrl]);
  if (share.mode !== 'private') rows.push(['expires', when(share.expiresAt)]);
  if (share.accessToken) rows.push(['token', `${share.accessToken}  (shown once: curl -H "Authorization: Bearer <token>" …)`]);
  out(table(rows));
}

export async function main(argv: string[], out = (s: string) => process.stdout.write(s + '\n')): Promise<number> {
  const [command, ...rest] = argv;
  const flags = new Set(rest.filter((a) => a.startsWith('--')));
  const args = rest.filter((a) => !a.startsWith('--'));
  try {
    switch (command) {
      case 'list': {
        const { ports } = await call<{ ports: PortView[] }>('GET', '/api/ports');
        // Share modes live at the edge; with the tunnel down they are unknown, not private.
        const shares = await call<{ shares: ShareView[] }>('GET', '/api/shares').then((r) => r.shares, () => null);
        const shareOf = (port: number) => (shares ? (shares.find((s) => s.port === port) ?? { mode: 'private', expiresAt: null, linkUrl: null }) : null);
        if (flags.has('--json')) return out(JSON.stringify(ports.map((p) => ({ ...p, share: shareOf(p.port) })), null, 2)), 0;
        if (!ports.length) return out('No dev servers are listening in the scan range.'), 0;
        out(
          table([
            ['PORT', 'REPO', 'PID', 'COMMAND', 'MODE', 'EXPIRES', 'URL'],
            ...ports.map((p) => {
              const share = shareOf(p.port);
              return [String(p.port), p.repo?.name ?? '(no repo)', String(p.pid ?? '?'), (p.command ?? '').slice(0, 40), share?.mode ?? '?', share && share.mode !== 'private' ? when(share.expiresAt).split(' (')[0] : '—', p.url ?? p.lanUrl];
            }),
          ]),
        );
        return 0;
      }
      case 'share': {
        const opts = shareOptions(rest);
        const port = parsePort(opts.port);
        if (opts.public && opts.password !== undefined) throw new UsageError('say --public or --password, not both');
        if (!opts.public && opts.password === undefined) throw new UsageError('say --public or --password (unshare makes a port private again)');
        let password: string | undefined;
        if (opts.password === true) {
          if (!process.stdin.isTTY) throw new UsageError('--password needs a value when stdin is not a terminal: --password <pw>');
          password = await readSecret('Password for the share: ');
          if (!password) throw new UsageError('the password may not be empty');
        } else password = opts.password;
        const share = await call<ShareView>('PUT', `/api/shares/${port}`, { mode: opts.public ? 'public' : 'password', password, expiresIn: opts.expires ?? null });
        if (flags.has('--json')) return out(JSON.stringify(share, null, 2)), 0;
        printShare(out, share);
        return 0;
      }
      case 'unshare': {
        const port = parsePort(args[0]);
        await call<ShareView>('DELETE', `/api/shares/${port}`);
        out(`port ${port} is private again: only you can open it; its link no longer works`);
        return 0;
      }
      case 'logs': {
        // `logs <repo>`: a dev server's output; `logs <port>`: the share's access log.
        if (args[0] && !/^\d+$/.test(args[0])) return await serverLogs.run({ rest, flags, args, out });
        const port = parsePort(args[0]);
        const value = (name: string) => {
          const i = rest.indexOf(name);
          return i === -1 ? undefined : rest[i + 1];
        };
        const query = new URLSearchParams();
        if (value('--limit')) query.set('limit', value('--limit')!);
        if (value('--before')) query.set('before', value('--before')!);
        const log = await call<{ entries: AccessLogEntry[]; next: number | null }>('GET', `/api/shares/${port}/log${query.size ? `?${query}` : ''}`);
        if (flags.has('--json')) return out(JSON.stringify(log, null, 2)), 0;
        if (!log.entries.length) return out(`No requests through port ${port}'s share yet.`), 0;
        out(
          table([
            ['TIME', 'CLIENT', 'METHOD', 'STATUS', 'BYTES', 'ENDED', 'AUTH', 'FORM', 'PATH', 'USER AGENT'],
            ...log.entries.map((e) => [
              new Date(e.at).toISOString().slice(0, 19).replace('T', ' '),
              e.clientIp || '?',
              e.method,
              String(e.status),
              e.bytes === null ? '—' : String(e.bytes),
              e.outcome ?? '—',
              e.authenticated ? 'yes' : 'no',
              e.form,
              e.path.slice(0, 60),
              e.userAgent.slice(0, 40),
            ]),
          ]),
        );
        if (log.next !== null) out(`(older: homeport logs ${port} --before ${log.next})`);
        return 0;
      }
      case 'url': {
        const port = parsePort(args[0]);
        const urls = await call<{ url: string | null; pathUrl: string | null; pathForm: boolean; lanUrl: string; listening: boolean }>('GET', `/api/ports/${port}/url`);
        if (flags.has('--link')) {
          const { shares } = await call<{ shares: ShareView[] }>('GET', '/api/shares');
          const share = shares.find((s) => s.port === port);
          if (!share?.linkUrl) {
            process.stderr.write(`port ${port} is not shared, so it has no link; share it with \`homeport share ${port} --public\` or --password\n`);
            return 1;
          }
          return out(share.linkUrl), 0;
        }
        // The port's own origin first (--subdomain says the same); the path form only when asked.
        const url = flags.has('--lan') ? withLanKey(urls.lanUrl, lanKeyOf(dataDirOf())) : flags.has('--path') ? urls.pathUrl : urls.url;
        if (!url) {
          process.stderr.write('The tunnel is not connected yet, so there is no share URL; the LAN URL is ' + urls.lanUrl + '\n');
          return 1;
        }
        out(url);
        if (!urls.listening) process.stderr.write(`(nothing listens on port ${port} right now)\n`);
        if (flags.has('--path'))
          process.stderr.write(
            urls.pathForm
              ? '(the path form shares one origin with every other port: public shares only)\n'
              : `(the path form is off for port ${port}: \`homeport port ${port} --path-form\` turns it on; public shares only)\n`,
          );
        const shared = await call<{ shares: ShareView[] }>('GET', '/api/shares').then((r) => r.shares.find((s) => s.port === port), () => undefined);
        if (shared?.linkUrl) process.stderr.write(`(shared, ${shared.mode}: link ${shared.linkUrl}, expires ${when(shared.expiresAt)})\n`);
        return 0;
      }
      case 'status': {
        const s = await call<Status>('GET', '/api/status');
        if (flags.has('--json')) return out(JSON.stringify(s, null, 2)), 0;
        const t = s.tunnel;
        const rows = [
          ['node', `${s.node.id} (homeportd ${s.node.version}, pid ${s.node.pid})`],
          ['tunnel', t.state + ('connectedAt' in t && t.connectedAt ? ` since ${ago(t.connectedAt)}` : '') + ('rttMs' in t && t.rttMs !== null ? `, rtt ${t.rttMs} ms` : '')],
          ['edge', t.edgeUrl ?? '(none)'],
          ['shares at', s.shareUrlTemplate?.replace('{port}', '<port>') ?? '(not connected)'],
          ['path form', s.shareBaseUrl ? `${s.shareBaseUrl}/<port>/ (opt-in per port, public shares only)` : '(not connected)'],
          ['dashboard', s.dashboardUrl ?? '(not connected)'],
          ['LAN door', s.lan.url],
          ['scan', `${s.scan.low}-${s.scan.high} every ${s.scan.intervalMs / 1000}s, ${s.scan.ports} port(s), last ${ago(s.scan.lastScanAt)}`],
        ];
        if ('lastError' in t && t.lastError && t.state !== 'online') rows.push(['last error', t.lastError]);
        if ('reconnects' in t) rows.push(['reconnects', String(t.reconnects)]);
        out(table(rows));
        return 0;
      }
      case 'port': {
        const port = parsePort(args[0]);
        const patch: { pathForm?: boolean; keepPrefix?: boolean } = {};
        if (flags.has('--path-form')) patch.pathForm = true;
        if (flags.has('--no-path-form')) patch.pathForm = false;
        if (flags.has('--keep-prefix')) patch.keepPrefix = true;
        if (flags.has('--strip-prefix')) patch.keepPrefix = false;
        if (!Object.keys(patch).length) throw new UsageError('say --path-form, --no-path-form, --keep-prefix or --strip-prefix');
        if ((flags.has('--path-form') && flags.has('--no-path-form')) || (flags.has('--keep-prefix') && flags.has('--strip-prefix'))) throw new UsageError('those options contradict each other');
        const r = await call<{ pathForm: boolean; keepPrefix: boolean }>('PATCH', `/api/ports/${port}/settings`, patch);
        const form = r.pathForm ? `path form on (${r.keepPrefix ? `keeps the /${port} prefix` : `prefix /${port} is stripped`})` : 'path form off (its own origin only)';
        out(`port ${port}: ${form}`);
        return 0;
      }
      case 'reconnect':
        await call('POST', '/api/tunnel/reconnect');
        out('tunnel dropped; homeportd reconnects now');
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(HELP);
        return 0;
      default: {
        const found = COMMANDS.find((c) => c.name === command);
        if (!found) throw new UsageError(`unknown command "${command}"`);
        return await found.run({ rest, flags, args, out });
      }
    }
  } catch (error) {
    if (error instanceof UsageError) process.stderr.write(`homeport: ${error.message}\n\n${HELP}\n`);
    else if (error instanceof DaemonUnavailable || error instanceof ApiError) process.stderr.write(`homeport: ${error.message}\n`);
    else process.stderr.write(`homeport: ${(error as Error).message}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}
