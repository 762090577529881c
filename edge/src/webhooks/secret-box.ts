/**
 * @module
 * Generic endpoints' HMAC secrets at rest: the edge must read them back to check
 * signatures, so they are sealed (AES-256-GCM, a fresh 12-byte IV each, the endpoint id
 * as associated data so a sealed value cannot be moved to another endpoint) with the key
 * in the Worker secret WEBHOOK_SECRETS_KEY (base64 or base64url of 32 bytes).
 * Sealed form: `v1.<iv>.<ciphertext+tag>`, base64url.
 */
import { base64url } from '../shares/crypto.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** WEBHOOK_SECRETS_KEY is missing or malformed. */
export class NoSecretsKey extends Error {
  constructor() {
    super('generic webhooks need the Worker secret WEBHOOK_SECRETS_KEY (32 random bytes, base64): `openssl rand -base64 32 | wrangler secret put WEBHOOK_SECRETS_KEY`');
  }
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) return null;
  const plain = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  const s = atob(plain + '='.repeat((4 - (plain.length % 4)) % 4));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

async function keyOf(raw: string | undefined): Promise<CryptoKey> {
  const bytes = raw ? fromBase64(raw.trim()) : null;
  if (!bytes || bytes.length !== 32) throw new NoSecretsKey();
  return crypto.subtle.importKey('raw', bytes, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

export async function seal(rawKey: string | undefined, id: string, secret: string): Promise<string> {
  const key = await keyOf(rawKey);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(id) }, key, enc.encode(secret));
  return `v1.${base64url(iv)}.${base64url(sealed)}`;
}

/** The secret, or null when the value was not sealed for this id with this key. */
export async function open(rawKey: string | undefined, id: string, sealed: string): Promise<string | null> {
  const key = await keyOf(rawKey);
  const [version, iv, data] = sealed.split('.');
  const ivBytes = iv ? fromBase64(iv) : null;
  const dataBytes = data ? fromBase64(data) : null;
  if (version !== 'v1' || !ivBytes || !dataBytes) return null;
  try {
    return dec.decode(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: ivBytes, additionalData: enc.encode(id) }, key, dataBytes));
  } catch {
    return null;
  }
}
