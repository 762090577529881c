/**
 * @module
 * `homeport mcp …`: the MCP servers homeportd runs for agent tasks.
 *
 *   homeport mcp list [--json]
 *   homeport mcp add <name> [--env K=V]… [--secret K]… [--cwd dir] -- <command> [args…]
 *   homeport mcp rm|start|stop|restart <name>
 *   homeport mcp tools <name> [--json]
 *   homeport mcp call <name> <tool> ['<json arguments>'] [--json]
 *   homeport mcp enable|disable <name> <tool>
 *   homeport mcp logs <name> [--tail N]
 *
 * Everything after `--` is the server's command line as typed, its own flags included.
 * Secret values are read from the terminal (hidden) or stdin, one line per --secret,
 * never from the command line.
 */
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import type { McpServerView, McpStatus, McpToolView } from '../../mcp/hub.ts';
import type { LogLine } from '../../servers/server-log.ts';
import { call } from '../client.ts';
import { UsageError, readSecret, table, type Command } from '../command.ts';

const USAGE = [
  ['mcp list [--json]', 'MCP servers: state, tools, command'],
  ['mcp add <name> [--env K=V] [--secret K] [--cwd dir] -- <command> [args…]', 'register a stdio MCP server (secret values from stdin)'],
  ['mcp rm <name>', 'stop it and forget it, secrets too'],
  ['mcp start|stop|restart <name>', 'run it (and after homeportd restarts) or not; stop ends its whole process group'],
  ['mcp tools <name> [--json]', 'its tools, and the names agents see (<server>__<tool>)'],
  ["mcp call <name> <tool> ['<json>']", 'call a tool with JSON arguments and print the result'],
  ['mcp enable|disable <name> <tool>', 'offer a tool to agent tasks, or not'],
  ['mcp logs <name> [--tail N]', "its stderr and homeportd's notes"],
].map(([left, right]) => `${`homeport ${left}`.padEnd(39)}${left.length + 9 > 39 ? '\n' + ' '.repeat(41) : ''}${right}`);

/** One value per secret: hidden prompts on a terminal, else stdin's lines in order. */
async function readSecretValues(names: string[]): Promise<string[]> {
  if (!names.length) return [];
  if (process.stdin.isTTY) {
    const values: string[] = [];
    for (const name of names) values.push(await readSecret(`Value of ${name} (input hidden): `));
    return values;
  }
  const lines: string[] = [];
  for await (const line of createInterface({ input: process.stdin })) {
    lines.push(line);
    if (lines.length === names.length) break;
  }
  if (lines.length < names.length) throw new UsageError(`expected ${names.length} line(s) on stdin, one value per --secret (${names.join(', ')}); got ${lines.length}`);
  return lines;
}

/** `add`'s words: homeport's options before `--`, the server's command line after it. */
function parseAdd(rest: string[]) {
  const cut = rest.indexOf('--');
  if (cut === -1) throw new UsageError('put the server\'s command after --, e.g. homeport mcp add files -- npx -y @modelcontextprotocol/server-filesystem /srv');
  const options = rest.slice(1, cut);
  const [command, ...args] = rest.slice(cut + 1);
  if (!command) throw new UsageError('no command after --');
  const env: Record<string, string> = {};
  const secrets: string[] = [];
  let cwd: string | undefined;
  let name: string | undefined;
  for (let i = 0; i < options.length; i++) {
    const word = options[i];
    const flag = ['--env', '--secret', '--cwd'].find((f) => word === f || word.startsWith(`${f}=`));
    if (!flag) {
      if (word.startsWith('--')) throw new UsageError(`unknown option ${word} (the server's own options go after --)`);
      if (name !== undefined) throw new UsageError(`unexpected "${word}" before --`);
      name = word;
      continue;
    }
    const value = word === flag ? options[++i] : word.slice(flag.length + 1);
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    if (flag === '--env') {
      const eq = value.indexOf('=');
      if (eq < 1) throw new UsageError(`--env takes NAME=value, not "${value}"`);
      env[value.slice(0, eq)] = value.slice(eq + 1);
    } else if (flag === '--secret') {
      if (value.includes('=')) throw new UsageError(`--secret takes only the variable's name (${value.split('=')[0]}); its value is read from stdin, never from the command line`);
      secrets.push(value);
    } else cwd = resolve(value);
  }
  if (!name) throw new UsageError('say the server\'s name: homeport mcp add <name> -- <command>');
  return { name, command, args, env, secrets, cwd };
}

function describeStatus(name: string, s: McpStatus): string {
  const details = [s.pid ? `pid ${s.pid}` : null, s.tools !== null ? `${s.tools} tool(s)` : null].filter(Boolean).join(', ');
  return `${name}: ${s.state}${details ? ` (${details})` : ''}`;
}

function serverArg(args: string[], what = 'server'): string {
  const name = args[1];
  if (!name) throw new UsageError(`say which ${what}: its name, as \`homeport mcp list\` shows it`);
  return encodeURIComponent(name);
}

function printLine(out: (s: string) => void, line: LogLine) {
  out(`${new Date(line.at).toISOString().slice(11, 19)} ${line.stream === 'system' ? '[homeport] ' : ''}${line.text}`);
}

