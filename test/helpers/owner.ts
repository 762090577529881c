/** @module The owner of a test stack, with a real credential: the first account registered adopts the node. */
import { expect } from 'vitest';
import type { LocalStack } from '../../scripts/local-stack.ts';

/** Registers the first account from `ip` (not loopback); throws unless the edge made it (201). */
export async function registerOwner(stack: LocalStack, email: string, password: string, ip: string): Promise<void> {
  const registered = await fetch(`${stack.dashboardUrl}/api/auth/register`, {
    method: 'POST',
    headers: { origin: stack.dashboardUrl, 'content-type': 'application/json', 'x-test-client-ip': ip },
    body: JSON.stringify({ email, password }),
  });
  if (registered.status !== 201) throw new Error(`registering the owner: ${registered.status} ${await registered.text()}`);
}

export interface Owner {
  /** the Cookie header value of the owner's dashboard session */
  cookie: string;
  /** headers for a state-changing dashboard request as the owner */
  writeHeaders: Record<string, string>;
}

/** Registers the first account from `ip` and returns its session (cookie and write headers). */
export async function ownerSession(stack: LocalStack, ip: string, email = 'owner@example.com'): Promise<Owner> {
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

/** A client from elsewhere: the local edge must not take it for the machine itself. */
export const OWNER_IP = '203.0.113.10';

/** Registers the stack's first account and returns an `hpt_` API token of the owner. */
export async function ownerToken(stack: LocalStack, scopes = ['read', 'write']): Promise<string> {
  const headers = { origin: stack.dashboardUrl, 'content-type': 'application/json', 'x-test-client-ip': OWNER_IP };
  const registered = await fetch(`${stack.dashboardUrl}/api/auth/register`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ email: 'owner@example.com', password: 'a long owner password' }),
  });
  if (registered.status !== 201) throw new Error(`register: ${registered.status} ${await registered.text()}`);
  const session = registered.headers.get('set-cookie')!.split(';')[0];
  const made = await fetch(`${stack.dashboardUrl}/api/tokens`, { method: 'POST', headers: { ...headers, cookie: session }, body: JSON.stringify({ name: 'tests', scopes }) });
  if (made.status !== 201) throw new Error(`token: ${made.status} ${await made.text()}`);
  return ((await made.json()) as { token: string }).token;
}
