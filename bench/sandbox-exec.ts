/**
 * @module
 * What the agent sandbox costs per tool call: `Sandbox.exec('echo …')` from the call to
 * the result (exec create + start, the multiplexed stream, the exit code), in one
 * container on the local engine with the busybox test image; and, with fewer runs, a
 * sandbox's start (container create + start + its killer shell) to its removal.
 * `npm run bench` reports both; `tsx bench/sandbox-exec.ts [runs]` measures alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '../homenode/src/agents/sandbox.ts';
import { ensureDocker, ensureTestImage } from '../test/helpers/docker.ts';
import { percentile } from './load.ts';

export interface SandboxTimes {
  execMs: number[];
  createMs: number[];
  destroyMs: number[];
}

export async function measureSandboxExec(runs = 200, lifecycles = 5): Promise<SandboxTimes> {
  const docker = await ensureDocker();
  const image = await ensureTestImage(docker);
  const workspace = mkdtempSync(join(os.tmpdir(), 'homeport-bench-sandbox-'));
  const owner = `bench-${process.pid}`;
  const times: SandboxTimes = { execMs: [], createMs: [], destroyMs: [] };
  try {
    const sandbox = await Sandbox.create({ docker, image, taskId: `bench-${process.pid}`, owner, workspace });
    try {
      for (let i = 0; i < 10; i++) await sandbox.exec('echo warm'); // unmeasured
      for (let i = 0; i < runs; i++) {
        const started = performance.now();
        const result = await sandbox.exec(`echo ${i}`);
        times.execMs.push(performance.now() - started);
        if (result.exitCode !== 0 || result.output !== `${i}\n`) throw new Error(`sandbox exec answered ${JSON.stringify(result)}`);
      }
    } finally {
      await sandbox.destroy();
    }
    for (let i = 0; i < lifecycles; i++) {
      let started = performance.now();
      const box = await Sandbox.create({ docker, image, taskId: `bench-${process.pid}-${i}`, owner, workspace });
      times.createMs.push(performance.now() - started);
      started = performance.now();
      await box.destroy();
      times.destroyMs.push(performance.now() - started);
    }
  } finally {
    await Sandbox.removeOrphans(docker, [], { owner }).catch(() => {});
    rmSync(workspace, { recursive: true, force: true });
  }
  return times;
}

/** Table rows: label, p50 ms, p99 ms, runs. */
export function sandboxRows(times: SandboxTimes): string[][] {
  const cell = (values: number[], p: number) => percentile(values, p).toFixed(1);
  return [
    ['sandbox exec (echo): per tool call', cell(times.execMs, 50), cell(times.execMs, 99), String(times.execMs.length)],
    ['sandbox create (container + killer shell)', cell(times.createMs, 50), cell(times.createMs, 99), String(times.createMs.length)],
    ['sandbox destroy (kill + remove)', cell(times.destroyMs, 50), cell(times.destroyMs, 99), String(times.destroyMs.length)],
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const times = await measureSandboxExec(Number(process.argv[2] ?? 200));
  for (const [label, p50, p99, n] of sandboxRows(times)) process.stdout.write(`${label}: p50 ${p50} ms, p99 ${p99} ms (${n} runs)\n`);
}
