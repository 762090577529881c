import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDocker } from '../../../test/helpers/docker.ts';
import { FakeRegistry } from '../../../test/fakes/registry.ts';
import { DockerUnavailable, dockerClient } from '../docker/engine.ts';
import { engineMessage, imagePresent, PullAggregator, PullError, pullImage, type PullProgress, type PullStreamEvent } from './pull.ts';

// Recorded from the real engine (dockerd 20.10, through dockerode's followProgress)
// pulling a three-layer image from test/fakes/registry.ts.
const RECORDED: PullStreamEvent[] = readFileSync(new URL('./fixtures/pull-3-layers.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line));

describe('pull progress', () => {
  it('should fold a recorded engine stream into one rising figure that ends at 100%', () => {
    const aggregator = new PullAggregator('example:1');
    const seen: PullProgress[] = [];
    for (const event of RECORDED) {
      aggregator.add(event);
      seen.push(aggregator.progress);
    }
    const percents = seen.map((p) => p.percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.some((p) => p > 0 && p < 100)).toBe(true);
    const last = seen.at(-1)!;
    expect(last).toEqual({ image: 'example:1', phase: 'done', layers: { total: 3, done: 3 }, bytes: { current: 1052347 + 262425 + 262430, total: 1052347 + 262425 + 262430 }, percent: 100 });
    // Mid-way: two small layers downloaded, the big one partly.
    const midway = seen[RECORDED.findIndex((e) => e.progressDetail?.current === 491520)];
    expect(midway.phase).toBe('downloading');
    expect(midway.bytes).toEqual({ current: 491520 + 262425 + 262430, total: 1052347 + 262425 + 262430 });
    expect(midway.percent).toBe(Math.floor(((491520 + 262425 + 262430) / (1052347 + 262425 + 262430)) * 80));
  });

  it('should count layers already on the engine as done, without bytes', () => {
    const aggregator = new PullAggregator('example:2');
    aggregator.add({ status: 'Pulling from library/example', id: '2' });
    aggregator.add({ status: 'Already exists', progressDetail: {}, id: 'aaa' });
    aggregator.add({ status: 'Pulling fs layer', progressDetail: {}, id: 'bbb' });
    expect(aggregator.progress).toMatchObject({ layers: { total: 2, done: 1 }, bytes: { current: 0, total: 0 }, percent: 0 });
    aggregator.add({ status: 'Downloading', progressDetail: { current: 50, total: 100 }, id: 'bbb' });
    expect(aggregator.progress).toMatchObject({ bytes: { current: 50, total: 100 }, percent: 40 });
  });

  it('should hold the figure back while some layer sizes are unknown', () => {
    const aggregator = new PullAggregator('example:3');
    aggregator.add({ status: 'Pulling fs layer', progressDetail: {}, id: 'a' });
    aggregator.add({ status: 'Pulling fs layer', progressDetail: {}, id: 'b' });
    aggregator.add({ status: 'Downloading', progressDetail: { current: 100, total: 100 }, id: 'a' });
    expect(aggregator.progress.percent).toBe(40);
  });

  it('should say the engine’s words without dockerode’s prefix', () => {
    expect(engineMessage(new Error('(HTTP code 500) server error - manifest unknown '))).toBe('manifest unknown');
  });
});

describe('pulling from a real engine', () => {
  let registry: FakeRegistry;
  const docker = dockerClient();
  beforeAll(async () => {
    await ensureDocker();
    registry = await FakeRegistry.start();
  });
  afterAll(() => registry?.stop());

  it('should pull a missing image with progress events from the engine', { timeout: 60_000 }, async () => {
    const ref = registry.addBusyboxImage('homeport-test/pull-progress', '1', { extraLayers: 2 });
    expect(await imagePresent(docker, ref)).toBe(false);
    const events: PullProgress[] = [];
    try {
      await pullImage(docker, ref, (p) => events.push(p), 0);
      expect(await imagePresent(docker, ref)).toBe(true);
    } finally {
      await docker.getImage(ref).remove().catch(() => {});
    }
    expect(events[0]).toMatchObject({ image: ref, percent: 0 });
    expect(events.some((e) => e.phase === 'downloading' && e.percent > 0 && e.percent < 100)).toBe(true);
    expect(events.at(-1)).toMatchObject({ phase: 'done', percent: 100, layers: { total: 3, done: 3 } });
    expect(registry.requests.some((r) => r.startsWith('GET /v2/homeport-test/pull-progress/blobs/'))).toBe(true);
  });

  it('should fail with the image and the reason when no registry has it', async () => {
    const missing = `${registry.host}/homeport-test/never-pushed:1`;
    const error = await pullImage(docker, missing, () => {}).catch((e) => e);
    expect(error).toBeInstanceOf(PullError);
    expect(error.message).toBe(`image ${missing} is not on this machine and pulling it failed: manifest unknown`);
    const offline = await pullImage(docker, 'homeport-test/absent:1', () => {}).catch((e) => e);
    expect(offline).toBeInstanceOf(PullError);
    expect(offline.message).toMatch(/^image homeport-test\/absent:1 is not on this machine and pulling it failed: .*registry-1\.docker\.io/);
  });

  it('should say so when there is no engine', async () => {
    const none = dockerClient({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    await expect(pullImage(none, 'x:1', () => {})).rejects.toBeInstanceOf(DockerUnavailable);
    await expect(imagePresent(none, 'x:1')).rejects.toBeInstanceOf(DockerUnavailable);
  });
});
