/**
 * @module
 * The MCP hub: runs the registered stdio MCP servers (one process group each, through
 * ProcessGroupTransport), keeps each one's stderr in a bounded ring, lists and calls
 * their tools with the SDK's Client, and offers the enabled tools to agents as
 * `<server>__<tool>`. What the owner asked for (running or stopped) is stored, so the
 * servers that were running come back after homeportd restarts.
 *
 * States: stopped → starting (process up, MCP handshake and tool list) → running;
 * crashed (the process exited on its own; nothing restarts it until asked);
 * errored (it never got through the handshake).
 */
import { EventEmitter } from 'node:events';
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { userPath } from '../servers/user-env.ts';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { recordChange } from '../db/index.ts';
import { LineSplitter, type LogLine } from '../servers/server-log.ts';
import { McpHubError, McpRegistry, type McpServerConfig, type McpServerInput } from './registry.ts';
import { nameTools, type ToolNaming } from './names.ts';
import { ProcessGroupTransport, type ProcessExit } from './transport.ts';

export { McpHubError } from './registry.ts';

export type McpState = 'stopped' | 'starting' | 'running' | 'crashed' | 'errored';

export interface McpStatus {
  state: McpState;
  pid: number | null;
  startedAt: number | null;
  exitCode: number | null;
  lastError: string | null;
  /** what the server said it is in the handshake */
  serverInfo: { name: string; version: string } | null;
  /** tools it offers (null while not running) */
  tools: number | null;
}

export interface McpServerView extends McpServerConfig {
  status: McpStatus;
}

export interface McpToolView {
  name: string;
  /** what agents call it */
  agentName: string;
  description: string;
  inputSchema: Record<string, unknown>;
  enabled: boolean;
  /** why agents are not offered it although enabled (an invalid or shared name); null when offered */
  problem: string | null;
}

/** The agent loop's tool interface (homenode/src/agents/loop.ts). */
export interface AgentTool {
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
  run(input: unknown, ctx: { signal: AbortSignal }): Promise<{ content: string; isError?: boolean }>;
}

export interface McpHubOptions {
  registry: McpRegistry;
  /** the working directory of servers registered without one (default: the home folder) */
  defaultCwd?: string;
  /** how long the handshake and first tool list may take */
  startTimeoutMs?: number;
  /** how long one tool call may take */
  callTimeoutMs?: number;
  /** SIGTERM, then SIGKILL after this long */
  stopTimeoutMs?: number;
  /** stderr lines kept per server */
  ringLines?: number;
  /** how the hub introduces itself to servers */
  clientVersion?: string;
  log?: (message: string) => void;
}

type Events = { state: [string, McpStatus] };

interface Running {
  status: McpStatus;
  log: LogLine[];
  seq: number;
  client: Client | null;
  transport: ProcessGroupTransport | null;
  tools: Tool[];
  /** set while start() runs, so a second start joins it */
  starting: Promise<McpStatus> | null;
  stopping: Promise<void> | null;
  /** bumped by every start and stop: late callbacks of an older process do nothing */
  generation: number;
  /** the tools the owner turned off for agents (kept here so agentTools() needs no query) */
  disabled: Set<string>;
}

const LAST_LINES = 10;
/** A tool result longer than this is cut before it reaches a model. */
export const MAX_RESULT_CHARS = 100_000;

function stoppedStatus(): McpStatus {
  return { state: 'stopped', pid: null, startedAt: null, exitCode: null, lastError: null, serverInfo: null, tools: null };
}

function describeExit(exit: ProcessExit): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

/** A tool result as text for a model: text parts as they are, other parts described. */
export function resultText(result: CallToolResult): string {
  const parts: string[] = [];
  for (const item of result.content ?? []) {
    if (item.type === 'text') parts.push(item.text);
    else if (item.type === 'image' || item.type === 'audio') parts.push(`[${item.type} ${item.mimeType}, ${Math.round((item.data.length * 3) / 4)} bytes]`);
    else if (item.type === 'resource') parts.push('text' in item.resource ? String(item.resource.text) : `[resource ${item.resource.uri}]`);
    else if (item.type === 'resource_link') parts.push(`[resource link ${item.uri}]`);
  }
  if (!parts.length && result.structuredContent !== undefined) parts.push(JSON.stringify(result.structuredContent));
  const joined = parts.join('\n');
  return joined.length > MAX_RESULT_CHARS ? `${joined.slice(0, MAX_RESULT_CHARS)}\n… [${joined.length - MAX_RESULT_CHARS} more characters cut]` : joined;
}