const mcp: Command = {
  name: 'mcp',
  usage: USAGE,
  async run(ctx) {
    const [sub] = ctx.args;
    const json = ctx.flags.has('--json');
    switch (sub) {
      case 'list':
      case undefined: {
        const { servers } = await call<{ servers: McpServerView[] }>('GET', '/api/mcp/servers');
        if (json) return ctx.out(JSON.stringify(servers, null, 2)), 0;
        if (!servers.length) return ctx.out('No MCP servers yet: homeport mcp add <name> -- <command> [args…]'), 0;
        ctx.out(
          table([
            ['NAME', 'STATE', 'PID', 'TOOLS', 'DISABLED', 'SECRETS', 'COMMAND'],
            ...servers.map((s) => [s.name, s.status.state, String(s.status.pid ?? '—'), String(s.status.tools ?? '—'), s.disabledTools.join(',') || '—', s.secretEnv.join(',') || '—', [s.command, ...s.args].join(' ')]),
          ]),
        );
        for (const s of servers) if (s.status.lastError && (s.status.state === 'errored' || s.status.state === 'crashed')) ctx.out(`\n${s.name}: ${s.status.lastError}`);
        return 0;
      }
      case 'add': {
        const input = parseAdd(ctx.rest);
        const values = await readSecretValues(input.secrets);
        const secretEnv = Object.fromEntries(input.secrets.map((name, i) => [name, values[i]]));
        const { server } = await call<{ server: McpServerView }>('POST', '/api/mcp/servers', { name: input.name, command: input.command, args: input.args, env: input.env, secretEnv, ...(input.cwd ? { cwd: input.cwd } : {}) });
        ctx.out(`registered ${server.name}: ${[server.command, ...server.args].join(' ')}${server.secretEnv.length ? ` (secrets: ${server.secretEnv.join(', ')})` : ''}`);
        ctx.out(`start it with \`homeport mcp start ${server.name}\``);
        return 0;
      }
      case 'rm':
      case 'remove': {
        const name = serverArg(ctx.args);
        await call('DELETE', `/api/mcp/servers/${name}`);
        ctx.out(`removed ${decodeURIComponent(name)}`);
        return 0;
      }
      case 'start':
      case 'stop':
      case 'restart': {
        const name = serverArg(ctx.args);
        const { status } = await call<{ status: McpStatus }>('POST', `/api/mcp/servers/${name}/${sub}`);
        ctx.out(describeStatus(decodeURIComponent(name), status));
        if (status.state === 'errored' || status.state === 'crashed') {
          process.stderr.write(`homeport: ${status.lastError ?? 'it did not start'}\n`);
          return 1;
        }
        return 0;
      }
      case 'tools': {
        const name = serverArg(ctx.args);
        const { tools } = await call<{ tools: McpToolView[] }>('GET', `/api/mcp/servers/${name}/tools`);
        if (json) return ctx.out(JSON.stringify(tools, null, 2)), 0;
        if (!tools.length) return ctx.out(`${decodeURIComponent(name)} offers no tools`), 0;
        ctx.out(table([['TOOL', 'AGENTS SEE', 'ENABLED', 'DESCRIPTION'], ...tools.map((t) => [t.name, t.problem ? '(refused)' : t.agentName, t.enabled ? 'yes' : 'no', t.description.split('\n')[0].slice(0, 70)])]));
        for (const t of tools) if (t.problem) ctx.out(`\n${t.name}: ${t.problem}`);
        return 0;
      }
      case 'call': {
        const name = serverArg(ctx.args);
        const tool = ctx.args[2];
        if (!tool) throw new UsageError('say which tool: homeport mcp call <server> <tool> \'{"arg": "value"}\'');
        let args: unknown = {};
        if (ctx.args[3] !== undefined) {
          try {
            args = JSON.parse(ctx.args[3]);
          } catch (error) {
            throw new UsageError(`the arguments are not JSON (${(error as Error).message}); quote them: '{"path": "README.md"}'`);
          }
        }
        const { result } = await call<{ result: { content?: { type: string; text?: string }[]; isError?: boolean; structuredContent?: unknown } }>(
          'POST',
          `/api/mcp/servers/${name}/tools/${encodeURIComponent(tool)}/call`,
          { arguments: args },
        );
        if (json) ctx.out(JSON.stringify(result, null, 2));
        else {
          const parts = (result.content ?? []).map((c) => (c.type === 'text' ? (c.text ?? '') : `[${c.type}]`));
          if (!parts.length && result.structuredContent !== undefined) parts.push(JSON.stringify(result.structuredContent, null, 2));
          (result.isError ? (s: string) => process.stderr.write(s + '\n') : ctx.out)(parts.join('\n'));
        }
        return result.isError ? 1 : 0;
      }
      case 'enable':
      case 'disable': {
        const name = serverArg(ctx.args);
        const tool = ctx.args[2];
        if (!tool) throw new UsageError(`say which tool: homeport mcp ${sub} <server> <tool>`);
        await call('PUT', `/api/mcp/servers/${name}/tools/${encodeURIComponent(tool)}`, { enabled: sub === 'enable' });
        ctx.out(`${decodeURIComponent(name)}__${tool}: ${sub === 'enable' ? 'offered to agent tasks' : 'not offered to agent tasks'}`);
        return 0;
      }
      case 'logs': {
        const name = serverArg(ctx.args);
        const tailRaw = ctx.rest[ctx.rest.indexOf('--tail') + 1];
        const tail = ctx.rest.includes('--tail') ? Number(tailRaw) : 100;
        if (!Number.isInteger(tail) || tail < 0) throw new UsageError('--tail is a number of lines');
        const { lines } = await call<{ lines: LogLine[] }>('GET', `/api/mcp/servers/${name}/logs?tail=${tail}`);
        if (!lines.length) ctx.out(`(nothing from ${decodeURIComponent(name)} yet)`);
        for (const line of lines) printLine(ctx.out, line);
        return 0;
      }
      default:
        throw new UsageError(`unknown mcp command "${sub}"`);
    }
  },
};

export const mcpCommands: Command[] = [mcp];
