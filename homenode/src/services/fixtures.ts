/**
 * @module
 * Test templates built on the busybox test image (test/helpers/docker.ts): a web server
 * with a health check, a volume and a credential; one-shot jobs that succeed and fail;
 * a part that needs the Docker socket; parts whose health check or probe fails; an
 * image no registry has. Plus a manager on a fresh libSQL file and vault.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { openStore, type Store } from '../db/index.ts';
import { SecretStore, Vault } from '../vault.ts';
import type { ServiceTemplate } from './catalog.ts';
import { ServiceManager, type ServiceManagerOptions } from './manager.ts';

const fast = { intervalS: 1, timeoutS: 2, retries: 2, startPeriodS: 0 };

/** `base` is the first host port asked for; the web template's port is `base`, the others above it. */
export function testCatalog(image: string, base: number): ServiceTemplate[] {
  return [
    {
      id: 'web',
      title: 'Test web',
      description: 'busybox httpd serving a greeting; counts its starts in its volume',
      category: 'test',
      secrets: { ADMIN_PASSWORD: 'password' },
      volumes: ['data'],
      parts: [
        {
          name: 'web',
          image,
          init: true,
          command: ['sh', '-c', 'echo start >> /data/starts; mkdir -p /tmp/www; echo "hello from $GREETING" > /tmp/www/index.html; echo "web ready"; exec httpd -f -vv -p 8080 -h /tmp/www'],
          env: { GREETING: '{{name}}', ADMIN_PASSWORD: '{{secret:ADMIN_PASSWORD}}' },
          ports: [{ container: 8080, host: base, label: 'Web', http: '/' }],
          volumes: [{ volume: 'data', path: '/data' }],
          healthcheck: { test: ['CMD-SHELL', 'wget -q -O /dev/null http://localhost:8080/ || exit 1'], ...fast },
        },
      ],
      connections: [{ label: 'URL', template: 'http://admin:{{secret:ADMIN_PASSWORD}}@127.0.0.1:{{port:web:8080}}/' }],
      notes: 'Open http://127.0.0.1:{{port:web:8080}}/ ({{name}})',
    },
    {
      id: 'job',
      title: 'Test job',
      description: 'a one-shot job that exits 0',
      category: 'test',
      parts: [{ name: 'once', image, command: ['sh', '-c', 'echo migrated'], job: true }],
    },
    {
      id: 'failjob',
      title: 'Failing job',
      description: 'a one-shot job that exits 3',
      category: 'test',
      parts: [{ name: 'once', image, command: ['sh', '-c', 'echo broken >&2; exit 3'], job: true }],
    },
    {
      id: 'socket',
      title: 'Needs the socket',
      description: 'a part that mounts the Docker socket',
      category: 'test',
      needs: ['docker-socket'],
      parts: [{ name: 'tool', image, command: ['sleep', '3600'], init: true, dockerSocket: true, healthcheck: { test: ['CMD', 'test', '-S', '/var/run/docker.sock'], ...fast } }],
    },
    {
      id: 'sick',
      title: 'Sick',
      description: 'runs, but its health check always fails',
      category: 'test',
      parts: [{ name: 'app', image, command: ['sleep', '3600'], init: true, healthcheck: { test: ['CMD-SHELL', 'echo "database not ready" >&2; exit 1'], ...fast, retries: 1 } }],
    },
    {
      id: 'deaf',
      title: 'Deaf',
      description: 'runs with no health check, and nothing listens on its published port',
      category: 'test',
      parts: [{ name: 'app', image, command: ['sleep', '3600'], init: true, ports: [{ container: 9999, host: base + 50, label: 'Nothing' }] }],
    },
    {
      id: 'absent',
      title: 'Absent image',
      description: 'an image no registry has',
      category: 'test',
      parts: [{ name: 'app', image: 'homeport-test/absent:1', command: ['true'], job: true }],
    },
  ];
}

/** A service name no other test uses. */
export function uniqueName(prefix = 't'): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

export interface TestManager {
  manager: ServiceManager;
  store: Store;
  secrets: SecretStore;
  dataDir: string;
  close(): void;
}

export async function testManager(docker: Docker, catalog: ServiceTemplate[], options: Partial<ServiceManagerOptions> = {}, dataDir?: string): Promise<TestManager> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'homeport-services-'));
  const store = await openStore(dir);
  const secrets = new SecretStore(store, Vault.fromDataDir(dir));
  const manager = new ServiceManager({ owner: dir, store, secrets, docker, catalog, probeGraceMs: 1000, stopTimeoutS: 2, ...options });
  return {
    manager,
    store,
    secrets,
    dataDir: dir,
    close() {
      manager.close();
      store.close();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
