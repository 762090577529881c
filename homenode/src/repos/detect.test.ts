import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectStart } from './detect.ts';

const dirs: string[] = [];
function project(files: Record<string, string | object>): string {
  const dir = mkdtempSync(join(tmpdir(), 'homeport-detect-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('detectStart', () => {
  it('should prefer the dev script and default to npm without a lockfile', async () => {
    const d = await detectStart(project({ 'package.json': { scripts: { start: 'node server.js', dev: 'node --watch server.js' } } }));
    expect(d).toMatchObject({ command: 'npm run dev', packageManager: 'npm', script: 'dev', framework: null });
  });

  it('should fall back to the start script', async () => {
    const d = await detectStart(project({ 'package.json': { scripts: { start: 'node server.js', build: 'tsc' } }, 'package-lock.json': '{}' }));
    expect(d).toMatchObject({ command: 'npm run start', packageManager: 'npm', script: 'start' });
  });

  it('should pick pnpm from pnpm-lock.yaml and recognise Vite', async () => {
    const d = await detectStart(project({ 'package.json': { scripts: { dev: 'vite' }, devDependencies: { vite: '^7.0.0' } }, 'pnpm-lock.yaml': "lockfileVersion: '9.0'" }));
    expect(d).toMatchObject({ command: 'pnpm run dev', packageManager: 'pnpm', framework: 'vite' });
    expect(d.reason).toContain('pnpm-lock.yaml');
  });

  it('should pick yarn from yarn.lock and recognise Next', async () => {
    const d = await detectStart(project({ 'package.json': { scripts: { dev: 'next dev' }, dependencies: { next: '15.0.0', react: '19.0.0' } }, 'yarn.lock': '' }));
    expect(d).toMatchObject({ command: 'yarn dev', packageManager: 'yarn', framework: 'next' });
  });

  it('should pick bun from bun.lock or bun.lockb', async () => {
    expect((await detectStart(project({ 'package.json': { scripts: { dev: 'bun x' } }, 'bun.lock': '{}' }))).command).toBe('bun run dev');
    expect((await detectStart(project({ 'package.json': { scripts: { dev: 'bun x' } }, 'bun.lockb': '' }))).command).toBe('bun run dev');
  });

  it('should use packageManager from package.json when there is no lockfile', async () => {
    const d = await detectStart(project({ 'package.json': { packageManager: 'pnpm@9.12.0', scripts: { dev: 'vite' } } }));
    expect(d).toMatchObject({ command: 'pnpm run dev', packageManager: 'pnpm', framework: 'vite' });
  });

  it('should say why when there is nothing to run', async () => {
    expect(await detectStart(project({ 'README.md': '# hi' }))).toMatchObject({ command: null, reason: expect.stringContaining('no package.json') });
    expect(await detectStart(project({ 'package.json': { scripts: { build: 'tsc' } } }))).toMatchObject({ command: null, reason: expect.stringContaining('no "dev" or "start"') });
    expect(await detectStart(project({ 'package.json': '{ nope' }))).toMatchObject({ command: null, reason: expect.stringContaining('not valid JSON') });
  });
});
