/**
 * @module
 * Server-Sent Events read with fetch rather than EventSource: the caller resumes with
 * its own `?after=` (the last event it applied, not the last one the browser saw),
 * event names such as `error` would clash with EventSource's own, and a stream that
 * ends (a finished run, stopped containers) should stay ended instead of reconnecting.
 */
import { ApiError } from './api.ts';

export interface SseMessage {
  event: string;
  data: string;
}

/** Reads one stream, calling `onMessage` per message; resolves when the server ends it. */
export async function readSse(url: string, onMessage: (message: SseMessage) => void, signal: AbortSignal): Promise<void> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream' }, signal });
  if (!res.ok || !res.body) {
    const body = await res.json().catch(() => ({}));
    throw new ApiError(res.status, body.error ?? `${res.status} ${res.statusText}`);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const raw of block.split('\n')) {
        const line = raw.replace(/\r$/, '');
        const colon = line.indexOf(':');
        if (colon === 0) continue; // a comment (keep-alive)
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length) onMessage({ event, data: data.join('\n') });
    }
  }
}

/** Follows a stream until `signal` aborts; `untilEnd` says whether a message ends it for good. */
export function followSse(url: () => string, onMessage: (message: SseMessage) => void, options: { signal: AbortSignal; onState?: (state: 'live' | 'reconnecting' | 'ended', error?: string) => void; ended: () => boolean }): Promise<void> {
  const { signal } = options;
  return (async () => {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        options.onState?.('live');
        await readSse(url(), onMessage, signal);
        if (options.ended()) return options.onState?.('ended');
        attempt = 0;
      } catch (error) {
        if (signal.aborted) return;
        // A refusal (unknown task, no such route) will not change by itself.
        if (error instanceof ApiError && error.status >= 400 && error.status < 500) return options.onState?.('ended', error.message);
      }
      options.onState?.('reconnecting');
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
    }
  })();
}
