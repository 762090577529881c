/**
 * @module
 * Every request through a share is logged at the edge once its response has finished:
 * the body is counted as it streams to the visitor and the row is written at its end
 * (or when the visitor goes away), so `bytes` is what was actually sent.
 */

/** Counts a body as the visitor reads it; `done(bytes)` once it ended, broke or was cancelled. Keeps backpressure. */
export function countedBody(source: ReadableStream<Uint8Array>, done: (bytes: number) => void): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let bytes = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done(bytes);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done: end, value } = await reader.read();
          if (end) {
            finish();
            controller.close();
          } else {
            bytes += value.byteLength;
            controller.enqueue(value);
          }
        } catch (error) {
          finish();
          controller.error(error);
        }
      },
      cancel(reason) {
        finish();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Passes a response the edge made itself (refusals, the password page, error pages)
 * through, calling `done(bytes)` once its body has been sent. Those pages are small and
 * fixed: they are measured whole and keep their length. Bodies relayed from the node are
 * counted inside the relay instead (ForwardOptions.wrapBody), before their length is
 * fixed, so no second stream sits in the way of flow control.
 */
export async function counted(response: Response, done: (bytes: number | null) => void): Promise<Response> {
  if (response.status === 101 || response.webSocket) {
    done(null);
    return response;
  }
  if (!response.body) {
    done(0);
    return response;
  }
  if (response.headers.has('x-homeport-error')) {
    const body = await response.arrayBuffer();
    done(body.byteLength);
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }
  return new Response(countedBody(response.body, done), { status: response.status, statusText: response.statusText, headers: response.headers });
}
