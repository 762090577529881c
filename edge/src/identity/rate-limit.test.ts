import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { LOGIN_PER_EMAIL, LOGIN_PER_IP, REGISTER_PER_IP } from './rate-limit.ts';

const PASSWORD = 'correct horse battery';

function post(path: string, ip: string, body: unknown) {
  return SELF.fetch(`https://dash.test${path}`, {
    method: 'POST',
    headers: { 'x-test-client-ip': ip, origin: 'https://dash.test', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function expectTooMany(res: Response, message: string) {
  expect(res.status).toBe(429);
  expect(res.headers.get('content-type')).toContain('application/json');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  const { error } = (await res.json()) as { error: string };
  expect(error).toContain(message);
  expect(error).toMatch(/try again in \d+ (seconds|minutes)/);
  // Nothing in the answer tells whether the account exists.
  expect(res.headers.get('set-cookie')).toBeNull();
  return retryAfter;
}

describe('sign-in rate limits', () => {
  it('should answer 429 with Retry-After once one address has used up its sign-in attempts', async () => {
    const ip = '192.0.2.10';
    for (let i = 0; i < LOGIN_PER_IP.limit; i++) expect((await post('/api/auth/login', ip, { email: `guess${i}@example.com`, password: 'not it at all' })).status).toBe(401);
    const retryAfter = await expectTooMany(await post('/api/auth/login', ip, { email: 'another@example.com', password: 'not it at all' }), 'sign-in attempts from your address');
    expect(retryAfter).toBeLessThanOrEqual(LOGIN_PER_IP.windowMs / 1000);
    // Even a malformed body is refused before it is read.
    expect((await post('/api/auth/login', ip, 'nope')).status).toBe(429);
    // Another address is not affected.
    expect((await post('/api/auth/login', '192.0.2.11', { email: 'another@example.com', password: 'not it at all' })).status).toBe(401);
  });

  it('should limit attempts per account across addresses, the right password included, and count emails case-blind', async () => {
    const owner = await post('/api/auth/register', '192.0.2.20', { email: 'target@example.com', password: PASSWORD });
    expect([201, 202]).toContain(owner.status);
    for (let i = 0; i < LOGIN_PER_EMAIL.limit; i++)
      expect((await post('/api/auth/login', `192.0.2.${100 + i}`, { email: i % 2 ? 'TARGET@example.com' : 'target@example.com', password: 'wrong password' })).status).toBe(401);
    await expectTooMany(await post('/api/auth/login', '192.0.2.99', { email: 'target@example.com', password: PASSWORD }), 'sign-in attempts for this account');
    // Other accounts still sign in from the same addresses.
    expect((await post('/api/auth/login', '192.0.2.100', { email: 'someone-else@example.com', password: 'wrong password' })).status).toBe(401);
  });

  it('should limit new accounts per address', async () => {
    const ip = '192.0.2.30';
    for (let i = 0; i < REGISTER_PER_IP.limit; i++) expect([201, 202]).toContain((await post('/api/auth/register', ip, { email: `new${i}@example.com`, password: PASSWORD })).status);
    await expectTooMany(await post('/api/auth/register', ip, { email: 'one-more@example.com', password: PASSWORD }), 'new accounts from your address');
    expect((await post('/api/auth/register', '192.0.2.31', { email: 'one-more@example.com', password: PASSWORD })).status).toBe(202);
  });
});
