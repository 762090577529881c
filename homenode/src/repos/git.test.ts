import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, schema } from '../db/index.ts';
import { NodeSettings } from '../node-settings.ts';
import { SecretStore, Vault } from '../vault.ts';
import { makeRemote, startGitHttpServer, tempDir, type GitHttpServer } from './git-fixtures.ts';
import { gitInvocation, lastLines, parseProgress, progressReader, redact, runGit, type CloneProgress } from './git.ts';
import { RepoError, RepoService, type CloneEvent } from './service.ts';

const TOKEN = 'ghp_TESTTOKEN0123456789abcdefABCDEF';
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('gitInvocation', () => {
  it('should put the token in the environment as an extraHeader for the GitHub URL only', () => {
    const inv = gitInvocation(['clone', '--progress', '--', 'https://github.com/o/private.git', '/tmp/x'], { token: TOKEN, baseUrl: 'https://github.com/' }, { PATH: '/bin', GIT_CONFIG_COUNT: '3', GIT_CONFIG_KEY_2: 'core.sshCommand', GIT_DIR: '/elsewhere' });
    expect(inv.file).toBe('git');
    expect(inv.args).toEqual(['clone', '--progress', '--', 'https://github.com/o/private.git', '/tmp/x']);
    expect(inv.args.join(' ')).not.toContain(TOKEN);
    expect(inv.env).toMatchObject({
      PATH: '/bin',
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.https://github.com/.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`,
    });
    expect(inv.env.GIT_CONFIG_KEY_2).toBeUndefined();
    expect(inv.env.GIT_DIR).toBeUndefined();
  });

  it('should pass no credentials without a token', () => {
    const inv = gitInvocation(['pull', '--ff-only'], null, { PATH: '/bin' });
    expect(inv.env.GIT_CONFIG_COUNT).toBe('0');
    expect(inv.env.GIT_CONFIG_KEY_0).toBeUndefined();
    expect(inv.env.GIT_TERMINAL_PROMPT).toBe('0');
  });
});

describe('git output', () => {
  it('should parse progress meters and report each phase step once', () => {
    expect(parseProgress('remote: Counting objects:  45% (9/20)        ')).toEqual({ phase: 'Counting objects', percent: 45, done: 9, total: 20 });
    expect(parseProgress('Receiving objects: 100% (52/52), 61.31 KiB | 4.38 MiB/s, done.')).toEqual({ phase: 'Receiving objects', percent: 100, done: 52, total: 52 });
    expect(parseProgress("Cloning into 'demo'...")).toBeNull();
    const seen: CloneProgress[] = [];
    const feed = progressReader((p) => seen.push(p));
    feed('Receiving objects:  50% (1/2)\rReceiving obj');
    feed('ects:  50% (1/2)\rReceiving objects: 100% (2/2), done.\nResolving deltas: 100% (0/0)');
    feed('\n');
    expect(seen.map((p) => `${p.phase} ${p.percent}`)).toEqual(['Receiving objects 50', 'Receiving objects 100', 'Resolving deltas 100']);
  });

  it('should redact the token and its header form, and keep the last meaningful lines', () => {
    const header = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
    expect(redact(`token ${TOKEN} header ${header}`, { token: TOKEN, baseUrl: 'https://github.com/' })).toBe('token *** header ***');
    expect(lastLines("Cloning into 'x'...\nReceiving objects:  10% (1/10)\rfatal: one\nfatal: two\n", 2)).toBe('fatal: one\nfatal: two');
  });

  it('should stop git at the timeout', async () => {
    const dir = tempDir();
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    // A shell alias that outlasts the timeout stands in for a clone that hangs.
    const error = await runGit(['-c', 'alias.wait=!sleep 5', 'wait'], { cwd: dir, timeoutMs: 300 }).catch((e) => e);
    expect(error.timedOut).toBe(true);
    expect(error.message).toContain('took longer than');
  });
});

