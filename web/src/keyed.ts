/**
 * @module
 * Lists that refresh in place: `<For>` keys rows by object, and a refetch brings new
 * objects, so every row (with its open logs, revealed secrets or focused switch) would
 * be made again. Iterating over the keys instead, a memo that changes only when they do,
 * keeps each row and just updates what it shows.
 */
import { createMemo } from 'solid-js';

export function keysOf<T>(list: () => readonly T[], key: (item: T) => string) {
  return createMemo(
    () => list().map(key),
    [],
    { equals: (a, b) => a.length === b.length && a.every((k, i) => k === b[i]) },
  );
}
