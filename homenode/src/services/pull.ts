/**
 * @module
 * Pulling an image that is not on the engine yet, with progress for people: the
 * engine's stream (one JSON object per layer update: "Pulling fs layer", "Downloading"
 * with current/total bytes, "Download complete", "Extracting", "Pull complete",
 * "Already exists") is folded into one figure per image: layers done, bytes downloaded
 * of bytes known, a percentage. Updates are throttled; the last one always comes.
 */
import type Docker from 'dockerode';
import { engineError } from '../docker/engine.ts';

/** One line of the engine's pull stream, as dockerode hands it over. */
export interface PullStreamEvent {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  error?: string;
  errorDetail?: { message?: string };
}

export interface PullProgress {
  image: string;
  /** what the engine is doing: `downloading`, `extracting`, `done` */
  phase: 'starting' | 'downloading' | 'extracting' | 'done';
  layers: { total: number; done: number };
  /** downloaded bytes of the layers whose size is known */
  bytes: { current: number; total: number };
  /** 0-100, downloads weigh 80 and extraction 20 */
  percent: number;
}

interface Layer {
  downloaded: number;
  size: number | null;
  extracted: number;
  done: boolean;
  /** already on the engine: counts as done, adds no bytes */
  present: boolean;
}

/** Folds pull stream events into PullProgress (pure: feed it events, read `progress`). */
export class PullAggregator {
  readonly #layers = new Map<string, Layer>();
  #phase: PullProgress['phase'] = 'starting';

  constructor(readonly image: string) {}

  add(event: PullStreamEvent): void {
    const status = event.status ?? '';
    const id = event.id;
    // Lines without a layer id, and the "Pulling from <repo>" line (its id is the tag), say nothing per layer.
    if (!id || status.startsWith('Pulling from')) {
      if (status.startsWith('Digest:') || status.startsWith('Status:')) this.#phase = 'done';
      return;
    }
    let layer = this.#layers.get(id);
    if (!layer) this.#layers.set(id, (layer = { downloaded: 0, size: null, extracted: 0, done: false, present: false }));
    const { current, total } = event.progressDetail ?? {};
    switch (status) {
      case 'Downloading':
        if (typeof total === 'number' && total > 0) layer.size = total;
        if (typeof current === 'number') layer.downloaded = current;
        this.#phase = 'downloading';
        break;
      case 'Verifying Checksum':
      case 'Download complete':
        if (layer.size !== null) layer.downloaded = layer.size;
        break;
      case 'Extracting':
        if (typeof total === 'number' && total > 0 && layer.size === null) layer.size = total;
        if (layer.size !== null) layer.downloaded = layer.size;
        if (typeof current === 'number') layer.extracted = current;
        this.#phase = 'extracting';
        break;
      case 'Pull complete':
        if (layer.size !== null) layer.downloaded = layer.extracted = layer.size;
        layer.done = true;
        break;
      case 'Already exists':
        layer.done = layer.present = true;
        break;
    }
  }

  get progress(): PullProgress {
    const layers = [...this.#layers.values()];
    const counted = layers.filter((l) => !l.present);
    const known = counted.filter((l) => l.size !== null);
    const total = known.reduce((n, l) => n + l.size!, 0);
    const current = known.reduce((n, l) => n + l.downloaded, 0);
    const extracted = known.reduce((n, l) => n + Math.min(l.extracted, l.size!), 0);
    const done = layers.filter((l) => l.done).length;
    let percent: number;
    if (this.#phase === 'done' || (layers.length > 0 && done === layers.length)) percent = 100;
    else if (!total) percent = 0;
    // Layers whose size is not known yet hold the figure back: their share counts as zero.
    else percent = Math.min(99, Math.floor(((current / total) * 80 + (extracted / total) * 20) * (known.length / Math.max(1, counted.length))));
    return { image: this.image, phase: percent === 100 ? 'done' : this.#phase, layers: { total: layers.length, done }, bytes: { current, total }, percent };
  }
}

/** A pull that failed: the engine's reason, said for people. */
export class PullError extends Error {}

/** The engine's own words, without dockerode's "(HTTP code 500) server error - " prefix. */
export function engineMessage(error: unknown): string {
  const e = error as { json?: { message?: string } | null; message?: string };
  return String(e?.json?.message ?? e?.message ?? error)
    .replace(/^\(HTTP code \d+\)\s*[^-]*-\s*/, '')
    .trim();
}

export async function imagePresent(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw engineError(error);
  }
}

/**
 * Pulls `image`, calling `onProgress` at most every `throttleMs` (and once at the end).
 * A pull that cannot happen (no registry, unknown image, no network) is a PullError
 * saying which image and why.
 */
export async function pullImage(docker: Docker, image: string, onProgress: (p: PullProgress) => void, throttleMs = 250): Promise<void> {
  const aggregator = new PullAggregator(image);
  const fail = (error: unknown) => {
    const mapped = engineError(error);
    if (mapped !== error) return mapped;
    return new PullError(`image ${image} is not on this machine and pulling it failed: ${engineMessage(error)}`);
  };
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.pull(image);
  } catch (error) {
    throw fail(error);
  }
  onProgress(aggregator.progress);
  let last = Date.now();
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(
      stream,
      (error: Error | null) => (error ? reject(fail(error)) : resolve()),
      (event: PullStreamEvent) => {
        if (event.error) return;
        aggregator.add(event);
        if (Date.now() - last >= throttleMs) {
          last = Date.now();
          onProgress(aggregator.progress);
        }
      },
    ),
  );
  const final = aggregator.progress;
  onProgress({ ...final, phase: 'done', percent: 100 });
}
