/**
 * @module
 * Per-port options the owner sets: keep the /<port> prefix for apps configured with
 * that base path. Kept in `<data dir>/ports.json`.
 */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export interface PortSettings {
  keepPrefix: boolean;
}

const DEFAULTS: PortSettings = { keepPrefix: false };

export class PortSettingsStore {
  #settings: Record<string, PortSettings>;
  readonly #file: string;

  constructor(dataDir: string) {
    this.#file = join(dataDir, 'ports.json');
    try {
      this.#settings = JSON.parse(readFileSync(this.#file, 'utf8'));
    } catch {
      this.#settings = {};
    }
  }

  get(port: number): PortSettings {
    return { ...DEFAULTS, ...this.#settings[String(port)] };
  }

  set(port: number, patch: Partial<PortSettings>): PortSettings {
    const next = { ...this.get(port), ...patch };
    this.#settings[String(port)] = next;
    const tmp = this.#file + '.tmp';
    writeFileSync(tmp, JSON.stringify(this.#settings, null, 2));
    renameSync(tmp, this.#file);
    return next;
  }
}
