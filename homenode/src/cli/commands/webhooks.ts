/**
 * @module
 * `homeport webhooks`: the edge's webhooks with the CLI's edge login (`homeport login`):
 * the delivery log (and redelivery), GitHub repositories mapped to a node and repo, and
 * generic signed endpoints (docs/webhooks.md).
 *
 *   homeport webhooks [--limit N] [--json]
 *   homeport webhooks show <delivery> | redeliver <delivery>
 *   homeport webhooks github [--json]
 *   homeport webhooks map <owner/name> --node <node> --repo <repo> [--allow a,b] [--no-collaborators] [--no-reply]
 *   homeport webhooks unmap <owner/name>
 *   homeport webhooks endpoints [--json]
 *   homeport webhooks create <name> --node <node> [--repo <repo>] [--rate N]
 *   homeport webhooks rotate <endpoint> | delete <endpoint>
 */
import { EdgeError, withLogin } from '../edge-client.ts';
import { UsageError, optionValue, table, type Command, type CommandContext } from '../command.ts';

interface Delivery {
  id: string;
  source: 'github' | 'endpoint';
  event: string | null;
  action: string | null;
  repo: string | null;
  sender: string | null;
  status: string;
  httpStatus: number;
  note: string;
  node: string | null;
  commandId: string | null;
  taskId: string | null;
  taskStatus: string | null;
  prUrl: string | null;
  receivedAt: number;
  redeliverable: boolean;
  payload?: string | null;
}

interface Mapping {
  repo: string;
  node: string;
  localRepo: string;
  allowCollaborators: boolean;
  allowedUsers: string[];
  onDenied: 'reply' | 'ignore';
}

interface Endpoint {
  id: string;
  name: string;
  node: string;
  repo: string | null;
  ratePerMinute: number;
  url: string;
  lastUsedAt: number | null;
}

/** Options that take a value: their values are not positional words. */
const VALUED = new Set(['--node', '--repo', '--allow', '--rate', '--limit']);

function positionals(rest: string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (VALUED.has(rest[i])) i++;
    else if (!rest[i].startsWith('--')) words.push(rest[i]);
  }
  return words;
}

function required(ctx: CommandContext, name: string, usage: string): string {
  const value = optionValue(ctx.rest, name);
  if (!value || value.startsWith('--')) throw new UsageError(`${name} is required: ${usage}`);
  return value;
}

