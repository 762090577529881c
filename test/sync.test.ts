/**
 * The edge's picture of a node stays true: a randomized run of changes on the node
 * (repos added and removed, settings changed) with tunnel drops in between ends with the
 * edge's mirror equal to the node's own state, nothing lost or applied twice; while the
 * node is offline the dashboard gets the last known state, marked stale, and commands
 * queued meanwhile run once when it is back.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepo, nodeApi, ownerRequest as request, startTestStack, waitFor, type TestStack } from './helpers/stack.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** The dashboard API as the loopback owner. */
async function edge<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const res = await request(stack, path, {
    host: `localhost:${stack.edgePort}`,
    method: init.method ?? 'GET',
    headers: init.body === undefined ? { origin: stack.dashboardUrl } : { origin: stack.dashboardUrl, 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: JSON.parse(res.text) as T };
}

interface Mirror {
  online: boolean;
  stale: boolean;
  seq: number;
  topics: Record<string, Record<string, unknown>[]>;
}

/** A seeded generator, so a failing sequence can be replayed from the seed in the message. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => ((x = (x * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

async function nodeRepos(): Promise<{ id: string; name: string }[]> {
  return (await nodeApi<{ repos: { id: string; name: string }[] }>(stack.socketPath, '/api/repos')).repos;
}

async function settledMirror(): Promise<Mirror> {
  // The node has nothing left to send when the edge's sequence matches the outbox's last row.
  return waitFor(
    'the edge mirror to catch up',
    async () => {
      const status = await nodeApi<{ sync?: { pending: number } }>(stack.socketPath, '/api/status');
      if (status.sync && status.sync.pending > 0) return undefined;
      const { body } = await edge<Mirror>(`/api/nodes/${stack.nodeId}/state`);
      const ids = (body.topics.repos ?? []).map((r) => r.id).sort();
      const want = (await nodeRepos()).map((r) => r.id).sort();
      return JSON.stringify(ids) === JSON.stringify(want) ? body : undefined;
    },
    // generous: CI runs the unit and edge projects beside this file on two cores
    90_000,
  );
}

describe('the edge mirror', () => {
  it('should match the node after a random run of changes and tunnel drops', async () => {
    const seed = Number(process.env.HOMEPORT_SYNC_SEED ?? Date.now() % 100000);
    const random = rng(seed);
    const folders = Array.from({ length: 6 }, (_, i) => {
      const dir = makeRepo(`sync-${i}`);
      execFileSync('git', ['-C', dir, '-c', 'user.email=t@e.st', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'init']);
      return dir;
    });
    const added = new Map<string, string>();
    let drops = 0;
    for (let step = 0; step < 24; step++) {
      const roll = random();
      if (roll < 0.4) {
        const dir = folders[Math.floor(random() * folders.length)];
        if (!added.has(dir)) {
          const res = await nodeApi<{ id?: string; repo?: { id: string }; error?: string }>(stack.socketPath, '/api/repos', 'POST', { path: dir });
          const id = res.repo?.id ?? res.id;
          expect(id, `seed ${seed}: ${JSON.stringify(res)}`).toBeTruthy();
          added.set(dir, id!);
        }
      } else if (roll < 0.6 && added.size) {
        const [dir, id] = [...added][Math.floor(random() * added.size)];
        await nodeApi(stack.socketPath, `/api/repos/${id}`, 'DELETE');
        added.delete(dir);
      } else if (roll < 0.8) {
        const minutes = 5 + Math.floor(random() * 100);
        const res = await nodeApi<{ error?: string }>(stack.socketPath, '/api/settings', 'PUT', { idleTimeoutMinutes: minutes });
        expect(res.error, `seed ${seed}`).toBeUndefined();
      } else {
        // A drop in the middle of things: homeportd reconnects and resumes from the edge's ack.
        await nodeApi(stack.socketPath, '/api/tunnel/reconnect', 'POST');
        drops++;
      }
    }
    await stack.waitForTunnel();
    // The seed replays a failing run: HOMEPORT_SYNC_SEED=<seed>.
    const mirror = await settledMirror().catch((error: Error) => {
      throw new Error(`${error.message} (seed ${seed}, ${drops} drops)`);
    });
    const repos = await nodeRepos();
    expect((mirror.topics.repos ?? []).map((r) => [r.id, r.name]).sort(), `seed ${seed}`).toEqual(repos.map((r) => [r.id, r.name]).sort());
    const settings = (await nodeApi<{ settings: Record<string, unknown> }>(stack.socketPath, '/api/settings')).settings;
    for (const row of mirror.topics.settings ?? []) expect(row.value, `seed ${seed}: setting ${String(row.key)}`).toEqual(settings[row.key as string]);
    // Every outbox row arrived exactly once: the edge's sequence is the node's last.
    const status = await nodeApi<{ sync: { ackedSeq: number; pending: number } }>(stack.socketPath, '/api/status');
    expect(status.sync.pending).toBe(0);
    expect(mirror.seq, `seed ${seed}, ${drops} drops`).toBe(status.sync.ackedSeq);
  });

  it('should show the last known state while the node is offline and run queued commands once on return', async () => {
    const dir = makeRepo('offline-app');
    execFileSync('git', ['-C', dir, '-c', 'user.email=t@e.st', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'init']);
    const { repo } = await nodeApi<{ repo: { id: string; name: string } }>(stack.socketPath, '/api/repos', 'POST', { path: dir });
    await settledMirror();

    await stack.stopNode();
    await waitFor('the edge to see the node offline', async () => !(await edge<Mirror>(`/api/nodes/${stack.nodeId}/state`)).body.online);
    const offline = (await edge<Mirror>(`/api/nodes/${stack.nodeId}/state`)).body;
    expect(offline.stale).toBe(true);
    expect(offline.topics.repos.map((r) => r.name)).toContain('offline-app');

    // Change a setting while the node is away; the same id twice is one command.
    const command = { id: 'set-scan-interval-1', method: 'PUT', path: '/api/settings', body: { idleTimeoutMinutes: 77 } };
    const queued = await edge<{ command: { state: string } }>(`/api/nodes/${stack.nodeId}/commands`, { method: 'POST', body: command });
    expect(queued.status).toBe(202);
    expect(queued.body.command.state).toBe('queued');
    expect((await edge(`/api/nodes/${stack.nodeId}/commands`, { method: 'POST', body: command })).status).toBe(202);

    await stack.startNode();
    await stack.waitForTunnel();
    const delivered = await waitFor('the command to be delivered', async () => {
      const { body } = await edge<{ commands: { id: string; state: string; status: number }[] }>(`/api/nodes/${stack.nodeId}/commands`);
      const found = body.commands.find((c) => c.id === command.id);
      return found?.state === 'delivered' ? found : undefined;
    });
    expect(delivered.status).toBe(200);
    expect((await nodeApi<{ settings: { idleTimeoutMinutes: number } }>(stack.socketPath, '/api/settings')).settings.idleTimeoutMinutes).toBe(77);
    // The change flowed back through the outbox: the mirror shows it, no longer stale.
    const back = await waitFor('the mirror to show the new setting', async () => {
      const { body } = await edge<Mirror>(`/api/nodes/${stack.nodeId}/state`);
      return body.topics.settings?.some((s) => s.key === 'idleTimeoutMinutes' && s.value === 77) ? body : undefined;
    });
    expect(back.stale).toBe(false);
    expect(back.topics.repos.map((r) => r.id)).toContain(repo.id);
  });
});
