/** @module Free ports for test servers (one implementation, shared with the benchmark). */
export { freePort } from '../../scripts/ports.ts';
