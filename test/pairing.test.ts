/**
 * Pairing as an owner does it from the terminal: create the owner account with the CLI,
 * make a pairing code, pair a second machine (its own data dir and homeportd), see both
 * nodes, rename one, revoke it and watch its homeportd learn that at once.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/ports.ts';
import { ROOT, nodeApi, startTestStack, waitFor, type TestStack } from './helpers/stack.ts';

const PASSWORD = 'a long owner password';

/** The CLI with its own HOMEPORT_HOME and, when given, text on stdin (passwords). */
function homeport(home: string, args: string[], input?: string) {
  const run = spawnSync(process.execPath, [join(ROOT, 'homenode/bin/homeport.js'), ...args], {
    env: { ...process.env, HOMEPORT_HOME: home },
    input: input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

let stack: TestStack;
let cliHome: string;
let secondHome: string;
let second: ChildProcess | null = null;

beforeAll(async () => {
  stack = await startTestStack();
  cliHome = mkdtempSync(join(tmpdir(), 'homeport-cli-'));
  secondHome = mkdtempSync(join(tmpdir(), 'homeport-second-'));
});

afterAll(async () => {
  second?.kill('SIGTERM');
  await stack?.stop();
});

describe('pairing from the CLI', () => {
  it('should create the owner account, which adopts the node npm start paired', async () => {
    const registered = homeport(cliHome, ['register', stack.dashboardUrl, '--email', 'owner@example.com'], PASSWORD + '\n');
    expect(registered.stderr).toBe('');
    expect(registered.stdout).toContain('you are the owner');
    expect(registered.stdout).toContain(`signed in to ${stack.dashboardUrl}`);
    const credentials = join(cliHome, 'credentials.json');
    expect(statSync(credentials).mode & 0o777).toBe(0o600);
    expect(readFileSync(credentials, 'utf8')).toMatch(/"token": "hpt_/);
    expect(readFileSync(credentials, 'utf8')).not.toContain(PASSWORD);

    const nodes = homeport(cliHome, ['nodes', '--json']);
    expect(nodes.code).toBe(0);
    const list = JSON.parse(nodes.stdout) as { id: string; online: boolean }[];
    expect(list).toEqual([expect.objectContaining({ id: stack.nodeId, online: true })]);
  });

  it('should refuse a wrong password without saying whether the account exists', () => {
    const wrong = homeport(cliHome, ['login', stack.dashboardUrl, '--email', 'owner@example.com'], 'not the password\n');
    const nobody = homeport(cliHome, ['login', stack.dashboardUrl, '--email', 'nobody@example.com'], 'not the password\n');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('wrong email or password');
    expect(nobody.stderr).toBe(wrong.stderr);
  });

  it('should pair a second machine with a code, once', async () => {
    const made = homeport(cliHome, ['pairing-code', '--json']);
    expect(made.code).toBe(0);
    const { code, command } = JSON.parse(made.stdout) as { code: string; command: string };
    expect(command).toBe(`npx homeport pair ${stack.dashboardUrl} ${code}`);

    // The second machine has no homeportd running yet: pairing still works and says what to do.
    const paired = homeport(secondHome, ['pair', stack.dashboardUrl, code, '--name', 'Second Box']);
    expect(paired.stderr).toBe('');
    expect(paired.stdout).toContain('paired as');
    expect(paired.stdout).toContain('second-box');
    expect(paired.stdout).toContain('start homeportd');
    expect(statSync(join(secondHome, 'node-token')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(secondHome, 'config.json'), 'utf8'))).toMatchObject({ nodeId: 'second-box', edgeUrl: stack.dashboardUrl });

    const replay = homeport(mkdtempSync(join(tmpdir(), 'homeport-third-')), ['pair', stack.dashboardUrl, code]);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toContain('not valid');

    second = spawn(process.execPath, [join(ROOT, 'homenode/bin/homeportd.js')], {
      env: {
        ...process.env,
        HOMEPORT_HOME: secondHome,
        HOMEPORT_LAN_PORT: String(await freePort(10000, 20000)),
        HOMEPORT_API_PORT: String(await freePort(20001, 30000)),
        HOMEPORT_BACKOFF_MIN_MS: '50',
        HOMEPORT_BACKOFF_MAX_MS: '500',
        HOMEPORT_IGNORE_PORTS: String(stack.edgePort),
      },
      stdio: 'ignore',
      detached: true,
    });
    const socket = join(secondHome, 'homeportd.sock');
    await waitFor('the second node online', async () => (await nodeApi<{ tunnel: { state: string } }>(socket, '/api/status')).tunnel.state === 'online', 30_000);
    const list = JSON.parse(homeport(cliHome, ['nodes', '--json']).stdout) as { id: string; online: boolean }[];
    expect(list.map((n) => [n.id, n.online])).toEqual([
      [stack.nodeId, true],
      ['second-box', true],
    ]);
  });

  it('should rename a node and revoke it, which closes its tunnel at once', async () => {
    const renamed = homeport(cliHome, ['nodes', 'rename', 'second-box', 'Attic', 'NUC']);
    expect(renamed.stdout).toContain('now called "Attic NUC"');
    const table = homeport(cliHome, ['nodes']).stdout;
    expect(table).toMatch(/second-box\s+Attic NUC\s+online/);

    const revoked = homeport(cliHome, ['nodes', 'revoke', 'second-box']);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain('revoked');
    const socket = join(secondHome, 'homeportd.sock');
    const status = await waitFor(
      'the second node to learn it was revoked',
      async () => {
        const s = await nodeApi<{ tunnel: { state: string; lastError: string | null } }>(socket, '/api/status');
        return s.tunnel.state === 'rejected' ? s.tunnel : undefined;
      },
      20_000,
    );
    expect(status.lastError).toContain('revoked');
    expect(homeport(cliHome, ['nodes']).stdout).not.toContain('second-box');
    // The first node is untouched.
    expect((await nodeApi<{ tunnel: { state: string } }>(stack.socketPath, '/api/status')).tunnel.state).toBe('online');
  });

  it('should ask for a login before edge commands, and explain bad edge URLs', () => {
    const fresh = mkdtempSync(join(tmpdir(), 'homeport-anon-'));
    const anon = homeport(fresh, ['nodes']);
    expect(anon.code).toBe(1);
    expect(anon.stderr).toContain('homeport login');
    const bad = homeport(fresh, ['pair', 'http://example.com', 'ABCD-EFGH']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('https');
  });
});