function time(ms: number | null): string {
  return ms === null ? 'never' : new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

function what(d: Delivery): string {
  if (d.source === 'endpoint') return 'endpoint';
  return d.action ? `${d.event}.${d.action}` : (d.event ?? '?');
}

function outcome(d: Delivery): string {
  if (d.prUrl) return d.prUrl;
  if (d.taskId) return `${d.taskId} ${d.taskStatus ?? ''}`.trim();
  return d.note.slice(0, 70);
}

async function deliveries(ctx: CommandContext): Promise<number> {
  const limit = optionValue(ctx.rest, '--limit') ?? '30';
  const { deliveries: list } = await withLogin<{ deliveries: Delivery[] }>('GET', `/api/webhooks/deliveries?limit=${encodeURIComponent(limit)}`);
  if (ctx.flags.has('--json')) return ctx.out(JSON.stringify(list, null, 2)), 0;
  if (!list.length) return ctx.out('No webhook deliveries yet.'), 0;
  ctx.out(table([['TIME', 'ID', 'WHAT', 'REPO', 'FROM', 'STATUS', 'HTTP', 'OUTCOME'], ...list.map((d) => [time(d.receivedAt), d.id, what(d), d.repo ?? '—', d.sender ?? '—', d.status, String(d.httpStatus), outcome(d)])]));
  return 0;
}

async function show(ctx: CommandContext, id: string | undefined): Promise<number> {
  if (!id) throw new UsageError('homeport webhooks show <delivery id>');
  const { delivery } = await withLogin<{ delivery: Delivery }>('GET', `/api/webhooks/deliveries/${encodeURIComponent(id)}`);
  if (ctx.flags.has('--json')) return ctx.out(JSON.stringify(delivery, null, 2)), 0;
  const { payload, ...rest } = delivery;
  ctx.out(table(Object.entries(rest).map(([k, v]) => [k, v === null ? '—' : String(v)])));
  if (payload) ctx.out(`\npayload:\n${payload.length > 4000 ? `${payload.slice(0, 4000)}… (${payload.length} characters; --json for all)` : payload}`);
  return 0;
}

async function github(ctx: CommandContext): Promise<number> {
  const setup = await withLogin<{ url: string; events: string[]; label: string; mention: string; secretConfigured: boolean; commentsEnabled: boolean }>('GET', '/api/webhooks/github');
  const { repos } = await withLogin<{ repos: Mapping[] }>('GET', '/api/webhooks/github/repos');
  if (ctx.flags.has('--json')) return ctx.out(JSON.stringify({ ...setup, repos }, null, 2)), 0;
  ctx.out(
    table([
      ['payload URL', setup.url],
      ['content type', 'application/json'],
      ['events', setup.events.join(', ')],
      ['triggers', `a comment mentioning ${setup.mention}, or the label "${setup.label}"`],
      ['secret', setup.secretConfigured ? 'set (GITHUB_WEBHOOK_SECRET)' : 'NOT SET: wrangler secret put GITHUB_WEBHOOK_SECRET'],
      ['comments', setup.commentsEnabled ? 'on (GITHUB_TOKEN)' : 'off: wrangler secret put GITHUB_TOKEN'],
    ]),
  );
  ctx.out('');
  if (!repos.length) return ctx.out('No repositories mapped yet: homeport webhooks map <owner/name> --node <node> --repo <repo>'), 0;
  ctx.out(table([['GITHUB REPO', 'NODE', 'REPO', 'WHO MAY TRIGGER', 'OTHERS'], ...repos.map((m) => [m.repo, m.node, m.localRepo, [m.allowCollaborators ? 'collaborators (write)' : null, ...m.allowedUsers.map((u) => `@${u}`)].filter(Boolean).join(', ') || 'nobody', m.onDenied === 'reply' ? 'polite reply' : 'ignored'])]));
  return 0;
}

async function map(ctx: CommandContext, repo: string | undefined): Promise<number> {
  const usage = 'homeport webhooks map <owner/name> --node <node> --repo <repo>';
  if (!repo || !/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new UsageError(usage);
  const allow = optionValue(ctx.rest, '--allow');
  const body = {
    node: required(ctx, '--node', usage),
    repo: required(ctx, '--repo', usage),
    allowCollaborators: !ctx.flags.has('--no-collaborators'),
    allowedUsers: allow ? allow.split(',').map((u) => u.trim().replace(/^@/, '')).filter(Boolean) : [],
    onDenied: ctx.flags.has('--no-reply') ? 'ignore' : 'reply',
  };
  const [owner, name] = repo.split('/');
  const { repo: mapping } = await withLogin<{ repo: Mapping }>('PUT', `/api/webhooks/github/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`, body);
  ctx.out(`${mapping.repo} → ${mapping.localRepo} on ${mapping.node}: issues there can now start tasks`);
  return 0;
}

async function unmap(ctx: CommandContext, repo: string | undefined): Promise<number> {
  if (!repo || !/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new UsageError('homeport webhooks unmap <owner/name>');
  const [owner, name] = repo.split('/');
  await withLogin('DELETE', `/api/webhooks/github/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`);
  ctx.out(`${repo} is no longer mapped: its deliveries are logged as unknown and start nothing`);
  return 0;
}

async function endpoints(ctx: CommandContext): Promise<number> {
  const { endpoints: list } = await withLogin<{ endpoints: Endpoint[] }>('GET', '/api/webhooks/endpoints');
  if (ctx.flags.has('--json')) return ctx.out(JSON.stringify(list, null, 2)), 0;
  if (!list.length) return ctx.out('No endpoints yet: homeport webhooks create <name> --node <node> [--repo <repo>]'), 0;
  ctx.out(table([['ID', 'NAME', 'NODE', 'REPO', 'RATE', 'LAST USED', 'URL'], ...list.map((e) => [e.id, e.name, e.node, e.repo ?? '(from request)', `${e.ratePerMinute}/min`, time(e.lastUsedAt), e.url])]));
  return 0;
}

function printSecret(ctx: CommandContext, endpoint: Endpoint, url: string, secret: string) {
  ctx.out(
    table([
      ['endpoint', `${endpoint.id} (${endpoint.name})`],
      ['url', url],
      ['repo', endpoint.repo ?? '(each request says "repo")'],
      ['secret', `${secret}  (shown once: keep it where the sender can sign with it)`],
    ]),
  );
  ctx.out('\nsign: X-Homeport-Timestamp: <unix seconds>, X-Homeport-Signature: sha256=HMAC-SHA256(secret, "<timestamp>.<body>") in hex (docs/webhooks.md)');
}

async function create(ctx: CommandContext, name: string | undefined): Promise<number> {
  const usage = 'homeport webhooks create <name> --node <node> [--repo <repo>] [--rate N]';
  if (!name) throw new UsageError(usage);
  const rate = optionValue(ctx.rest, '--rate');
  const body = { name, node: required(ctx, '--node', usage), repo: optionValue(ctx.rest, '--repo') ?? null, ...(rate ? { ratePerMinute: Number(rate) } : {}) };
  const made = await withLogin<{ endpoint: Endpoint; secret: string; url: string }>('POST', '/api/webhooks/endpoints', body);
  printSecret(ctx, made.endpoint, made.url, made.secret);
  return 0;
}

const webhooks: Command = {
  name: 'webhooks',
  usage: [
    'homeport webhooks [--limit N] [--json]  webhook deliveries, newest first (show|redeliver <id>)',
    'homeport webhooks github               GitHub setup (URL, events) and mapped repositories',
    'homeport webhooks map <owner/name> --node <node> --repo <repo> [--allow a,b] [--no-collaborators] [--no-reply]',
    'homeport webhooks unmap <owner/name>',
    'homeport webhooks endpoints            generic endpoints (create <name> --node <n> [--repo <r>] [--rate N] | rotate <id> | delete <id>)',
  ],
  async run(ctx) {
    const [action, target] = positionals(ctx.rest);
    try {
      switch (action) {
        case undefined:
          return await deliveries(ctx);
        case 'show':
          return await show(ctx, target);
        case 'redeliver': {
          if (!target) throw new UsageError('homeport webhooks redeliver <delivery id>');
          const { delivery } = await withLogin<{ delivery: Delivery }>('POST', `/api/webhooks/deliveries/${encodeURIComponent(target)}/redeliver`);
          ctx.out(`delivery ${delivery.id} runs again (run ${(delivery as Delivery & { runs: number }).runs}): homeport webhooks show ${delivery.id}`);
          return 0;
        }
        case 'github':
          return await github(ctx);
        case 'map':
          return await map(ctx, target);
        case 'unmap':
          return await unmap(ctx, target);
        case 'endpoints':
          return await endpoints(ctx);
        case 'create':
          return await create(ctx, target);
        case 'rotate': {
          if (!target) throw new UsageError('homeport webhooks rotate <endpoint id>');
          const made = await withLogin<{ endpoint: Endpoint; secret: string; url: string }>('POST', `/api/webhooks/endpoints/${encodeURIComponent(target)}/secret`);
          printSecret(ctx, made.endpoint, made.url, made.secret);
          ctx.out('the old secret no longer works');
          return 0;
        }
        case 'delete': {
          if (!target) throw new UsageError('homeport webhooks delete <endpoint id>');
          await withLogin('DELETE', `/api/webhooks/endpoints/${encodeURIComponent(target)}`);
          ctx.out(`endpoint ${target} is deleted: its URL answers 404`);
          return 0;
        }
        default:
          throw new UsageError(`unknown webhooks action "${action}"`);
      }
    } catch (error) {
      if (error instanceof EdgeError) {
        process.stderr.write(`homeport: ${error.message}\n`);
        return 1;
      }
      throw error;
    }
  },
};

export const webhookCommands: Command[] = [webhooks];
