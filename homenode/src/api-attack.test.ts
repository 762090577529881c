import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApi } from './api.ts';
import { loadConfig } from './config.ts';
import { openStore } from './db/index.ts';
import { McpHub } from './mcp/hub.ts';
import { McpRegistry } from './mcp/registry.ts';
import { NodeSettings } from './node-settings.ts';
import { NodeState } from './node-state.ts';
import { PortSettingsStore } from './port-settings.ts';
import { RepoService } from './repos/service.ts';
import { SecretStore, Vault } from './vault.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The node API with its real libSQL state under `dataDir`. */
async function nodeApi(dataDir = tempDir('homeport-attack-')) {
  const store = await openStore(dataDir);
  cleanup.push(() => store.close());
  const settings = new NodeSettings(store);
  const secrets = new SecretStore(store, Vault.fromDataDir(dataDir));
  const repos = new RepoService({ store, secrets, settings, reposDir: join(dataDir, 'repos') });
  const mcp = new McpHub({ registry: new McpRegistry(store, secrets), defaultCwd: dataDir });
  const state = new NodeState(loadConfig({ HOMEPORT_HOME: dataDir }), new PortSettingsStore(dataDir));
  const api = createApi({ state, tunnel: () => null, localToken: 't', repos: { repos, settings, secrets, servers: null }, mcp });
  /** sends `body` as raw text, the way a hostile client would */
  const send = async (method: string, path: string, body: string, headers: Record<string, string> = {}) => {
    const res = await api.request(path, { method, headers: { 'content-type': 'application/json', ...headers }, body }, { door: 'socket' });
    return { status: res.status, json: (await res.json()) as { error?: string } };
  };
  return { send, dataDir };
}

const deep = (levels: number, inner = '1') => '['.repeat(levels) + inner + ']'.repeat(levels);

describe('attack: bad JSON on the node API', () => {
  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('should refuse the key "%s" in PUT /api/settings with 400', async (key) => {
    const { send } = await nodeApi();
    const res = await send('PUT', '/api/settings', `{"${key}": {"polluted": true}}`);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(new RegExp(`^unknown field "${key}"; it takes githubBaseUrl, `));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['PUT', '/api/settings', `{"agentModel": ${deep(5000, '"x"')}}`],
    ['PATCH', '/api/ports/3000/settings', deep(5000)],
    ['POST', '/api/mcp/servers/none/tools/t/call', `{"arguments": {"a": ${deep(5000)}}}`],
  ])('should refuse JSON nested 5000 deep with 400 (%s %s)', async (method, path, body) => {
    const { send } = await nodeApi();
    const res = await send(method, path, body);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/nested more than \d+ levels/);
  });

  it.each<Record<string, string>>([{ 'content-length': String(1024 * 1024 + 30) }, {}])('should answer a body over 1 MiB with 413 (headers %j)', async (headers) => {
    const { send } = await nodeApi();
    const res = await send('PUT', '/api/settings', JSON.stringify({ agentModel: 'x'.repeat(1024 * 1024) }), headers);
    expect(res.status).toBe(413);
    expect(res.json.error).toMatch(/larger than 1 MiB/);
  });

  it.each([
    ['[]', /^the body must be a JSON object$/],
    ['{"keepPrefix": true, "admin": true}', /^unknown field "admin"; it takes keepPrefix, pathForm$/],
    ['{"keepPrefix": "yes"}', /^keepPrefix must be true or false$/],
    ['not json', /Malformed JSON/],
  ])('should refuse PATCH /api/ports/:port/settings with %s', async (body, message) => {
    const { send } = await nodeApi();
    const res = await send('PATCH', '/api/ports/3000/settings', body);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(message);
  });

  it('should refuse unknown fields on the other JSON doors too', async () => {
    const { send } = await nodeApi();
    for (const [method, path, body] of [
      ['PUT', '/api/secrets/github-token', '{"token": "ghp_x", "scope": "all"}'],
      ['POST', '/api/repos', '{"path": "/tmp", "shell": "id"}'],
      ['PUT', '/api/mcp/servers/x/tools/t', '{"enabled": true, "for": "everyone"}'],
    ]) {
      const res = await send(method, path, body);
      expect([path, res.status, res.json.error]).toEqual([path, 400, expect.stringMatching(/^unknown field/)]);
    }
  });
});

describe('attack: a full disk', () => {
  // A real full disk: the node's libSQL file on a 4 MiB tmpfs, the rest of which a filler
  // file takes, so SQLite's next write gets ENOSPC and libSQL raises SQLITE_FULL itself.
  it('should answer 507 "disk full", not a bare 500', async () => {
    const mountPoint = tempDir('homeport-full-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]);
    cleanup.push(() => execFileSync('umount', ['-l', mountPoint]));
    const { send } = await nodeApi(mountPoint);
    expect((await send('PUT', '/api/settings', '{"agentConcurrency": 3}')).status).toBe(200);

    const filler = openSync(join(mountPoint, 'filler'), 'w');
    try {
      for (const block = Buffer.alloc(64 * 1024); ; ) writeSync(filler, block);
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(filler);
    }
    // the WAL may still have room for a few pages; each change adds some until it has none
    let res = { status: 200, json: {} as { error?: string } };
    for (let i = 0; i < 200 && res.status === 200; i++)
      res = await send('PUT', '/api/settings', JSON.stringify({ codeServerPath: `/opt/code-server-${i}/${'x'.repeat(3000)}` }));
    expect(res).toEqual({ status: 507, json: { error: expect.stringMatching(/^disk full/) } });
  });
});
