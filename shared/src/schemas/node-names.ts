/**
 * @module
 * A home node's name, as pairing and rename take it. Names show up in the dashboard, the
 * CLI and terminals, so bytes that hide or reorder text (control characters, bidi
 * overrides) and markup are refused with 400 rather than quietly changed.
 */
import { z } from 'zod';

export const MAX_NODE_NAME = 60;
/** C0/C1 controls and DEL, bidi embeddings/overrides/isolates (U+202A–202E, U+2066–2069), marks that flip text (U+200E, U+200F, U+061C). */
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/;

export const nodeName = z
  .string({ error: '"name" is required (a string)' })
  .trim()
  .min(1, '"name" is required (a string)')
  .max(MAX_NODE_NAME, `"name" must be at most ${MAX_NODE_NAME} characters`)
  .refine((name) => !HIDDEN.test(name), '"name" must not contain control characters or bidirectional overrides')
  .refine((name) => !/[<>]/.test(name), '"name" must not contain "<" or ">"');

export const pairBody = z.strictObject({ code: z.string({ error: '"code" is required (a string)' }).min(1, '"code" is required (a string)').max(32), name: nodeName });
export const renameNodeBody = z.strictObject({ name: nodeName });
