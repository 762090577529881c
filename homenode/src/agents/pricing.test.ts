import { describe, expect, it } from 'vitest';
import { formatDuration, formatUsd } from './loop.ts';
import { callCostUsd, FALLBACK_PRICE, priceOf } from './pricing.ts';

describe('priceOf', () => {
  it('should price each current family by its version, dated and [1m] ids included', () => {
    const cases: [string, number, number][] = [
      ['claude-fable-5-2', 8, 40],
      ['claude-mythos-5-1', 10, 50],
      ['claude-fable-5', 10, 50],
      ['claude-opus-5-5', 4, 20],
      ['claude-opus-5', 5, 25],
      ['claude-opus-4-8[1m]', 5, 25],
      ['claude-opus-4-5-20251101', 5, 25],
      ['claude-opus-4-1', 15, 75],
      ['claude-opus-4-20250514', 15, 75],
      ['claude-sonnet-5-5', 2, 10],
      ['claude-sonnet-5', 2, 10],
      ['claude-sonnet-4-6', 3, 15],
      ['claude-sonnet-4-5-20250929', 3, 15],
      ['claude-haiku-5-5', 0.1, 0.5],
      ['claude-haiku-4-5-20251001', 1, 5],
      ['claude-3-5-haiku-latest', 0.8, 4],
    ];
    for (const [model, input, output] of cases) expect([model, priceOf(model).inputPerMTok, priceOf(model).outputPerMTok, priceOf(model).known]).toEqual([model, input, output, true]);
  });

  it('should fall back to the dearest current price for an id it does not know', () => {
    expect(priceOf('claude-opera-9')).toEqual({ ...FALLBACK_PRICE, known: false });
    expect(priceOf('gpt-5')).toMatchObject({ known: false, inputPerMTok: 10, outputPerMTok: 50 });
  });
});

describe('callCostUsd', () => {
  it('should cost input and output at the model price', () => {
    expect(callCostUsd('claude-sonnet-5-5', { input_tokens: 1_000_000, output_tokens: 100_000 })).toBeCloseTo(2 + 1, 10);
    expect(callCostUsd('claude-opus-5-5', { input_tokens: 10_000, output_tokens: 2_000 })).toBeCloseTo(0.04 + 0.04, 10);
  });

  it('should cost cache writes at 1.25× and reads at 0.1× the input price', () => {
    expect(callCostUsd('claude-opus-5', { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 1_000_000, cache_read_input_tokens: 1_000_000 })).toBeCloseTo(5 * 1.25 + 5 * 0.1, 10);
  });

  it('should bill a Haiku 5.5 prompt over 100 000 tokens at the higher rate, output included', () => {
    expect(callCostUsd('claude-haiku-5-5', { input_tokens: 100_000, output_tokens: 1_000_000 })).toBeCloseTo(0.01 + 0.5, 10);
    expect(callCostUsd('claude-haiku-5-5', { input_tokens: 100_001, output_tokens: 1_000_000 })).toBeCloseTo(100_001 * 0.5e-6 + 2.5, 10);
    expect(callCostUsd('claude-haiku-5-5', { input_tokens: 60_000, output_tokens: 0, cache_read_input_tokens: 50_000 })).toBeCloseTo(60_000 * 0.5e-6 + 50_000 * 0.05e-6, 10);
  });
});

describe('formatting for limit reasons', () => {
  it('should show dollars with two decimals, or up to four below a dollar', () => {
    expect([formatUsd(0), formatUsd(0.5), formatUsd(0.6000000001), formatUsd(0.0123), formatUsd(0.012), formatUsd(2.5), formatUsd(12.345)]).toEqual(['$0.00', '$0.50', '$0.60', '$0.0123', '$0.012', '$2.50', '$12.35']);
  });

  it('should show durations the way people say them', () => {
    expect([formatDuration(300), formatDuration(45_000), formatDuration(10 * 60_000), formatDuration(90 * 60_000 + 30_000), formatDuration(3 * 3_600_000)]).toEqual(['300 ms', '45s', '10m', '90m 30s', '3h']);
  });
});
