/** @module The owner of a test stack, with a real credential: the first account registered adopts the node. */
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
