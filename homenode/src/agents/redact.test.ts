import { describe, expect, it } from 'vitest';
import { makeRedactor, redactDeep } from './redact.ts';

const SECRET = 'hunter2-correct-horse-battery';

describe('makeRedactor', () => {
  it('should replace a given secret wherever it appears', () => {
    const redact = makeRedactor([SECRET]);
    expect(redact(`pw=${SECRET}; again:${SECRET}`)).toBe('pw=[redacted]; again:[redacted]');
    expect(redact('nothing here')).toBe('nothing here');
  });

  it('should replace its base64 forms at every alignment, standard and URL-safe', () => {
    const redact = makeRedactor([SECRET]);
    for (const prefix of ['', 'a', 'ab', 'x-access-token:']) {
      const standard = Buffer.from(`${prefix}${SECRET}`).toString('base64');
      const urlSafe = Buffer.from(`${prefix}${SECRET}?>`).toString('base64url');
      for (const encoded of [standard, urlSafe]) {
        const out = redact(`Authorization: Basic ${encoded}`);
        expect(out).toContain('[redacted]');
        // What is left cannot be decoded back to the secret.
        expect(Buffer.from(out.replace('Authorization: Basic ', ''), 'base64').toString()).not.toContain(SECRET.slice(2, -2));
      }
    }
  });

  it('should replace the URL-encoded form of a secret with special characters', () => {
    const secret = 'p@ss word/with:chars!';
    expect(makeRedactor([secret])(`https://u:${encodeURIComponent(secret)}@host`)).toBe('https://u:[redacted]@host');
  });

  it('should prefer the longest secret when one contains another', () => {
    expect(makeRedactor(['abcdefgh', 'abcdefgh-ijklmnop'])('x abcdefgh-ijklmnop y')).toBe('x [redacted] y');
  });

  it('should ignore secrets too short to tell from ordinary words', () => {
    expect(makeRedactor(['', 'git', 'abc1234'])('git commit abc1234')).toBe('git commit abc1234');
  });

  it('should redact well-known token shapes, given or not', () => {
    const redact = makeRedactor([]);
    const tokens = [
      'sk-ant-api03-' + 'Zx9_'.repeat(20),
      'sk-ant-admin01-' + 'q'.repeat(40),
      'ghp_' + 'a1B2'.repeat(9),
      'gho_' + 'Z'.repeat(36),
      'github_pat_11ABCDEFG0' + 'x_Y'.repeat(25),
      'hpt_' + 'A-b_'.repeat(10) + 'xyz',
      'hpn_' + 'Q'.repeat(43),
      'AKIAIOSFODNN7EXAMPLE',
      'xoxb-1234567890-abcdefghij',
    ];
    for (const token of tokens) expect(redact(`value: ${token}\n`)).toBe('value: [redacted]\n');
    expect(redact('hpt_short and ghp_tooshort and sk-ant-x')).toBe('hpt_short and ghp_tooshort and sk-ant-x');
  });

  it('should redact a PEM private key block whole, even one cut off', () => {
    const redact = makeRedactor([]);
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAA\n-----END OPENSSH PRIVATE KEY-----';
    expect(redact(`before\n${key}\nafter`)).toBe('before\n[redacted]\nafter');
    expect(redact('x -----BEGIN RSA PRIVATE KEY-----\nMIIEow')).toBe('x [redacted]');
    expect(redact('-----BEGIN PUBLIC KEY-----\nMIIB')).toBe('-----BEGIN PUBLIC KEY-----\nMIIB');
  });
});

describe('redactDeep', () => {
  it('should redact every string inside objects and arrays, leaving other values', () => {
    const redact = makeRedactor([SECRET]);
    expect(redactDeep({ cmd: `echo ${SECRET}`, args: [SECRET, 3, null], nested: { ok: true } }, redact)).toEqual({ cmd: 'echo [redacted]', args: ['[redacted]', 3, null], nested: { ok: true } });
  });
});
