/**
 * @module
 * Start command detection for a repo: package.json's `dev` script, else `start`; the
 * package manager from the lockfile (then package.json's `packageManager`, then npm);
 * Vite and Next recognised from the dependencies. The owner's own command, stored in
 * `servers.command`, always wins over this.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export type PackageManager = 'npm' | 'pnpm' | 'yarn' | 'bun';
export type Framework = 'vite' | 'next' | null;

export interface Detection {
  /** the command to run in the repo's folder, or null when nothing was found */
  command: string | null;
  packageManager: PackageManager | null;
  script: 'dev' | 'start' | null;
  framework: Framework;
  /** why, in words, for `homeport repos` and the dashboard */
  reason: string;
}

/** Lockfiles in the order we trust them when a repo has several. */
const LOCKFILES: [string, PackageManager][] = [
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
  ['bun.lockb', 'bun'],
  ['bun.lock', 'bun'],
  ['package-lock.json', 'npm'],
  ['npm-shrinkwrap.json', 'npm'],
];

interface PackageJson {
  scripts?: Record<string, unknown>;
  dependencies?: Record<string, unknown>;
  devDependencies?: Record<string, unknown>;
  packageManager?: unknown;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function packageManagerOf(dir: string, pkg: PackageJson): Promise<{ manager: PackageManager; from: string }> {
  for (const [file, manager] of LOCKFILES) if (await exists(join(dir, file))) return { manager, from: file };
  const declared = typeof pkg.packageManager === 'string' ? /^(npm|pnpm|yarn|bun)@/.exec(pkg.packageManager)?.[1] : undefined;
  if (declared) return { manager: declared as PackageManager, from: 'packageManager in package.json' };
  return { manager: 'npm', from: 'no lockfile' };
}

function frameworkOf(pkg: PackageJson, script: string): Framework {
  const deps = { ...pkg.dependencies, ...pkg.devDependencies };
  if ('next' in deps || /\bnext\b/.test(script)) return 'next';
  if ('vite' in deps || /\bvite\b/.test(script)) return 'vite';
  return null;
}

export function runScript(manager: PackageManager, script: string): string {
  return manager === 'yarn' ? `yarn ${script}` : `${manager} run ${script}`;
}

export async function detectStart(dir: string): Promise<Detection> {
  let text: string;
  try {
    text = await readFile(join(dir, 'package.json'), 'utf8');
  } catch {
    return { command: null, packageManager: null, script: null, framework: null, reason: 'no package.json: set a start command for this repo' };
  }
  let pkg: PackageJson;
  try {
    pkg = JSON.parse(text);
    if (!pkg || typeof pkg !== 'object') throw new Error();
  } catch {
    return { command: null, packageManager: null, script: null, framework: null, reason: 'package.json is not valid JSON: fix it or set a start command' };
  }
  const { manager, from } = await packageManagerOf(dir, pkg);
  const scripts = pkg.scripts && typeof pkg.scripts === 'object' ? pkg.scripts : {};
  const script = (['dev', 'start'] as const).find((name) => typeof scripts[name] === 'string' && (scripts[name] as string).trim());
  if (!script) return { command: null, packageManager: manager, script: null, framework: frameworkOf(pkg, ''), reason: 'package.json has no "dev" or "start" script: add one or set a start command' };
  const framework = frameworkOf(pkg, scripts[script] as string);
  return {
    command: runScript(manager, script),
    packageManager: manager,
    script,
    framework,
    reason: `"${script}" script of package.json, ${manager} (${from})${framework ? `, ${framework === 'vite' ? 'Vite' : 'Next.js'}` : ''}`,
  };
}
