/**
 * The MCP hub against a real MCP server (test/fixtures/mcp-server.mjs, written with the
 * SDK's server side) run as a real child process, with a real libSQL file and vault.
 */
import { HOMEPORT_ROOT, userPath } from '../servers/user-env.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, schema, type Store } from '../db/index.ts';
import { SecretStore, Vault } from '../vault.ts';
import { McpHub } from './hub.ts';
import { McpRegistry } from './registry.ts';

const FIXTURE = resolve(fileURLToPath(new URL('../../../test/fixtures/mcp-server.mjs', import.meta.url)));
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A process that runs (a zombie waiting to be reaped has ended). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitFor<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function setup(dataDir?: string) {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'homeport-mcp-'));
  if (!dataDir) cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(dir);
  const secrets = new SecretStore(store, Vault.fromDataDir(dir));
  const hub = new McpHub({ registry: new McpRegistry(store, secrets), defaultCwd: dir, stopTimeoutMs: 2000 });
  const stop = async () => {
    await hub.stopAll();
    store.close();
  };
  cleanup.push(stop);
  return { dir, store, secrets, hub, stop };
}

const fixture = (name: string, extra: Record<string, unknown> = {}) => ({ name, command: process.execPath, args: [FIXTURE], ...extra });

async function outbox(store: Store, type: string) {
  return (await store.db.select().from(schema.outbox)).filter((r) => r.type === type).map((r) => JSON.parse(r.payload));
}

