import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { EVENTS_BATCH } from '@homeport/shared';
import { MAX_PAYLOAD } from '../../../shared/src/frames.ts';
import { openStore, schema } from '../db/index.ts';
import { tempDir } from '../repos/git-fixtures.ts';
import { entityKeyOf } from '../../../edge/src/sync/mirror.ts';
import { outboxPayload, TaskEvents } from './task-events.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('task events', () => {
  it('should keep a full batch of the largest outbox copies within one tunnel frame, and give the mirror no entity key', () => {
    const huge = { type: 'tool.result', id: 'toolu_1', name: 'bash', content: 'x'.repeat(500_000), isError: false, ms: 3 };
    const copy = outboxPayload('task_1', { seq: 9, type: 'tool.result', at: 1, payload: huge });
    expect(copy).toMatchObject({ taskId: 'task_1', seq: 9, type: 'tool.result', truncated: true });
    expect(entityKeyOf(copy)).toBeNull();
    const many = { content: Array.from({ length: 50 }, () => 'y'.repeat(900)) };
    const cut = outboxPayload('task_1', { seq: 10, type: 'tool.result', at: 1, payload: many });
    expect(cut).toMatchObject({ payload: null, truncated: true });
    const batch = JSON.stringify({ t: 'events', events: Array.from({ length: EVENTS_BATCH }, (_, i) => ({ seq: i, topic: 'run:task_1', type: 'tool.result', at: 1, payload: copy })) });
    expect(Buffer.byteLength(batch)).toBeLessThan(MAX_PAYLOAD);
    // Small payloads pass unchanged.
    expect(outboxPayload('task_1', { seq: 1, type: 'usage', at: 1, payload: { inputTokens: 5 } })).toEqual({ taskId: 'task_1', seq: 1, type: 'usage', at: 1, payload: { inputTokens: 5 } });
  });

  it('should number events per task, redact them, store them before subscribers hear of them, and keep deltas out of the outbox', async () => {
    const dir = tempDir('homeport-task-events-');
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const store = await openStore(dir);
    cleanup.push(() => store.close());
    const now = Date.now();
    await store.db.insert(schema.repos).values({ id: 'repo_1', name: 'shop', path: dir, source: 'local', state: 'ready', addedAt: now, updatedAt: now });
    for (const id of ['task_a', 'task_b']) await store.db.insert(schema.tasks).values({ id, repoId: 'repo_1', prompt: 'p', model: 'm', limits: '{}', status: 'running', createdAt: now });
    const events = new TaskEvents(store);
    events.redact = (text) => text.split('s3cret-value').join('[redacted]');
    const heard: number[] = [];
    const storedWhenHeard: Promise<number | undefined>[] = [];
    events.subscribe('task_a', (e) => {
      heard.push(e.seq);
      storedWhenHeard.push(events.list('task_a', e.seq - 1).then((stored) => stored[0]?.seq));
    });
    await Promise.all([
      events.append('task_a', 'assistant.delta', { text: 'the s3cret-value is' }),
      events.append('task_b', 'status', { status: 'running' }),
      events.append('task_a', 'tool.call', { input: { command: 'echo s3cret-value' } }),
    ]);
    expect(heard).toEqual([1, 2]);
    // Each was already stored when it was published.
    expect(await Promise.all(storedWhenHeard)).toEqual([1, 2]);
    expect((await events.list('task_a')).map((e) => [e.seq, e.type, e.payload])).toEqual([
      [1, 'assistant.delta', { text: 'the [redacted] is' }],
      [2, 'tool.call', { input: { command: 'echo [redacted]' } }],
    ]);
    expect((await events.list('task_b')).map((e) => e.seq)).toEqual([1]);
    const outbox = await store.db.select().from(schema.outbox);
    expect(outbox.map((r) => `${r.topic} ${r.type}`)).toEqual(['run:task_b status', 'run:task_a tool.call']);
    expect(outbox.map((r) => r.payload).join()).not.toContain('s3cret-value');
  });
});
