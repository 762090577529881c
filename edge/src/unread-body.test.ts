import { describe, expect, it } from 'vitest';
import { answerAfterBody } from './unread-body.ts';

const LIMITS = { maxBytes: 1024 * 1024, idleMs: 5_000 };
const bytes = (n: number) => new Uint8Array(n).fill(97);

/** A request body the test feeds by hand, recording whether it was read to its end or cancelled. */
function visitorBody() {
  const events: string[] = [];
  const queue: (Uint8Array | null)[] = [];
  let wake: (() => void) | null = null;
  const push = (item: Uint8Array | null) => {
    queue.push(item);
    wake?.();
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        while (!queue.length) await new Promise<void>((resolve) => (wake = resolve));
        const next = queue.shift()!;
        if (next) return controller.enqueue(next);
        events.push('body read to its end');
        controller.close();
      },
      cancel: () => void events.push('body cancelled'),
    },
    { highWaterMark: 0 },
  );
  return {
    events,
    request: new Request('https://dash.test/upload', { method: 'POST', body: stream }),
    send: (n: number) => push(bytes(n)),
    end: () => push(null),
  };
}

describe('answerAfterBody', () => {
  it('should pass the answer through untouched once the handler read the whole body', async () => {
    const body = visitorBody();
    body.send(10);
    body.end();
    const answer = new Response('ok');
    const got = await answerAfterBody(body.request, async (request) => {
      await request.arrayBuffer();
      return answer;
    }, LIMITS);
    expect(got).toBe(answer);
  });

  it('should read the rest of a body the handler gave up before answering', async () => {
    const body = visitorBody();
    body.send(10);
    const answered = answerAfterBody(body.request, async (request) => {
      const reader = request.body!.getReader();
      await reader.read();
      await reader.cancel();
      // The rest arrives after the handler's refusal.
      body.send(100);
      body.end();
      return new Response('too large', { status: 413 });
    }, LIMITS).then((response) => {
      body.events.push('answered');
      return response;
    });
    expect((await answered).status).toBe(413);
    // Read to its end by the edge before the answer, never cancelled under the visitor.
    expect(body.events).toEqual(['body read to its end', 'answered']);
  });

  it('should hold back the last byte of an answer while the body is still coming', async () => {
    const body = visitorBody();
    body.send(10);
    const response = await answerAfterBody(body.request, async () => new Response('refused early', { status: 401, headers: { 'content-length': '13' } }), LIMITS);
    expect(response.status).toBe(401);
    const reader = response.body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    // Everything but the last byte comes at once…
    while (text.length < 12) text += decoder.decode((await reader.read()).value);
    expect(text).toBe('refused earl');
    // …the last once the visitor's body has ended.
    const rest = reader.read().then((r) => {
      body.events.push('last byte');
      return r;
    });
    body.send(100);
    body.end();
    text += decoder.decode((await rest).value);
    expect(text).toBe('refused early');
    expect(body.events).toEqual(['body read to its end', 'last byte']);
  });

  it('should give up on a visitor that stops sending, and answer anyway', async () => {
    const body = visitorBody();
    body.send(10);
    const response = await answerAfterBody(
      body.request,
      async (request) => {
        await request.body!.cancel();
        return new Response('too large', { status: 413 });
      },
      { ...LIMITS, idleMs: 50 },
    );
    expect(response.status).toBe(413);
    expect(body.events).toEqual(['body cancelled']);
  });
});
