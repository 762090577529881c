/**
 * @module
 * The machine's vital signs for the dashboard: CPU (from /proc/stat deltas), memory
 * (/proc/meminfo), the disk holding the data dir (statfs), network throughput
 * (/proc/net/dev, loopback excluded) and load average, sampled every few seconds into
 * a bounded history (by default 10 minutes at 5 s) for charts.
 */
import { EventEmitter } from 'node:events';
import { readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';

export interface SystemSample {
  /** epoch ms */
  at: number;
  /** busy share of all cores since the previous sample, 0–100; null on the first sample */
  cpu: { percent: number | null; cores: number };
  memory: { totalBytes: number; availableBytes: number; usedBytes: number };
  /** the filesystem of the data dir; freeBytes is what an unprivileged user may still write */
  disk: { path: string; totalBytes: number; freeBytes: number; usedBytes: number } | null;
  /** all interfaces but loopback; rates null on the first sample */
  network: { rxBytesPerSec: number | null; txBytesPerSec: number | null; rxBytes: number; txBytes: number };
  load: { one: number; five: number; fifteen: number };
}

export interface SystemStatsOptions {
  /** the disk reported is the one holding this path */
  dataDir: string;
  intervalMs?: number;
  /** samples kept */
  historySize?: number;
  procRoot?: string;
}

export interface CpuTimes {
  busy: number;
  total: number;
}

/** The aggregate `cpu` line of /proc/stat: busy and total jiffies (iowait counts as idle). */
export function parseCpuTimes(text: string): CpuTimes {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('no cpu line in /proc/stat');
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  return { busy: total - f[3] - (f[4] || 0), total };
}

export function parseMeminfo(text: string): SystemSample['memory'] {
  const kb = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  const totalBytes = kb('MemTotal') ?? 0;
  // MemAvailable is the kernel's own estimate (since 3.14); the sum is the old approximation.
  const availableBytes = kb('MemAvailable') ?? (kb('MemFree') ?? 0) + (kb('Buffers') ?? 0) + (kb('Cached') ?? 0);
  return { totalBytes, availableBytes, usedBytes: Math.max(0, totalBytes - availableBytes) };
}

/** Received and sent bytes per interface, loopback excluded. */
export function parseNetDev(text: string): Map<string, { rx: number; tx: number }> {
  const out = new Map<string, { rx: number; tx: number }>();
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === 'lo') continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (Number.isFinite(f[0]) && Number.isFinite(f[8])) out.set(name, { rx: f[0], tx: f[8] });
  }
  return out;
}

export function parseLoadavg(text: string): SystemSample['load'] {
  const [one, five, fifteen] = text.trim().split(/\s+/).map(Number);
  return { one: one || 0, five: five || 0, fifteen: fifteen || 0 };
}

type Events = { sample: [SystemSample] };

export class SystemStats extends EventEmitter<Events> {
  readonly intervalMs: number;
  readonly #historySize: number;
  readonly #proc: string;
  #history: SystemSample[] = [];
  #timer: NodeJS.Timeout | null = null;
  #sampling: Promise<SystemSample> | null = null;
  #prevCpu: CpuTimes | null = null;
  #prevNet: { at: number; byInterface: Map<string, { rx: number; tx: number }> } | null = null;

  constructor(private readonly options: SystemStatsOptions) {
    super();
    this.intervalMs = options.intervalMs ?? 5000;
    this.#historySize = options.historySize ?? 120;
    this.#proc = options.procRoot ?? '/proc';
  }

  /** Samples now, then every intervalMs. */
  start() {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.sample().catch(() => {}), this.intervalMs).unref();
    void this.sample().catch(() => {});
  }

  stop() {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  latest(): SystemSample | null {
    return this.#history.at(-1) ?? null;
  }

  /** Oldest first. */
  history(): SystemSample[] {
    return [...this.#history];
  }

  /** Takes one sample (one at a time: a slow disk does not pile them up). */
  sample(): Promise<SystemSample> {
    this.#sampling ??= this.#take().finally(() => {
      this.#sampling = null;
    });
    return this.#sampling;
  }

  async #take(): Promise<SystemSample> {
    const read = (file: string) => readFile(join(this.#proc, file), 'utf8');
    const [stat, meminfo, netdev, loadavg, disk] = await Promise.all([
      read('stat'),
      read('meminfo'),
      read('net/dev').catch(() => ''),
      read('loadavg').catch(() => ''),
      this.#disk(),
    ]);
    const at = Date.now();

    const cpuNow = parseCpuTimes(stat);
    const prevCpu = this.#prevCpu;
    const dTotal = prevCpu ? cpuNow.total - prevCpu.total : 0;
    const percent = prevCpu && dTotal > 0 ? Math.round(((cpuNow.busy - prevCpu.busy) / dTotal) * 1000) / 10 : null;
    this.#prevCpu = cpuNow;

    const byInterface = parseNetDev(netdev);
    let rxBytes = 0;
    let txBytes = 0;
    let rxDelta = 0;
    let txDelta = 0;
    for (const [name, now] of byInterface) {
      rxBytes += now.rx;
      txBytes += now.tx;
      const before = this.#prevNet?.byInterface.get(name);
      // Per interface, so one that appeared or was reset does not count its whole total.
      if (before) {
        rxDelta += Math.max(0, now.rx - before.rx);
        txDelta += Math.max(0, now.tx - before.tx);
      }
    }
    const seconds = this.#prevNet ? (at - this.#prevNet.at) / 1000 : 0;
    this.#prevNet = { at, byInterface };

    const sample: SystemSample = {
      at,
      cpu: { percent: percent === null ? null : Math.min(100, Math.max(0, percent)), cores: os.availableParallelism() },
      memory: parseMeminfo(meminfo),
      disk,
      network: {
        rxBytesPerSec: seconds > 0 ? Math.round(rxDelta / seconds) : null,
        txBytesPerSec: seconds > 0 ? Math.round(txDelta / seconds) : null,
        rxBytes,
        txBytes,
      },
      load: loadavg ? parseLoadavg(loadavg) : (([one, five, fifteen]) => ({ one, five, fifteen }))(os.loadavg()),
    };
    this.#history.push(sample);
    if (this.#history.length > this.#historySize) this.#history.splice(0, this.#history.length - this.#historySize);
    this.emit('sample', sample);
    return sample;
  }

  async #disk(): Promise<SystemSample['disk']> {
    try {
      const s = await statfs(this.options.dataDir);
      const totalBytes = s.blocks * s.bsize;
      return { path: this.options.dataDir, totalBytes, freeBytes: s.bavail * s.bsize, usedBytes: (s.blocks - s.bfree) * s.bsize };
    } catch {
      return null;
    }
  }
}
