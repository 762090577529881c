import { describe, expect, it } from 'vitest';
import { backoffDelay, tunnelUrlOf } from './client.ts';

describe('backoffDelay', () => {
  const top = () => 1 - Number.EPSILON;

  it('should double from the minimum with each attempt', () => {
    const ceilings = [0, 1, 2, 3, 4].map((a) => backoffDelay(a, 100, 100_000, top));
    expect(ceilings).toEqual([100, 200, 400, 800, 1600]);
    const floors = [0, 1, 2, 3, 4].map((a) => backoffDelay(a, 100, 100_000, () => 0));
    expect(floors).toEqual([50, 100, 200, 400, 800]);
  });

  it('should be capped at the maximum, even for huge attempt counts', () => {
    for (const attempt of [7, 8, 20, 31, 1000, Number.MAX_SAFE_INTEGER]) {
      expect(backoffDelay(attempt, 100, 10_000, top)).toBe(10_000);
      expect(backoffDelay(attempt, 100, 10_000, () => 0)).toBe(5_000);
    }
    expect(Number.isFinite(backoffDelay(5000, 100, 10_000))).toBe(true);
  });

  it('should jitter between half the ceiling and the ceiling', () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const seen = new Set<number>();
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(10_000, 100 * 2 ** attempt);
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(attempt, 100, 10_000, random);
        expect(d).toBeGreaterThanOrEqual(ceiling / 2);
        expect(d).toBeLessThanOrEqual(ceiling);
        if (attempt === 11) seen.add(d);
      }
    }
    // Jitter really spreads the delays, so a fleet of nodes does not reconnect in lockstep.
    expect(seen.size).toBeGreaterThan(50);
    expect(backoffDelay(3, 100, 10_000, () => 0.5)).toBe(600);
  });

  it('should use Math.random when no source is given', () => {
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(2, 100, 10_000);
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThanOrEqual(400);
    }
  });
});

describe('tunnelUrlOf', () => {
  it('should map http to ws and https to wss on /api/tunnel', () => {
    expect(tunnelUrlOf('http://127.0.0.1:8787')).toBe('ws://127.0.0.1:8787/api/tunnel');
    expect(tunnelUrlOf('https://homeport.example.com')).toBe('wss://homeport.example.com/api/tunnel');
    expect(tunnelUrlOf('https://homeport.example.com/some/path?x=1')).toBe('wss://homeport.example.com/api/tunnel');
    expect(tunnelUrlOf('http://localhost:8787/')).toBe('ws://localhost:8787/api/tunnel');
  });
});
