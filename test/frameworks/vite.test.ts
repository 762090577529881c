/**
 * A stock Vite app (index.html + main.js, no config, `vite`) through every URL form
 * Homeport offers as working: renders, hydrates, hot-updates without a reload.
 */
import { frameworkSuite } from '../helpers/frameworks.ts';

frameworkSuite('vite');
