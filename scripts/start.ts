/**
 * @module
 * `npm start`: the edge in local workerd serving the built web app, and a homeportd
 * connected to it through the tunnel. No cloud account; data under .homeport/.
 */
import { startLocalStack } from './local-stack.ts';

const port = Number(process.env.PORT ?? 8787);
process.stdout.write(`Starting Homeport (edge on 127.0.0.1:${port}, data in ${process.env.HOMEPORT_HOME ?? '.homeport/'})…\n`);
const stack = await startLocalStack({ port, dataDir: process.env.HOMEPORT_HOME, verbose: process.env.HOMEPORT_VERBOSE === '1' }).catch((error) => {
  process.stderr.write(`Homeport could not start: ${error.message}\n`);
  process.exit(1);
});

process.stdout.write(`
  Dashboard   ${stack.dashboardUrl}
  Shares      ${stack.shareBaseUrl}/<port>/   (or http://<port>-${stack.nodeId}.${stack.shareHost}/)
  LAN door    http://127.0.0.1:${process.env.HOMEPORT_LAN_PORT ?? 7870}/<port>/

  Start any dev server on a port in 3000-9999; it shows up within 5 s.
  Try: npx homeport list · npx homeport url 3000 · npx homeport status
  Ctrl-C stops everything.
`);

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\nStopping Homeport…\n');
  await stack.stop();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
for (const child of [stack.edge, stack.node])
  child.on('exit', (code) => {
    if (stopping) return;
    process.stderr.write(`A Homeport process exited unexpectedly (code ${code}); stopping.\n`);
    void shutdown();
  });
