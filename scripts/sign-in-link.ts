/**
 * @module
 * `npm run sign-in-link`: a new one-time sign-in link for the local edge that `npm start`
 * runs, made with the local owner's key in the data dir (whoever can read that 0600 file
 * is the owner; nobody is by address).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT, signInLinkOf } from './local-stack.ts';

const dataDir = resolve(process.env.HOMEPORT_HOME ?? join(ROOT, '.homeport'));
const keyPath = join(dataDir, 'local-owner.key');
const envPath = join(dataDir, 'edge.env');
if (!existsSync(keyPath) || !existsSync(envPath)) {
  process.stderr.write(`No local Homeport in ${dataDir}: run \`npm start\` first.\n`);
  process.exit(1);
}
const dashboardHost = /^DASHBOARD_HOST=(.+)$/m.exec(readFileSync(envPath, 'utf8'))?.[1]?.trim() ?? 'localhost:8787';
const port = dashboardHost.split(':')[1] ?? '8787';
try {
  const link = await signInLinkOf(`http://127.0.0.1:${port}`, dashboardHost, readFileSync(keyPath, 'utf8').trim());
  process.stdout.write(`${link}\n(works once, for 12 hours)\n`);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\nIs \`npm start\` running?\n`);
  process.exit(1);
}
