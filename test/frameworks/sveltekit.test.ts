/**
 * The minimal SvelteKit skeleton (`vite dev`) through every URL form Homeport offers as
 * working: renders, hydrates, hot-updates without a reload.
 */
import { frameworkSuite } from '../helpers/frameworks.ts';

frameworkSuite('sveltekit');
