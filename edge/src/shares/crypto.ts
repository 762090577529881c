/**
 * @module
 * The secrets of a share, all on WebCrypto: PBKDF2-SHA256 password hashes (within the
 * Workers limit of 100 000 iterations), random slugs and access tokens, SHA-256 token
 * digests and HMAC-signed, expiring cookie values.
 */

export const PBKDF2_ITERATIONS = 100_000;
const enc = new TextEncoder();

export function base64url(bytes: Uint8Array | ArrayBuffer): string {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = '';
  for (const byte of b) s += String.fromCharCode(byte);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function randomToken(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A link slug: 22 base64url characters, 132 random bits. */
export const randomSlug = () => randomToken(33).slice(0, 22);

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(text)));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function pbkdf2(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey('raw', enc.encode(password), 'PBKDF2', false, ['deriveBits']);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256));
}

export interface PasswordHash {
  salt: string;
  hash: string;
  iterations: number;
}

export async function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): Promise<PasswordHash> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return { salt: base64url(salt), hash: base64url(await pbkdf2(password, salt, iterations)), iterations };
}

export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const salt = fromBase64url(stored.salt);
  const expected = fromBase64url(stored.hash);
  if (!salt || !expected) return false;
  const actual = await pbkdf2(password, salt, stored.iterations);
  return actual.byteLength === expected.byteLength && crypto.subtle.timingSafeEqual(actual, expected);
}

async function hmac(secret: string, message: string): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(message)));
}

/** `<expiresAt>.<signature>`: signed with the share's own secret, over the share id and the expiry. */
export async function signCookie(secret: string, shareId: string, expiresAt: number): Promise<string> {
  return `${expiresAt}.${base64url(await hmac(secret, `${shareId}.${expiresAt}`))}`;
}

export async function verifyCookie(secret: string, shareId: string, value: string, now = Date.now()): Promise<boolean> {
  const m = /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return false;
  const expiresAt = Number(m[1]);
  if (expiresAt <= now) return false;
  const given = fromBase64url(m[2]);
  const expected = await hmac(secret, `${shareId}.${expiresAt}`);
  return given !== null && given.byteLength === expected.byteLength && crypto.subtle.timingSafeEqual(given, expected);
}
