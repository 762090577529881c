/**
 * @module
 * The MCP servers the owner registered, in the `mcp_servers` table: input checks with
 * messages meant for people, and each change written with its outbox row in one
 * transaction. A server's secret environment variables are sealed in the vault as
 * `mcp:<server>:<VAR>`; views only ever name them.
 */
import { isAbsolute } from 'node:path';
import { eq } from 'drizzle-orm';
import { recordChange, schema, type Store, type Tx } from '../db/index.ts';
import type { SecretStore } from '../vault.ts';
import { ENV_NAME, serverNameProblem } from './names.ts';

export type DesiredState = 'running' | 'stopped';

export interface McpServerConfig {
  name: string;
  command: string;
  args: string[];
  /** non-secret environment variables */
  env: Record<string, string>;
  /** null: the hub's default folder */
  cwd: string | null;
  /** tools not offered to agents */
  disabledTools: string[];
  desiredState: DesiredState;
  /** names of the secret environment variables (values stay in the vault) */
  secretEnv: string[];
  createdAt: number;
  updatedAt: number;
}

/** Bad input (400), an unknown server (404), a conflict (409), a server that failed (502). */
export class McpHubError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 422 | 502 | 504,
    message: string,
  ) {
    super(message);
  }
}

const MAX_ARGS = 200;
const MAX_TEXT = 8192;
const MAX_ENV = 200;

/** The fields a registration or update may carry; each checked by parseInput. */
export interface McpServerInput {
  name?: unknown;
  command?: unknown;
  args?: unknown;
  env?: unknown;
  /** {VAR: value}; in an update, {VAR: null} removes one */
  secretEnv?: unknown;
  cwd?: unknown;
}

interface ParsedInput {
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  secretEnv?: Record<string, string | null>;
  cwd?: string | null;
}

const bad = (message: string) => new McpHubError(400, message);

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || !value.trim()) throw bad(`${what} must be a non-empty string`);
  if (value.length > MAX_TEXT || value.includes('\0')) throw bad(`${what} is too long or holds a NUL character`);
  return value;
}

function envObject(value: unknown, what: string, allowNull: boolean): Record<string, string | null> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad(`${what} must be an object of NAME: "value"`);
  const entries = Object.entries(value);
  if (entries.length > MAX_ENV) throw bad(`${what} may hold at most ${MAX_ENV} variables`);
  for (const [key, v] of entries) {
    if (!ENV_NAME.test(key)) throw bad(`${what}: "${key}" is not an environment variable name (letters, digits and _, not starting with a digit)`);
    if (v === null && allowNull) continue;
    if (typeof v !== 'string' || v.length > MAX_TEXT || v.includes('\0')) throw bad(`${what}: the value of ${key} must be a string${allowNull ? ' (or null to remove it)' : ''}`);
  }
  return value as Record<string, string | null>;
}

function parseInput(input: McpServerInput, update: boolean): ParsedInput {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw bad('expected a JSON object');
  const known = new Set(['name', 'command', 'args', 'env', 'secretEnv', 'cwd']);
  for (const key of Object.keys(input)) if (!known.has(key)) throw bad(`unknown field "${key}"; an MCP server has ${[...known].join(', ')}`);
  const out: ParsedInput = {};
  if (input.command !== undefined || !update) out.command = text(input.command, 'command');
  if (input.args !== undefined) {
    if (!Array.isArray(input.args) || input.args.length > MAX_ARGS || input.args.some((a) => typeof a !== 'string' || a.length > MAX_TEXT || a.includes('\0')))
      throw bad(`args must be a list of at most ${MAX_ARGS} strings`);
    out.args = input.args as string[];
  }
  if (input.env !== undefined) out.env = envObject(input.env, 'env', false) as Record<string, string>;
  if (input.secretEnv !== undefined) out.secretEnv = envObject(input.secretEnv, 'secretEnv', update);
  if (input.cwd !== undefined) {
    if (input.cwd === null || input.cwd === '') out.cwd = null;
    else if (typeof input.cwd !== 'string' || !isAbsolute(input.cwd) || input.cwd.includes('\0')) throw bad('cwd must be an absolute path (or null for the default folder)');
    else out.cwd = input.cwd;
  }
  return out;
}

