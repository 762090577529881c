/**
 * @module
 * What a task is made of, checked: the repo, the prompt, the model and the limits, with
 * their defaults (docs/agents.md lists them). Bad input is a TaskError with a message
 * meant for people; nothing is stored before it passes.
 */

/** A request the task manager cannot carry out; `status` is the HTTP status the API answers. */
export class TaskError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 422,
    message: string,
  ) {
    super(message);
  }
}

/** The limits of one run (the first prompt, or a follow-up): each run gets them afresh. */
export interface TaskLimits {
  /** model calls */
  maxTurns: number;
  /** input + output tokens */
  maxTokens: number;
  /** dollars, from the model's list prices */
  maxCostUsd: number;
  /** the whole run, wall clock */
  wallClockMs: number;
  /** one bash command */
  bashTimeoutMs: number;
  /** one bash command without any output */
  bashIdleMs: number;
}

export const DEFAULT_LIMITS: TaskLimits = {
  maxTurns: 50,
  maxTokens: 2_000_000,
  maxCostUsd: 2,
  wallClockMs: 30 * 60_000,
  bashTimeoutMs: 10 * 60_000,
  bashIdleMs: 2 * 60_000,
};

/** [min, max] per limit: past these a typo is more likely than a wish. */
const BOUNDS: Record<keyof TaskLimits, [number, number, string]> = {
  maxTurns: [1, 1000, 'a whole number of model calls from 1 to 1000'],
  maxTokens: [1000, 100_000_000, 'a whole number of tokens from 1000 to 100000000'],
  maxCostUsd: [0.01, 1000, 'dollars from 0.01 to 1000'],
  wallClockMs: [10_000, 24 * 3600_000, 'milliseconds from 10000 (10 s) to 86400000 (24 h)'],
  bashTimeoutMs: [1000, 24 * 3600_000, 'milliseconds from 1000 to 86400000'],
  bashIdleMs: [1000, 24 * 3600_000, 'milliseconds from 1000 to 86400000'],
};

export const MAX_PROMPT_CHARS = 100_000;
const MODEL = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$/;
const SOURCE = /^(web|cli|api|webhook:[A-Za-z0-9._-]{1,100})$/;

/** A limits object from the API: any subset of TaskLimits, the rest from `base`. */
export function parseLimits(raw: unknown, base: TaskLimits = DEFAULT_LIMITS): TaskLimits {
  if (raw === undefined || raw === null) return { ...base };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new TaskError(400, `limits must be an object with any of ${Object.keys(BOUNDS).join(', ')}`);
  const limits = { ...base };
  for (const [key, value] of Object.entries(raw)) {
    if (!(key in BOUNDS)) throw new TaskError(400, `unknown limit "${key}"; the limits are ${Object.keys(BOUNDS).join(', ')}`);
    const [min, max, what] = BOUNDS[key as keyof TaskLimits];
    const whole = key !== 'maxCostUsd';
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (whole && !Number.isInteger(value))) throw new TaskError(400, `limits.${key} must be ${what}`);
    limits[key as keyof TaskLimits] = value;
  }
  if (limits.bashTimeoutMs > limits.wallClockMs) limits.bashTimeoutMs = limits.wallClockMs;
  if (limits.bashIdleMs > limits.bashTimeoutMs) limits.bashIdleMs = limits.bashTimeoutMs;
  return limits;
}

export function parsePrompt(raw: unknown): string {
  if (typeof raw !== 'string' || !raw.trim()) throw new TaskError(400, 'the prompt is empty: say what the agent should do, e.g. {"prompt": "fix the failing test in api/"}');
  if (raw.length > MAX_PROMPT_CHARS) throw new TaskError(400, `the prompt is ${raw.length} characters long; at most ${MAX_PROMPT_CHARS}`);
  if (raw.includes('\0')) throw new TaskError(400, 'the prompt may not contain NUL characters');
  return raw.trim();
}

export function parseModel(raw: unknown, fallback: string): string {
  if (raw === undefined || raw === null || raw === '') return fallback;
  if (typeof raw !== 'string' || !MODEL.test(raw)) throw new TaskError(400, `"${String(raw).slice(0, 100)}" is not a model name (e.g. claude-sonnet-5-5)`);
  return raw;
}

export function parseSource(raw: unknown): string {
  if (raw === undefined || raw === null) return 'api';
  if (typeof raw !== 'string' || !SOURCE.test(raw)) throw new TaskError(400, 'source is web, cli, api or webhook:<delivery id>');
  return raw;
}

export interface CreateTaskInput {
  repo: string;
  prompt: string;
  model?: string;
  limits?: Partial<TaskLimits>;
  source?: string;
}

/** A POST /api/tasks body, checked (the repo is looked up by the manager). */
export function parseCreate(body: Record<string, unknown>, defaultModel: string): { repo: string; prompt: string; model: string; limits: TaskLimits; source: string } {
  for (const key of Object.keys(body)) if (!['repo', 'prompt', 'model', 'limits', 'source'].includes(key)) throw new TaskError(400, `unknown field "${key}": a task has repo, prompt, model, limits and source`);
  if (typeof body.repo !== 'string' || !body.repo.trim()) throw new TaskError(400, 'say which repo the task works on: {"repo": "<name or id>", "prompt": "…"} (`homeport repos` lists them)');
  return { repo: body.repo.trim(), prompt: parsePrompt(body.prompt), model: parseModel(body.model, defaultModel), limits: parseLimits(body.limits), source: parseSource(body.source) };
}

/** `10m`, `90s`, `2h` or plain milliseconds, for the CLI's --timeout. */
export function parseDuration(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) throw new TaskError(400, `"${raw}" is not a duration: write 90s, 10m or 2h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3600_000 }[m[2] ?? 'ms']!;
  return Math.round(Number(m[1]) * unit);
}