export class McpHub extends EventEmitter<Events> {
  readonly registry: McpRegistry;
  readonly #running = new Map<string, Running>();
  readonly #options: Required<Omit<McpHubOptions, 'registry' | 'log'>> & { log: (m: string) => void };
  /** outbox writes of state changes not finished yet (stopAll waits for them) */
  readonly #pending = new Set<Promise<void>>();

  constructor(options: McpHubOptions) {
    super();
    this.registry = options.registry;
    this.#options = {
      defaultCwd: options.defaultCwd ?? homedir(),
      startTimeoutMs: options.startTimeoutMs ?? 30_000,
      callTimeoutMs: options.callTimeoutMs ?? 120_000,
      stopTimeoutMs: options.stopTimeoutMs ?? 3000,
      ringLines: options.ringLines ?? 1000,
      clientVersion: options.clientVersion ?? '0.0.0',
      log: options.log ?? (() => {}),
    };
  }

  // ------------------------------------------------------------------ registry

  async list(): Promise<McpServerView[]> {
    return (await this.registry.list()).map((config) => ({ ...config, status: this.status(config.name) }));
  }

  async get(name: string): Promise<McpServerView> {
    const config = await this.registry.get(name);
    return { ...config, status: this.status(name) };
  }

  async register(input: McpServerInput): Promise<McpServerView> {
    const config = await this.registry.register(input);
    return { ...config, status: this.status(config.name) };
  }

  /** Changes a server; a running one restarts to apply a new command, env, secret or folder. */
  async update(name: string, input: McpServerInput): Promise<McpServerView> {
    const { config, launchChanged } = await this.registry.update(name, input);
    const state = this.status(name).state;
    if (launchChanged && (state === 'running' || state === 'starting')) {
      this.#system(name, 'its settings changed: restarting');
      await this.#stopProcess(name);
      await this.#launch(config);
    }
    return { ...config, status: this.status(name) };
  }

  async remove(name: string): Promise<void> {
    await this.registry.get(name);
    await this.#stopProcess(name);
    await this.registry.remove(name);
    this.#running.delete(name);
  }

  // ------------------------------------------------------------------ lifecycle

  status(name: string): McpStatus {
    return { ...(this.#running.get(name)?.status ?? stoppedStatus()) };
  }

  /** Process ids of the servers running now (each leads its process group): Homeport's own, never proxied. */
  pids(): number[] {
    return [...this.#running.values()].flatMap((r) => (r.status.pid ? [r.status.pid] : []));
  }

  /** Starts a server (and remembers it should run); resolves once its tools are listed or it failed. */
  async start(name: string): Promise<McpStatus> {
    const config = await this.registry.get(name);
    await this.registry.setDesiredState(name, 'running');
    const r = this.#running.get(name);
    if (r?.starting) return r.starting;
    if (r?.status.state === 'running') return this.status(name);
    if (r?.stopping) await r.stopping;
    return this.#launch(config);
  }

  /** Stops a server and its whole process group (and remembers it should stay stopped). */
  async stop(name: string): Promise<McpStatus> {
    await this.registry.get(name);
    await this.registry.setDesiredState(name, 'stopped');
    await this.#stopProcess(name);
    return this.status(name);
  }

  async restart(name: string): Promise<McpStatus> {
    const config = await this.registry.get(name);
    await this.registry.setDesiredState(name, 'running');
    await this.#stopProcess(name);
    return this.#launch(config);
  }

  /** stderr and the hub's own notes, oldest first (at most the last `tail`). */
  logs(name: string, tail = 200): LogLine[] {
    const lines = this.#running.get(name)?.log ?? [];
    return lines.slice(Math.max(0, lines.length - tail));
  }

  /** Starts the servers that were running when homeportd stopped. */
  async restore(): Promise<string[]> {
    const wanted = (await this.registry.list()).filter((c) => c.desiredState === 'running');
    if (wanted.length) this.#options.log(`restoring MCP servers: ${wanted.map((c) => c.name).join(', ')}`);
    await Promise.all(
      wanted.map(async (config) => {
        const status = await this.#launch(config).catch((error: Error) => ({ state: 'errored', lastError: error.message }) as McpStatus);
        if (status.state !== 'running') this.#options.log(`MCP server ${config.name} did not come back: ${status.lastError ?? status.state}`);
      }),
    );
    return wanted.map((c) => c.name);
  }

  /** homeportd is stopping: every server stops, and keeps its desired state for restore(). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#running.keys()].map((name) => this.#stopProcess(name)));
    await Promise.all(this.#pending);
  }

  // ------------------------------------------------------------------ tools

  /** The tools of a running server, with their agent names and whether agents get them. */
  async tools(name: string): Promise<McpToolView[]> {
    const config = await this.registry.get(name);
    const r = this.#running.get(name);
    if (r?.status.state !== 'running') throw new McpHubError(409, `MCP server "${name}" is ${r?.status.state ?? 'stopped'}: start it to list its tools (\`homeport mcp start ${name}\`)`);
    r.disabled = new Set(config.disabledTools);
    const naming = this.#naming();
    return r.tools.map((tool) => {
      const enabled = !config.disabledTools.includes(tool.name);
      const named = naming.get(`${name}\0${tool.name}`);
      return {
        name: tool.name,
        agentName: named?.agentName ?? `${name}__${tool.name}`,
        description: tool.description ?? '',
        inputSchema: tool.inputSchema as Record<string, unknown>,
        enabled,
        problem: enabled ? (named?.problem ?? null) : null,
      };
    });
  }

  /** Calls a tool of a running server with JSON arguments; an error the tool reports comes back with isError. */
  async call(name: string, tool: string, args: unknown, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<CallToolResult> {
    if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) throw new McpHubError(400, 'a tool\'s arguments are a JSON object, e.g. {"path": "README.md"}');
    await this.registry.get(name);
    const r = this.#running.get(name);
    if (r?.status.state !== 'running' || !r.client) throw new McpHubError(409, `MCP server "${name}" is ${r?.status.state ?? 'stopped'}: start it first (\`homeport mcp start ${name}\`)`);
    if (!r.tools.some((t) => t.name === tool)) throw new McpHubError(404, `MCP server "${name}" has no tool "${tool}" (its tools: ${r.tools.map((t) => t.name).join(', ') || 'none'})`);
    try {
      return (await r.client.callTool({ name: tool, arguments: (args ?? {}) as Record<string, unknown> }, undefined, {
        signal: options.signal,
        timeout: options.timeoutMs ?? this.#options.callTimeoutMs,
      })) as CallToolResult;
    } catch (error) {
      const message = (error as Error).message;
      if (/timed? ?out/i.test(message)) throw new McpHubError(504, `tool "${tool}" of MCP server "${name}" did not answer in time: ${message}`);
      throw new McpHubError(502, `tool "${tool}" of MCP server "${name}" failed: ${message}`);
    }
  }

  async setToolEnabled(name: string, tool: string, enabled: boolean): Promise<McpServerView> {
    const config = await this.registry.setToolEnabled(name, tool, enabled);
    const r = this.#running.get(name);
    if (r) r.disabled = new Set(config.disabledTools);
    return { ...config, status: this.status(name) };
  }

  /**
   * The enabled tools of every running server, for an agent task, named
   * `<server>__<tool>`. Tools whose name is invalid or shared are left out (the tools
   * listing says why); a tool whose server stopped answers with an error.
   */
  agentTools(): AgentTool[] {
    const out: AgentTool[] = [];
    for (const named of this.#naming().values()) {
      if (named.problem) {
        this.#options.log(`MCP: ${named.problem}`);
        continue;
      }
      const tool = this.#running.get(named.server)!.tools.find((t) => t.name === named.tool)!;
      out.push({
        name: named.agentName,
        description: tool.description ?? `Tool "${named.tool}" of the MCP server "${named.server}".`,
        input_schema: tool.inputSchema as Record<string, unknown>,
        run: async (input, ctx) => {
          if (this.#running.get(named.server)?.disabled.has(named.tool)) return { content: `the tool ${named.agentName} was turned off by the owner`, isError: true };
          try {
            const result = await this.call(named.server, named.tool, input ?? {}, { signal: ctx.signal });
            return { content: resultText(result), isError: result.isError === true };
          } catch (error) {
            return { content: (error as Error).message, isError: true };
          }
        },
      });
    }
    return out;
  }

  /** Agent names of the enabled tools of running servers, keyed by `server\0tool`. */
  #naming(): Map<string, ToolNaming> {
    const tools: { server: string; tool: string }[] = [];
    for (const [server, r] of this.#running) {
      if (r.status.state !== 'running') continue;
      for (const t of r.tools) if (!r.disabled.has(t.name)) tools.push({ server, tool: t.name });
    }
    return new Map(nameTools(tools).map((n) => [`${n.server}\0${n.tool}`, n]));
  }

  // ------------------------------------------------------------------ processes

  #entry(name: string): Running {
    let r = this.#running.get(name);
    if (!r) {
      r = { status: stoppedStatus(), log: [], seq: 0, client: null, transport: null, tools: [], starting: null, stopping: null, generation: 0, disabled: new Set() };
      this.#running.set(name, r);
    }
    return r;
  }

  #launch(config: McpServerConfig): Promise<McpStatus> {
    const r = this.#entry(config.name);
    const generation = ++r.generation;
    const run = this.#run(config, r, generation).finally(() => {
      if (r.generation === generation) r.starting = null;
    });
    r.starting = run;
    return run;
  }

  async #run(config: McpServerConfig, r: Running, generation: number): Promise<McpStatus> {
    const { name } = config;
    const cwd = config.cwd ?? this.#options.defaultCwd;
    const missing = (() => {
      try {
        return statSync(cwd).isDirectory() ? null : `${cwd} is not a directory`;
      } catch {
        return `the working directory ${cwd} does not exist`;
      }
    })();
    if (missing) return this.#fail(r, name, missing);

    // Only the SDK's short list of safe variables (HOME, PATH, USER…) is inherited: homeportd's
    // own environment may hold other secrets, and this server gets its own secrets only.
    // The SDK's short list (HOME, PATH, …), with the user's PATH, not Homeport's node_modules/.bin first.
    const defaults = getDefaultEnvironment();
    const env = { ...defaults, PATH: userPath(defaults.PATH), ...(await this.registry.environment(config)) };
    const transport = new ProcessGroupTransport({ command: config.command, args: config.args, env, cwd, stopTimeoutMs: this.#options.stopTimeoutMs });
    const client = new Client(
      { name: 'homeport', version: this.#options.clientVersion },
      {
        capabilities: {},
        listChanged: {
          tools: {
            onChanged: (error, tools) => {
              if (r.generation !== generation) return;
              if (error) this.#system(name, `could not refresh the tool list: ${error.message}`);
              else if (tools) {
                r.tools = tools;
                this.#setStatus(name, r, { tools: tools.length });
              }
            },
          },
        },
      },
    );
    r.transport = transport;
    r.client = null;
    r.tools = [];
    r.disabled = new Set(config.disabledTools);
    this.#setStatus(name, r, { state: 'starting', pid: null, startedAt: Date.now(), exitCode: null, lastError: null, serverInfo: null, tools: null });
    this.#system(name, `starting \`${[config.command, ...config.args].join(' ')}\` in ${cwd}`);

    transport.onexit = (exit) => {
      if (r.generation !== generation) return; // stopped on purpose
      const how = describeExit(exit);
      this.#system(name, how);
      r.client = null;
      r.tools = [];
      const failedEarly = r.status.state === 'starting';
      this.#setStatus(name, r, { state: failedEarly ? 'errored' : 'crashed', pid: null, exitCode: exit.code, tools: null, lastError: this.#withLastLines(r, failedEarly ? `the server ${how} before it was ready` : `the server ${how}`) });
    };
    try {
      await transport.start();
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      const why = e.code === 'ENOENT' ? `${config.command} was not found (is it installed, and on PATH for homeportd?)` : e.code === 'EACCES' ? `${config.command} cannot be run (permission denied)` : e.message;
      return r.generation === generation ? this.#fail(r, name, `could not start: ${why}`) : this.status(name);
    }
    if (r.generation !== generation) {
      // stopped while the process was being spawned
      await transport.close().catch(() => {});
      return this.status(name);
    }
    this.#pipeStderr(r, transport);
    this.#setStatus(name, r, { pid: transport.pid });

    try {
      await client.connect(transport, { timeout: this.#options.startTimeoutMs });
      const tools: Tool[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : undefined, { timeout: this.#options.startTimeoutMs });
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor && tools.length < 10_000);
      if (r.generation !== generation) return this.status(name);
      const info = client.getServerVersion();
      r.client = client;
      r.tools = tools;
      this.#system(name, `ready: ${tools.length} tool(s)`);
      this.#setStatus(name, r, { state: 'running', serverInfo: info ? { name: info.name, version: info.version } : null, tools: tools.length });
      return this.status(name);
    } catch (error) {
      if (r.generation !== generation) return this.status(name);
      // An exit during the handshake has already said why; otherwise, say what the handshake said.
      const exited = r.status.state === 'errored';
      r.generation++;
      await transport.close().catch(() => {});
      if (exited) return this.status(name);
      return this.#fail(r, name, `the MCP handshake failed: ${(error as Error).message}`);
    }
  }

  #fail(r: Running, name: string, reason: string): McpStatus {
    this.#system(name, `errored: ${reason}`);
    r.client = null;
    r.transport = null;
    r.tools = [];
    this.#setStatus(name, r, { state: 'errored', pid: null, tools: null, lastError: this.#withLastLines(r, reason) });
    return this.status(name);
  }

  async #stopProcess(name: string): Promise<void> {
    const r = this.#running.get(name);
    if (!r) return;
    if (r.stopping) return r.stopping;
    r.generation++;
    r.starting = null;
    const transport = r.transport;
    r.stopping = (async () => {
      if (transport?.pid) {
        this.#system(name, 'stopping');
        await transport.close().catch(() => {});
        this.#system(name, 'stopped');
      }
      r.client = null;
      r.transport = null;
      r.tools = [];
      if (r.status.state !== 'stopped' || transport) this.#setStatus(name, r, { state: 'stopped', pid: null, tools: null, serverInfo: null });
    })().finally(() => {
      r.stopping = null;
    });
    return r.stopping;
  }

  // ------------------------------------------------------------------ logs and status

  #pipeStderr(r: Running, transport: ProcessGroupTransport) {
    const splitter = new LineSplitter();
    const stderr = transport.stderr;
    if (!stderr) return;
    stderr.on('data', (chunk: Buffer) => this.#append(r, 'stderr', splitter.push(chunk)));
    stderr.once('close', () => this.#append(r, 'stderr', splitter.flush()));
  }

  #append(r: Running, stream: 'stderr' | 'system', texts: string[]) {
    const at = Date.now();
    for (const text of texts) r.log.push({ seq: ++r.seq, at, stream, text });
    if (r.log.length > this.#options.ringLines) r.log.splice(0, r.log.length - this.#options.ringLines);
  }

  #system(name: string, text: string) {
    this.#append(this.#entry(name), 'system', [text]);
  }

  #withLastLines(r: Running, reason: string): string {
    const last = r.log.filter((l) => l.stream === 'stderr').slice(-LAST_LINES).map((l) => l.text);
    return last.length ? `${reason}. Last output:\n${last.join('\n')}` : reason;
  }

  #setStatus(name: string, r: Running, changes: Partial<McpStatus>) {
    const before = r.status.state;
    Object.assign(r.status, changes);
    this.emit('state', name, { ...r.status });
    if (changes.state && changes.state !== before) {
      const write = this.#recordState(name, { ...r.status });
      this.#pending.add(write);
      void write.finally(() => this.#pending.delete(write));
    }
  }

  /** State changes go to the outbox, so the edge's mirror shows them. */
  async #recordState(name: string, status: McpStatus) {
    const { state, pid, startedAt, exitCode, lastError, tools } = status;
    await this.registry.store
      .write((tx) => recordChange(tx, 'mcp', 'mcp.state', { name, state, pid, startedAt, exitCode, lastError, tools, at: Date.now() }))
      .catch((error: Error) => this.#options.log(`MCP: could not record the state of ${name}: ${error.message}`));
  }
}
