/**
 * @module
 * `npm run bench`: one run, side by side on loopback, of
 *   (a) direct to a dev server,
 *   (b) homeportd's LAN door,
 *   (c) the edge (wrangler dev / workerd) + tunnel, through a share URL,
 *   (d) a bare pipe: the smallest Worker + Durable Object + WebSocket relay
 *       (bench/bare-pipe/), the platform's floor (latency) and ceiling (throughput),
 * for a small GET at concurrency 1 and 50 (p50 / p99 / requests per second) and a
 * large download (MiB/s). The paths take turns in interleaved blocks, so load from
 * other processes on the machine falls on all of them alike. Prints the tables, the
 * CPU time each process spent, and the goals with a pass/short mark each.
 *
 *   --quick            fewer requests and a 20 MiB download (a smoke run)
 *   --markdown <file>  also write the tables as Markdown
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT, nodeApi, startLocalStack, waitFor, GaveUp, type LocalStack } from '../scripts/local-stack.ts';
import { lanKeyOf } from '../homenode/src/lan-urls.ts';
import { agentFor, get, latencyRun, median, percentile, stale, type Target } from './load.ts';
import { MiB, SMALL_BODY } from './payload.ts';
import { cpuDelta, firstMessage, forkHelper, freePort, groupMembers, killGroup, sampleCpu, wranglerParts, type Meter } from './procs.ts';
import { describeFirstScreen, measureFirstScreen } from './web-first-screen.ts';
import { measureSandboxExec, sandboxRows } from './sandbox-exec.ts';
import { measureTaskFirstEvent, taskRows } from './task-first-event.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const markdownOut = args.includes('--markdown') ? args[args.indexOf('--markdown') + 1] : null;

const plan = quick
  ? { c1: 300, c50: 1000, capMs: 15_000, blocks: 2, downloadBytes: 20 * MiB, downloadRuns: 2, warmup: 100 }
  : { c1: 2000, c50: 5000, capMs: 60_000, blocks: 4, downloadBytes: 100 * MiB, downloadRuns: 3, warmup: 300 };

const children: ChildProcess[] = [];
let stack: LocalStack | null = null;
let tempDir: string | null = null;

async function cleanup() {
  await Promise.all([stack?.stop(), ...children.map((c) => killGroup(c))]);
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    cleanup().finally(() => process.exit(130));
  });

function log(message: string) {
  process.stderr.write(`bench: ${message}\n`);
}

/** The bare pipe's Worker in its own `wrangler dev`. */
async function startBarePipe(port: number, persistTo: string): Promise<{ wrangler: ChildProcess; node: ChildProcess }> {
  const wrangler = spawn(
    join(ROOT, 'node_modules/.bin/wrangler'),
    ['dev', '--config', 'bench/bare-pipe/wrangler.toml', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', persistTo, '--show-interactive-dev-session=false', '--log-level', 'warn', '--inspector-port', '0'],
    { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', FORCE_COLOR: '0' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(wrangler);
  let output = '';
  wrangler.stdout?.on('data', (d) => (output = (output + d).slice(-4000)));
  wrangler.stderr?.on('data', (d) => (output = (output + d).slice(-4000)));
  await waitFor(
    `the bare pipe on port ${port}`,
    async () => {
      if (wrangler.exitCode !== null) throw new GaveUp(`wrangler dev (bare pipe) exited (${wrangler.exitCode}): ${output}`);
      return (await fetch(`http://127.0.0.1:${port}/__ping`)).ok;
    },
    60_000,
  );
  const node = forkHelper('bare-node.ts', [String(port)]);
  children.push(node);
  await firstMessage(node, 'the bare pipe node side');
  return { wrangler, node };
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
function machineCpu(): { busyMs: number; totalMs: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + (fields[4] ?? 0);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busyMs: (total - idle) * 10, totalMs: total * 10 };
}

interface SmallStats {
  p50: number;
  p99: number;
  rps: number;
  n: number;
  errors: number;
  firstError?: string;
  cpu: Map<string, number>;
}

interface DownloadStats {
  runs: number[];
  errors: number;
  firstError?: string;
  cpu: Map<string, number>;
}

function addCpu(into: Map<string, number>, delta: Map<string, number>) {
  for (const [k, v] of delta) into.set(k, (into.get(k) ?? 0) + v);
}

/** Runs `measure` for each target in `rounds` rounds, the order rotated each round. */
async function interleaved<T>(targets: Target[], rounds: number, meters: Meter[], measure: (t: Target, round: number) => Promise<T>): Promise<Map<string, { results: T[]; cpu: Map<string, number> }>> {
  const out = new Map(targets.map((t) => [t.key, { results: [] as T[], cpu: new Map<string, number>() }]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < targets.length; i++) {
      const t = targets[(i + round) % targets.length];
      const before = sampleCpu(meters);
      const result = await measure(t, round);
      addCpu(out.get(t.key)!.cpu, cpuDelta(before, sampleCpu(meters)));
      out.get(t.key)!.results.push(result);
    }
  }
  return out;
}

async function smallScenario(targets: Target[], count: number, concurrency: number, meters: Meter[]): Promise<Map<string, SmallStats>> {
  const perBlock = Math.ceil(count / plan.blocks);
  const raw = await interleaved(targets, plan.blocks, meters, (t) => latencyRun(t, smallPath(t), perBlock, concurrency, plan.capMs / plan.blocks, SMALL_BODY.byteLength));
  const out = new Map<string, SmallStats>();
  for (const [key, { results, cpu }] of raw) {
    const latencies = results.flatMap((r) => r.latencies);
    const wall = results.reduce((a, r) => a + r.wallMs, 0);
    out.set(key, {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      rps: (latencies.length / wall) * 1000,
      n: latencies.length,
      errors: results.reduce((a, r) => a + r.errors, 0),
      firstError: results.find((r) => r.firstError)?.firstError,
      cpu,
    });
  }
  return out;
}

async function downloadScenario(targets: Target[], meters: Meter[]): Promise<Map<string, DownloadStats>> {
  const size = plan.downloadBytes;
  const raw = await interleaved(targets, plan.downloadRuns, meters, async (t) => {
    const query = t.downloadQuery ? `&${t.downloadQuery}` : '';
    try {
      const r = await get(t, `${t.prefix}/100mb?size=${size}${query}`, 300_000);
      if (r.status !== 200 || r.bytes !== size) return { error: `status ${r.status}, ${r.bytes} of ${size} bytes` };
      return { mibps: size / MiB / (r.ms / 1000) };
    } catch (error) {
      return { error: (error as Error).message };
    }
  });
  const out = new Map<string, DownloadStats>();
  for (const [key, { results, cpu }] of raw) {
    out.set(key, {
      runs: results.flatMap((r) => ('mibps' in r ? [r.mibps!] : [])),
      errors: results.filter((r) => 'error' in r).length,
      firstError: results.find((r) => 'error' in r)?.error,
      cpu,
    });
  }
  return out;
}

const smallPath = (t: Target) => `${t.prefix}/small${t.smallQuery ? `?${t.smallQuery}` : ''}`;

// ---------------------------------------------------------------- formatting

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '—');
const int = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—');
const signed = (v: number) => (v >= 0 ? '+' : '') + ms(v);
const mibps = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '—');

function table(header: string[], rows: string[][], markdown: boolean): string {
  if (markdown) {
    const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
    return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const perUnit = (v: number) => (v < 10 ? v.toFixed(1) : String(Math.round(v)));

const PROCESS_ORDER = ['client', 'dev', 'homeportd', 'edge-proxy', 'edge-workerd', 'edge-wrangler', 'bare-proxy', 'bare-workerd', 'bare-wrangler', 'bare-node'];

/**
 * CPU time by process for one measurement: per request (µs) or per MiB (ms). A process
 * that spent under 20 ms in a cell is left blank (idle noise, or not on that path).
 */
function cpuTable(title: string, entries: { label: string; cpu: Map<string, number>; units: number }[], scale: number, markdown: boolean): string {
  const shown = PROCESS_ORDER.filter((p) => entries.some((e) => (e.cpu.get(p) ?? 0) >= 20));
  const rows = entries.map((e) => {
    const cells = shown.map((p) => {
      const spent = e.cpu.get(p) ?? 0;
      return spent >= 20 ? perUnit((spent * scale) / e.units) : '';
    });
    const total = shown.reduce((sum, p) => sum + ((e.cpu.get(p) ?? 0) >= 20 ? e.cpu.get(p)! : 0), 0);
    return [e.label, ...cells, perUnit((total * scale) / e.units)];
  });
  return table([title, ...shown, 'total'], rows, markdown);
}

async function main() {
  const started = Date.now();
  tempDir = mkdtempSync(join(os.tmpdir(), 'homeport-bench-'));
  log(`${quick ? 'quick' : 'full'} run; temp dir ${tempDir}`);

  const dev = forkHelper('dev-server.ts', []);
  children.push(dev);
  const { port: devPort } = await firstMessage<{ port: number }>(dev, 'the dev server');

  const edgePort = await freePort(41000, 44999);
  const lanPort = await freePort(45000, 46999);
  const apiPort = await freePort(47000, 48999);
  const barePort = await freePort(49000, 50999);
  log(`dev server :${devPort}, edge :${edgePort}, LAN door :${lanPort}, bare pipe :${barePort}; starting…`);

  const [localStack, { wrangler: bareWrangler, node: bareNode }] = await Promise.all([
    startLocalStack({
      port: edgePort,
      dataDir: join(tempDir, 'stack'),
      nodeEnv: { HOMEPORT_LAN_PORT: String(lanPort), HOMEPORT_API_PORT: String(apiPort) },
    }),
    startBarePipe(barePort, join(tempDir, 'bare-state')),
  ]);
  stack = localStack;
  // A public share, the URL Homeport gives first (its own origin): visitors need no credential.
  await nodeApi(stack.socketPath, `/api/shares/${devPort}`, 'PUT', { mode: 'public', expiresIn: null });

  const paths: Target[] = [
    { key: 'a', label: '(a) direct to the dev server', port: devPort, host: `127.0.0.1:${devPort}`, prefix: '', agent: agentFor(64) },
    { key: 'b', label: "(b) homeportd's LAN door", port: lanPort, host: `${devPort}.localhost:${lanPort}`, headers: { authorization: `Bearer ${lanKeyOf(stack.dataDir)}` }, prefix: '', agent: agentFor(64) },
    // The port's own origin: the URL Homeport gives first (the path form serves public shares only).
    { key: 'c', label: '(c) edge + tunnel (share URL)', port: edgePort, host: `${devPort}-${stack.nodeId}.${stack.shareHost}`, prefix: '', agent: agentFor(64) },
    { key: 'd', label: '(d) bare pipe (1 MiB frames)', port: barePort, host: `127.0.0.1:${barePort}`, prefix: '', downloadQuery: `frame=${MiB}`, agent: agentFor(64) },
  ];
  const extra: Target[] = [
    { key: 'd3', label: '(d) bare pipe, answered in 3 messages', port: barePort, host: `127.0.0.1:${barePort}`, prefix: '', smallQuery: 'parts=3', smallOnly: true, agent: agentFor(64) },
    { key: 'd256', label: '(d) bare pipe, 256 KiB frames', port: barePort, host: `127.0.0.1:${barePort}`, prefix: '', downloadQuery: `frame=${256 * 1024}`, downloadOnly: true, agent: agentFor(4) },
    { key: 'd64', label: '(d) bare pipe, 64 KiB frames', port: barePort, host: `127.0.0.1:${barePort}`, prefix: '', downloadQuery: `frame=${64 * 1024}`, downloadOnly: true, agent: agentFor(4) },
  ];

  // Every path must answer the same bytes before anything is timed.
  const targets = [...paths, ...extra];
  const smallTargets = targets.filter((t) => !t.downloadOnly);
  const downloadTargets = targets.filter((t) => !t.smallOnly);
  for (const t of targets) {
    if (!t.downloadOnly) {
      const small = await get(t, smallPath(t));
      if (small.status !== 200 || small.bytes !== SMALL_BODY.byteLength) throw new Error(`${t.label}: /small answered ${small.status} with ${small.bytes} bytes`);
    }
    if (t.smallOnly) continue;
    const dl = await get(t, `${t.prefix}/100mb?size=${3 * MiB + 123}${t.downloadQuery ? `&${t.downloadQuery}` : ''}`);
    if (dl.status !== 200 || dl.bytes !== 3 * MiB + 123) throw new Error(`${t.label}: download answered ${dl.status} with ${dl.bytes} bytes`);
  }

  // Who spends the CPU: each process of each part, found by process group.
  const meters: Meter[] = [
    { label: 'dev', pids: () => [dev.pid!] },
    { label: 'homeportd', pids: () => groupMembers(stack!.node.pid!).map((p) => p.pid) },
    ...wranglerParts(stack.edge.pid!, 'edge', edgePort),
    ...wranglerParts(bareWrangler.pid!, 'bare', barePort),
    { label: 'bare-node', pids: () => [bareNode.pid!] },
  ];

  log('warming up…');
  for (const t of smallTargets) {
    await latencyRun(t, smallPath(t), plan.warmup, 1, 20_000, SMALL_BODY.byteLength);
    await latencyRun(t, smallPath(t), plan.warmup * 2, 50, 20_000, SMALL_BODY.byteLength);
  }

  const machineBefore = machineCpu();
  const oursBefore = sampleCpu(meters);
  const measuredFrom = performance.now();
  stale.retries = 0;
  // wrangler dev reloads the edge when its sources change, and the tunnel then reconnects: count it.
  const reconnects = async () => (await nodeApi<{ tunnel: { reconnects: number } }>(stack!.socketPath, '/api/status')).tunnel.reconnects;
  const reconnectsBefore = await reconnects();

  log(`small GET, concurrency 1: ${plan.c1} requests per path, in ${plan.blocks} interleaved blocks…`);
  const c1 = await smallScenario(smallTargets, plan.c1, 1, meters);
  log(`small GET, concurrency 50: ${plan.c50} requests per path…`);
  const c50 = await smallScenario(smallTargets, plan.c50, 50, meters);
  log(`download of ${plan.downloadBytes / MiB} MiB, ${plan.downloadRuns} runs per path…`);
  const dl = await downloadScenario(downloadTargets, meters);

  const measuredMs = performance.now() - measuredFrom;
  const tunnelReconnects = (await reconnects()) - reconnectsBefore;
  const machineAfter = machineCpu();
  const ours = [...cpuDelta(oursBefore, sampleCpu(meters)).values()].reduce((a, b) => a + b, 0);
  const machineBusyCores = (machineAfter.busyMs - machineBefore.busyMs) / measuredMs;
  const otherCores = Math.max(0, machineBusyCores - ours / measuredMs);

  // The web app, after the timed part (Chromium would load the machine during it).
  log('web app: first screen usable…');
  const firstScreen = await measureFirstScreen(stack.dashboardUrl, devPort, await stack.signInLink(), quick ? 3 : 7).catch((error: Error) => error);
  log('agents: sandbox exec overhead…');
  const sandboxTimes = await measureSandboxExec(quick ? 50 : 300, quick ? 3 : 5).catch((error: Error) => error);
  log('agents: task created → first event…');
  const taskTimes = await measureTaskFirstEvent(stack, quick ? 3 : 10).catch((error: Error) => error);

  // ---------------------------------------------------------------- report
  const dlMib = plan.downloadBytes / MiB;
  const dlCell = (s: DownloadStats | undefined) => {
    if (!s || !s.runs.length) return s?.errors ? `failed (${s.firstError})` : '—';
    return `${mibps(Math.max(...s.runs))} (${mibps(median(s.runs))})`;
  };
  const errCell = (s: SmallStats, wanted: number) => (s.errors ? ` [${s.errors} errors: ${s.firstError}]` : '') + (s.n + s.errors < wanted ? ` [capped at ${s.n + s.errors}]` : '');
  const header = ['path', 'c=1 p50 ms', 'c=1 p99 ms', 'c=1 req/s', 'c=50 p50 ms', 'c=50 p99 ms', 'c=50 req/s', `${dlMib} MiB MiB/s best (median)`];
  const rows = (markdown: boolean) => [
    ...targets.map((t) => {
      const a = c1.get(t.key);
      const b = c50.get(t.key);
      const none = markdown ? '' : '·';
      const small = (s: SmallStats | undefined) => (s ? [ms(s.p50), ms(s.p99), int(s.rps)] : [none, none, none]);
      const errors = (a ? errCell(a, plan.c1) : '') + (b ? errCell(b, plan.c50) : '');
      return [t.label + errors, ...small(a), ...small(b), t.smallOnly ? none : dlCell(dl.get(t.key))];
    }),
  ];

  const cpuTables = (markdown: boolean) => [
    cpuTable('CPU µs per request, c=1', smallTargets.map((t) => ({ label: t.label, cpu: c1.get(t.key)!.cpu, units: c1.get(t.key)!.n + c1.get(t.key)!.errors })), 1000, markdown),
    cpuTable('CPU µs per request, c=50', smallTargets.map((t) => ({ label: t.label, cpu: c50.get(t.key)!.cpu, units: c50.get(t.key)!.n + c50.get(t.key)!.errors })), 1000, markdown),
    cpuTable('CPU ms per MiB, download', downloadTargets.map((t) => ({ label: t.label, cpu: dl.get(t.key)!.cpu, units: (dl.get(t.key)!.runs.length || 1) * dlMib })), 1, markdown),
  ];

  // Goals, against the bare pipe.
  const c = c1.get('c')!;
  const d = c1.get('d')!;
  const dBest = Math.max(...[...dl.entries()].filter(([k]) => k.startsWith('d')).flatMap(([, s]) => s.runs));
  const cBest = Math.max(...(dl.get('c')?.runs ?? []));
  const goals = [
    { goal: "(c) p50 within 1.0 ms of (d)'s, concurrency 1", value: c.p50 - d.p50, limit: 1.0, text: `${ms(c.p50)} vs ${ms(d.p50)} ms: ${signed(c.p50 - d.p50)} ms` },
    { goal: "(c) p99 within 3 ms of (d)'s, concurrency 1", value: c.p99 - d.p99, limit: 3.0, text: `${ms(c.p99)} vs ${ms(d.p99)} ms: ${signed(c.p99 - d.p99)} ms` },
    {
      goal: "(c) moves ≥ 80% of (d)'s best throughput",
      value: -(cBest / dBest),
      limit: -0.8,
      text: `${mibps(cBest)} vs ${mibps(dBest)} MiB/s: ${Number.isFinite(cBest / dBest) ? Math.round((cBest / dBest) * 100) : '—'}%`,
    },
    firstScreen instanceof Error
      ? { goal: 'web app: first screen usable in under 500 ms (cold, p50)', value: NaN, limit: 500, text: `not measured: ${firstScreen.message.split('\n')[0]}` }
      : { goal: 'web app: first screen usable in under 500 ms (cold, p50)', value: median(firstScreen.coldMs), limit: 500, text: describeFirstScreen(firstScreen) },
  ].map((g) => ({ ...g, pass: Number.isFinite(g.value) && g.value <= g.limit }));

  const context = [
    `${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), Node ${process.version}, loopback, local workerd (wrangler dev)`,
    `${quick ? 'quick run' : 'full run'}: ${plan.c1} requests at c=1, ${plan.c50} at c=50 (in ${plan.blocks} interleaved blocks per path), ${plan.downloadRuns} downloads of ${dlMib} MiB per path; small body ${SMALL_BODY.byteLength} bytes`,
    `measured for ${(measuredMs / 1000).toFixed(1)} s; the machine was busy ${machineBusyCores.toFixed(2)} cores on average, ${otherCores.toFixed(2)} of them outside this bench; ${stale.retries} requests found their keep-alive connection closed by the server and were retried; the tunnel reconnected ${tunnelReconnects} times`,
  ];

  const render = (markdown: boolean) =>
    [
      markdown ? context.map((l) => `- ${l}`).join('\n') : context.join('\n'),
      '',
      'Latency is from sending the request to the last body byte; req/s counts completed requests over the time they took.',
      '',
      table(header, rows(markdown), markdown),
      '',
      'CPU time by process (the -proxy workerd runs wrangler\'s proxy and inspector workers; -wrangler is wrangler\'s own Node process and esbuild); cells under 20 ms in total left blank:',
      '',
      ...cpuTables(markdown).flatMap((t) => [t, '']),
      'Agents (Docker engine on this machine, busybox test image; a tool call is one exec in the task\'s running container):',
      '',
      sandboxTimes instanceof Error ? `  not measured: ${sandboxTimes.message.split('\n')[0]}` : table(['agents', 'p50 ms', 'p99 ms', 'runs'], sandboxRows(sandboxTimes), markdown),
      '',
      'Agent tasks (fake Anthropic answering at once with one short text; times from POST /api/tasks on homeportd):',
      '',
      taskTimes instanceof Error ? `  not measured: ${taskTimes.message.split('\n')[0]}` : table(['task', 'p50 ms', 'p99 ms', 'runs'], taskRows(taskTimes), markdown),
      '',
      markdown ? 'Goals:' : 'Goals (against the bare pipe):',
      '',
      ...goals.map((g) => `${markdown ? '- ' : '  '}${g.pass ? 'pass ' : 'short'}  ${g.goal}: ${g.text}`),
    ].join('\n');

  process.stdout.write('\n' + render(false) + '\n');
  if (markdownOut) writeFileSync(markdownOut, render(true) + '\n');
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main()
  .catch((error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
