/**
 * @module
 * The `homeport` CLI. Every command asks the local homeportd; output is a table for
 * people, or JSON with --json.
 */
import type { PortView } from '../node-state.ts';
import type { TunnelStatus } from '../tunnel/client.ts';
import { ApiError, DaemonUnavailable, call } from './client.ts';

const HELP = `homeport — your home machine's dev servers, from anywhere

Usage:
  homeport list [--json]                 listening ports with their repo and share URL
  homeport url <port> [--subdomain|--lan] the share URL of a port
  homeport status [--json]               tunnel state, edge, share base URL
  homeport port <port> --keep-prefix     keep /<port> on forwarded paths (app has that base path)
  homeport port <port> --strip-prefix    strip /<port> (the default)
  homeport reconnect                     drop the tunnel and reconnect now
  homeport help`;

interface Status {
  node: { id: string; version: string; pid: number };
  tunnel: TunnelStatus | { state: 'disabled'; edgeUrl: null };
  scan: { low: number; high: number; intervalMs: number; lastScanAt: number | null; ports: number };
  lan: { url: string };
  shareBaseUrl: string | null;
  dashboardUrl: string | null;
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
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

class UsageError extends Error {}

export async function main(argv: string[], out = (s: string) => process.stdout.write(s + '\n')): Promise<number> {
  const [command, ...rest] = argv;
  const flags = new Set(rest.filter((a) => a.startsWith('--')));
  const args = rest.filter((a) => !a.startsWith('--'));
  try {
    switch (command) {
      case 'list': {
        const { ports } = await call<{ ports: PortView[] }>('GET', '/api/ports');
        if (flags.has('--json')) return out(JSON.stringify(ports, null, 2)), 0;
        if (!ports.length) return out('No dev servers are listening in the scan range.'), 0;
        out(table([['PORT', 'REPO', 'PID', 'COMMAND', 'URL'], ...ports.map((p) => [String(p.port), p.repo?.name ?? '(no repo)', String(p.pid ?? '?'), (p.command ?? '').slice(0, 40), p.url ?? p.lanUrl])]));
        return 0;
      }
      case 'url': {
        const port = parsePort(args[0]);
        const urls = await call<{ url: string | null; subdomainUrl: string | null; lanUrl: string; listening: boolean }>('GET', `/api/ports/${port}/url`);
        const url = flags.has('--lan') ? urls.lanUrl : flags.has('--subdomain') ? urls.subdomainUrl : urls.url;
        if (!url) {
          process.stderr.write('The tunnel is not connected yet, so there is no share URL; the LAN URL is ' + urls.lanUrl + '\n');
          return 1;
        }
        out(url);
        if (!urls.listening) process.stderr.write(`(nothing listens on port ${port} right now)\n`);
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
          ['share base', s.shareBaseUrl ?? '(not connected)'],
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
        if (!flags.has('--keep-prefix') && !flags.has('--strip-prefix')) throw new UsageError('say --keep-prefix or --strip-prefix');
        const r = await call<{ keepPrefix: boolean }>('PATCH', `/api/ports/${port}/settings`, { keepPrefix: flags.has('--keep-prefix') });
        out(`port ${port}: ${r.keepPrefix ? `keeps the /${port} prefix` : `prefix /${port} is stripped`}`);
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
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) process.stderr.write(`homeport: ${error.message}\n\n${HELP}\n`);
    else if (error instanceof DaemonUnavailable || error instanceof ApiError) process.stderr.write(`homeport: ${error.message}\n`);
    else process.stderr.write(`homeport: ${(error as Error).message}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}
