/**
 * @module
 * HMAC-SHA256 signatures of webhook bodies (WebCrypto), checked in constant time before
 * anything in the body is looked at.
 *
 * - GitHub: `X-Hub-Signature-256: sha256=<hex>` over the raw body.
 * - Generic endpoints: `X-Homeport-Signature: sha256=<hex>` over `<timestamp>.<raw body>`,
 *   with `X-Homeport-Timestamp: <unix seconds>` at most five minutes off.
 */
const enc = new TextEncoder();

/** How far a generic request's timestamp may be from the edge's clock. */
export const TIMESTAMP_TOLERANCE_S = 300;

const SIGNATURE = /^sha256=([0-9a-f]{64})$/;

function hexBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export async function hmacSha256(secret: string, data: Uint8Array): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, data));
}

export function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** `sha256=<hex>` of `body` under `secret` (what a sender puts in the header). */
export async function signatureOf(secret: string, body: Uint8Array): Promise<string> {
  return `sha256=${toHex(await hmacSha256(secret, body))}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** Checks a `sha256=<hex>` header against the body, in constant time. */
export async function verifySignature(secret: string, body: Uint8Array, header: string | null | undefined, headerName: string): Promise<SignatureCheck> {
  if (!header) return { ok: false, reason: `unsigned: the ${headerName} header is missing` };
  const hex = SIGNATURE.exec(header.trim().toLowerCase())?.[1];
  if (!hex) return { ok: false, reason: `${headerName} must be "sha256=" and 64 hex digits` };
  const expected = await hmacSha256(secret, body);
  return crypto.subtle.timingSafeEqual(expected, hexBytes(hex)) ? { ok: true } : { ok: false, reason: 'the signature does not match the body (wrong secret, or the body was changed)' };
}

/** What a generic request signs: `<timestamp>.<raw body>`. */
export function signedPayload(timestamp: string, body: Uint8Array): Uint8Array {
  return concat(enc.encode(`${timestamp}.`), body);
}

/** A generic request's timestamp: whole unix seconds within the tolerance, else why not. */
export function checkTimestamp(header: string | null | undefined, nowMs = Date.now()): { ok: true; seconds: number } | { ok: false; reason: string } {
  if (!header) return { ok: false, reason: 'the X-Homeport-Timestamp header is missing (unix seconds)' };
  if (!/^\d{1,12}$/.test(header.trim())) return { ok: false, reason: 'X-Homeport-Timestamp must be unix seconds' };
  const seconds = Number(header.trim());
  if (Math.abs(nowMs / 1000 - seconds) > TIMESTAMP_TOLERANCE_S) return { ok: false, reason: `X-Homeport-Timestamp is more than ${TIMESTAMP_TOLERANCE_S / 60} minutes off the edge's clock (a replay, or a wrong clock)` };
  return { ok: true, seconds };
}
