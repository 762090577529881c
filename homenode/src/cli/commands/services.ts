/**
 * @module
 * CLI commands for services (databases and self-hosted apps as Docker containers):
 *
 *   homeport services [--json]                  the catalog, and what is installed with its status
 *   homeport up <template|name> [--name n] [--grant docker-socket]   install (pull progress live) or start
 *   homeport down <name>                        stop it (volumes and data stay)
 *   homeport services restart <name>
 *   homeport services rm <name> [--purge]       remove; --purge deletes its volumes and credentials too
 *   homeport services logs <name> [-f] [--tail N] [--part p]
 *   homeport services url <name> [--credentials]   connection strings, ready to copy
 */
import type { Endpoint, InstallEvent, ServiceView } from '../../services/manager.ts';
import type { ServiceLogLine } from '../../services/logs.ts';
import type { PullProgress } from '../../services/pull.ts';
import { ApiError, call, streamEvents } from '../client.ts';
import { UsageError, optionValue, table, type Command, type CommandContext } from '../command.ts';

function usage(command: string, description: string): string {
  const left = `homeport ${command}`;
  return `${left.padEnd(Math.max(39, left.length + 2))}${description}`;
}

interface CatalogEntry {
  id: string;
  title: string;
  description: string;
  parts: { name: string }[];
  needs: { grant: string; why: string }[];
}

function endpointsText(endpoints: Endpoint[]): string {
  return endpoints.map((e) => `${e.url ?? `127.0.0.1:${e.hostPort}`} (${e.label})`).join(', ') || '—';
}

function nameArg(ctx: CommandContext, index = 0): string {
  const name = ctx.args[index];
  if (!name) throw new UsageError('say which service (its name, as `homeport services` lists it)');
  return encodeURIComponent(name);
}

async function exists(name: string): Promise<boolean> {
  return call('GET', `/api/services/${encodeURIComponent(name)}`).then(
    () => true,
    (error) => (error instanceof ApiError && error.status === 404 ? false : Promise.reject(error)),
  );
}

function pullLine(p: PullProgress): string {
  const mb = (n: number) => (n / 1_000_000).toFixed(1);
  const bytes = p.bytes.total ? ` ${mb(p.bytes.current)}/${mb(p.bytes.total)} MB` : '';
  return `  ${p.image}  ${String(p.percent).padStart(3)}%  ${p.layers.done}/${p.layers.total} layers${bytes}`;
}

/** Follows an install's progress; returns the installed service, or null after printing why it failed. */
async function followInstall(progress: string): Promise<ServiceView | null> {
  const tty = process.stderr.isTTY;
  let live = false;
  let end: InstallEvent | null = null;
  await streamEvents(progress, (event) => {
    const e = JSON.parse(event.data) as InstallEvent;
    if (e.type === 'pull') {
      // A terminal gets one live line per image; a pipe gets it once it is done.
      if (tty) process.stderr.write(`\r${pullLine(e.progress)}`), (live = true);
      else if (e.progress.percent === 100) process.stderr.write(`${pullLine(e.progress)}\n`);
      return false;
    }
    if (live) process.stderr.write('\n'), (live = false);
    if (e.type === 'step') {
      process.stderr.write(`  ${e.message}\n`);
      return false;
    }
    end = e;
    return true;
  });
  if (live) process.stderr.write('\n');
  const result = end as InstallEvent | null;
  if (!result) {
    process.stderr.write('homeport: the progress stream ended early; `homeport services` shows whether the install finished\n');
    return null;
  }
  if (result.type === 'error') {
    process.stderr.write(`homeport: ${result.error}\n`);
    return null;
  }
  return result.type === 'done' ? result.service : null;
}

/** Waits a little for a fresh service to settle, so `up` can say "running" rather than "starting". */
async function settle(name: string, seconds: number): Promise<ServiceView> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const view = await call<ServiceView>('GET', `/api/services/${encodeURIComponent(name)}`);
    if (!['starting', 'installing', 'degraded'].includes(view.state) || Date.now() > until) return view;
    await new Promise((r) => setTimeout(r, 500));
  }
}

