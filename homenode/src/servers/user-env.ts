/**
 * @module
 * The environment of what Homeport starts for the user (dev servers, MCP servers): the
 * user's own, never Homeport's. homeportd usually runs under npm (`npm start`), which puts
 * Homeport's `node_modules/.bin` (and its parents', and npm's node-gyp-bin) first on PATH
 * and adds `npm_*` variables: a repo's `vite` would then be Homeport's Vite. Homeport's
 * own settings and secrets (`HOMEPORT_*`) never reach a child either.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder Homeport is installed in (the one holding homenode/). */
export const HOMEPORT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Homeport's root and each folder above it: where npm adds a `node_modules/.bin`. */
function homeportAncestors(root: string): Set<string> {
  const out = new Set<string>();
  for (let dir = root; ; dir = dirname(dir)) {
    out.add(dir);
    if (dirname(dir) === dir) return out;
  }
}

/**
 * PATH without the entries npm added for Homeport: absolute `<dir>/node_modules/.bin` for
 * Homeport's root and its ancestors, and npm's `node-gyp-bin`. A user's own entries stay,
 * relative ones (`./node_modules/.bin`, resolved in the repo) included.
 */
export function userPath(path: string | undefined, root = HOMEPORT_ROOT): string {
  const ours = homeportAncestors(root);
  return (path ?? '')
    .split(':')
    .filter((entry) => {
      if (!entry) return false;
      if (/[/\\]node-gyp-bin\/?$/.test(entry) && entry.includes('@npmcli')) return false;
      const bin = /^(.*)\/node_modules\/\.bin\/?$/.exec(entry);
      return !(bin && isAbsolute(entry) && ours.has(resolve(bin[1] || '/')));
    })
    .join(':');
}

/** Variables npm sets for the scripts it runs (npm_config_*, npm_package_*, INIT_CWD). */
const NPM_VARIABLE = /^(npm_|INIT_CWD$)/;

/** homeportd's environment as the user's: without Homeport's settings, secrets, npm's variables and npm's PATH entries. */
export function userEnvironment(env: NodeJS.ProcessEnv = process.env, root = HOMEPORT_ROOT): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || key.startsWith('HOMEPORT_') || NPM_VARIABLE.test(key)) continue;
    out[key] = value;
  }
  out.PATH = userPath(env.PATH, root);
  return out;
}
