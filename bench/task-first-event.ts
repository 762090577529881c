/**
 * @module
 * What the agent task machinery costs around the model, with the fake Anthropic server
 * answering at once (one short text turn): from `POST /api/tasks` on homeportd to
 *   - the first event on the task's SSE stream (what a browser opening the task sees),
 *   - `run.started` (the worktree, the sandbox container and the loop are up),
 *   - the first assistant text delta (the model's answer streamed back),
 *   - the final event (commit made, sandbox removed),
 * and, through the edge, to the first `run:<id>` event on the node's live WebSocket.
 * Tasks run one after another on a repo of the stack's node, with the busybox test image.
 * `npm run bench` reports it; `tsx bench/task-first-event.ts` starts its own stack.
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { nodeApi, startLocalStack, type LocalStack } from '../scripts/local-stack.ts';
import { FakeAnthropic, text } from '../test/fakes/anthropic.ts';
import { ensureDocker, ensureTestImage } from '../test/helpers/docker.ts';
import { freePort } from '../test/helpers/ports.ts';
import { percentile } from './load.ts';

export interface TaskTimes {
  firstEventMs: number[];
  runStartedMs: number[];
  firstDeltaMs: number[];
  finalMs: number[];
  edgeFirstEventMs: number[];
}

/** Reads the task's SSE stream over the Unix socket; calls `onEvent` with each event's type and payload. */
function sse(socketPath: string, path: string, onEvent: (type: string, payload: Record<string, unknown>) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path, headers: { accept: 'text/event-stream' } }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const data = buffer
            .slice(0, end)
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5))
            .join('\n');
          buffer = buffer.slice(end + 2);
          if (data) {
            const event = JSON.parse(data) as { type: string; payload: Record<string, unknown> };
            onEvent(event.type, event.payload ?? {});
          }
        }
      });
      res.on('end', () => resolve());
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export async function measureTaskFirstEvent(stack: LocalStack, runs = 10): Promise<TaskTimes> {
  const docker = await ensureDocker();
  const image = await ensureTestImage(docker);
  const anthropic = await FakeAnthropic.start();
  anthropic.otherwise({ content: [text('Nothing to change here.')] });
  const repoRoot = mkdtempSync(join(os.tmpdir(), 'homeport-bench-task-'));
  const repo = join(repoRoot, 'bench-agent');
  mkdirSync(repo);
  execFileSync('sh', ['-c', 'git init -q && echo hi > a.txt && git add -A && git -c user.email=b@e.nch -c user.name=bench commit -qm init'], { cwd: repo });
  const socket = new WebSocket(`ws://127.0.0.1:${stack.edgePort}/api/nodes/${stack.nodeId}/live`, { headers: { host: `localhost:${stack.edgePort}`, origin: stack.dashboardUrl } });
  const edgeSeen = new Map<string, number>();
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    socket.on('message', (data) => {
      const envelope = JSON.parse(String(data)) as { topic?: string };
      if (envelope.topic?.startsWith('run:') && !edgeSeen.has(envelope.topic)) edgeSeen.set(envelope.topic, performance.now());
    });
    socket.send(JSON.stringify({ type: 'subscribe', topics: ['*'] }));
    const added = await nodeApi<{ repo?: { name: string }; error?: string }>(stack.socketPath, '/api/repos', 'POST', { path: repo });
    if (!added.repo) throw new Error(`could not register the bench repo: ${added.error}`);
    await nodeApi(stack.socketPath, '/api/secrets/anthropic-key', 'PUT', { key: anthropic.apiKey });
    await nodeApi(stack.socketPath, '/api/settings', 'PUT', { anthropicBaseUrl: anthropic.url, agentImage: image });

    const times: TaskTimes = { firstEventMs: [], runStartedMs: [], firstDeltaMs: [], finalMs: [], edgeFirstEventMs: [] };
    for (let i = -1; i < runs; i++) {
      const started = performance.now();
      const created = await nodeApi<{ task?: { id: string }; error?: string }>(stack.socketPath, '/api/tasks', 'POST', { repo: added.repo.name, prompt: `bench run ${i}`, source: 'api' });
      if (!created.task) throw new Error(`POST /api/tasks answered: ${created.error}`);
      const id = created.task.id;
      const at: Record<string, number> = {};
      let status = '';
      await sse(stack.socketPath, `/api/tasks/${id}/events`, (type, payload) => {
        const now = performance.now() - started;
        at.first ??= now;
        if (type === 'run.started') at.runStarted ??= now;
        if (type === 'assistant.delta') at.delta ??= now;
        if (type === 'status' && payload.final) {
          at.final = now;
          status = String(payload.status);
        }
      });
      if (status !== 'completed') throw new Error(`bench task ${id} ended ${status || 'without a final event'}`);
      const edgeAt = edgeSeen.get(`run:${id}`);
      if (i < 0) continue; // the first run warms the engine and the image up
      times.firstEventMs.push(at.first);
      times.runStartedMs.push(at.runStarted);
      times.firstDeltaMs.push(at.delta);
      times.finalMs.push(at.final);
      if (edgeAt !== undefined) times.edgeFirstEventMs.push(edgeAt - started);
    }
    return times;
  } finally {
    socket.close();
    await anthropic.stop();
    await nodeApi(stack.socketPath, `/api/repos/bench-agent`, 'DELETE').catch(() => {});
    rmSync(repoRoot, { recursive: true, force: true });
  }
}

/** Table rows: label, p50 ms, p99 ms, runs. */
export function taskRows(times: TaskTimes): string[][] {
  const row = (label: string, values: number[]) => [label, values.length ? percentile(values, 50).toFixed(1) : '—', values.length ? percentile(values, 99).toFixed(1) : '—', String(values.length)];
  return [
    row('task created → first event (node API, SSE)', times.firstEventMs),
    row('task created → first event (edge live socket)', times.edgeFirstEventMs),
    row('task created → run.started (worktree + sandbox up)', times.runStartedMs),
    row('task created → first model text (fake answers at once)', times.firstDeltaMs),
    row('task created → final event (committed, sandbox gone)', times.finalMs),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'homeport-bench-stack-'));
  const stack = await startLocalStack({
    port: await freePort(41000, 44999),
    dataDir,
    nodeEnv: { HOMEPORT_LAN_PORT: String(await freePort(45000, 46999)), HOMEPORT_API_PORT: String(await freePort(47000, 48999)) },
  });
  try {
    const times = await measureTaskFirstEvent(stack, Number(process.argv[2] ?? 10));
    for (const [label, p50, p99, n] of taskRows(times)) process.stdout.write(`${label}: p50 ${p50} ms, p99 ${p99} ms (${n} runs)\n`);
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