function printState(ctx: CommandContext, view: ServiceView) {
  ctx.out(`${view.name}: ${view.state}${view.endpoints.length ? `  ${endpointsText(view.endpoints)}` : ''}`);
  for (const part of view.parts) if (part.detail && part.state !== 'running' && part.state !== 'completed') ctx.out(`  ${part.part}: ${part.state}, ${part.detail}`);
}

const up: Command = {
  name: 'up',
  usage: [usage('up <template|name> [--name n] [--grant g]', 'install a service from the catalog (or start an installed one)')],
  async run(ctx) {
    const target = ctx.args[0];
    if (!target) throw new UsageError('say what to run: homeport up <template> (`homeport services` lists the catalog)');
    const name = optionValue(ctx.rest, '--name');
    const grant = ctx.rest.flatMap((a, i) => (a === '--grant' ? [ctx.rest[i + 1]] : a.startsWith('--grant=') ? [a.slice(8)] : [])).flatMap((g) => (g ?? '').split(','));
    if (grant.some((g) => !g)) throw new UsageError('--grant needs a privilege, e.g. --grant docker-socket');
    const wait = Number(optionValue(ctx.rest, '--wait') ?? 60);
    const existing = name ?? target;
    if (await exists(existing)) {
      const { service } = await call<{ service: ServiceView }>('POST', `/api/services/${encodeURIComponent(existing)}/start`);
      printState(ctx, await settle(service.name, wait));
      return 0;
    }
    const { service, progress } = await call<{ service: ServiceView; progress: string }>('POST', '/api/services', { template: target, ...(name ? { name } : {}), ...(grant.length ? { grant } : {}) });
    process.stderr.write(`Installing ${service.title} as ${service.name}\n`);
    const installed = await followInstall(progress);
    if (!installed) return 1;
    printState(ctx, await settle(installed.name, wait));
    const info = await call<{ notes: string | null }>('GET', `/api/services/${encodeURIComponent(installed.name)}/connection`);
    ctx.out(`connection: \`homeport services url ${installed.name}\``);
    if (info.notes) ctx.out(info.notes);
    return 0;
  },
};

const down: Command = {
  name: 'down',
  usage: [usage('down <name>', 'stop a service (its volumes and data stay)')],
  async run(ctx) {
    const { service } = await call<{ service: ServiceView }>('POST', `/api/services/${nameArg(ctx)}/stop`);
    printState(ctx, service);
    return 0;
  },
};

function printLine(out: (s: string) => void, line: ServiceLogLine, parts: boolean) {
  const time = new Date(line.at).toISOString().slice(11, 19);
  out(`${time} ${parts ? `${line.part} | ` : ''}${line.stream === 'stderr' ? '! ' : ''}${line.text}`);
}

async function list(ctx: CommandContext) {
  const [{ templates }, { services }] = await Promise.all([call<{ templates: CatalogEntry[] }>('GET', '/api/services/catalog'), call<{ services: ServiceView[] }>('GET', '/api/services')]);
  if (ctx.flags.has('--json')) return ctx.out(JSON.stringify({ catalog: templates, services }, null, 2)), 0;
  ctx.out('Catalog (`homeport up <id>`):');
  ctx.out(table([['ID', 'TITLE', 'PARTS', 'NEEDS'], ...templates.map((t) => [t.id, t.title, String(t.parts.length), t.needs.map((n) => n.grant).join(', ') || '—'])]));
  ctx.out('');
  if (!services.length) return ctx.out('No services installed yet.'), 0;
  ctx.out('Installed:');
  ctx.out(table([['NAME', 'TEMPLATE', 'STATE', 'ENDPOINTS'], ...services.map((s) => [s.name, s.template, s.state + (s.desiredState === 'stopped' && s.state !== 'stopped' ? ' (stopping)' : ''), endpointsText(s.endpoints)])]));
  for (const s of services) if (s.state === 'unknown' && s.detail) return ctx.out(`(${s.detail})`), 0;
  return 0;
}