function secretName(server: string, variable: string) {
  return `mcp:${server}:${variable}` as const;
}

type Row = typeof schema.mcpServers.$inferSelect;

export class McpRegistry {
  constructor(
    readonly store: Store,
    readonly secrets: SecretStore,
  ) {}

  async list(): Promise<McpServerConfig[]> {
    const rows = await this.store.db.select().from(schema.mcpServers).orderBy(schema.mcpServers.name);
    const secretNames = await this.secrets.namesWithPrefix('mcp:');
    return rows.map((row) => this.#config(row, secretNames));
  }

  async find(name: string): Promise<McpServerConfig | null> {
    const [row] = await this.store.db.select().from(schema.mcpServers).where(eq(schema.mcpServers.name, name));
    return row ? this.#config(row, await this.secrets.namesWithPrefix(`mcp:${name}:`)) : null;
  }

  async get(name: string): Promise<McpServerConfig> {
    const found = await this.find(name);
    if (!found) throw new McpHubError(404, `no MCP server "${name}" (\`homeport mcp list\` lists them)`);
    return found;
  }

  /** The environment a server's process gets from its config: its plain env, then its secrets. */
  async environment(config: McpServerConfig): Promise<Record<string, string>> {
    const env: Record<string, string> = { ...config.env };
    for (const variable of config.secretEnv) {
      const value = await this.secrets.get(secretName(config.name, variable));
      if (value !== null) env[variable] = value;
    }
    return env;
  }

  async register(input: McpServerInput): Promise<McpServerConfig> {
    const problem = serverNameProblem(input?.name);
    if (problem) throw bad(problem);
    const name = input.name as string;
    const parsed = parseInput(input, false);
    const env = parsed.env ?? {};
    const secretEnv = (parsed.secretEnv ?? {}) as Record<string, string>;
    this.#noOverlap(env, Object.keys(secretEnv));
    const now = Date.now();
    await this.store.write(async (tx) => {
      const [existing] = await tx.select({ name: schema.mcpServers.name }).from(schema.mcpServers).where(eq(schema.mcpServers.name, name));
      if (existing) throw new McpHubError(409, `an MCP server named "${name}" exists already; change it with PUT, or remove it first`);
      const row = { name, command: parsed.command!, args: JSON.stringify(parsed.args ?? []), env: JSON.stringify(env), cwd: parsed.cwd ?? null, disabledTools: '[]', desiredState: 'stopped' as const, createdAt: now, updatedAt: now };
      await tx.insert(schema.mcpServers).values(row);
      // Secrets left by an earlier server of that name must not reach this one.
      for (const old of await this.secrets.namesWithPrefix(`mcp:${name}:`)) await this.secrets.deleteIn(tx, old);
      for (const [variable, value] of Object.entries(secretEnv)) await this.secrets.setIn(tx, secretName(name, variable), value);
      await this.#record(tx, row, Object.keys(secretEnv));
    });
    return this.get(name);
  }

  /** Changes command, args, env, secrets or cwd; returns the new config and whether how it starts changed. */
  async update(name: string, input: McpServerInput): Promise<{ config: McpServerConfig; launchChanged: boolean }> {
    if (input && typeof input === 'object' && input.name !== undefined && input.name !== name) throw bad('a server cannot be renamed: register it under the new name and remove the old one');
    const parsed = parseInput(input, true);
    const before = await this.get(name);
    const env = parsed.env ?? before.env;
    const secretsAfter = new Set(before.secretEnv);
    for (const [variable, value] of Object.entries(parsed.secretEnv ?? {})) value === null ? secretsAfter.delete(variable) : secretsAfter.add(variable);
    this.#noOverlap(env, [...secretsAfter]);
    await this.store.write(async (tx) => {
      const set = {
        ...(parsed.command !== undefined ? { command: parsed.command } : {}),
        ...(parsed.args !== undefined ? { args: JSON.stringify(parsed.args) } : {}),
        ...(parsed.env !== undefined ? { env: JSON.stringify(parsed.env) } : {}),
        ...(parsed.cwd !== undefined ? { cwd: parsed.cwd } : {}),
        updatedAt: Date.now(),
      };
      const [row] = await tx.update(schema.mcpServers).set(set).where(eq(schema.mcpServers.name, name)).returning();
      if (!row) throw new McpHubError(404, `no MCP server "${name}"`);
      for (const [variable, value] of Object.entries(parsed.secretEnv ?? {})) {
        if (value === null) await this.secrets.deleteIn(tx, secretName(name, variable));
        else await this.secrets.setIn(tx, secretName(name, variable), value);
      }
      await this.#record(tx, row, [...secretsAfter].sort());
    });
    const launchChanged = parsed.command !== undefined || parsed.args !== undefined || parsed.env !== undefined || parsed.cwd !== undefined || parsed.secretEnv !== undefined;
    return { config: await this.get(name), launchChanged };
  }

  async remove(name: string): Promise<void> {
    await this.store.write(async (tx) => {
      const gone = await tx.delete(schema.mcpServers).where(eq(schema.mcpServers.name, name)).returning({ name: schema.mcpServers.name });
      if (!gone.length) throw new McpHubError(404, `no MCP server "${name}"`);
      for (const secret of await this.secrets.namesWithPrefix(`mcp:${name}:`)) await this.secrets.deleteIn(tx, secret);
      await recordChange(tx, 'mcp', 'mcp.removed', { name });
    });
  }

  async setDesiredState(name: string, desiredState: DesiredState): Promise<void> {
    await this.#change(name, { desiredState });
  }

  async setToolEnabled(name: string, tool: string, enabled: boolean): Promise<McpServerConfig> {
    const config = await this.get(name);
    const disabled = new Set(config.disabledTools);
    if (enabled) disabled.delete(tool);
    else disabled.add(tool);
    await this.#change(name, { disabledTools: JSON.stringify([...disabled].sort()) });
    return this.get(name);
  }

  async #change(name: string, set: Partial<Row>) {
    await this.store.write(async (tx) => {
      const [row] = await tx
        .update(schema.mcpServers)
        .set({ ...set, updatedAt: Date.now() })
        .where(eq(schema.mcpServers.name, name))
        .returning();
      if (!row) throw new McpHubError(404, `no MCP server "${name}"`);
      await this.#record(tx, row, null);
    });
  }