describe('the GitHub token with a real HTTP git server', () => {
  async function setup(server: GitHttpServer, withToken: boolean) {
    const dataDir = tempDir('homeport-node-');
    const store = await openStore(dataDir);
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    cleanup.push(() => store.close());
    const settings = new NodeSettings(store);
    await settings.update({ githubBaseUrl: server.url });
    const secrets = new SecretStore(store, Vault.fromDataDir(dataDir));
    if (withToken) await secrets.set('github-token', TOKEN);
    const service = new RepoService({ store, secrets, settings, reposDir: join(dataDir, 'repos') });
    await service.init();
    return { service, store, dataDir };
  }

  async function serve() {
    const root = join(makeRemote('private').bare, '..');
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    const server = await startGitHttpServer(root, TOKEN);
    cleanup.push(() => server.close());
    return { server };
  }

  it('should clone a private repo with the token sent as a header, never in argv, URLs or stored state', async () => {
    const { server } = await serve();
    const { service, store, dataDir } = await setup(server, true);
    const url = `${server.url}private.git`;
    const repo = await service.clone({ url });
    const events = await new Promise<CloneEvent[]>((resolve) => {
      const job = service.cloneEvents(repo.id)!;
      const all = [...job.past];
      if (job.finished) return resolve(all);
      job.follow((e) => {
        all.push(e);
        if (e.type !== 'progress') resolve(all);
      });
    });
    expect(events.at(-1)).toMatchObject({ type: 'done', repo: { state: 'ready', remoteUrl: url } });

    const expected = `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`;
    expect(server.authorizations.length).toBeGreaterThan(1);
    expect(server.authorizations.every((a) => a === expected)).toBe(true);
    // git's HTTP helper was running while the server answered: its argv has no token.
    expect(server.gitCommandLines.some((c) => c.includes('remote-http'))).toBe(true);
    expect(server.gitCommandLines.filter((c) => c.includes(TOKEN))).toEqual([]);

    expect(readFileSync(join(repo.path, '.git/config'), 'utf8')).not.toContain(TOKEN);
    expect((await service.get(repo.id)).remoteUrl).toBe(url);
    await store.client.execute('PRAGMA wal_checkpoint(TRUNCATE)');
    expect(readFileSync(join(dataDir, 'homeport.db')).includes(TOKEN)).toBe(false);
    expect(JSON.stringify(await store.db.select().from(schema.outbox))).not.toContain(TOKEN);

    // Pulls carry the token too.
    const before = server.authorizations.length;
    await service.pull(repo.id);
    expect(server.authorizations.slice(before).every((a) => a === expected)).toBe(true);
    expect(server.authorizations.length).toBeGreaterThan(before);
  });

  it('should refuse the clone with a hint when no token is set', async () => {
    const { server } = await serve();
    const { service } = await setup(server, false);
    const error = await service.clone({ url: `${server.url}private.git` }).catch((e) => e);
    expect(error).toBeInstanceOf(RepoError);
    expect(error.status).toBe(400);
    expect(error.message).toContain('homeport github-token');
    expect(await service.list()).toEqual([]);
  });

  it('should not send the token to a host other than the GitHub URL', async () => {
    const { server } = await serve();
    const publicRoot = join(makeRemote('public').bare, '..');
    cleanup.push(() => rmSync(publicRoot, { recursive: true, force: true }));
    const open = await startGitHttpServer(publicRoot);
    cleanup.push(() => open.close());
    const { service } = await setup(server, true);
    const repo = await service.clone({ url: `${open.url}public.git` });
    await new Promise<void>((resolve) => {
      const job = service.cloneEvents(repo.id)!;
      if (job.finished) return resolve();
      job.follow((e) => e.type !== 'progress' && resolve());
    });
    expect((await service.get(repo.id)).state).toBe('ready');
    expect(open.authorizations.length).toBeGreaterThan(0);
    expect(open.authorizations.every((a) => a === undefined)).toBe(true);
  });
});
