import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, schema, type Store } from './db/index.ts';
import { SecretStore, Vault, VaultKeyError, VaultOpenError } from './vault.ts';

const dirs: string[] = [];
const stores: Store[] = [];
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'homeport-vault-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Flips one bit of one base64url part of a sealed value. */
function tamper(sealed: string, part: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part], 'base64url');
  bytes[0] ^= 1;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('Vault', () => {
  it('should create a 32-byte key file readable only by its owner', () => {
    const dir = tempDir();
    Vault.fromDataDir(dir);
    const info = statSync(join(dir, 'vault.key'));
    expect(info.mode & 0o777).toBe(0o600);
    expect(info.size).toBe(32);
  });

  it('should open what it sealed, also after loading the key again, with a new IV each time', () => {
    const dir = tempDir();
    const sealed = Vault.fromDataDir(dir).seal('github-token', 'ghp_secret value ✓');
    const again = Vault.fromDataDir(dir);
    expect(again.open('github-token', sealed)).toBe('ghp_secret value ✓');
    expect(sealed).not.toContain('ghp_secret');
    const other = again.seal('github-token', 'ghp_secret value ✓');
    expect(other.split('.')[1]).not.toBe(sealed.split('.')[1]);
    expect(Buffer.from(sealed.split('.')[1], 'base64url')).toHaveLength(12);
  });

  it('should detect a changed IV, tag or ciphertext, another name and another key', () => {
    const dir = tempDir();
    const vault = Vault.fromDataDir(dir);
    const sealed = vault.seal('github-token', 'ghp_abc');
    for (const part of [1, 2, 3]) expect(() => vault.open('github-token', tamper(sealed, part))).toThrow(VaultOpenError);
    expect(() => vault.open('anthropic-key', sealed)).toThrow(VaultOpenError);
    expect(() => Vault.fromDataDir(tempDir()).open('github-token', sealed)).toThrow(VaultOpenError);
    expect(() => vault.open('github-token', 'v0.a.b.c')).toThrow(VaultOpenError);
    const error = (() => {
      try {
        vault.open('github-token', tamper(sealed, 3));
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toMatch(/"github-token" cannot be decrypted/);
    expect(error?.message).not.toContain('ghp_abc');
  });

  it('should refuse a key file that group or others can read', () => {
    const dir = tempDir();
    Vault.fromDataDir(dir);
    chmodSync(join(dir, 'vault.key'), 0o640);
    expect(() => Vault.fromDataDir(dir)).toThrow(VaultKeyError);
    expect(() => Vault.fromDataDir(dir)).toThrow(/chmod 600/);
    chmodSync(join(dir, 'vault.key'), 0o604);
    expect(() => Vault.fromDataDir(dir)).toThrow(VaultKeyError);
    chmodSync(join(dir, 'vault.key'), 0o600);
    expect(() => Vault.fromDataDir(dir)).not.toThrow();
  });

  it('should refuse a key file of the wrong length', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'vault.key'), Buffer.alloc(16), { mode: 0o600 });
    expect(() => Vault.fromDataDir(dir)).toThrow(/32 bytes but has 16/);
  });
});

describe('SecretStore', () => {
  it('should keep only ciphertext in the database and the outbox', async () => {
    const dir = tempDir();
    const store = await openStore(dir);
    stores.push(store);
    const secrets = new SecretStore(store, Vault.fromDataDir(dir));
    expect(await secrets.info('github-token')).toEqual({ set: false, updatedAt: null });
    await secrets.set('github-token', 'ghp_topsecret123');
    expect(await secrets.get('github-token')).toBe('ghp_topsecret123');
    expect((await secrets.info('github-token')).set).toBe(true);

    const [row] = await store.db.select().from(schema.secrets);
    expect(row.ciphertext).not.toContain('ghp_topsecret123');
    await store.client.execute('PRAGMA wal_checkpoint(TRUNCATE)');
    expect(readFileSync(store.path).includes('ghp_topsecret123')).toBe(false);
    const outbox = await store.db.select().from(schema.outbox);
    expect(outbox.map((r) => JSON.parse(r.payload))).toEqual([expect.objectContaining({ name: 'github-token', set: true })]);
    expect(JSON.stringify(outbox)).not.toContain('ghp_topsecret123');

    expect(await secrets.delete('github-token')).toBe(true);
    expect(await secrets.get('github-token')).toBeNull();
    expect(await secrets.delete('github-token')).toBe(false);
  });
});
