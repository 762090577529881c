/** @module Small secrets kept as 0600 files in the data dir (generated on first use). */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function secretFile(dataDir: string, name: string): string {
  const path = join(dataDir, name);
  try {
    const existing = readFileSync(path, 'utf8').trim();
    if (existing) return existing;
  } catch {
    // not there yet
  }
  const token = randomToken();
  writeFileSync(path, token + '\n', { mode: 0o600 });
  return token;
}
