/**
 * @module
 * How every JSON door (edge and node) reads a body, so they refuse alike: at most
 * `maxBytes` (413), at most MAX_JSON_DEPTH levels of nesting (400, checked on the text
 * before JSON.parse builds anything), then a strict zod schema through
 * @hono/zod-validator (400 that names the field). Handlers read `c.req.valid('json')`.
 * As before, the body is taken as JSON whatever its Content-Type says.
 */
import { zValidator } from '@hono/zod-validator';
import type { Env, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { z } from 'zod';

export const MAX_JSON_BYTES = 1024 * 1024;
/** Deeper than any body we take; a 5000-deep array would cost recursion further on. */
export const MAX_JSON_DEPTH = 64;

export interface JsonBodyOptions {
  maxBytes?: number;
}

/** The deepest nesting of objects and arrays in JSON text (strings skipped), counting no further than `stopAt`. */
export function jsonDepth(text: string, stopAt = Infinity): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // backslash: skip what it escapes
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > deepest && (deepest = depth) > stopAt) return deepest;
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return deepest;
}

const EXPECTED: Record<string, string> = { boolean: 'true or false', string: 'a string', number: 'a number', object: 'a JSON object', array: 'a list', record: 'a JSON object' };

/**
 * Zod's messages say "Invalid input: expected boolean, received string"; ours name the
 * field and what it takes. Messages a schema sets itself win over these.
 */
export function friendlyIssue(issue: z.core.$ZodRawIssue): string | undefined {
  const where = issue.path?.length ? issue.path.join('.') : 'the body';
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? `${where} is required` : `${where} must be ${EXPECTED[issue.expected] ?? issue.expected}`;
    case 'unrecognized_keys': {
      const shape = (issue.inst as { def?: { shape?: object } } | undefined)?.def?.shape;
      const known = shape ? `; it takes ${Object.keys(shape).join(', ')}` : '';
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}${issue.path?.length ? ` in ${where}` : ''}${known}`;
    }
    case 'too_big':
      if (issue.origin === 'string') return `${where} is longer than ${issue.maximum} characters`;
      if (issue.origin === 'array') return `${where} has more than ${issue.maximum} entries`;
      return `${where} must be at most ${issue.maximum}`;
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? `${where} must not be empty` : `${where} must have at least ${issue.minimum} characters`;
      return `${where} must be at least ${issue.minimum}`;
    case 'invalid_value':
      return `${where} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return undefined;
  }
}

/** Zod's issues as one line for people (the first few, each naming its field). */
export function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => issue.message)
    .join('; ');
}

function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${bytes / (1024 * 1024)} MiB`;
  return bytes >= 1024 ? `${Math.round(bytes / 1024)} KiB` : `${bytes} bytes`;
}

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** What a route sees after jsonBody(schema): `c.req.valid('json')` is the schema's output. */
export type JsonBodyMiddleware<T extends z.core.$ZodType> = MiddlewareHandler<Env, string, { in: { json: z.input<T> }; out: { json: z.output<T> } }>;

/** Middleware that validates the JSON body against `schema` (use a strict object: unknown keys are refused). */
export function jsonBody<T extends z.core.$ZodType>(schema: T, { maxBytes = MAX_JSON_BYTES }: JsonBodyOptions = {}): JsonBodyMiddleware<T> {
  // zod-validator's types name the zod its package resolves (an older 4.0 under zod 3.25), not ours: same API, other declarations
  const validate = zValidator(
    'json',
    schema as unknown as Parameters<typeof zValidator>[1],
    (result) => {
      if (!result.success) throw new HTTPException(400, { message: describeIssues(result.error as unknown as z.core.$ZodError) });
    },
    { validationFunction: (s, value) => (s as unknown as z.ZodType).safeParseAsync(value, { error: friendlyIssue }) as never },
  );
  const tooLarge = () => {
    throw new HTTPException(413, { message: `the body is larger than ${sizeText(maxBytes)}` });
  };
  const limit = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  const door: MiddlewareHandler = async function jsonBody(c, next) {
    return limit(c, async () => {
      const text = await c.req.text();
      if (text.length > maxBytes) tooLarge();
      if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw new HTTPException(400, { message: `the JSON is nested more than ${MAX_JSON_DEPTH} levels deep` });
      // zod-validator reads only bodies labelled JSON; the text is cached, so this costs no second read
      const type = (c.req.header('content-type') ?? '').split(';')[0].trim();
      if (!JSON_TYPE.test(type)) {
        const headers = new Headers(c.req.raw.headers);
        headers.set('content-type', 'application/json');
        c.req.raw = new Request(c.req.raw, { headers, body: text });
      }
      await validate(c, next);
    });
  };
  return door as JsonBodyMiddleware<T>;
}
