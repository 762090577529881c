/** @module The LAN door's key for tests: every client needs it, loopback included. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The key homeportd keeps in its data dir. */
export function lanKey(dataDir: string): string {
  return readFileSync(join(dataDir, 'lan-key'), 'utf8').trim();
}

/** Headers for a script on the LAN door: the key as a bearer token. */
export function lanAuth(dataDir: string): Record<string, string> {
  return { authorization: `Bearer ${lanKey(dataDir)}` };
}
