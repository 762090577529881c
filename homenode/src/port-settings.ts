/**
 * @module
 * Per-port options the owner sets: whether the path form (`<share host>/<port>/`, one
 * origin for all ports) answers for the port at all, and whether it keeps the /<port>
 * prefix for apps configured with that base path (which implies the path form). Kept in
 * `<data dir>/ports.json`.
 */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export interface PortSettings {
  /** the path form is opt-in per port; off, the node answers it with the port's own URL */
  pathForm: boolean;
  keepPrefix: boolean;
}

const DEFAULTS: PortSettings = { pathForm: false, keepPrefix: false };

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
    const stored = { ...DEFAULTS, ...this.#settings[String(port)] };
    // Ports set to keep the prefix before the path form was opt-in stay reachable that way.
    return { ...stored, pathForm: stored.pathForm || stored.keepPrefix };
  }

  set(port: number, patch: Partial<PortSettings>): PortSettings {
    const next = { ...this.get(port), ...patch };
    // The prefix only exists in the path form: keeping it turns the form on, turning the form off drops it.
    if (patch.keepPrefix) next.pathForm = true;
    if (patch.pathForm === false) next.keepPrefix = false;
    this.#settings[String(port)] = next;
    const tmp = this.#file + '.tmp';
    writeFileSync(tmp, JSON.stringify(this.#settings, null, 2));
    renameSync(tmp, this.#file);
    return next;
  }
}
