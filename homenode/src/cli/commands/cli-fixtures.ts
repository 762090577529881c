/**
 * @module
 * Test helpers for the CLI command tests (never imported by the CLI): a real homeportd
 * (bin/homeportd.js, no edge) on free ports with its own data dir, and bin/homeport.js run
 * as the user runs it, with HOMEPORT_HOME pointing at that data dir. Everything started is
 * registered in the test file's `cleanup` list.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../../scripts/ports.ts';
import { GaveUp, waitFor } from '../../../../scripts/local-stack.ts';
import { call } from '../client.ts';

export { waitFor };

export const HOMENODE = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

export interface Daemon {
  dataDir: string;
  process: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cliFixtures(options: { cleanup: (() => unknown)[]; prefix: string; env?: Record<string, string> }) {
  const { cleanup } = options;
  return {
    /** A temp dir, removed after the test. */
    dir(prefix = options.prefix): string {
      const d = mkdtempSync(join(tmpdir(), prefix));
      cleanup.push(() => rmSync(d, { recursive: true, force: true }));
      return d;
    },

    async startDaemon(dataDir: string, env: Record<string, string> = {}): Promise<Daemon> {
      const child = spawn(process.execPath, [join(HOMENODE, 'bin/homeportd.js')], {
        env: {
          ...process.env,
          HOMEPORT_HOME: dataDir,
          HOMEPORT_EDGE_URL: '',
          HOMEPORT_NODE_TOKEN: '',
          HOMEPORT_API_PORT: String(await freePort(20001, 30000)),
          HOMEPORT_LAN_PORT: String(await freePort(10000, 20000)),
          ...options.env,
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (d) => (output += d));
      child.stderr!.on('data', (d) => (output += d));
      const daemon: Daemon = {
        dataDir,
        process: child,
        output: () => output,
        stop: () =>
          new Promise((r) => {
            if (child.exitCode !== null) return r();
            child.once('exit', () => r());
            child.kill('SIGTERM');
          }),
      };
      cleanup.push(() => daemon.stop());
      await waitFor('homeportd', async () => {
        if (child.exitCode !== null) throw new GaveUp(`homeportd exited: ${output}`);
        return call('GET', '/api/status', undefined, join(dataDir, 'homeportd.sock'));
      });
      return daemon;
    },

    cli(dataDir: string, args: string[], input = ''): Promise<CliResult> {
      return new Promise((resolve) => {
        const child = execFile(process.execPath, [join(HOMENODE, 'bin/homeport.js'), ...args], { env: { ...process.env, HOMEPORT_HOME: dataDir }, encoding: 'utf8' }, (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
        child.stdin!.end(input);
      });
    },
  };
}
