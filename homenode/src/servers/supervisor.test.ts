import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/ports.ts';
import { parseStat } from './proc-tree.ts';
import { Supervisor, SupervisorError, type ServerSpec, type ServerState, type ServerStatus, type SupervisorOptions } from './supervisor.ts';

// Small node programs the tests run as dev servers.
const SCRIPTS: Record<string, string> = {
  // Listens on PORT (or argv[2]) and says so; IGNORE_TERM makes it shrug off SIGTERM.
  'server.js': `
    const port = Number(process.argv[2] || process.env.PORT);
    if (process.env.IGNORE_TERM) process.on('SIGTERM', () => {});
    require('http').createServer((q, r) => r.end('ok')).listen(port, '127.0.0.1', () => {
      console.log('listening on ' + port + ' pid ' + process.pid + ' greeting=' + process.env.GREETING + ' PORT=' + process.env.PORT + ' token=' + process.env.HOMEPORT_NODE_TOKEN);
    });`,
  // Starts server.js as its child (in a new session when DETACH is set) and waits.
  'parent.js': `
    const { spawn } = require('child_process');
    spawn(process.execPath, [__dirname + '/server.js', process.argv[2]], { stdio: 'inherit', detached: !!process.env.DETACH });
    setInterval(() => {}, 1000);`,
  // Starts server.js as its child, and exits (code 3) once that listens, leaving it behind.
  'leave-child.js': `
    const { spawn } = require('child_process');
    const port = Number(process.argv[2]);
    spawn(process.execPath, [__dirname + '/server.js', port], { stdio: 'inherit' });
    const probe = () => {
      const s = require('net').connect(port, '127.0.0.1');
      s.on('connect', () => { s.destroy(); setTimeout(() => process.exit(3), 400); });
      s.on('error', () => setTimeout(probe, 50));
    };
    probe();`,
  'crash-later.js': `console.log('up'); setTimeout(() => { console.error('boom'); process.exit(7); }, Number(process.argv[2]));`,
  'idle.js': `console.log('idle'); setInterval(() => {}, 1000);`,
  // 50 MB resident, and busy most of the time.
  'busy.js': `
    const big = Buffer.alloc(50 * 1024 * 1024, 1);
    setInterval(() => { const end = Date.now() + 60; while (Date.now() < end) big[0]++; }, 80);
    console.log('busy');`,
  'chatty.js': `for (let i = 0; i < 300; i++) console.log('line ' + i); setInterval(() => {}, 1000);`,
  // Output in pieces that are not lines, the last without a newline.
  'pieces.js': `
    process.stdout.write('hel');
    setTimeout(() => process.stdout.write('lo\\nwor'), 50);
    setTimeout(() => process.stdout.write('ld'), 100);
    setInterval(() => {}, 1000);`,
};

let dir: string;
let logRoot: string;
const supervisors: Supervisor[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'homeport-sup-'));
  logRoot = mkdtempSync(join(tmpdir(), 'homeport-sup-logs-'));
  for (const [name, text] of Object.entries(SCRIPTS)) writeFileSync(join(dir, name), text);
});

afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.stopAll()));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(logRoot, { recursive: true, force: true });
});

let logDirs = 0;
function supervisor(options: Partial<SupervisorOptions> = {}): Supervisor {
  const s = new Supervisor({
    logDir: join(logRoot, String(++logDirs)),
    backoff: { minMs: 50, maxMs: 200, maxRestarts: 2, windowMs: 30_000 },
    readyAfterMs: 300,
    stopTimeoutMs: 1000,
    sampleIntervalMs: 200,
    ...options,
  });
  supervisors.push(s);
  return s;
}

const spec = (id: string, command: string, extra: Partial<ServerSpec> = {}): ServerSpec => ({ id, cwd: dir, command, env: {}, ...extra });

// Generous bounds: the machine may be busy, and a node process can take a while to boot.
async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const inState = (sup: Supervisor, id: string, state: ServerState, timeoutMs?: number) =>
  until(`${id} to be ${state} (is ${sup.status(id)?.state})`, () => (sup.status(id)?.state === state ? sup.status(id) : null), timeoutMs);

