import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDocker, ensureTestImage } from '../../../test/helpers/docker.ts';
import { dockerClient, DockerUnavailable } from '../docker/engine.ts';
import { Sandbox, SandboxFileError, SandboxGone, workspacePath } from './sandbox.ts';

// Files the sandbox writes must belong to the workspace's owner, so the workspace gets
// an owner that is not us (when we may chown, as in CI) to tell the two apart.
const OWNER = process.getuid?.() === 0 ? { uid: 1234, gid: 2345 } : { uid: process.getuid!(), gid: process.getgid!() };
// Every container of this file carries this owner label, so removeOrphans here never
// touches sandboxes of other test files running at the same time.
const LABEL_OWNER = `sandbox-test-${randomBytes(4).toString('hex')}`;
const taskId = (name: string) => `${name}-${randomBytes(4).toString('hex')}`;

let docker: Docker;
let image: string;
let workspace: string;
let sandbox: Sandbox;
const extra: Sandbox[] = [];
const dirs: string[] = [];

function newWorkspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'homeport-sandbox-'));
  dirs.push(dir);
  if (process.getuid?.() === 0) chownSync(dir, OWNER.uid, OWNER.gid);
  return dir;
}

/** Processes in the sandbox other than its init, sleep and killer, and the ps itself. */
async function strays(box: Sandbox): Promise<string[]> {
  const { output } = await box.exec('ps -o pid,args');
  return output
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() && !/docker-init|sleep infinity|ps -o pid,args|killtree/.test(l));
}

