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

/** Zod's issues as one line for people: `mode: Invalid option…; Unrecognized key: "x"`. */
export function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

/** The schema's output for `value`, or an HTTP 400 naming what is wrong (for doors that are not Hono routes). */
export function parseOr400<T extends z.core.$ZodType>(schema: T, value: unknown): z.output<T> {
  const result = (schema as unknown as z.ZodType).safeParse(value);
  if (!result.success) throw new HTTPException(400, { message: describeIssues(result.error) });
  return result.data as z.output<T>;
}

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** What a route sees after jsonBody(schema): `c.req.valid('json')` is the schema's output. */
export type JsonBodyMiddleware<T extends z.core.$ZodType> = MiddlewareHandler<Env, string, { in: { json: z.input<T> }; out: { json: z.output<T> } }>;

/** Middleware that validates the JSON body against `schema` (use a strict object: unknown keys are refused). */
export function jsonBody<T extends z.core.$ZodType>(schema: T, { maxBytes = MAX_JSON_BYTES }: JsonBodyOptions = {}): JsonBodyMiddleware<T> {
  // zod-validator's types name the zod its package resolves (an older 4.0 under zod 3.25), not ours: same API, other declarations
  const validate = zValidator('json', schema as unknown as Parameters<typeof zValidator>[1], (result) => {
    if (!result.success) throw new HTTPException(400, { message: describeIssues(result.error as unknown as z.core.$ZodError) });
  });
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
