/**
 * @module
 * Every request through a share is logged at the edge once its response has finished:
 * the body is counted as it streams to the visitor and the row is written at its end,
 * however it came (sent in full, the visitor gone, the node gone mid-body), so `bytes` is
 * what was actually sent and `outcome` says how it ended.
 */

/** How an answer ended, as the access log shows it (AccessLogEntry.outcome). */
export const COMPLETE = 'complete';
export const aborted = (why: string) => `aborted: ${why}`;

export type LogDone = (bytes: number | null, outcome: string) => void;

/** Counts a body as the visitor reads it; `done` once it ended, broke or was cancelled. Keeps backpressure. */
export function countedBody(source: ReadableStream<Uint8Array>, done: LogDone): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let bytes = 0;
  let finished = false;
  const finish = (outcome: string) => {
    if (finished) return;
    finished = true;
    done(bytes, outcome);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done: end, value } = await reader.read();
          if (end) {
            finish(COMPLETE);
            controller.close();
          } else {
            bytes += value.byteLength;
            controller.enqueue(value);
          }
        } catch (error) {
          // The relay's errors say why in a few words (relay.ts): the node went away, the dev server broke off…
          finish(aborted(error instanceof Error && error.message ? error.message.slice(0, 200) : 'the body broke off'));
          controller.error(error);
        }
      },
      cancel(reason) {
        finish(aborted('visitor disconnected'));
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Passes a response the edge made itself (refusals, the password page, error pages)
 * through, calling `done` once its body has been sent. Those pages are small and fixed:
 * they are measured whole and keep their length. Bodies relayed from the node are
 * counted inside the relay instead (ForwardOptions.wrapBody), before their length is
 * fixed, so no second stream sits in the way of flow control.
 */
export async function counted(response: Response, done: LogDone): Promise<Response> {
  if (response.status === 101 || response.webSocket) {
    done(null, 'websocket');
    return response;
  }
  if (!response.body) {
    done(0, COMPLETE);
    return response;
  }
  if (response.headers.has('x-homeport-error')) {
    const body = await response.arrayBuffer();
    done(body.byteLength, COMPLETE);
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }
  return new Response(countedBody(response.body, done), { status: response.status, statusText: response.statusText, headers: response.headers });
}
