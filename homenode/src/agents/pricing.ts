/**
 * @module
 * What a Messages API call costs, in USD, from its usage. Prices are list prices per
 * million tokens (platform.claude.com/docs/en/about-claude/pricing, checked 2026-11-23);
 * a model is matched by its family and version in the id (`claude-sonnet-5-5`,
 * `claude-sonnet-5-5-20261007`, `claude-opus-4-8[1m]` all work).
 *
 * Fallback: an id none of the rows knows is priced at FALLBACK_PRICE ($10 / $50, the
 * dearest current generation), so a budget never under-counts a new model; `known`
 * says so and the docs tell the owner to update this table.
 *
 * Prompt caching: cache writes cost 1.25× and cache reads 0.1× the input price (the
 * 5-minute write and the common read rate; a few models read cheaper, so reads are
 * never under-counted).
 */

export interface ModelPrice {
  /** USD per million input tokens */
  inputPerMTok: number;
  /** USD per million output tokens */
  outputPerMTok: number;
  /** Haiku 5.5 bills a request whose prompt is over 100 000 tokens at a higher rate, on all its tokens */
  longPrompt?: { overTokens: number; inputPerMTok: number; outputPerMTok: number };
}

export interface PriceInfo extends ModelPrice {
  /** false when the id matched no row and FALLBACK_PRICE applies */
  known: boolean;
}

/** The usage of one call, as the API reports it (snake_case, like the wire). */
export interface CallUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

export const FALLBACK_PRICE: ModelPrice = { inputPerMTok: 10, outputPerMTok: 50 };

const CACHE_WRITE_FACTOR = 1.25;
const CACHE_READ_FACTOR = 0.1;

/** First match wins: specific versions before their family's catch-all. */
const PRICES: { pattern: RegExp; price: ModelPrice }[] = [
  { pattern: /^claude-(fable|mythos)-5-2\b/, price: { inputPerMTok: 8, outputPerMTok: 40 } },
  { pattern: /^claude-mythos-preview\b/, price: { inputPerMTok: 25, outputPerMTok: 125 } },
  { pattern: /^claude-(fable|mythos)-5\b/, price: { inputPerMTok: 10, outputPerMTok: 50 } },
  { pattern: /^claude-opus-5-5\b/, price: { inputPerMTok: 4, outputPerMTok: 20 } },
  { pattern: /^claude-opus-(5|4-[5-9])\b/, price: { inputPerMTok: 5, outputPerMTok: 25 } },
  { pattern: /^claude-(opus-4|opus-4-1|3-opus)\b/, price: { inputPerMTok: 15, outputPerMTok: 75 } },
  { pattern: /^claude-sonnet-5\b/, price: { inputPerMTok: 2, outputPerMTok: 10 } },
  { pattern: /^claude-(sonnet-4|3-7-sonnet|3-5-sonnet)\b/, price: { inputPerMTok: 3, outputPerMTok: 15 } },
  {
    pattern: /^claude-haiku-5-5\b/,
    price: { inputPerMTok: 0.1, outputPerMTok: 0.5, longPrompt: { overTokens: 100_000, inputPerMTok: 0.5, outputPerMTok: 2.5 } },
  },
  { pattern: /^claude-haiku-4-5\b/, price: { inputPerMTok: 1, outputPerMTok: 5 } },
  { pattern: /^claude-3-5-haiku\b/, price: { inputPerMTok: 0.8, outputPerMTok: 4 } },
  { pattern: /^claude-3-haiku\b/, price: { inputPerMTok: 0.25, outputPerMTok: 1.25 } },
];

/** The price row for a model id (FALLBACK_PRICE with known: false when none matches). */
export function priceOf(model: string): PriceInfo {
  const id = model.trim().toLowerCase();
  const row = PRICES.find((r) => r.pattern.test(id));
  return row ? { ...row.price, known: true } : { ...FALLBACK_PRICE, known: false };
}

/** The USD cost of one call. */
export function callCostUsd(model: string, usage: CallUsage): number {
  const price = priceOf(model);
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const prompt = usage.input_tokens + cacheWrite + cacheRead;
  const rate = price.longPrompt && prompt > price.longPrompt.overTokens ? price.longPrompt : price;
  const input = usage.input_tokens + cacheWrite * CACHE_WRITE_FACTOR + cacheRead * CACHE_READ_FACTOR;
  return (input * rate.inputPerMTok + usage.output_tokens * rate.outputPerMTok) / 1_000_000;
}
