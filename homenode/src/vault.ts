/**
 * @module
 * The owner's secrets at rest: AES-256-GCM under a 32-byte key in `<data dir>/vault.key`
 * (created 0600; a key file others could read is refused), a fresh 12-byte IV per value
 * and the secret's name as associated data, so a sealed value cannot be moved to another
 * name. Values are never logged; errors name the secret, never its content.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { recordChange, schema, type Store, type Tx } from './db/index.ts';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

/** The key file is missing its protection or its content; homeportd will not use it. */
export class VaultKeyError extends Error {}

/** A sealed value that fails authentication (tampered, wrong key or wrong name). */
export class VaultOpenError extends Error {}

function b64(buf: Buffer): string {
  return buf.toString('base64url');
}

export class Vault {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new VaultKeyError(`a vault key has ${KEY_BYTES} bytes, not ${key.length}`);
    this.#key = key;
  }

  /** Loads `<dataDir>/vault.key`, creating it (0600) on first use. */
  static fromDataDir(dataDir: string): Vault {
    const path = join(dataDir, 'vault.key');
    try {
      writeFileSync(path, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const info = statSync(path);
    if (info.mode & 0o077)
      throw new VaultKeyError(
        `${path} can be read by other users (mode ${(info.mode & 0o777).toString(8)}); homeportd will not use it. ` +
          `Run \`chmod 600 ${path}\` (and replace the key and the secrets if someone else may have read it).`,
      );
    if (typeof process.getuid === 'function' && info.uid !== process.getuid())
      throw new VaultKeyError(`${path} belongs to another user (uid ${info.uid}); homeportd runs as uid ${process.getuid()} and will not use it`);
    const key = readFileSync(path);
    if (key.length !== KEY_BYTES) throw new VaultKeyError(`${path} should hold ${KEY_BYTES} bytes but has ${key.length}; restore it from a backup`);
    return new Vault(key);
  }

  seal(name: string, plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, b64(iv), b64(cipher.getAuthTag()), b64(ciphertext)].join('.');
  }

  open(name: string, sealed: string): string {
    const [version, iv, tag, ciphertext] = sealed.split('.');
    if (version !== VERSION || ciphertext === undefined) throw new VaultOpenError(`secret "${name}" is not in a format this homeportd knows`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(name, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new VaultOpenError(`secret "${name}" cannot be decrypted: it was changed, or vault.key is not the key it was sealed with`);
    }
  }
}

/** Names of the secrets homeportd keeps; `mcp:<server>:<VAR>` goes to that MCP server's environment only, `service:<name>:<VAR>` to that service's containers. */
export const SECRET_NAMES = ['github-token', 'anthropic-key'] as const;
export type SecretName = (typeof SECRET_NAMES)[number] | `mcp:${string}` | `service:${string}`;

/** Sealed secrets in the `secrets` table; the outbox only ever learns whether one is set. */
export class SecretStore {
  constructor(
    readonly store: Store,
    readonly vault: Vault,
  ) {}

  async set(name: SecretName, value: string): Promise<void> {
    await this.store.write((tx) => this.setIn(tx, name, value));
  }

  /** set() inside a caller's write transaction (a row and its secrets change together). */
  async setIn(tx: Tx, name: SecretName, value: string): Promise<void> {
    const ciphertext = this.vault.seal(name, value);
    const updatedAt = Date.now();
    await tx.insert(schema.secrets).values({ name, ciphertext, updatedAt }).onConflictDoUpdate({ target: schema.secrets.name, set: { ciphertext, updatedAt } });
    await recordChange(tx, 'settings', 'secret.updated', { name, set: true, updatedAt });
  }

  async delete(name: SecretName): Promise<boolean> {
    return this.store.write((tx) => this.deleteIn(tx, name));
  }

  /** delete() inside a caller's write transaction. */
  async deleteIn(tx: Tx, name: SecretName): Promise<boolean> {
    const gone = await tx.delete(schema.secrets).where(eq(schema.secrets.name, name)).returning({ name: schema.secrets.name });
    if (gone.length) await recordChange(tx, 'settings', 'secret.updated', { name, set: false, updatedAt: Date.now() });
    return gone.length > 0;
  }

  /** Names of the secrets that start with `prefix` (e.g. `mcp:github:`), sorted; never values. */
  async namesWithPrefix(prefix: string): Promise<SecretName[]> {
    const rows = await this.store.db.select({ name: schema.secrets.name }).from(schema.secrets);
    return rows.map((r) => r.name as SecretName).filter((name) => name.startsWith(prefix)).sort();
  }

  async get(name: SecretName): Promise<string | null> {
    const [row] = await this.store.db.select().from(schema.secrets).where(eq(schema.secrets.name, name));
    return row ? this.vault.open(name, row.ciphertext) : null;
  }

  /** Whether a secret is set, and since when; never its value. */
  async info(name: SecretName): Promise<{ set: boolean; updatedAt: number | null }> {
    const [row] = await this.store.db.select({ updatedAt: schema.secrets.updatedAt }).from(schema.secrets).where(eq(schema.secrets.name, name));
    return { set: !!row, updatedAt: row?.updatedAt ?? null };
  }
}
