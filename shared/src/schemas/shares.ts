/**
 * @module
 * The share.set body: what the dashboard sends the edge, the CLI sends the node, and the
 * node forwards to its hub. The duration itself ("24h") is checked by the edge's policy.
 */
import { z } from 'zod';

export const SHARE_MODES = ['private', 'password', 'public'] as const;
export const MAX_SHARE_PASSWORD = 256;
/** A share body is three short fields; anything bigger is not one. */
export const MAX_SHARE_BODY_BYTES = 4 * 1024;

export const shareSetBody = z.strictObject({
  mode: z.enum(SHARE_MODES, { error: `mode must be one of ${SHARE_MODES.join(', ')}` }),
  password: z.string().min(1, 'password must be a non-empty string').max(MAX_SHARE_PASSWORD, `password is longer than ${MAX_SHARE_PASSWORD} characters`).nullish(),
  expiresIn: z.string().max(16, 'expiresIn must be a duration like "30m", "24h" or "7d"').nullish(),
});
export type ShareSetBody = z.output<typeof shareSetBody>;

/** share.set as the hub takes it (over the tunnel or from the owner API): the body plus the port (a number, or the path's text). */
export const shareSetParams = shareSetBody.extend({ port: z.unknown() });
