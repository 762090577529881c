import { describe, expect, it, vi } from 'vitest';
import { ChunkQueue, ReceiveWindow, SendWindow, StreamClosedError } from './flow.ts';
import { INITIAL_WINDOW } from './frames.ts';

/** Lets pending promise callbacks and stream pulls run. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function tracked(p: Promise<void>) {
  const state = { done: false, error: null as Error | null };
  p.then(
    () => (state.done = true),
    (e: Error) => (state.error = e),
  );
  return state;
}

describe('SendWindow', () => {
  it('should start with the initial window', () => {
    expect(new SendWindow().available).toBe(INITIAL_WINDOW);
    expect(new SendWindow(10).available).toBe(10);
  });

  it('should take credit at once while there is enough', async () => {
    const w = new SendWindow(100);
    await w.take(60);
    await w.take(40);
    expect(w.available).toBe(0);
  });

  it('should make a sender wait until credit is granted', async () => {
    const w = new SendWindow(10);
    const t = tracked(w.take(25));
    await settle();
    expect(t.done).toBe(false);
    w.grant(10);
    await settle();
    expect(t.done).toBe(false);
    w.grant(5);
    await settle();
    expect(t.done).toBe(true);
    expect(w.available).toBe(0);
  });

  it('should serve waiters in order, a small take never overtaking a big one', async () => {
    const w = new SendWindow(0);
    const order: string[] = [];
    const big = w.take(50).then(() => order.push('big'));
    const small = w.take(1).then(() => order.push('small'));
    w.grant(10);
    await settle();
    // 10 would cover the small take, but the big one is first in line.
    expect(order).toEqual([]);
    expect(w.available).toBe(10);
    w.grant(41);
    await Promise.all([big, small]);
    expect(order).toEqual(['big', 'small']);
    expect(w.available).toBe(0);
  });

  it('should queue a new take behind waiters even when credit is available', async () => {
    const w = new SendWindow(5);
    const order: number[] = [];
    const first = w.take(10).then(() => order.push(1));
    const second = w.take(3).then(() => order.push(2));
    await settle();
    expect(order).toEqual([]);
    w.grant(8);
    await Promise.all([first, second]);
    expect(order).toEqual([1, 2]);
  });

  it('should resolve several waiters from one grant and keep the rest', async () => {
    const w = new SendWindow(0);
    const a = tracked(w.take(3));
    const b = tracked(w.take(4));
    const c = tracked(w.take(100));
    w.grant(10);
    await settle();
    expect([a.done, b.done, c.done]).toEqual([true, true, false]);
    expect(w.available).toBe(3);
  });

  it('should reject waiting senders and later takes once closed', async () => {
    const w = new SendWindow(0);
    const a = w.take(5);
    const b = w.take(1);
    w.close();
    await expect(a).rejects.toBeInstanceOf(StreamClosedError);
    await expect(b).rejects.toBeInstanceOf(StreamClosedError);
    await expect(w.take(0)).rejects.toBeInstanceOf(StreamClosedError);
    const custom = new SendWindow(10);
    const boom = new Error('tunnel dropped');
    custom.close(boom);
    await expect(custom.take(1)).rejects.toBe(boom);
  });

  it('should not resolve a closed waiter when credit arrives later', async () => {
    const w = new SendWindow(0);
    const t = tracked(w.take(5));
    w.close();
    w.grant(100);
    await settle();
    expect(t.done).toBe(false);
    expect(t.error).toBeInstanceOf(StreamClosedError);
  });
});

describe('ReceiveWindow', () => {
  it('should grant nothing until a quarter window was consumed, then all of it', () => {
    const r = new ReceiveWindow(100);
    expect(r.consumed(10)).toBe(0);
    expect(r.consumed(10)).toBe(0);
    expect(r.consumed(4)).toBe(0);
    expect(r.consumed(6)).toBe(30);
    expect(r.consumed(24)).toBe(0);
    expect(r.consumed(1)).toBe(25);
  });

  it('should grant a big read at once', () => {
    const r = new ReceiveWindow();
    expect(r.consumed(INITIAL_WINDOW / 4 - 1)).toBe(0);
    expect(r.consumed(1)).toBe(INITIAL_WINDOW / 4);
    expect(r.consumed(INITIAL_WINDOW)).toBe(INITIAL_WINDOW);
  });
});

const bytes = (...values: number[]) => new Uint8Array(values);

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(value);
  }
}

describe('ChunkQueue', () => {
  it('should hand over everything queued in one chunk, in order, and close at the end', async () => {
    const consumed: number[] = [];
    const q = new ChunkQueue((n) => consumed.push(n));
    q.push(bytes(1, 2));
    q.push(bytes(3));
    q.push(bytes(4, 5, 6));
    q.end();
    const got = (await readAll(q.readable())).map((chunk) => [...chunk]);
    expect(got).toEqual([[1, 2, 3, 4, 5, 6]]);
    expect(consumed).toEqual([6]);
    expect(q.finished).toBe(true);
  });

  it('should report consumed bytes only as the reader reads (a slow reader grants no credit)', async () => {
    const onConsumed = vi.fn();
    const q = new ChunkQueue(onConsumed);
    const reader = q.readable().getReader();
    q.push(new Uint8Array(100));
    q.push(new Uint8Array(200));
    await settle();
    expect(onConsumed).not.toHaveBeenCalled();
    const first = await reader.read();
    expect(first.value?.byteLength).toBe(300);
    await settle();
    expect(onConsumed.mock.calls).toEqual([[300]]);
    q.push(new Uint8Array(50));
    await settle();
    expect(onConsumed.mock.calls).toEqual([[300]]);
    const second = await reader.read();
    expect(second.value?.byteLength).toBe(50);
    expect(onConsumed.mock.calls).toEqual([[300], [50]]);
    q.end();
    expect((await reader.read()).done).toBe(true);
  });

  it('should wake a waiting reader when a chunk arrives later', async () => {
    const q = new ChunkQueue(() => {});
    const reader = q.readable().getReader();
    const pending = reader.read();
    await settle();
    q.push(bytes(7));
    expect([...(await pending).value!]).toEqual([7]);
    const done = reader.read();
    await settle();
    q.end();
    expect((await done).done).toBe(true);
  });

  it('should skip empty chunks', async () => {
    const consumed: number[] = [];
    const q = new ChunkQueue((n) => consumed.push(n));
    q.push(new Uint8Array(0));
    q.push(bytes(1));
    q.end();
    const got = (await readAll(q.readable())).map((chunk) => chunk.byteLength);
    expect(got).toEqual([1]);
    expect(consumed).toEqual([1]);
  });

  it('should hand out the queued chunks, then the error', async () => {
    const q = new ChunkQueue(() => {});
    const reader = q.readable().getReader();
    q.push(bytes(1));
    const boom = new Error('node dropped');
    q.error(boom);
    q.error(new Error('second error is ignored'));
    expect(q.finished).toBe(true);
    expect([...(await reader.read()).value!]).toEqual([1]);
    await expect(reader.read()).rejects.toBe(boom);
  });

  it('should error a reader that is already waiting', async () => {
    const q = new ChunkQueue(() => {});
    const reader = q.readable().getReader();
    const pending = reader.read();
    await settle();
    q.error(new Error('reset'));
    await expect(pending).rejects.toThrow('reset');
  });

  it('should call onCancel when the reader cancels, and not report consumption', async () => {
    const onCancel = vi.fn();
    const onConsumed = vi.fn();
    const q = new ChunkQueue(onConsumed, onCancel);
    const stream = q.readable();
    q.push(bytes(1, 2, 3));
    await stream.cancel('visitor left');
    expect(onCancel).toHaveBeenCalledTimes(1);
    expect(onConsumed).not.toHaveBeenCalled();
    expect(q.finished).toBe(true);
  });

  it('should not be finished before end or error', () => {
    const q = new ChunkQueue(() => {});
    q.push(bytes(1));
    expect(q.finished).toBe(false);
    q.end();
    expect(q.finished).toBe(true);
  });
});
