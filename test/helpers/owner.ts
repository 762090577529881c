/**
 * @module
 * Becoming the owner with a real credential in end-to-end tests: register the first
 * account (it adopts the paired node) and keep its session cookie. Nobody is the owner
 * because of the address they come from.
 */
import { expect } from 'vitest';
import type { LocalStack } from './stack.ts';

export interface Owner {
  /** the Cookie header value of the owner's dashboard session */
  cookie: string;
  /** headers for a state-changing dashboard request as the owner */
  writeHeaders: Record<string, string>;
}

export async function registerOwner(stack: LocalStack, ip: string, email = 'owner@example.com'): Promise<Owner> {
  const res = await fetch(`${stack.dashboardUrl}/api/auth/register`, {
    method: 'POST',
    headers: { origin: stack.dashboardUrl, 'content-type': 'application/json', 'x-test-client-ip': ip },
    body: JSON.stringify({ email, password: 'a long owner password' }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  expect(cookie).toMatch(/session=/);
  return { cookie, writeHeaders: { cookie, origin: stack.dashboardUrl, 'content-type': 'application/json', 'x-test-client-ip': ip } };
}