const services: Command = {
  name: 'services',
  usage: [
    usage('services [--json]', 'the service catalog, and installed services with their status'),
    usage('services restart <name>', 'stop and start a service'),
    usage('services rm <name> [--purge]', 'remove a service; --purge also deletes its volumes and credentials'),
    usage('services logs <name> [-f] [--tail N]', "a service's output (--part p: one container)"),
    usage('services url <name> [--credentials]', 'its connection strings, with credentials, ready to copy'),
  ],
  async run(ctx) {
    const [sub] = ctx.args;
    const rest = { ...ctx, args: ctx.args.slice(1) };
    switch (sub) {
      case undefined:
      case 'list':
        return list(ctx);
      case 'restart': {
        const { service } = await call<{ service: ServiceView }>('POST', `/api/services/${nameArg(rest)}/restart`);
        printState(ctx, await settle(service.name, Number(optionValue(ctx.rest, '--wait') ?? 60)));
        return 0;
      }
      case 'rm': {
        const purge = ctx.flags.has('--purge');
        const r = await call<{ name: string; keptVolumes: string[]; keptCredentials: boolean }>('DELETE', `/api/services/${nameArg(rest)}${purge ? '?purge=1' : ''}`);
        if (purge) ctx.out(`removed ${r.name} with its volumes and credentials`);
        else ctx.out(`removed ${r.name}; kept ${r.keptVolumes.length ? r.keptVolumes.join(', ') : 'no volumes'}${r.keptCredentials ? ' and its credentials' : ''} (\`homeport up <template> --name ${r.name}\` uses them again; \`homeport services rm ${r.name} --purge\` deletes them)`);
        return 0;
      }
      case 'logs': {
        const ref = nameArg(rest);
        const tail = Number(optionValue(ctx.rest, '--tail') ?? 100);
        if (!Number.isInteger(tail) || tail < 0) throw new UsageError('--tail is a number of lines');
        const part = optionValue(ctx.rest, '--part');
        const query = `tail=${tail}${part ? `&part=${encodeURIComponent(part)}` : ''}`;
        if (!ctx.args.includes('-f') && !ctx.flags.has('--follow')) {
          const { lines } = await call<{ lines: ServiceLogLine[] }>('GET', `/api/services/${ref}/logs?${query}`);
          if (!lines.length) ctx.out(`(no output from ${decodeURIComponent(ref)} yet)`);
          const parts = new Set(lines.map((l) => l.part)).size > 1;
          for (const line of lines) printLine(ctx.out, line, parts);
          return 0;
        }
        await streamEvents(`/api/services/${ref}/logs?follow=1&${query}`, (event) => {
          if (event.event === 'end') return true;
          printLine(ctx.out, JSON.parse(event.data) as ServiceLogLine, !part);
        });
        return 0;
      }
      case 'url': {
        const c = await call<{ connections: { label: string; value: string }[]; credentials: { name: string; value: string }[]; endpoints: Endpoint[] }>('GET', `/api/services/${nameArg(rest)}/connection?reveal=1`);
        if (ctx.flags.has('--json')) return ctx.out(JSON.stringify(c, null, 2)), 0;
        if (c.connections.length === 1 && !ctx.flags.has('--credentials')) return ctx.out(c.connections[0].value), 0;
        const rows = c.connections.map((x) => [x.label, x.value]);
        if (ctx.flags.has('--credentials')) rows.push(...c.credentials.map((x) => [x.name, x.value]));
        if (!rows.length) rows.push(...c.endpoints.map((e) => [e.label, e.url ?? `127.0.0.1:${e.hostPort}`]));
        ctx.out(table(rows));
        return 0;
      }
      default:
        throw new UsageError(`unknown services command "${sub}" (list, restart, rm, logs, url)`);
    }
  },
};

export const serviceCommands: Command[] = [services, up, down];
