import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../api.ts';
import type { NodeState } from '../node-state.ts';
import { parseCpuTimes, parseMeminfo, parseNetDev, SystemStats, type SystemSample } from './stats.ts';

const NET_DEV = (rx: number, tx: number, loRx = 999_999) => `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: ${loRx} 100 0 0 0 0 0 0 ${loRx} 100 0 0 0 0 0 0
  eth0: ${rx} 10 0 0 0 0 0 0 ${tx} 10 0 0 0 0 0 0
 wlan0: 1000 10 0 0 0 0 0 0 2000 10 0 0 0 0 0 0
`;
const STAT = (user: number, idle: number) => `cpu  ${user} 0 0 ${idle} 0 0 0 0 0 0\ncpu0 ${user} 0 0 ${idle} 0 0 0 0 0 0\nintr 1 2 3\n`;
const MEMINFO = 'MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    400 kB\nBuffers:          10 kB\n';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'homeport-stats-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parsers', () => {
  it('should count iowait as idle and guest time once', () => {
    expect(parseCpuTimes('cpu  100 5 20 300 40 1 2 3 50 0\n')).toEqual({ busy: 131, total: 471 });
  });

  it('should read memory, falling back when MemAvailable is missing', () => {
    expect(parseMeminfo(MEMINFO)).toEqual({ totalBytes: 1000 * 1024, availableBytes: 400 * 1024, usedBytes: 600 * 1024 });
    expect(parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 90 kB\n').availableBytes).toBe(200 * 1024);
  });

  it('should leave loopback out of the network', () => {
    expect([...parseNetDev(NET_DEV(5, 6)).entries()]).toEqual([
      ['eth0', { rx: 5, tx: 6 }],
      ['wlan0', { rx: 1000, tx: 2000 }],
    ]);
  });
});

describe('SystemStats', () => {
  it('should turn counter deltas into rates, from a fake /proc', async () => {
    const proc = join(dir, 'proc');
    mkdirSync(join(proc, 'net'), { recursive: true });
    writeFileSync(join(proc, 'stat'), STAT(100, 900));
    writeFileSync(join(proc, 'meminfo'), MEMINFO);
    writeFileSync(join(proc, 'net', 'dev'), NET_DEV(10_000, 20_000));
    writeFileSync(join(proc, 'loadavg'), '0.50 0.25 0.10 1/100 1234\n');
    const stats = new SystemStats({ dataDir: dir, procRoot: proc });
    const first = await stats.sample();
    expect(first.cpu.percent).toBeNull();
    expect(first.network.rxBytesPerSec).toBeNull();
    expect(first.load).toEqual({ one: 0.5, five: 0.25, fifteen: 0.1 });

    // 300 of 400 more jiffies busy; eth0 received 50 000 bytes more (lo's million is not counted).
    writeFileSync(join(proc, 'stat'), STAT(400, 1000));
    writeFileSync(join(proc, 'net', 'dev'), NET_DEV(60_000, 20_000, 5_000_000));
    await new Promise((r) => setTimeout(r, 200));
    const second = await stats.sample();
    expect(second.cpu.percent).toBe(75);
    const seconds = (second.at - first.at) / 1000;
    expect(second.network.rxBytesPerSec).toBe(Math.round(50_000 / seconds));
    expect(second.network.txBytesPerSec).toBe(0);
    expect(second.network.rxBytes).toBe(61_000);
  });

  it('should sample this machine with sane values and keep a bounded history', async () => {
    const stats = new SystemStats({ dataDir: dir, intervalMs: 40, historySize: 5 });
    const samples: SystemSample[] = [];
    stats.on('sample', (s) => samples.push(s));
    stats.start();
    const deadline = Date.now() + 5000;
    while (samples.length < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    stats.stop();
    expect(samples.length).toBeGreaterThanOrEqual(8);
    expect(stats.history()).toHaveLength(5);
    expect(stats.history().map((s) => s.at)).toEqual(samples.slice(-5).map((s) => s.at));

    const s = stats.latest()!;
    expect(s.cpu.percent).toBeGreaterThanOrEqual(0);
    expect(s.cpu.percent).toBeLessThanOrEqual(100);
    expect(s.cpu.cores).toBeGreaterThanOrEqual(1);
    expect(s.memory.totalBytes).toBeGreaterThan(64 * 1024 * 1024);
    expect(s.memory.availableBytes).toBeLessThanOrEqual(s.memory.totalBytes);
    expect(s.memory.usedBytes + s.memory.availableBytes).toBe(s.memory.totalBytes);
    expect(s.disk!.totalBytes).toBeGreaterThan(0);
    expect(s.disk!.freeBytes).toBeLessThanOrEqual(s.disk!.totalBytes);
    expect(s.disk!.usedBytes).toBeLessThanOrEqual(s.disk!.totalBytes);
    expect(s.network.rxBytesPerSec).toBeGreaterThanOrEqual(0);
    expect(s.load.one).toBeGreaterThanOrEqual(0);
  });
});

describe('GET /api/system', () => {
  const api = (system?: SystemStats) => createApi({ state: {} as NodeState, tunnel: () => null, localToken: 'local-secret', system });

  it('should answer the latest sample and the history, behind the door guard', async () => {
    const stats = new SystemStats({ dataDir: dir });
    await stats.sample();
    await stats.sample();
    const res = await api(stats).request('/api/system', {}, { door: 'socket' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { intervalMs: number; latest: SystemSample; history: SystemSample[] };
    expect(body.intervalMs).toBe(5000);
    expect(body.history).toHaveLength(2);
    expect(body.latest.at).toBe(body.history[1].at);
    expect(body.latest.memory.totalBytes).toBeGreaterThan(0);

    const refused = await api(stats).request('/api/system', {}, { door: 'tcp' });
    expect(refused.status).toBe(401);
    const withToken = await api(stats).request('/api/system', { headers: { authorization: 'Bearer local-secret' } }, { door: 'tcp' });
    expect(withToken.status).toBe(200);
  });

  it('should say so when no sampler runs', async () => {
    const res = await api().request('/api/system', {}, { door: 'socket' });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: 'this homeportd does not sample system stats' });
  });
});
