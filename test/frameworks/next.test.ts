/**
 * A stock Next.js app (App Router, a client component, `next dev` with Turbopack, no
 * config) through every URL form Homeport offers as working: renders, hydrates,
 * Fast Refresh keeps the clicked state.
 */
import { frameworkSuite } from '../helpers/frameworks.ts';

frameworkSuite('next');
