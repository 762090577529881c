/**
 * @module
 * Becoming the owner with a real credential, never by coming from loopback: register
 * the first account (it adopts the node the stack paired) and mint an API token.
 */
import type { LocalStack } from './stack.ts';

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