describe('McpHub', () => {
  it('should register, start, list and call a real MCP server', { timeout: 30_000 }, async () => {
    const { hub, store } = await setup();
    const view = await hub.register(fixture('files', { env: { GREETING: 'hi' } }));
    expect(view).toMatchObject({ name: 'files', desiredState: 'stopped', env: { GREETING: 'hi' }, secretEnv: [], status: { state: 'stopped' } });

    const status = await hub.start('files');
    expect(status).toMatchObject({ state: 'running', serverInfo: { name: 'fixture-mcp', version: '1.2.3' }, tools: 5 });
    expect(alive(status.pid!)).toBe(true);

    const tools = await hub.tools('files');
    expect(tools.map((t) => t.agentName)).toEqual(['files__echo', 'files__env', 'files__spawn_grandchild', 'files__fail', 'files__crash']);
    expect(tools[0]).toMatchObject({ name: 'echo', enabled: true, problem: null, inputSchema: { type: 'object', required: ['text'] } });

    expect(await hub.call('files', 'echo', { text: 'hello ✓' })).toMatchObject({ content: [{ type: 'text', text: 'hello ✓' }] });
    expect(await hub.call('files', 'env', { name: 'GREETING' })).toMatchObject({ content: [{ text: 'hi' }] });
    expect(await hub.call('files', 'fail', {})).toMatchObject({ isError: true, content: [{ text: 'this tool always fails' }] });
    await expect(hub.call('files', 'nope', {})).rejects.toThrow('has no tool "nope"');
    await expect(hub.call('files', 'echo', [1])).rejects.toThrow('arguments are a JSON object');

    // stderr is the server's log
    expect(hub.logs('files').some((l) => l.stream === 'stderr' && l.text.startsWith('fixture: ready'))).toBe(true);
    expect((await outbox(store, 'mcp.state')).map((p) => p.state)).toEqual(['starting', 'running']);
    expect((await hub.get('files')).desiredState).toBe('running');
  });

  it('should give a server its own secrets and no other server\'s', { timeout: 30_000 }, async () => {
    const { hub, store } = await setup();
    process.env.HOMEPORT_TEST_LEAK = 'homeportd-own-secret';
    cleanup.push(() => delete process.env.HOMEPORT_TEST_LEAK);
    await hub.register(fixture('alpha', { secretEnv: { API_TOKEN: 'alpha-secret-123' } }));
    await hub.register(fixture('beta', { secretEnv: { OTHER: 'beta-secret-456' } }));
    await Promise.all([hub.start('alpha'), hub.start('beta')]);

    const read = async (server: string, name: string) => ((await hub.call(server, 'env', { name })).content as { text: string }[])[0].text;
    expect(await read('alpha', 'API_TOKEN')).toBe('alpha-secret-123');
    expect(await read('beta', 'API_TOKEN')).toBe('(unset)');
    expect(await read('alpha', 'OTHER')).toBe('(unset)');
    expect(await read('beta', 'OTHER')).toBe('beta-secret-456');
    // homeportd's own environment is not passed on (only HOME, PATH and the like)
    expect(await read('alpha', 'HOMEPORT_TEST_LEAK')).toBe('(unset)');
    // the user's PATH: Homeport's own node_modules/.bin (npm put it first) is left out
    expect(await read('alpha', 'PATH')).toBe(userPath(process.env.PATH));
    expect(await read('alpha', 'PATH')).not.toContain(`${HOMEPORT_ROOT}/node_modules/.bin`);

    // views and the outbox name secrets, never their values; the database holds them sealed
    expect((await hub.get('alpha')).secretEnv).toEqual(['API_TOKEN']);
    const everything = JSON.stringify([await hub.list(), await store.db.select().from(schema.outbox), await store.db.select().from(schema.secrets)]);
    expect(everything).toContain('mcp:alpha:API_TOKEN');
    expect(everything).not.toContain('alpha-secret-123');
    expect(everything).not.toContain('beta-secret-456');

    // a changed secret restarts the running server with the new value; null removes one
    await hub.update('alpha', { secretEnv: { API_TOKEN: 'rotated-789' } });
    expect(await read('alpha', 'API_TOKEN')).toBe('rotated-789');
    await hub.update('alpha', { secretEnv: { API_TOKEN: null } });
    expect(await read('alpha', 'API_TOKEN')).toBe('(unset)');
    expect((await hub.get('alpha')).secretEnv).toEqual([]);

    await hub.remove('beta');
    expect((await store.db.select().from(schema.secrets)).map((r) => r.name)).toEqual([]);
  });

  it('should stop a server with its whole process group, grandchildren included', { timeout: 30_000 }, async () => {
    const { hub } = await setup();
    await hub.register(fixture('spawner'));
    const { pid } = await hub.start('spawner');
    const text = async (args: object) => Number(((await hub.call('spawner', 'spawn_grandchild', args)).content as { text: string }[])[0].text);
    const inGroup = await text({});
    const ownGroup = await text({ ownGroup: true });
    expect([alive(pid!), alive(inGroup), alive(ownGroup)]).toEqual([true, true, true]);

    const stopped = await hub.stop('spawner');
    expect(stopped).toMatchObject({ state: 'stopped', pid: null });
    await waitFor('every process of the server to end', () => !alive(pid!) && !alive(inGroup) && !alive(ownGroup), 5000);
    expect((await hub.get('spawner')).desiredState).toBe('stopped');
    expect(hub.agentTools()).toEqual([]);
  });

  it('should show a crash in the status, with the last stderr lines, and kill what the server left', { timeout: 30_000 }, async () => {
    const { hub, store } = await setup();
    await hub.register(fixture('fragile'));
    const { pid } = await hub.start('fragile');
    const orphan = Number(((await hub.call('fragile', 'spawn_grandchild', {})).content as { text: string }[])[0].text);
    expect((await hub.call('fragile', 'crash', { code: 7 })).content).toEqual([{ type: 'text', text: 'crashing' }]);

    const status = await waitFor('the crash', () => (hub.status('fragile').state === 'crashed' ? hub.status('fragile') : null));
    expect(status).toMatchObject({ state: 'crashed', pid: null, exitCode: 7 });
    expect(status.lastError).toContain('the server exited with code 7');
    expect(status.lastError).toContain('fixture: crashing on purpose');
    await waitFor('the leftover child to be ended', () => !alive(orphan) && !alive(pid!), 5000);
    await expect(hub.call('fragile', 'echo', { text: 'x' })).rejects.toThrow('is crashed');
    expect(hub.agentTools()).toEqual([]);
    await waitFor('the crash in the outbox', async () => (await outbox(store, 'mcp.state')).some((p) => p.state === 'crashed' && p.exitCode === 7));

    // start brings it back
    expect((await hub.start('fragile')).state).toBe('running');
  });

  it('should say why a server cannot start', { timeout: 30_000 }, async () => {
    const { hub, dir } = await setup();
    await hub.register({ name: 'missing', command: 'homeport-no-such-mcp-server' });
    expect(await hub.start('missing')).toMatchObject({ state: 'errored', lastError: expect.stringContaining('homeport-no-such-mcp-server was not found') });

    await hub.register(fixture('refuses', { env: { MCP_FIXTURE_FAIL_START: '1' } }));
    const refused = await hub.start('refuses');
    expect(refused.state).toBe('errored');
    expect(refused.lastError).toContain('exited with code 2 before it was ready');
    expect(refused.lastError).toContain('MCP_FIXTURE_FAIL_START is set');

    await hub.register({ name: 'not-mcp', command: '/bin/sh', args: ['-c', 'echo not json; sleep 30'] });
    const quiet = new McpHub({ registry: hub.registry, defaultCwd: dir, startTimeoutMs: 1500 });
    cleanup.push(() => quiet.stopAll());
    expect(await quiet.start('not-mcp')).toMatchObject({ state: 'errored', lastError: expect.stringContaining('the MCP handshake failed') });

    await hub.register(fixture('nowhere', { cwd: join(dir, 'gone') }));
    expect(await hub.start('nowhere')).toMatchObject({ state: 'errored', lastError: expect.stringContaining('does not exist') });
  });

  it('should refuse bad registrations with clear messages', async () => {
    const { hub } = await setup();
    await expect(hub.register({ name: '_lead', command: 'x' })).rejects.toThrow('not "_" first or last');
    await expect(hub.register({ name: 'a'.repeat(41), command: 'x' })).rejects.toThrow('1 to 40 letters');
    await expect(hub.register({ name: 'ok' })).rejects.toThrow('command must be a non-empty string');
    await expect(hub.register({ name: 'ok', command: 'x', args: 'one two' })).rejects.toThrow('args must be a list');
    await expect(hub.register({ name: 'ok', command: 'x', env: { 'BAD-NAME': '1' } })).rejects.toThrow('not an environment variable name');
    await expect(hub.register({ name: 'ok', command: 'x', cwd: 'relative/dir' })).rejects.toThrow('absolute path');
    await expect(hub.register({ name: 'ok', command: 'x', env: { A: '1' }, secretEnv: { A: '2' } })).rejects.toThrow('both a plain and a secret');
    await expect(hub.register({ name: 'ok', command: 'x', colour: 'red' } as never)).rejects.toThrow('unknown field "colour"');
    await hub.register({ name: 'ok', command: 'x' });
    await expect(hub.register({ name: 'ok', command: 'y' })).rejects.toThrow('exists already');
    await expect(hub.update('ok', { name: 'renamed' })).rejects.toThrow('cannot be renamed');
    await expect(hub.start('unknown')).rejects.toThrow('no MCP server "unknown"');
    expect((await hub.list()).map((s) => s.name)).toEqual(['ok']);
  });

  it('should offer enabled tools to agents as <server>__<tool>, and leave out names that break the rules', { timeout: 30_000 }, async () => {
    const { hub } = await setup();
    await hub.register(fixture('docs', { env: { MCP_FIXTURE_EXTRA_TOOLS: `search,${'long'.repeat(20)},has space` } }));
    await hub.register(fixture('web', { env: { MCP_FIXTURE_EXTRA_TOOLS: 'search' } }));
    await Promise.all([hub.start('docs'), hub.start('web')]);

    const agentNames = () => hub.agentTools().map((t) => t.name).sort();
    expect(agentNames()).toEqual(
      ['docs', 'web'].flatMap((s) => ['crash', 'echo', 'env', 'fail', 'search', 'spawn_grandchild'].map((t) => `${s}__${t}`)).sort(),
    );
    const docsTools = await hub.tools('docs');
    expect(docsTools.find((t) => t.name === 'has space')?.problem).toContain('"docs__has space" is not a valid tool name for agents');
    expect(docsTools.find((t) => t.name === 'long'.repeat(20))?.problem).toContain('1 to 64');

    // a disabled tool is not offered, and says so; enabling brings it back
    await hub.setToolEnabled('web', 'echo', false);
    expect(agentNames()).not.toContain('web__echo');
    expect((await hub.tools('web')).find((t) => t.name === 'echo')).toMatchObject({ enabled: false, problem: null });
    expect((await hub.get('web')).disabledTools).toEqual(['echo']);
    await hub.setToolEnabled('web', 'echo', true);
    expect(agentNames()).toContain('web__echo');

    // an agent tool calls through to its server
    const signal = new AbortController().signal;
    const echo = hub.agentTools().find((t) => t.name === 'docs__echo')!;
    expect(echo.description).toBe('Echoes the text back.');
    expect(echo.input_schema).toMatchObject({ type: 'object', required: ['text'] });
    expect(await echo.run({ text: 'from an agent' }, { signal })).toEqual({ content: 'from an agent', isError: false });
    const fail = hub.agentTools().find((t) => t.name === 'docs__fail')!;
    expect(await fail.run({}, { signal })).toEqual({ content: 'this tool always fails', isError: true });
    // turned off after the task got it: refused at call time
    await hub.setToolEnabled('docs', 'echo', false);
    expect(await echo.run({ text: 'x' }, { signal })).toEqual({ content: 'the tool docs__echo was turned off by the owner', isError: true });
    // its server stopped meanwhile: an error result, not an exception
    await hub.stop('docs');
    expect(await fail.run({}, { signal })).toMatchObject({ isError: true, content: expect.stringContaining('is stopped') });
  });

  it('should refuse names that would collide: a server name with "__" at registration, a tool listed twice at listing', { timeout: 30_000 }, async () => {
    const { hub } = await setup();
    // server "a" with tool "b__c" and server "a__b" with tool "c" would both be "a__b__c"
    await hub.register(fixture('a', { env: { MCP_FIXTURE_EXTRA_TOOLS: 'b__c' } }));
    await expect(hub.register(fixture('a__b'))).rejects.toThrow(/"a__b" cannot name an MCP server: .* would both be "a__b__x"/);
    await hub.start('a');
    expect(hub.agentTools().map((t) => t.name)).toContain('a__b__c');

    // a server that lists "echo" twice: neither is offered, and the listing says why
    await hub.register(fixture('twice', { env: { MCP_FIXTURE_EXTRA_TOOLS: 'echo' } }));
    await hub.start('twice');
    const echoes = (await hub.tools('twice')).filter((t) => t.name === 'echo');
    expect(echoes).toHaveLength(2);
    for (const echo of echoes) expect(echo.problem).toContain('"twice__echo" would name more than one tool');
    expect(hub.agentTools().map((t) => t.name)).not.toContain('twice__echo');
    expect(hub.agentTools().map((t) => t.name)).toContain('twice__env');
  });

  it('should start again after a restart of homeportd the servers that were running, and only those', { timeout: 40_000 }, async () => {
    const first = await setup();
    await first.hub.register(fixture('kept', { secretEnv: { TOKEN: 'kept-secret' } }));
    await first.hub.register(fixture('idle'));
    await first.hub.register(fixture('was-stopped'));
    const { pid: oldPid } = await first.hub.start('kept');
    await first.hub.start('was-stopped');
    await first.hub.stop('was-stopped');
    await first.stop(); // homeportd shuts down: processes end, desired states stay
    expect(alive(oldPid!)).toBe(false);

    const second = await setup(first.dir);
    expect(await second.hub.restore()).toEqual(['kept']);
    expect(second.hub.status('kept')).toMatchObject({ state: 'running' });
    expect(second.hub.status('idle').state).toBe('stopped');
    expect(second.hub.status('was-stopped').state).toBe('stopped');
    expect(((await second.hub.call('kept', 'env', { name: 'TOKEN' })).content as { text: string }[])[0].text).toBe('kept-secret');
  });
});
