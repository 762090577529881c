/**
 * @module
 * Password hashing (PBKDF2-SHA256 on WebCrypto) and random secrets stored as SHA-256
 * digests. Workers cap PBKDF2 at 100 000 iterations, so that is what we use.
 */
const ITERATIONS = 100_000;
const enc = new TextEncoder();

function b64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function unb64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function b64url(bytes: Uint8Array): string {
  return b64(bytes).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', enc.encode(password), 'PBKDF2', false, ['deriveBits']);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256));
}

/** `pbkdf2-sha256$<iterations>$<salt>$<hash>` with a random 16-byte salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return `pbkdf2-sha256$${ITERATIONS}$${b64(salt)}$${b64(await pbkdf2(password, salt, ITERATIONS))}`;
}

// Unknown accounts are checked against this, so a login costs the same work either way.
const DUMMY_HASH = `pbkdf2-sha256$${ITERATIONS}$${b64(new Uint8Array(16))}$${b64(new Uint8Array(32))}`;

/**
 * Constant-time check of a password against a stored hash (or a dummy when there is none).
 * An empty hash (an account that signs in with GitHub only) never matches, after the same work.
 */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  stored ||= null;
  const [scheme, iter, salt, hash] = (stored ?? DUMMY_HASH).split('$');
  const iterations = Number(iter);
  if (scheme !== 'pbkdf2-sha256' || !Number.isInteger(iterations) || iterations < 1 || iterations > ITERATIONS || !salt || !hash) return false;
  const expected = unb64(hash);
  const actual = await pbkdf2(password, unb64(salt), iterations);
  return expected.byteLength === actual.byteLength && crypto.subtle.timingSafeEqual(expected, actual) && stored !== null;
}

/** A random secret: `<prefix><43 base64url chars>` (32 bytes). */
export function randomSecret(prefix = ''): string {
  return prefix + b64url(crypto.getRandomValues(new Uint8Array(32)));
}

export function randomId(): string {
  return [...crypto.getRandomValues(new Uint8Array(12))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(text)));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}
