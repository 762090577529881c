/** The MCP routes' answers to bad input: JSON {error} with a message meant for people, nothing stored. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApi } from '../api.ts';
import { loadConfig } from '../config.ts';
import { openStore, schema } from '../db/index.ts';
import { NodeState } from '../node-state.ts';
import { PortSettingsStore } from '../port-settings.ts';
import { SecretStore, Vault } from '../vault.ts';
import { McpHub } from './hub.ts';
import { McpRegistry } from './registry.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'homeport-mcp-api-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(dir);
  cleanup.push(() => store.close());
  const hub = new McpHub({ registry: new McpRegistry(store, new SecretStore(store, Vault.fromDataDir(dir))), defaultCwd: dir });
  cleanup.push(() => hub.stopAll());
  const api = createApi({ state: new NodeState(loadConfig({ HOMEPORT_HOME: dir }), new PortSettingsStore(dir)), tunnel: () => null, localToken: 't', mcp: hub });
  const send = async (method: string, path: string, body?: unknown) => {
    const res = await api.request(path, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) }, { door: 'socket' });
    return { status: res.status, json: await res.json() };
  };
  return { send, store };
}

describe('/api/mcp', () => {
  it('should answer bad requests with clear JSON errors and store nothing', async () => {
    const { send, store } = await setup();
    expect(await send('POST', '/api/mcp/servers', 'not json')).toEqual({ status: 400, json: { error: 'Malformed JSON in request body' } });
    expect(await send('POST', '/api/mcp/servers', { name: 'x__y', command: 'c' })).toMatchObject({ status: 400, json: { error: expect.stringContaining('Use no "__" in server names') } });
    expect(await send('POST', '/api/mcp/servers', { name: 'ok', command: 'c', secretEnv: { TOKEN: 42 } })).toMatchObject({ status: 400, json: { error: 'secretEnv.TOKEN must be a string' } });
    expect(await store.db.select().from(schema.mcpServers)).toEqual([]);

    expect(await send('POST', '/api/mcp/servers', { name: 'ok', command: 'c', secretEnv: { TOKEN: 'shh-123' } })).toMatchObject({ status: 201, json: { server: { name: 'ok', secretEnv: ['TOKEN'], status: { state: 'stopped' } } } });
    expect(JSON.stringify(await send('GET', '/api/mcp/servers'))).not.toContain('shh-123');
    expect(await send('POST', '/api/mcp/servers', { name: 'ok', command: 'c' })).toMatchObject({ status: 409 });
    expect(await send('GET', '/api/mcp/servers/nope')).toEqual({ status: 404, json: { error: 'no MCP server "nope" (`homeport mcp list` lists them)' } });
    expect(await send('GET', '/api/mcp/servers/ok/tools')).toMatchObject({ status: 409, json: { error: expect.stringContaining('is stopped: start it to list its tools') } });
    expect(await send('POST', '/api/mcp/servers/ok/tools/echo/call', { arguments: {}, extra: 1 })).toEqual({ status: 400, json: { error: 'unknown field "extra"; it takes arguments' } });
    expect(await send('POST', '/api/mcp/servers/ok/tools/echo/call', { arguments: {} })).toMatchObject({ status: 409, json: { error: expect.stringContaining('start it first') } });
    expect(await send('PUT', '/api/mcp/servers/ok/tools/echo', { enabled: 'no' })).toEqual({ status: 400, json: { error: 'enabled must be true or false' } });
    expect(await send('GET', '/api/mcp/servers/ok/logs?tail=-1')).toEqual({ status: 400, json: { error: 'tail is a number of lines from 0 to 10000' } });
    expect(await send('DELETE', '/api/mcp/servers/ok')).toEqual({ status: 200, json: { removed: 'ok' } });
    expect(await store.db.select().from(schema.secrets)).toEqual([]);
  });
});
