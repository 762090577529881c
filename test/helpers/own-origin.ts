/** @module A port's own origin on a test stack's share host: `<port>-<node>.<share host>` (the subdomain form). */
import type { LocalStack } from '../../scripts/local-stack.ts';

/** The Host of `port`'s own origin. */
export const ownHost = (stack: LocalStack, port: number): string => `${port}-${stack.nodeId}.${stack.shareHost}`;

/** The URL of `port`'s own origin, with a trailing slash. */
export const ownUrl = (stack: LocalStack, port: number): string => `http://${ownHost(stack, port)}/`;
