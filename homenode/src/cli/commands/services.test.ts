/**
 * `homeport services|up|down` against a real homeportd (bin/homeportd.js, no edge) and
 * the real Docker engine, run as the user runs them. The test templates (busybox, built
 * locally) come in through HOMEPORT_SERVICE_TEMPLATES, as an owner's own would.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ensureDocker, ensureTestImage } from '../../../../test/helpers/docker.ts';
import { containerName, networkName } from '../../services/containers.ts';
import { testCatalog, uniqueName } from '../../services/fixtures.ts';
import { cliFixtures, waitFor } from './cli-fixtures.ts';

const cleanup: (() => unknown)[] = [];
const names: string[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
afterAll(async () => {
  const docker = await ensureDocker();
  for (const name of names) {
    for (const c of await docker.listContainers({ all: true, filters: { label: [`homeport.service=${name}`] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
    await docker.getNetwork(networkName(name)).remove().catch(() => {});
    for (const v of (await docker.listVolumes({ filters: { label: [`homeport.service=${name}`] } })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
  }
});

const { dir, startDaemon, cli } = cliFixtures({ cleanup, prefix: 'homeport-services-cli-' });

describe('homeport services', () => {
  it('should install with up, list, print the connection string, log, stop, come back after homeportd restarts, and remove with --purge', { timeout: 180_000 }, async () => {
    const docker = await ensureDocker();
    const image = await ensureTestImage(docker);
    const dataDir = dir();
    const templates = join(dataDir, 'templates.json');
    writeFileSync(templates, JSON.stringify(testCatalog(image, 21000 + Math.floor(Math.random() * 8000))));
    const env = { HOMEPORT_SERVICE_TEMPLATES: templates };
    let daemon = await startDaemon(dataDir, env);
    const name = uniqueName();
    names.push(name);

    const empty = await cli(dataDir, ['services']);
    expect(empty.stdout).toMatch(/^Catalog \(`homeport up <id>`\):\nID\s+TITLE\s+PARTS\s+NEEDS\npostgres\s+PostgreSQL\s+1\s+—/);
    expect(empty.stdout).toMatch(/appwrite\s+Appwrite \(minimal\)\s+5\s+docker-socket/);
    expect(empty.stdout).toMatch(/web\s+Test web\s+1\s+—/);
    expect(empty.stdout).toContain('No services installed yet.');

    const up = await cli(dataDir, ['up', 'web', '--name', name]);
    expect(up.stderr).toContain(`Installing Test web as ${name}\n  created network ${networkName(name)}\n`);
    expect(up.stderr).toContain(`  started ${containerName(name, 'web')}\n`);
    const port = Number(/127\.0\.0\.1:(\d+)\/ \(Web\)/.exec(up.stdout)?.[1]);
    expect(up.stdout).toBe(`${name}: running  http://127.0.0.1:${port}/ (Web)\nconnection: \`homeport services url ${name}\`\nOpen http://127.0.0.1:${port}/ (${name})\n`);
    expect(up.code).toBe(0);

    expect((await cli(dataDir, ['services'])).stdout).toMatch(new RegExp(`Installed:\\nNAME\\s+TEMPLATE\\s+STATE\\s+ENDPOINTS\\n${name}\\s+web\\s+running\\s+http://127\\.0\\.0\\.1:${port}/ \\(Web\\)`));
    const url = await cli(dataDir, ['services', 'url', name]);
    expect(url.stdout).toMatch(new RegExp(`^http://admin:[A-Za-z0-9]{24}@127\\.0\\.0\\.1:${port}/\\n$`));
    expect((await cli(dataDir, ['services', 'url', name, '--credentials'])).stdout).toMatch(/ADMIN_PASSWORD\s+[A-Za-z0-9]{24}/);
    expect((await cli(dataDir, ['services', 'logs', name])).stdout).toMatch(/^\d\d:\d\d:\d\d web ready$/m);

    expect((await cli(dataDir, ['down', name])).stdout).toBe(`${name}: stopped  http://127.0.0.1:${port}/ (Web)\n`);
    expect((await cli(dataDir, ['up', name])).stdout).toMatch(new RegExp(`^${name}: running`));

    // homeportd goes away and the container with it (as after a reboot where Docker did not bring it back).
    await daemon.stop();
    await docker.getContainer(containerName(name, 'web')).stop({ t: 1 });
    daemon = await startDaemon(dataDir, env);
    await waitFor('the restored service', async () => (await cli(dataDir, ['services'])).stdout.match(new RegExp(`${name}\\s+web\\s+running`)));
    expect(daemon.output()).toContain(`services restored: ${name}`);

    const refused = await cli(dataDir, ['up', 'socket', '--name', uniqueName()]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^homeport: Needs the socket needs your explicit grant: docker-socket for tool \(.*\)\. Install it again with grant \["docker-socket"\] \(CLI: --grant docker-socket\) if you accept\.\n$/);
    const noSuch = await cli(dataDir, ['up', 'nosuchthing']);
    expect([noSuch.code, noSuch.stderr]).toEqual([1, expect.stringContaining('homeport: no template "nosuchthing" in the catalog; there are: postgres, mysql')]);

    const removed = await cli(dataDir, ['services', 'rm', name, '--purge']);
    expect(removed.stdout).toBe(`removed ${name} with its volumes and credentials\n`);
    expect((await cli(dataDir, ['services', 'rm', name])).stderr).toBe(`homeport: no service "${name}" is installed (\`homeport services\` lists them)\n`);
  });
});
