/**
 * @module
 * Node-wide settings the owner changes at runtime (GET/PUT /api/settings), kept as JSON
 * in the `settings` table. Every key is declared here with its default and a check;
 * unknown keys and bad values are refused with a message meant for people.
 */
import type { NodeSettingsBody } from '@homeport/shared/schemas/node-api';
import { recordChange, schema, type Store } from './db/index.ts';

interface SettingSpec<T> {
  default: T;
  describe: string;
  /** returns the value to store, or throws with what is wrong */
  parse(value: unknown): T;
}

class SettingError extends Error {}

function minutes(value: unknown): number | null {
  if (value === null || value === 0) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 7 * 24 * 60) throw new SettingError('a whole number of minutes from 0 (never) to 10080 (a week), or null');
  return value;
}

function boolean(value: unknown): boolean {
  if (typeof value !== 'boolean') throw new SettingError('true or false');
  return value;
}

function baseUrl(value: unknown): string {
  if (typeof value !== 'string') throw new SettingError('a URL such as https://github.com/');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SettingError('a URL such as https://github.com/');
  }
  if (!['https:', 'http:'].includes(url.protocol) || url.username || url.password || url.search || url.hash) throw new SettingError('an http(s) URL without credentials, query or fragment');
  return url.href.endsWith('/') ? url.href : url.href + '/';
}

export const SETTINGS = {
  githubBaseUrl: {
    default: 'https://github.com/',
    describe: 'git remotes under this URL get the GitHub token (GitHub Enterprise: its own URL)',
    parse: baseUrl,
  } satisfies SettingSpec<string>,
  autoRestart: {
    default: true,
    describe: 'restart a crashed dev server (with backoff) unless its repo says otherwise',
    parse: boolean,
  } satisfies SettingSpec<boolean>,
  idleTimeoutMinutes: {
    default: null as number | null,
    describe: 'stop a dev server nobody used for this long, unless its repo says otherwise; null = never',
    parse: minutes,
  } satisfies SettingSpec<number | null>,
  restoreServers: {
    default: true,
    describe: 'start again, after homeportd restarts, the dev servers that were running',
    parse: boolean,
  } satisfies SettingSpec<boolean>,
  codeServerPath: {
    default: null as string | null,
    describe: 'the code-server binary for browser VS Code; null = HOMEPORT_CODE_SERVER, else code-server on PATH',
    parse: (value: unknown) => {
      if (value === null || value === '') return null;
      if (typeof value !== 'string' || !value.startsWith('/') || value.includes('\0') || value.length > 4096) throw new SettingError('an absolute path such as /usr/bin/code-server, or null');
      return value;
    },
  } satisfies SettingSpec<string | null>,
  githubApiUrl: {
    default: null as string | null,
    describe: "GitHub's REST API for pull requests; null = the one that goes with githubBaseUrl (api.github.com, or <base>/api/v3)",
    parse: (value: unknown) => (value === null ? null : baseUrl(value)),
  } satisfies SettingSpec<string | null>,
  anthropicBaseUrl: {
    default: 'https://api.anthropic.com/',
    describe: 'where agent tasks send their Messages API requests (a proxy, or a fake in tests)',
    parse: baseUrl,
  } satisfies SettingSpec<string>,
  agentModel: {
    default: 'claude-sonnet-5-5',
    describe: 'the model a task uses unless it names one',
    parse: (value: unknown) => {
      if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$/.test(value)) throw new SettingError('a model name such as claude-sonnet-5-5');
      return value;
    },
  } satisfies SettingSpec<string>,
  agentImage: {
    default: 'node:22-bookworm',
    describe: 'the Docker image agent sandboxes run (it needs sh; git, bash and your toolchain help the agent)',
    parse: (value: unknown) => {
      if (typeof value !== 'string' || !/^[a-z0-9][a-z0-9._\/:@-]{0,254}$/i.test(value)) throw new SettingError('a Docker image reference such as node:22-bookworm');
      return value;
    },
  } satisfies SettingSpec<string>,
  agentNetwork: {
    default: 'none',
    describe: "agent sandboxes' network: none (no network at all), host, or the name of a Docker network",
    parse: (value: unknown) => {
      if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(value)) throw new SettingError('none, host or the name of a Docker network');
      return value;
    },
  } satisfies SettingSpec<string>,
  agentConcurrency: {
    default: 2,
    describe: 'agent tasks running at once; the others wait, queued',
    parse: (value: unknown) => {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 16) throw new SettingError('a whole number from 1 to 16');
      return value;
    },
  } satisfies SettingSpec<number>,
};

// the wire schema of PUT /api/settings (shared) and this table name the same settings
type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
true satisfies SameKeys<keyof typeof SETTINGS, keyof NodeSettingsBody>;

export type SettingKey = keyof typeof SETTINGS;
export type Settings = { [K in SettingKey]: (typeof SETTINGS)[K]['default'] };

/** A PUT /api/settings body that cannot be applied; nothing of it was stored. */
export class InvalidSettings extends Error {}

export class NodeSettings {
  constructor(readonly store: Store) {}

  async all(): Promise<Settings> {
    const rows = await this.store.db.select().from(schema.settings);
    const values = Object.fromEntries(Object.entries(SETTINGS).map(([key, spec]) => [key, spec.default])) as Settings;
    for (const row of rows) if (Object.hasOwn(SETTINGS, row.key)) (values as Record<string, unknown>)[row.key] = JSON.parse(row.value);
    return values;
  }

  async get<K extends SettingKey>(key: K): Promise<Settings[K]> {
    return (await this.all())[key];
  }

  /** Checks every key first, then stores them all in one transaction (with their outbox rows). */
  async update(patch: unknown): Promise<Settings> {
    if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw new InvalidSettings(`expected a JSON object of settings: ${Object.keys(SETTINGS).join(', ')}`);
    const parsed: [SettingKey, unknown][] = [];
    for (const [key, value] of Object.entries(patch)) {
      // own keys only: "toString" or "__proto__" are in every object, but are no setting
      if (!Object.hasOwn(SETTINGS, key)) throw new InvalidSettings(`unknown setting "${key}"; the settings are ${Object.keys(SETTINGS).join(', ')}`);
      try {
        parsed.push([key as SettingKey, SETTINGS[key as SettingKey].parse(value)]);
      } catch (error) {
        if (error instanceof SettingError) throw new InvalidSettings(`${key} must be ${error.message}`);
        throw error;
      }
    }
    const updatedAt = Date.now();
    await this.store.write(async (tx) => {
      for (const [key, value] of parsed) {
        const json = JSON.stringify(value);
        await tx.insert(schema.settings).values({ key, value: json, updatedAt }).onConflictDoUpdate({ target: schema.settings.key, set: { value: json, updatedAt } });
        await recordChange(tx, 'settings', 'setting.updated', { key, value });
      }
    });
    return this.all();
  }
}
