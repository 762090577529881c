/**
 * @module
 * A real Docker engine for tests (DESIGN.md): CI installs Debian's docker.io and starts
 * `dockerd --iptables=false --bridge=none`; this helper starts it too when it is
 * installed but not running (as root), and builds the test image from a root filesystem
 * holding busybox-static, since there is no image registry here.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { dockerClient } from '../../homenode/src/docker/engine.ts';

// Bump the tag whenever the root filesystem below changes: images are cached per engine.
export const TEST_IMAGE = 'homeport-test/busybox:3';
const BUSYBOX = '/usr/bin/busybox';
const APPLETS = ['sh', 'ls', 'cat', 'echo', 'sleep', 'mkdir', 'rm', 'mv', 'cp', 'find', 'grep', 'sed', 'head', 'tail', 'wc', 'base64', 'env', 'id', 'true', 'false', 'test', 'printf', 'kill', 'ps', 'nc', 'wget', 'httpd', 'touch', 'chmod', 'date', 'stat', 'dirname', 'basename', 'tr', 'sort', 'xargs', 'dd', 'yes', 'seq', 'awk', 'diff', 'timeout', 'which', 'pwd', 'hostname', 'setsid', 'mkfifo'];

async function pingable(docker: Docker): Promise<boolean> {
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}

/** The engine, started if needed; throws with instructions when there is none. */
export async function ensureDocker(): Promise<Docker> {
  const docker = dockerClient();
  if (await pingable(docker)) return docker;
  if (process.getuid?.() === 0 && existsSync('/usr/sbin/dockerd')) {
    const child = spawn('/usr/sbin/dockerd', ['--iptables=false', '--bridge=none'], { detached: true, stdio: 'ignore' });
    child.unref();
    for (let i = 0; i < 100; i++) {
      if (await pingable(docker)) return docker;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error('These tests need a Docker engine: apt-get install docker.io busybox-static, then run `dockerd --iptables=false --bridge=none &` as root (.ci/run does this).');
}

/** The busybox test image, imported from a root filesystem once per engine. */
export async function ensureTestImage(docker: Docker): Promise<string> {
  const images = await docker.listImages({ filters: { reference: [TEST_IMAGE] } });
  if (images.length) return TEST_IMAGE;
  if (!existsSync(BUSYBOX)) throw new Error('busybox-static is needed to build the test image: apt-get install busybox-static');
  const root = mkdtempSync(join(tmpdir(), 'homeport-rootfs-'));
  mkdirSync(join(root, 'bin'));
  // 1777 as in every real image: a tmpfs mounted on /tmp takes this directory's mode.
  mkdirSync(join(root, 'tmp'));
  chmodSync(join(root, 'tmp'), 0o1777);
  mkdirSync(join(root, 'workspace'));
  copyFileSync(BUSYBOX, join(root, 'bin/busybox'));
  for (const applet of APPLETS) symlinkSync('busybox', join(root, 'bin', applet));
  // busybox picks the applet from its name and has no "bash": a tiny script stands in.
  writeFileSync(join(root, 'bin/bash'), '#!/bin/sh\nexec /bin/sh "$@"\n', { mode: 0o755 });
  execFileSync('sh', ['-c', `tar -C ${root} -c . | docker import -c 'ENV PATH=/bin' - ${TEST_IMAGE}`], { stdio: 'ignore' });
  return TEST_IMAGE;
}
