/**
 * @module
 * Turns the node's /api/system answer (latest sample + history) into the series the
 * dashboard draws: CPU, memory and disk in percent, network in bytes per second.
 */
import type { SystemReport, SystemSample } from '../api.ts';
import { bytes } from '../format.ts';

export interface SystemSeries {
  key: 'cpu' | 'memory' | 'disk' | 'network';
  label: string;
  unit: 'percent' | 'bytesPerSecond';
  values: number[];
  detail?: string;
}

const share = (used: number, total: number) => (total > 0 ? (used / total) * 100 : 0);

export function systemSeries(report: SystemReport): SystemSeries[] {
  const samples: SystemSample[] = [...report.history];
  const latest = report.latest;
  if (latest && samples[samples.length - 1]?.at !== latest.at) samples.push(latest);
  const last = samples[samples.length - 1];
  if (!last) return [];
  const out: SystemSeries[] = [];
  const cpu = samples.flatMap((s) => (s.cpu.percent === null ? [] : [s.cpu.percent]));
  if (cpu.length) out.push({ key: 'cpu', label: 'CPU', unit: 'percent', values: cpu, detail: `${last.cpu.cores} cores` });
  out.push({
    key: 'memory',
    label: 'Memory',
    unit: 'percent',
    values: samples.map((s) => share(s.memory.usedBytes, s.memory.totalBytes)),
    detail: `${bytes(last.memory.usedBytes)} of ${bytes(last.memory.totalBytes)}`,
  });
  if (last.disk) {
    out.push({
      key: 'disk',
      label: 'Disk',
      unit: 'percent',
      values: samples.flatMap((s) => (s.disk ? [share(s.disk.usedBytes, s.disk.totalBytes)] : [])),
      detail: `${bytes(last.disk.freeBytes)} free`,
    });
  }
  const net = samples.flatMap((s) => (s.network.rxBytesPerSec === null ? [] : [s.network.rxBytesPerSec + (s.network.txBytesPerSec ?? 0)]));
  if (net.length) out.push({ key: 'network', label: 'Network', unit: 'bytesPerSecond', values: net });
  return out;
}
