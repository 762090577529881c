/**
 * @module
 * Redaction of secrets in agent output: `makeRedactor(secrets)` returns a function that
 * replaces, in any text, each given secret and its base64 forms with `[redacted]`, plus
 * credentials recognisable by their shape (Anthropic, GitHub, Homeport, AWS and Slack
 * tokens, PEM private keys) whoever owns them.
 *
 * Base64: the secret is found inside longer base64 too (an `Authorization: Basic`
 * header holding `x-access-token:<token>`), at each of the three byte alignments, in
 * the standard and the URL-safe alphabet; a character or two at the edges of such a
 * match, shared with its neighbours, may stay.
 */

export const REDACTED = '[redacted]';

/** Shorter secrets are ignored: they would redact ordinary words. */
export const MIN_SECRET_LENGTH = 8;

/** Credentials by shape (anyone's, not only the ones we were given). */
const TOKEN_SHAPES: RegExp[] = [
  /sk-ant-[A-Za-z0-9_-]{16,}/g, // Anthropic API, admin and OAuth keys
  /\bgh[pousr]_[A-Za-z0-9]{30,}/g, // GitHub classic, OAuth, user-to-server, server and refresh tokens
  /\bgithub_pat_[A-Za-z0-9_]{40,}/g, // GitHub fine-grained tokens
  /\bhp[tn]_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g, // Homeport API (hpt_) and node (hpn_) tokens
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, // AWS access key ids
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, // Slack tokens
  /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$)/g,
];

/** The part of base64(prefix + secret + suffix) that depends only on the secret, for each alignment. */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = new Set<string>();
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    // Characters fully inside the secret's bits: from ceil(8·offset / 6) to floor(8·(offset+len) / 6).
    const start = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + bytes.length)) / 6);
    const middle = encoded.slice(start, end);
    if (middle.length < MIN_SECRET_LENGTH) continue;
    forms.add(middle);
    forms.add(middle.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...forms];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A function replacing the secrets (raw and base64) and known token shapes in a text with `[redacted]`. */
export function makeRedactor(secrets: string[]): (text: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) continue;
    forms.add(secret);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) forms.add(encoded);
    for (const form of base64Forms(secret)) forms.add(form);
  }
  // Longest first, so a secret containing another is replaced whole.
  const exact = forms.size ? new RegExp([...forms].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g') : null;
  return function redact(text: string): string {
    if (!text) return text;
    let out = exact ? text.replace(exact, REDACTED) : text;
    for (const shape of TOKEN_SHAPES) out = out.replace(shape, REDACTED);
    return out;
  };
}

/** Applies `redact` to every string inside a JSON-like value (tool inputs). */
export function redactDeep<T>(value: T, redact: (text: string) => string): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, redact)])) as T;
  }
  return value;
}
