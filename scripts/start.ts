/**
 * @module
 * `npm start`: the edge in local workerd serving the built web app, and a homeportd
 * connected to it through the tunnel. No cloud account; data under .homeport/.
 * Prints a one-time sign-in link: nobody is the owner because they reach this machine.
 * A part that crashes is started again with backoff; Ctrl-C stops everything.
 */
import type { ChildProcess } from 'node:child_process';
import { startLocalStack, type LocalStack } from './local-stack.ts';

const port = Number(process.env.PORT ?? 8787);
process.stdout.write(`Starting Homeport (edge on 127.0.0.1:${port}, data in ${process.env.HOMEPORT_HOME ?? '.homeport/'})…\n`);
const stack = await startLocalStack({ port, dataDir: process.env.HOMEPORT_HOME, verbose: process.env.HOMEPORT_VERBOSE === '1' }).catch((error) => {
  process.stderr.write(`Homeport could not start: ${error.message}\n`);
  process.exit(1);
});
const link = await stack.signInLink();

process.stdout.write(`
  Sign in     ${link}
              (works once; \`npm run sign-in-link\` prints another)
  Dashboard   ${stack.dashboardUrl}
  Shares      http://<port>-${stack.nodeId}.${stack.shareHost}/   (each port its own origin)
  LAN door    http://<port>.localhost:${process.env.HOMEPORT_LAN_PORT ?? 7870}/   (\`npx homeport url <port> --lan\` adds the key)

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

/**
 * Keeps one part running: when it exits on its own, it is started again after a
 * backoff that doubles from 1 s to 30 s (and resets after a minute of running), and the
 * terminal says so. A part that cannot start again is retried the same way.
 */
function supervise(name: string, child: () => ChildProcess, start: () => Promise<void>, stop: () => Promise<void>) {
  let delay = 1000;
  let startedAt = Date.now();
  const watch = (proc: ChildProcess) =>
    proc.once('exit', (code, signal) => {
      if (stopping) return;
      if (Date.now() - startedAt > 60_000) delay = 1000;
      process.stderr.write(`homeport: the ${name} exited unexpectedly (${signal ?? `code ${code}`}); starting it again in ${delay / 1000} s\n`);
      setTimeout(restart, delay);
      delay = Math.min(delay * 2, 30_000);
    });
  async function restart() {
    if (stopping) return;
    startedAt = Date.now();
    try {
      await start();
      process.stderr.write(`homeport: the ${name} is running again\n`);
      watch(child());
    } catch (error) {
      await stop(); // what half-started must not linger beside the next try
      process.stderr.write(`homeport: the ${name} did not start: ${(error as Error).message.split('\n')[0]}; trying again in ${delay / 1000} s\n`);
      setTimeout(restart, delay);
      delay = Math.min(delay * 2, 30_000);
    }
  }
  watch(child());
}

supervise('edge', () => stack.edge, () => stack.startEdge(), () => stack.stopEdge());
supervise('home node (homeportd)', () => stack.node, () => stack.startNode(), () => stack.stopNode());

export type { LocalStack };