  /** The outbox row: the config without secret values (and without env values, which may be sensitive too). */
  async #record(tx: Tx, row: Row, secretEnv: string[] | null) {
    const payload: Record<string, unknown> = {
      name: row.name,
      command: row.command,
      args: JSON.parse(row.args),
      envNames: Object.keys(JSON.parse(row.env)),
      cwd: row.cwd,
      disabledTools: JSON.parse(row.disabledTools),
      desiredState: row.desiredState,
      updatedAt: row.updatedAt,
    };
    if (secretEnv) payload.secretEnv = secretEnv;
    await recordChange(tx, 'mcp', 'mcp.updated', payload);
  }

  #noOverlap(env: Record<string, string>, secretNames: string[]) {
    const both = secretNames.filter((v) => v in env);
    if (both.length) throw bad(`${both.join(', ')} cannot be both a plain and a secret variable`);
  }

  #config(row: Row, secretNames: string[]): McpServerConfig {
    const prefix = `mcp:${row.name}:`;
    return {
      name: row.name,
      command: row.command,
      args: JSON.parse(row.args),
      env: JSON.parse(row.env),
      cwd: row.cwd,
      disabledTools: JSON.parse(row.disabledTools),
      desiredState: row.desiredState,
      secretEnv: secretNames.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length)),
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }
}
