import { SELF } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { bytesOf } from '../fake-node.ts';
import { signatureOf } from './signature.ts';

vi.setConfig({ testTimeout: 15_000 });

// The value edge/vitest.config.ts gives the Worker.
const SECRET = 'test-github-webhook-secret';
let ip = 0;

/** A correctly signed delivery, as GitHub sends it. */
async function deliver(event: string, payload: unknown) {
  const raw = JSON.stringify(payload);
  const res = await SELF.fetch('https://dash.test/webhooks/github', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': crypto.randomUUID(),
      'x-hub-signature-256': await signatureOf(SECRET, bytesOf(raw)),
      'cf-connecting-ip': `198.51.100.${200 + ++ip}`,
    },
    body: raw,
  });
  return { status: res.status, body: (await res.json()) as { error?: string; note?: string } };
}

describe('attack: GitHub event names the edge did not expect', () => {
  // Homeport uses issues and issue_comment; every other event GitHub sends must still get a
  // 2xx once signed, or GitHub marks the hook failing. Some names carry digits.
  it.each(['projects_v2_item', 'projects_v2', 'projects_v2_status_update', 'push', 'pull_request_review_thread', 'security_and_analysis', 'merge_group'])(
    'should answer a signed "%s" delivery with 2xx (ignored)',
    async (event) => {
      const res = await deliver(event, { action: 'edited', sender: { login: 'octocat' }, repository: { full_name: 'octo/repo' } });
      expect([res.status, res.body.error]).toEqual([202, undefined]);
      expect(res.body.note).toMatch(/is not used/);
    },
  );

  it.each(['Push', 'issues;drop', 'a'.repeat(51), '9lives', 'issues-comment'])('should still refuse a malformed event name %j with 400', async (event) => {
    expect((await deliver(event, { action: 'x' })).status).toBe(400);
  });
});
