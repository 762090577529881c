import { describe, expect, it } from 'vitest';
import { hashPassword, randomSecret, sha256Hex, verifyPassword } from './secrets.ts';

describe('passwords', () => {
  it('should store PBKDF2-SHA256 with 100000 iterations and a fresh 16-byte salt', async () => {
    const [a, b] = await Promise.all([hashPassword('correct horse battery'), hashPassword('correct horse battery')]);
    const [scheme, iterations, salt, hash] = a.split('$');
    expect(scheme).toBe('pbkdf2-sha256');
    expect(iterations).toBe('100000');
    expect(atob(salt!)).toHaveLength(16);
    expect(atob(hash!)).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct');
  });

  it('should verify the right password only', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('should refuse a missing, tampered or unknown-scheme hash', async () => {
    const stored = await hashPassword('correct horse battery');
    const [scheme, iterations, salt, hash] = stored.split('$');
    expect(await verifyPassword('correct horse battery', null)).toBe(false);
    // an account without a password (GitHub sign-in only)
    expect(await verifyPassword('', '')).toBe(false);
    expect(await verifyPassword('correct horse battery', '')).toBe(false);
    expect(await verifyPassword('correct horse battery', [scheme, iterations, salt, btoa('x'.repeat(32))].join('$'))).toBe(false);
    expect(await verifyPassword('correct horse battery', [scheme, '200000', salt, hash].join('$'))).toBe(false);
    expect(await verifyPassword('correct horse battery', ['bcrypt', iterations, salt, hash].join('$'))).toBe(false);
    expect(await verifyPassword('correct horse battery', 'garbage')).toBe(false);
  });
});

describe('secrets', () => {
  it('should make 32-byte random secrets and hex digests', async () => {
    const a = randomSecret('hpt_');
    expect(a).toMatch(/^hpt_[A-Za-z0-9_-]{43}$/);
    expect(randomSecret()).not.toBe(randomSecret());
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