function states(sup: Supervisor, id: string): ServerState[] {
  const seen: ServerState[] = [];
  sup.on('state', (s: ServerStatus) => s.id === id && seen.push(s.state));
  return seen;
}

const logText = (sup: Supervisor, id: string) =>
  sup
    .logs(id)
    .map((l) => l.text)
    .join('\n');

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Gone or a zombie (which holds no port): nothing of it runs any more. */
function processGone(pid: number): boolean {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.state === 'Z';
  } catch {
    return true;
  }
}

const listenerPid = (sup: Supervisor, id: string) => until('the listening line', () => Number(/listening on \d+ pid (\d+)/.exec(logText(sup, id))?.[1] ?? 0));

describe('Supervisor', { timeout: 30_000 }, () => {
  it('should go from starting to running and report the process', async () => {
    const sup = supervisor();
    const port = await freePort();
    const seen = states(sup, 'web');
    const first = sup.start(spec('web', 'node server.js', { port }));
    expect(first.state).toBe('starting');
    expect(first.pid).toBeGreaterThan(0);
    await inState(sup, 'web', 'running');
    await until('the server to listen', () => accepts(port));
    expect(seen).toEqual(['starting', 'running']);
    expect(sup.list().map((s) => s.id)).toEqual(['web']);
    expect(() => sup.start(spec('web', 'node server.js', { port }))).toThrow(SupervisorError);
  });

  it('should restart a crashing server with backoff and end in errored after the cap', async () => {
    const sup = supervisor();
    const seen = states(sup, 'crashy');
    sup.start(spec('crashy', 'node crash-later.js 400'));
    const final = await inState(sup, 'crashy', 'errored', 15_000);
    // maxRestarts 2: the first run and two restarts crash; the third crash gives up.
    expect(final.restarts).toBe(2);
    expect(final.exitCode).toBe(7);
    expect(final.lastError).toMatch(/crashed 3 times within 30 s \(last: exited with code 7\)/);
    expect(final.lastError).toContain('boom');
    expect(seen).toEqual(['starting', 'running', 'crashed', 'starting', 'running', 'crashed', 'starting', 'running', 'errored']);
    const system = sup.logs('crashy').filter((l) => l.stream === 'system');
    expect(system.filter((l) => /restarting in \d+ ms/.test(l.text))).toHaveLength(2);
    // Nothing is retried after errored.
    await new Promise((r) => setTimeout(r, 500));
    expect(sup.status('crashy')!.state).toBe('errored');
  });

  it('should report a start command that exits at once, with its last lines', async () => {
    const sup = supervisor({ readyAfterMs: 2000 });
    const status = sup.start(spec('broken', `echo "> vite"; echo "Error: Cannot find module 'vite'" >&2; exit 1`));
    expect(status.state).toBe('starting');
    const final = await inState(sup, 'broken', 'errored');
    expect(final.restarts).toBe(0);
    expect(final.exitCode).toBe(1);
    expect(final.lastError).toContain('exited with code 1 before it was up for 2000 ms');
    expect(final.lastError).toContain("Error: Cannot find module 'vite'");
    expect(final.lastError).toContain('> vite');
  });

  it('should report a working directory that does not exist', () => {
    const sup = supervisor();
    const status = sup.start({ id: 'nowhere', cwd: join(dir, 'missing'), command: 'node server.js', env: {} });
    expect(status.state).toBe('errored');
    expect(status.lastError).toContain('does not exist');
    expect(() => sup.start({ id: 'rel', cwd: 'relative', command: 'x', env: {} })).toThrow(/absolute path/);
  });

  it('should stop the whole tree: a grandchild that ignores SIGTERM does not keep the port', async () => {
    const sup = supervisor({ stopTimeoutMs: 500 });
    const port = await freePort();
    sup.start(spec('tree', `node parent.js ${port} & wait`, { env: { IGNORE_TERM: '1' } }));
    const grandchild = await listenerPid(sup, 'tree');
    expect(await accepts(port)).toBe(true);
    await sup.stop('tree');
    expect(processGone(grandchild)).toBe(true);
    expect(await accepts(port)).toBe(false);
    const status = sup.status('tree')!;
    expect([status.state, status.stopReason, status.pid]).toEqual(['stopped', 'requested', null]);
    expect(logText(sup, 'tree')).toMatch(/did not stop within 500 ms after SIGTERM: killed/);
  });

  it('should also stop a descendant that left the process group', async () => {
    const sup = supervisor();
    const port = await freePort();
    sup.start(spec('escapee', `node parent.js ${port}`, { env: { DETACH: '1' } }));
    const child = await listenerPid(sup, 'escapee');
    expect(parseStat(readFileSync(`/proc/${child}/stat`, 'utf8'))!.pgrp).toBe(child); // its own group now
    await sup.stop('escapee');
    expect(processGone(child)).toBe(true);
    expect(await accepts(port)).toBe(false);
  });

  it('should kill what a crashed leader left behind, so the restart gets the port back', async () => {
    const sup = supervisor();
    const port = await freePort();
    // The leader exits once its server child listens, and leaves that child running.
    sup.start(spec('orphans', `node leave-child.js ${port}`));
    const first = await listenerPid(sup, 'orphans');
    await until('a second listener', () => sup.logs('orphans').filter((l) => l.text.startsWith('listening on')).length >= 2, 15_000);
    expect(processGone(first)).toBe(true);
    expect(sup.logs('orphans').some((l) => l.text.includes('EADDRINUSE'))).toBe(false);
  });

  it('should apply a new environment on restart, export PORT only when asked and hide homeportd settings', async () => {
    const sup = supervisor();
    const port = await freePort();
    process.env.HOMEPORT_NODE_TOKEN = 'not-for-dev-servers';
    try {
      sup.start(spec('env', `node server.js ${port}`, { env: { GREETING: 'hello' } }));
      await until('the first greeting', () => logText(sup, 'env').includes('greeting=hello PORT=undefined token=undefined'));
      const restarted = await sup.restart('env', spec('env', 'node server.js', { env: { GREETING: 'bonjour' }, port }));
      expect(restarted.state).toBe('starting');
      await until('the new greeting', () => logText(sup, 'env').includes(`greeting=bonjour PORT=${port} token=undefined`));
      expect(sup.spec('env')!.env).toEqual({ GREETING: 'bonjour' });
      await expect(sup.restart('nope')).rejects.toMatchObject({ code: 'not-found' });
    } finally {
      delete process.env.HOMEPORT_NODE_TOKEN;
    }
  });

  it('should bound the log ring, split lines across chunks and write the log file', async () => {
    const sup = supervisor({ ringLines: 50 });
    const seen: string[] = [];
    sup.on('log', (id, line) => id === 'chatty' && seen.push(line.text));
    sup.start(spec('chatty', 'node chatty.js'));
    sup.start(spec('pieces', 'node pieces.js'));
    await until('line 299', () => logText(sup, 'chatty').includes('line 299'));
    const lines = sup.logs('chatty');
    expect(lines).toHaveLength(50);
    expect(lines.at(-1)!.text).toBe('line 299');
    expect(lines.every((l, i) => i === 0 || l.seq === lines[i - 1].seq + 1)).toBe(true);
    expect(sup.logs('chatty', { tail: 3 }).map((l) => l.text)).toEqual(['line 297', 'line 298', 'line 299']);
    expect(seen.filter((t) => t.startsWith('line '))).toHaveLength(300);

    await until('hello', () => sup.logs('pieces').some((l) => l.text === 'hello'));
    await new Promise((r) => setTimeout(r, 300)); // 'ld' written, still no newline
    await sup.stop('pieces'); // the stream ends: the partial last line is flushed
    expect(sup.logs('pieces').filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['hello', 'world']);

    const files = readdirSync(join(logRoot, String(logDirs)));
    expect(files).toContain('chatty.log');
    expect(readFileSync(join(logRoot, String(logDirs), 'chatty.log'), 'utf8')).toMatch(/stdout line 0\n[^]*stdout line 299\n/);
  });

  it('should sum CPU and memory over the process tree', async () => {
    const sup = supervisor();
    const samples: ServerStatus[] = [];
    sup.on('stats', (s: ServerStatus) => samples.push(s));
    sup.start(spec('busy', 'node busy.js & wait'));
    // The shell leads; the 50 MB belong to its child.
    const sample = await until('a sample of the busy child', () => samples.find((s) => (s.rssBytes ?? 0) > 40 * 1024 * 1024 && (s.cpuPercent ?? 0) > 5), 15_000);
    expect(sample.pids).toBeGreaterThanOrEqual(2);
    expect(sample.rssBytes).toBeLessThan(1024 * 1024 * 1024);
    expect(sample.cpuPercent).toBeLessThanOrEqual(250);
    await sup.stop('busy');
    expect(sup.status('busy')).toMatchObject({ cpuPercent: null, rssBytes: null, pids: 0 });
  });

  it('should stop a server nobody used for its idle timeout, not one in use', async () => {
    const sup = supervisor();
    sup.start(spec('lazy', 'node idle.js', { idleTimeoutMs: 1000 }));
    const touching = setInterval(() => sup.touch('lazy'), 100);
    await new Promise((r) => setTimeout(r, 1600));
    clearInterval(touching);
    expect(sup.status('lazy')!.state).toBe('running');
    const stopped = await inState(sup, 'lazy', 'stopped', 10_000);
    expect(stopped.stopReason).toBe('idle');
    expect(logText(sup, 'lazy')).toMatch(/idle for \d+ s: stopping/);
  });

  it('should stop everything on stopAll, marked as a shutdown', async () => {
    const sup = supervisor();
    const a = sup.start(spec('a', 'node idle.js'));
    const b = sup.start(spec('b', 'node idle.js & wait'));
    await until('both up', () => sup.logs('a').some((l) => l.text === 'idle') && sup.logs('b').some((l) => l.text === 'idle'));
    await sup.stopAll();
    expect(sup.list().map((s) => [s.id, s.state, s.stopReason])).toEqual([
      ['a', 'stopped', 'shutdown'],
      ['b', 'stopped', 'shutdown'],
    ]);
    expect(processGone(a.pid!) && processGone(b.pid!)).toBe(true);
    expect(existsSync(join(logRoot, String(logDirs), 'a.pid'))).toBe(false);
  });

  it('should end the group a previous homeportd left running before starting again', async () => {
    const logDir = join(logRoot, 'shared-dir');
    // The first supervisor stands for a homeportd that died without stopping its servers.
    const old = supervisor({ logDir, backoff: { maxRestarts: 0 } });
    const port = await freePort();
    const before = old.start(spec('web', `node server.js ${port}`));
    const oldListener = await listenerPid(old, 'web');
    const fresh = supervisor({ logDir });
    fresh.start(spec('web', `node server.js ${port}`));
    await inState(fresh, 'web', 'running');
    expect(processGone(before.pid!) && processGone(oldListener)).toBe(true);
    expect(logText(fresh, 'web')).toContain('from a previous homeportd');
    const newListener = await until('the new listener', () =>
      fresh
        .logs('web')
        .map((l) => Number(/^listening on \d+ pid (\d+)/.exec(l.text)?.[1] ?? 0))
        .find((pid) => pid && pid !== oldListener),
    );
    expect(processGone(newListener)).toBe(false);
    expect(await accepts(port)).toBe(true);
  });

  it('should end leftovers of servers it does not restore, and leave its own alone', async () => {
    const logDir = join(logRoot, 'leftovers');
    const old = supervisor({ logDir, backoff: { maxRestarts: 0 } });
    const gone = old.start(spec('forgotten', 'node idle.js'));
    const fresh = supervisor({ logDir });
    const kept = fresh.start(spec('kept', 'node idle.js'));
    await until('both up', () => old.logs('forgotten').some((l) => l.text === 'idle') && fresh.logs('kept').some((l) => l.text === 'idle'));
    expect(await fresh.endLeftovers()).toBe(1);
    expect(processGone(gone.pid!)).toBe(true);
    expect(processGone(kept.pid!)).toBe(false);
    expect(existsSync(join(logDir, 'forgotten.pid'))).toBe(false);
    expect(await fresh.endLeftovers()).toBe(0);
  });
});
