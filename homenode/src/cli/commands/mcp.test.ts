/**
 * `homeport mcp …` and `homeport code|open` against a real homeportd (bin/homeportd.js,
 * no edge), run as the user runs them. MCP: the SDK-written fixture server
 * (test/fixtures/mcp-server.mjs). Browser VS Code: the code-server STAND-IN
 * (test/fixtures/code-server-stand-in.mjs) as the configured binary, and no code-server
 * at all.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../../scripts/ports.ts';
import { makeWorkTree } from '../../repos/git-fixtures.ts';
import { HOMENODE, cliFixtures, waitFor } from './cli-fixtures.ts';

const FIXTURES = resolve(HOMENODE, '../test/fixtures');
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const { dir, startDaemon, cli } = cliFixtures({ cleanup, prefix: 'homeport-mcp-cli-' });

describe('homeport mcp', () => {
  it('should add a server with a secret from stdin, start it, list and call its tools, and bring it back after homeportd restarts', { timeout: 90_000 }, async () => {
    const dataDir = dir();
    let daemon = await startDaemon(dataDir);
    const server = ['--', process.execPath, join(FIXTURES, 'mcp-server.mjs')];

    const refused = await cli(dataDir, ['mcp', 'add', 'files', '--secret', 'TOKEN=inline', ...server]);
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringContaining('its value is read from stdin, never from the command line')]);
    const added = await cli(dataDir, ['mcp', 'add', 'files', '--env', 'GREETING=hello there', '--secret', 'TOKEN', ...server], 'tok-from-stdin-42\n');
    expect(added.stdout).toContain('registered files: ');
    expect(added.stdout).toContain('(secrets: TOKEN)');
    expect(added.stdout + added.stderr).not.toContain('tok-from-stdin-42');

    const started = await cli(dataDir, ['mcp', 'start', 'files']);
    expect(started.stdout).toMatch(/^files: running \(pid \d+, 5 tool\(s\)\)/);
    const list = await cli(dataDir, ['mcp', 'list']);
    expect(list.stdout).toMatch(/^NAME\s+STATE\s+PID\s+TOOLS/);
    expect(list.stdout).toMatch(/files\s+running\s+\d+\s+5\s+—\s+TOKEN\s+\S*node\S* \S*mcp-server\.mjs/);

    const tools = await cli(dataDir, ['mcp', 'tools', 'files']);
    expect(tools.stdout).toMatch(/echo\s+files__echo\s+yes\s+Echoes the text back\./);

    expect((await cli(dataDir, ['mcp', 'call', 'files', 'echo', '{"text":"hi ✓"}'])).stdout).toBe('hi ✓\n');
    expect((await cli(dataDir, ['mcp', 'call', 'files', 'env', '{"name":"TOKEN"}'])).stdout).toBe('tok-from-stdin-42\n');
    expect((await cli(dataDir, ['mcp', 'call', 'files', 'env', '{"name":"GREETING"}'])).stdout).toBe('hello there\n');
    const failed = await cli(dataDir, ['mcp', 'call', 'files', 'fail']);
    expect([failed.code, failed.stderr]).toEqual([1, 'this tool always fails\n']);
    const badJson = await cli(dataDir, ['mcp', 'call', 'files', 'echo', '{text:1}']);
    expect([badJson.code, badJson.stderr]).toEqual([2, expect.stringContaining('the arguments are not JSON')]);

    expect((await cli(dataDir, ['mcp', 'disable', 'files', 'crash'])).stdout).toContain('files__crash: not offered to agent tasks');
    expect((await cli(dataDir, ['mcp', 'tools', 'files'])).stdout).toMatch(/crash\s+files__crash\s+no/);
    expect((await cli(dataDir, ['mcp', 'logs', 'files'])).stdout).toContain('fixture: ready');

    // homeportd stops (the server with it) and starts again: the server comes back
    await daemon.stop();
    daemon = await startDaemon(dataDir);
    await waitFor('the restored MCP server', async () => (await cli(dataDir, ['mcp', 'list'])).stdout.match(/files\s+running/));
    expect(daemon.output()).toContain('restoring MCP servers: files');
    expect((await cli(dataDir, ['mcp', 'call', 'files', 'env', '{"name":"TOKEN"}'])).stdout).toBe('tok-from-stdin-42\n');

    expect((await cli(dataDir, ['mcp', 'stop', 'files'])).stdout).toBe('files: stopped\n');
    expect((await cli(dataDir, ['mcp', 'rm', 'files'])).stdout).toBe('removed files\n');
    const gone = await cli(dataDir, ['mcp', 'start', 'files']);
    expect([gone.code, gone.stderr]).toEqual([1, 'homeport: no MCP server "files" (`homeport mcp list` lists them)\n']);
  });
});

describe('homeport code and open (stand-in for code-server)', () => {
  it('should say how to install code-server when the configured one is missing', { timeout: 60_000 }, async () => {
    const dataDir = dir();
    await startDaemon(dataDir, { HOMEPORT_CODE_SERVER: '/nonexistent/code-server' });
    const status = await cli(dataDir, ['code']);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/code-server\s+not-installed/);
    expect(status.stdout).toContain('HOMEPORT_CODE_SERVER names /nonexistent/code-server, which is not an executable file');
    expect(status.stdout).toContain('code-server is not installed on this machine');
    const repo = makeWorkTree(join(dir(), 'shop'), { 'README.md': '# shop' });
    await cli(dataDir, ['add', repo]);
    const open = await cli(dataDir, ['open', 'shop']);
    expect([open.code, open.stderr]).toEqual([1, expect.stringContaining('code-server is not installed on this machine')]);
  });

  it('should open a repo in the stand-in for code-server through the LAN door', { timeout: 60_000 }, async () => {
    const dataDir = dir();
    const lanPort = await freePort(10000, 20000);
    await startDaemon(dataDir, { HOMEPORT_CODE_SERVER: join(FIXTURES, 'code-server-stand-in.mjs'), HOMEPORT_LAN_PORT: String(lanPort) });
    const repo = makeWorkTree(join(dir(), 'shop'), { 'README.md': '# shop' });
    await cli(dataDir, ['add', repo]);

    const open = await cli(dataDir, ['open', 'shop']);
    expect(open.stderr).toBe('(the tunnel is not connected, so this is the LAN URL)\n');
    const url = open.stdout.trim();
    const key = readFileSync(join(dataDir, 'lan-key'), 'utf8').trim();
    expect(url).toBe(`http://127.0.0.1:${lanPort}/code/?folder=${encodeURIComponent(repo)}&homeport_key=${key}`);
    // a browser follows the key link to a cookie; a script sends the key as a bearer token
    const page = await (await fetch(url.split('&homeport_key=')[0], { headers: { authorization: `Bearer ${key}` } })).text();
    expect(page).toContain('code-server stand-in');
    expect(page).toContain(`"folder":${JSON.stringify(repo)}`);

    expect((await cli(dataDir, ['code'])).stdout).toMatch(/code-server\s+running \(pid \d+\)/);
    expect((await cli(dataDir, ['code', 'stop'])).stdout).toMatch(/code-server\s+stopped/);
    expect((await cli(dataDir, ['code', 'logs'])).stdout).toContain('code-server stand-in listening on 127.0.0.1:');
  });
});