beforeAll(async () => {
  docker = await ensureDocker();
  image = await ensureTestImage(docker);
  workspace = newWorkspace();
  // Secrets in homeportd's environment must not reach the container.
  process.env.ANTHROPIC_API_KEY = 'sk-ant-test-never-in-the-sandbox';
  process.env.HOMEPORT_TEST_SECRET = 'never-in-the-sandbox';
  try {
    sandbox = await Sandbox.create({ docker, image, taskId: taskId('main'), owner: LABEL_OWNER, workspace, memoryBytes: 256 * 1024 ** 2, nanoCpus: 500_000_000, pidsLimit: 64 });
  } finally {
    delete process.env.ANTHROPIC_API_KEY;
    delete process.env.HOMEPORT_TEST_SECRET;
  }
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([sandbox?.destroy(), ...extra.map((s) => s.destroy())]);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('Sandbox', { timeout: 30_000 }, () => {
  it('should run a command in /workspace and report its output and exit code', async () => {
    const ok = await sandbox.exec('echo hello; pwd');
    expect(ok).toMatchObject({ exitCode: 0, output: 'hello\n/workspace\n', timedOut: false, idleTimedOut: false, cancelled: false, truncated: false });
    const failing = await sandbox.exec('echo out; echo err >&2; exit 3');
    expect(failing.exitCode).toBe(3);
    expect(failing.output.split('\n').sort()).toEqual(['', 'err', 'out']);
  });

  it('should share the worktree both ways, with files owned by the workspace owner', async () => {
    await sandbox.exec('mkdir -p made && echo from-the-box > made/inside.txt');
    const inside = join(workspace, 'made/inside.txt');
    expect(readFileSync(inside, 'utf8')).toBe('from-the-box\n');
    expect(statSync(inside)).toMatchObject({ uid: OWNER.uid, gid: OWNER.gid });

    writeFileSync(join(workspace, 'from-host.txt'), 'from the host\n');
    expect((await sandbox.readFile('from-host.txt')).toString()).toBe('from the host\n');
    expect((await sandbox.exec('cat /workspace/from-host.txt')).output).toBe('from the host\n');

    await sandbox.writeFile('deep/er/new.txt', 'written by writeFile');
    const written = join(workspace, 'deep/er/new.txt');
    expect(readFileSync(written, 'utf8')).toBe('written by writeFile');
    expect(statSync(written)).toMatchObject({ uid: OWNER.uid, gid: OWNER.gid });
    expect(statSync(join(workspace, 'deep'))).toMatchObject({ uid: OWNER.uid, gid: OWNER.gid });
  });

  it('should carry any bytes through writeFile and readFile, large ones too', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    await sandbox.writeFile('blob.bin', bytes);
    expect(readFileSync(join(workspace, 'blob.bin')).equals(bytes)).toBe(true);
    expect((await sandbox.readFile('blob.bin', { maxBytes: 4 * 1024 * 1024 })).equals(bytes)).toBe(true);
    rmSync(join(workspace, 'blob.bin'));
  });

  it('should list files under a folder, sorted, without .git and without entering node_modules', async () => {
    mkdirSync(join(workspace, 'tree/src/lib'), { recursive: true });
    mkdirSync(join(workspace, 'tree/.git/objects'), { recursive: true });
    mkdirSync(join(workspace, 'tree/node_modules/pkg'), { recursive: true });
    writeFileSync(join(workspace, 'tree/src/lib/a.ts'), '');
    writeFileSync(join(workspace, 'tree/README.md'), '');
    writeFileSync(join(workspace, 'tree/node_modules/pkg/index.js'), '');
    const all = await sandbox.listFiles('tree', { depth: 5 });
    expect(all).toEqual({
      truncated: false,
      entries: [
        { path: 'tree/README.md', type: 'file' },
        { path: 'tree/node_modules', type: 'dir' },
        { path: 'tree/src', type: 'dir' },
        { path: 'tree/src/lib', type: 'dir' },
        { path: 'tree/src/lib/a.ts', type: 'file' },
      ],
    });
    expect((await sandbox.listFiles('/workspace/tree', { depth: 1 })).entries.map((e) => e.path)).toEqual(['tree/README.md', 'tree/node_modules', 'tree/src']);
    const capped = await sandbox.listFiles('tree', { depth: 5, maxEntries: 2 });
    expect(capped.truncated).toBe(true);
    expect(capped.entries).toHaveLength(2);
    await expect(sandbox.listFiles('tree/README.md')).rejects.toMatchObject({ reason: 'not_directory' });
    await expect(sandbox.listFiles('nope')).rejects.toMatchObject({ reason: 'not_found' });
  });

  it('should refuse paths that lead out of /workspace', async () => {
    for (const path of ['../etc/passwd', '/etc/passwd', 'a/../../etc', '/workspace/../tmp/x', '/workspacex/y', 'nul\0byte']) {
      await expect(sandbox.readFile(path)).rejects.toMatchObject({ reason: 'outside' });
      await expect(sandbox.writeFile(path, 'x')).rejects.toBeInstanceOf(SandboxFileError);
      await expect(sandbox.listFiles(path)).rejects.toBeInstanceOf(SandboxFileError);
    }
    expect(workspacePath('a/./b/../c/')).toBe('/workspace/a/c');
    expect(workspacePath('/workspace/')).toBe('/workspace');
  });

  it('should resolve symlinks inside the container, where the host is out of reach', async () => {
    const secret = join(tmpdir(), `homeport-host-secret-${randomBytes(4).toString('hex')}`);
    writeFileSync(secret, 'host secret');
    try {
      symlinkSync(secret, join(workspace, 'to-host-file'));
      symlinkSync('/etc/hostname', join(workspace, 'to-etc-hostname'));
      symlinkSync('/etc/new-file', join(workspace, 'to-etc-new'));
      await expect(sandbox.readFile('to-host-file')).rejects.toMatchObject({ reason: 'not_found' });
      // the container's own /etc/hostname, not the host's
      expect((await sandbox.readFile('to-etc-hostname')).toString()).toBe('sandbox\n');
      // the root filesystem is read-only
      await expect(sandbox.writeFile('to-etc-new', 'x')).rejects.toMatchObject({ reason: 'failed' });
      expect((await sandbox.exec('touch /etc/x /x')).exitCode).not.toBe(0);
      expect((await sandbox.exec('touch /tmp/scratch && echo ok')).output).toBe('ok\n');
    } finally {
      rmSync(secret, { force: true });
    }
  });

  it('should say why a file cannot be read or written', async () => {
    writeFileSync(join(workspace, 'big.txt'), 'x'.repeat(5000));
    await expect(sandbox.readFile('missing.txt')).rejects.toMatchObject({ reason: 'not_found', message: 'missing.txt does not exist' });
    await expect(sandbox.readFile('made')).rejects.toMatchObject({ reason: 'is_directory' });
    await expect(sandbox.readFile('big.txt', { maxBytes: 1000 })).rejects.toMatchObject({ reason: 'too_large', message: 'big.txt is 5000 bytes, more than the 1000 bytes read at once' });
    await expect(sandbox.writeFile('made', 'x')).rejects.toMatchObject({ reason: 'is_directory' });
    await expect(sandbox.writeFile('big.txt/under', 'x')).rejects.toMatchObject({ reason: 'not_directory' });
    // a FIFO would block a reader or writer forever: refused instead
    execFileSync('mkfifo', [join(workspace, 'pipe')]);
    await expect(sandbox.readFile('pipe')).rejects.toMatchObject({ reason: 'not_file' });
    await expect(sandbox.writeFile('pipe', 'x')).rejects.toMatchObject({ reason: 'not_file' });
  });

  it('should start with the limits and isolation asked for, and nothing of the host', async () => {
    const info = await sandbox.container.inspect();
    expect(info.Name).toBe(`/homeport-task-${sandbox.taskId}`);
    expect(info.Config.Labels).toMatchObject({ 'homeport.managed': 'true', 'homeport.kind': 'sandbox', 'homeport.task': sandbox.taskId, 'homeport.owner': LABEL_OWNER });
    expect(info.Config.User).toBe(`${OWNER.uid}:${OWNER.gid}`);
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect(info.HostConfig.CapAdd ?? []).toEqual([]);
    expect(info.HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.HostConfig.Memory).toBe(256 * 1024 ** 2);
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    expect(info.HostConfig.PidsLimit).toBe(64);
    expect(info.HostConfig.NetworkMode).toBe('none');
    // the worktree is the only thing from the host; no Docker socket anywhere
    const binds = info.Mounts.filter((m) => m.Type === 'bind');
    expect(binds.map((m) => [m.Source, m.Destination, m.RW])).toEqual([[realpathSync(workspace), '/workspace', true]]);
    expect(JSON.stringify(info.Mounts) + JSON.stringify(info.HostConfig.Binds ?? [])).not.toContain('docker.sock');
    expect(Object.keys(info.HostConfig.Tmpfs ?? {})).toEqual(['/tmp']);
    // no environment from homeportd
    const env = info.Config.Env.join('\n');
    expect(env).not.toMatch(/HOMEPORT_|ANTHROPIC_|never-in-the-sandbox/);
    const inside = await sandbox.exec('env; ls /var/run/docker.sock /run/docker.sock 2>&1; ls /sys/class/net; grep CapEff /proc/self/status; grep NoNewPrivs /proc/self/status');
    expect(inside.output).not.toMatch(/HOMEPORT_|ANTHROPIC_|never-in-the-sandbox/);
    expect(inside.output).toMatch(/docker\.sock: No such file or directory/);
    expect(inside.output).toMatch(/^lo$/m);
    expect(inside.output).not.toMatch(/^eth/m);
    expect(inside.output).toMatch(/CapEff:\s+0000000000000000/);
    expect(inside.output).toMatch(/NoNewPrivs:\s+1/);
  });

  it('should hold the process count to pidsLimit, and still kill what hit it', async () => {
    // 100 background sleeps against a limit of 64: the shell gives up at the limit, and the
    // sleeps it started keep the output open until the timeout kills them without a new process
    const result = await sandbox.exec('for i in $(seq 1 100); do sleep 60 & done', { timeoutMs: 1500 });
    expect(result.output).toMatch(/can't fork|Resource temporarily unavailable/);
    expect(result.timedOut).toBe(true);
    expect(await strays(sandbox)).toEqual([]);
  });

  it('should kill a command and all its children on timeout', async () => {
    // a child, a grandchild, and a child in a session of its own
    const result = await sandbox.exec('echo started; sleep 1000 & sh -c "sleep 1001; true" & setsid sleep 1002 & wait', { timeoutMs: 1000 });
    expect(result).toMatchObject({ timedOut: true, idleTimedOut: false, cancelled: false, output: 'started\n' });
    expect(result.exitCode).not.toBe(0);
    expect(await strays(sandbox)).toEqual([]);
  });

  it('should kill a command that stays silent too long, and not one that keeps talking', async () => {
    const silent = await sandbox.exec('echo one; sleep 1000', { idleTimeoutMs: 500, timeoutMs: 30_000 });
    expect(silent).toMatchObject({ idleTimedOut: true, timedOut: false, output: 'one\n' });
    const talking = await sandbox.exec('for i in 1 2 3 4 5; do echo $i; sleep 0.2; done', { idleTimeoutMs: 1500, timeoutMs: 30_000 });
    expect(talking).toMatchObject({ exitCode: 0, idleTimedOut: false, output: '1\n2\n3\n4\n5\n' });
    expect(await strays(sandbox)).toEqual([]);
  });

  it('should kill a command when its signal aborts, and not start one already aborted', async () => {
    const controller = new AbortController();
    const running = sandbox.exec('echo waiting; sleep 1000 & sleep 1001; echo not-reached', { signal: controller.signal, timeoutMs: 30_000 });
    setTimeout(() => controller.abort(), 400);
    const result = await running;
    expect(result).toMatchObject({ cancelled: true, timedOut: false });
    expect(result.output).not.toContain('not-reached');
    expect(await strays(sandbox)).toEqual([]);

    const before = await sandbox.exec('touch never-made', { signal: AbortSignal.abort() });
    expect(before.cancelled).toBe(true);
    expect(existsSync(join(workspace, 'never-made'))).toBe(false);
  });

  it('should keep the head and tail of long output, marked', async () => {
    const result = await sandbox.exec('seq 1 100000', { maxOutputBytes: 1000 });
    expect(result.exitCode).toBe(0);
    expect(result.truncated).toBe(true);
    expect(result.output.startsWith('1\n2\n3\n')).toBe(true);
    expect(result.output.endsWith('99999\n100000\n')).toBe(true);
    expect(result.output).toMatch(/\[… \d+ bytes of output left out …\]/);
    expect(Buffer.byteLength(result.output)).toBeLessThan(1100);
  });

  it('should remove its container on destroy, whatever its state, more than once', async () => {
    const box = await Sandbox.create({ docker, image, taskId: taskId('destroy'), owner: LABEL_OWNER, workspace: newWorkspace() });
    extra.push(box);
    const running = box.exec('sleep 1000', { timeoutMs: 30_000 }).then(
      (result) => ({ result, error: null }),
      (error: unknown) => ({ result: null, error }),
    );
    await box.destroy();
    await box.destroy();
    await expect(box.container.inspect()).rejects.toMatchObject({ statusCode: 404 });
    // the command in flight ends when its container goes (or never started: the container went first)
    const ended = await running;
    if (ended.error) expect(ended.error).toBeInstanceOf(SandboxGone);
    else expect(ended.result!.exitCode).not.toBe(0);
    await expect(box.exec('echo again')).rejects.toBeInstanceOf(SandboxGone);
  });

  it('should remove sandboxes a crashed homeportd left behind, and nothing else', async () => {
    // a "crash": the object is dropped, its container stays
    const orphanId = taskId('orphan');
    const orphan = await Sandbox.create({ docker, image, taskId: orphanId, owner: LABEL_OWNER, workspace: newWorkspace() });
    extra.push(orphan);
    const foreign = await docker.createContainer({ Image: image, Cmd: ['sleep', 'infinity'], name: `not-homeport-${randomBytes(4).toString('hex')}`, Labels: { 'some.other': 'label' }, HostConfig: { NetworkMode: 'none' } });
    const service = await docker.createContainer({
      Image: image,
      Cmd: ['sleep', 'infinity'],
      name: `homeport-service-${randomBytes(4).toString('hex')}`,
      Labels: { 'homeport.managed': 'true', 'homeport.kind': 'service', 'homeport.owner': LABEL_OWNER },
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      await foreign.start();
      // another owner's sweep leaves ours alone (a sweep without owner would hit other test files' sandboxes)
      expect(await Sandbox.removeOrphans(docker, [], { owner: `${LABEL_OWNER}-other` })).toEqual([]);
      const removed = await Sandbox.removeOrphans(docker, [sandbox.taskId], { owner: LABEL_OWNER });
      expect(removed).toEqual([`homeport-task-${orphanId}`]);
      await expect(orphan.container.inspect()).rejects.toMatchObject({ statusCode: 404 });
      expect((await sandbox.container.inspect()).State.Running).toBe(true);
      expect((await foreign.inspect()).State.Running).toBe(true);
      expect((await service.inspect()).Id).toBe(service.id);
    } finally {
      await Promise.allSettled([foreign.remove({ force: true }), service.remove({ force: true })]);
    }
  });

  it('should replace its own leftover container of the same task on create', async () => {
    const id = taskId('again');
    const first = await Sandbox.create({ docker, image, taskId: id, owner: LABEL_OWNER, workspace: newWorkspace() });
    extra.push(first);
    const second = await Sandbox.create({ docker, image, taskId: id, owner: LABEL_OWNER, workspace: newWorkspace() });
    extra.push(second);
    await expect(first.container.inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await second.exec('echo fresh')).output).toBe('fresh\n');
    await second.destroy();
  });

  it('should fail with DockerUnavailable when no engine answers, never running on the host', async () => {
    const dead = dockerClient({ DOCKER_HOST: `unix://${join(tmpdir(), `no-docker-${randomBytes(4).toString('hex')}.sock`)}` });
    const dir = newWorkspace();
    const attempt = Sandbox.create({ docker: dead, image, taskId: taskId('dead'), workspace: dir });
    await expect(attempt).rejects.toBeInstanceOf(DockerUnavailable);
    await expect(attempt).rejects.toThrow(/no Docker engine is reachable .*Homeport never runs agent tools on the host/);
    await expect(Sandbox.removeOrphans(dead)).rejects.toBeInstanceOf(DockerUnavailable);
  });

  it('should refuse a missing image or workspace with a clear message', async () => {
    await expect(Sandbox.create({ docker, image: 'homeport-test/no-such-image:0', taskId: taskId('img'), workspace: newWorkspace() })).rejects.toThrow(/not on this Docker engine/);
    await expect(Sandbox.create({ docker, image, taskId: taskId('ws'), workspace: join(tmpdir(), 'no-such-workspace-here') })).rejects.toThrow(/does not exist/);
    await expect(Sandbox.create({ docker, image, taskId: '../x', workspace: newWorkspace() })).rejects.toThrow(/task id/);
  });
});

