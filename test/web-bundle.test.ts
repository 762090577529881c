/**
 * The web app's size budget, as written in the README ("Web app budget: … KB"), checked
 * on the built app in web/dist (`npm test` builds it first): gzipped JavaScript in
 * total, and what the first screen loads (the entry script, its preloads and the CSS).
 */
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/stack.ts';

interface Budget {
  totalJsKb: number;
  firstScreenKb: number;
}

/** "Web app budget: 60 KB of gzipped JavaScript in all, 45 KB for the first screen" in the README. */
function readmeBudget(): Budget {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = /Web app budget: (\d+) KB of gzipped JavaScript in all, (\d+) KB for the first screen/.exec(readme);
  if (!m) throw new Error('README.md must state "Web app budget: <n> KB of gzipped JavaScript in all, <n> KB for the first screen"');
  return { totalJsKb: Number(m[1]), firstScreenKb: Number(m[2]) };
}

const gzipKb = (path: string) => gzipSync(readFileSync(path), { level: 9 }).length / 1024;

/** Sizes of a built app; what the first screen loads is read from its index.html. */
function measure(dist: string) {
  let html: string;
  try {
    html = readFileSync(join(dist, 'index.html'), 'utf8');
  } catch {
    throw new Error(`${dist}/index.html is missing: run \`npm run build\` first`);
  }
  const assets = readdirSync(join(dist, 'assets'));
  const totalJsKb = assets.filter((f) => f.endsWith('.js')).reduce((sum, f) => sum + gzipKb(join(dist, 'assets', f)), 0);
  const initial = [...html.matchAll(/(?:src|href)="\/assets\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
  const firstScreenKb = initial.reduce((sum, f) => sum + gzipKb(join(dist, 'assets', f)), 0);
  return { totalJsKb, firstScreenKb, initial };
}

function overBudget(dist: string, budget: Budget): string[] {
  const size = measure(dist);
  const problems: string[] = [];
  if (size.totalJsKb > budget.totalJsKb) problems.push(`JavaScript is ${size.totalJsKb.toFixed(1)} KB gzipped, over the budget of ${budget.totalJsKb} KB`);
  if (size.firstScreenKb > budget.firstScreenKb) problems.push(`the first screen loads ${size.firstScreenKb.toFixed(1)} KB gzipped, over the budget of ${budget.firstScreenKb} KB`);
  return problems;
}

describe('the web app bundle', () => {
  it('should stay within the budget written in the README', () => {
    const budget = readmeBudget();
    const dist = join(ROOT, 'web/dist');
    const size = measure(dist);
    expect(size.initial.some((f) => f.endsWith('.js'))).toBe(true);
    expect(size.initial.some((f) => f.endsWith('.css'))).toBe(true);
    expect(overBudget(dist, budget)).toEqual([]);
  });

  it('should report a build that is over the budget', () => {
    const dist = mkdtempSync(join(tmpdir(), 'homeport-dist-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<script type="module" src="/assets/index-x.js"></script><link rel="stylesheet" href="/assets/index-x.css">');
    // Random bytes do not compress: 70 KB stays about 70 KB gzipped.
    writeFileSync(join(dist, 'assets/index-x.js'), randomBytes(70 * 1024));
    writeFileSync(join(dist, 'assets/index-x.css'), 'a{}');
    writeFileSync(join(dist, 'assets/Lazy-y.js'), 'export {}');
    const problems = overBudget(dist, { totalJsKb: 60, firstScreenKb: 45 });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^JavaScript is \d+\.\d KB gzipped, over the budget of 60 KB$/);
    expect(problems[1]).toMatch(/^the first screen loads \d+\.\d KB gzipped, over the budget of 45 KB$/);
    expect(overBudget(dist, { totalJsKb: 100, firstScreenKb: 100 })).toEqual([]);
  });
});
