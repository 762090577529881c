import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Supervisor } from './supervisor.ts';
import { HOMEPORT_ROOT, userEnvironment, userPath } from './user-env.ts';

describe('userPath', () => {
  it("should drop npm's entries for Homeport and keep the user's", () => {
    const path = [
      '/opt/homeport/node_modules/.bin',
      '/opt/node_modules/.bin',
      '/node_modules/.bin',
      '/usr/lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin',
      '/home/ada/.local/bin',
      'node_modules/.bin',
      '/home/ada/tools/node_modules/.bin',
      '/usr/bin',
      '',
    ].join(':');
    expect(userPath(path, '/opt/homeport')).toBe(['/home/ada/.local/bin', 'node_modules/.bin', '/home/ada/tools/node_modules/.bin', '/usr/bin'].join(':'));
  });

  it('should leave out Homeport settings, secrets and npm variables', () => {
    const env = userEnvironment({ HOME: '/home/ada', HOMEPORT_NODE_TOKEN: 'hpn_secret', npm_lifecycle_event: 'start', npm_config_cache: '/x', INIT_CWD: '/opt/homeport', EDITOR: 'vim', PATH: `${HOMEPORT_ROOT}/node_modules/.bin:/usr/bin` });
    expect(env).toEqual({ HOME: '/home/ada', EDITOR: 'vim', PATH: '/usr/bin' });
  });
});

describe("a dev server's environment", () => {
  const dir = mkdtempSync(join(tmpdir(), 'homeport-userenv-'));
  const logs = mkdtempSync(join(tmpdir(), 'homeport-userenv-logs-'));
  const supervisor = new Supervisor({ logDir: logs, readyAfterMs: 300, stopTimeoutMs: 1000 });

  it("should not find Homeport's own Vite in a repo without Vite", async () => {
    // As under `npm start`: Homeport's node_modules/.bin first on homeportd's PATH.
    const saved = process.env.PATH;
    process.env.PATH = `${HOMEPORT_ROOT}/node_modules/.bin:${saved}`;
    writeFileSync(join(dir, 'package.json'), '{"name":"no-vite"}');
    try {
      supervisor.start({ id: 'no-vite', cwd: dir, command: 'vite --version; echo "exit=$?"; sleep 30', env: {} });
      await expect.poll(() => supervisor.logs('no-vite').map((l) => l.text).join('\n'), { timeout: 15_000 }).toContain('exit=127');
      const text = supervisor.logs('no-vite').map((l) => l.text).join('\n');
      expect(text).toMatch(/vite: (command )?not found/);
      expect(text).not.toMatch(/vite\/\d/);
    } finally {
      process.env.PATH = saved;
      await supervisor.stop('no-vite');
    }
  });
});
