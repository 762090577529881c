/**
 * @module
 * A local image registry for tests (Docker Registry HTTP API v2, pulls only), on a free
 * port of 127.0.0.1, so the real engine can pull with real progress events where there
 * is no internet. dockerd treats 127.0.0.0/8 registries as insecure by default: plain HTTP.
 *
 * ```ts
 * const registry = await FakeRegistry.start();
 * const ref = registry.addBusyboxImage('homeport-test/pulled', '1');   // "127.0.0.1:<port>/homeport-test/pulled:1"
 * await docker.pull(ref) …
 * await registry.stop();
 * ```
 *
 * Each image's first layer holds busybox-static plus a random marker file, so it is never
 * already on the engine and every pull really downloads. Blobs are
 * sent in small slices with pauses (`chunkBytes`, `chunkDelayMs`) so the engine reports
 * download progress more than once.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';
const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export interface FakeRegistryOptions {
  chunkBytes?: number;
  chunkDelayMs?: number;
}

export class FakeRegistry {
  readonly #blobs = new Map<string, Buffer>();
  readonly #manifests = new Map<string, Buffer>();
  /** every request, `METHOD path` */
  readonly requests: string[] = [];

  private constructor(
    readonly server: http.Server,
    readonly host: string,
    readonly options: Required<FakeRegistryOptions>,
  ) {}

  static async start(options: FakeRegistryOptions = {}): Promise<FakeRegistry> {
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const registry = new FakeRegistry(server, `127.0.0.1:${(server.address() as AddressInfo).port}`, { chunkBytes: 64 * 1024, chunkDelayMs: 15, ...options });
    server.on('request', (req, res) => void registry.#handle(req, res));
    return registry;
  }

  /**
   * Builds and serves `<repo>:<tag>`; returns the reference to pull. `extraLayers` adds
   * that many layers of random bytes (`extraLayerBytes` each), so a pull has several
   * layers in flight.
   */
  addBusyboxImage(repo: string, tag: string, { extraLayers = 0, extraLayerBytes = 256 * 1024 } = {}): string {
    const root = mkdtempSync(join(tmpdir(), 'homeport-registry-'));
    try {
      mkdirSync(join(root, 'bin'));
      copyFileSync('/usr/bin/busybox', join(root, 'bin/busybox'));
      for (const applet of ['sh', 'echo', 'cat', 'sleep', 'httpd', 'wget']) symlinkSync('busybox', join(root, 'bin', applet));
      writeFileSync(join(root, 'marker'), randomBytes(16).toString('hex'));
      const layers = [execFileSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 64 * 1024 * 1024 })];
      for (let i = 0; i < extraLayers; i++) {
        const dir = join(root, `layer${i}`);
        mkdirSync(dir);
        writeFileSync(join(dir, `random${i}`), randomBytes(extraLayerBytes));
        layers.push(execFileSync('tar', ['-C', dir, '-c', '.'], { maxBuffer: 64 * 1024 * 1024 }));
      }
      const gzipped = layers.map((layer) => gzipSync(layer));
      const config = Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          config: { Env: ['PATH=/bin'], Cmd: ['sh'] },
          rootfs: { type: 'layers', diff_ids: layers.map(sha256) },
          history: layers.map(() => ({ created: new Date().toISOString(), created_by: 'homeport test registry' })),
        }),
      );
      for (const gz of gzipped) this.#blobs.set(sha256(gz), gz);
      this.#blobs.set(sha256(config), config);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MANIFEST_TYPE,
          config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha256(config) },
          layers: gzipped.map((gz) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: gz.length, digest: sha256(gz) })),
        }),
      );
      this.#manifests.set(`${repo}:${tag}`, manifest);
      this.#manifests.set(`${repo}:${sha256(manifest)}`, manifest);
      return `${this.host}/${repo}:${tag}`;
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://registry');
    this.requests.push(`${req.method} ${url.pathname}`);
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    if (url.pathname === '/v2/' || url.pathname === '/v2') return res.end('{}');
    const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (manifest) {
      const body = this.#manifests.get(`${manifest[1]}:${manifest[2]}`);
      if (!body) return this.#error(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
      res.writeHead(200, { 'Content-Type': MANIFEST_TYPE, 'Content-Length': body.length, 'Docker-Content-Digest': sha256(body) });
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    const blob = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    if (blob) {
      const body = this.#blobs.get(blob[2]);
      if (!body) return this.#error(res, 404, 'BLOB_UNKNOWN', 'blob unknown');
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length, 'Docker-Content-Digest': blob[2] });
      if (req.method === 'HEAD') return res.end();
      for (let at = 0; at < body.length && !res.destroyed; at += this.options.chunkBytes) {
        res.write(body.subarray(at, at + this.options.chunkBytes));
        await new Promise((r) => setTimeout(r, this.options.chunkDelayMs));
      }
      return res.end();
    }
    this.#error(res, 404, 'NAME_UNKNOWN', 'repository name not known to registry');
  }

  #error(res: http.ServerResponse, status: number, code: string, message: string) {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code, message }] }));
  }

  /** The bytes of a blob (tests compare what the engine stored). */
  blob(digest: string): Buffer | undefined {
    return this.#blobs.get(digest);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

