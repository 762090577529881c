/**
 * @module
 * Every request through a share is logged at the edge once its response has finished:
 * the body is counted as it streams to the visitor and the row is written at its end
 * (or when the visitor goes away), so `bytes` is what was actually sent.
 */

/** Passes `response` through, calling `done(bytes)` once its body has ended or was cancelled. */
export function counted(response: Response, done: (bytes: number | null) => void): Response {
  if (response.status === 101 || response.webSocket) {
    done(null);
    return response;
  }
  if (!response.body) {
    done(0);
    return response;
  }
  const reader = response.body.getReader();
  let bytes = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done(bytes);
  };
  let body: ReadableStream<Uint8Array> = new ReadableStream<Uint8Array>(
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
  // A known length stays known (the relay's FixedLengthStream promise to the visitor).
  const length = Number(response.headers.get('content-length'));
  if (response.headers.has('content-length') && Number.isSafeInteger(length) && length >= 0 && !response.headers.has('content-encoding')) {
    const fixed = new FixedLengthStream(length);
    body.pipeTo(fixed.writable).catch(() => {});
    body = fixed.readable;
  }
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
