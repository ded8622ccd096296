/**
 * Jobs in Chromium (issue #13 item 5): the built app (out/, served as `npm start` serves it, with
 * its CSP) against the local Rory cloud on loopback, driven through the UI like a user — add the
 * datasets, create each job in the jobs form, acknowledge when asked, press Run — with every
 * decryption approval clicked as soon as its card appears. Per job:
 * - total time excluding approval waits: the job record's STARTED → end, minus the time each
 *   approval waited for its decision (requestedAt → decidedAt, from the record in IndexedDB);
 *   "keygen" is the part spent generating keys for the job (KEYGEN events; the first CKKS job makes
 *   the CKKS key set);
 * - main-thread long tasks (PerformanceObserver 'longtask', installed before any page script by
 *   addInitScript) between pressing Run and the end: how many, and the longest;
 * - MB up and down between the browser and the cloud: the bytes on the wire to and from the MictlanX
 *   router (the app reaches the router through a counting TCP relay here, so every byte of every
 *   request from the page and its workers is counted, HTTP headers included), plus the request and
 *   response sizes of the calls to the manager and workers (as Chromium reports them; small).
 *
 * Jobs: every clustering algorithm on blobs-1000x8-k4 (k 4), the classification algorithms on the
 * 200 × 5 / 50 × 5 split, and private k-means on a generated 10 000 × 8 blobs set (k 4).
 * Needs a built export (`npm run build`) and Debian Chromium (same flags as the e2e harness).
 * `--detail` also prints, per job, each long task (when, after pressing Run, and what the page showed),
 * the job's timed events summed by name, and the bytes the job's own event log counts for its PUTs
 * and GETs (a cross-check of MB up/down).
 * `--memory` samples, every 100 ms, the live ArrayBuffers of the page and every worker (CDP
 * `Runtime.getHeapUsage` backing stores: where matrices, ciphertexts and chunk bodies live) and the
 * memory of every Chromium process (PSS of the browser's process tree: also V8 heaps, code, blob
 * storage, network service), and reports each job's peaks above the level when Run was pressed; for
 * DBSKMeans the ArrayBuffer peak is compared with issue #13's bound, 1.5 × the largest UDM chunk +
 * the dataset. `--udm-rows 3000` adds DBSKMeans on a generated 3000 × 8 set.
 * `--trace` records a Chromium trace from Run to the end and prints, for each main-thread task over
 * 50 ms, what ran in it (script, style and layout, paint, GC, messages), as nested events of 2 ms+;
 * with RORY_TRACE_DIR set, each job's trace is saved there (`<ALGORITHM>.json`, for DevTools).
 *   npx tsx bench/jobs-browser.ts [--only PKMEANS,DBSKMEANS] [--workers 2] [--no-big] [--detail] [--memory] [--trace] [--udm-rows 3000]
 */
import { existsSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page, type Request } from 'playwright-core';
import type { JobRecord } from '@/lib/jobs/types';
import type { JobAlgorithm } from '@/lib/rory/algorithms/ids';
import { appOrigins, startLocalCloud } from '@/server/cloud';
import { startStaticServer } from '@/server/static';
import { CHROMIUM_FLAGS, cloudConfig } from '../tests/e2e/chromium';
import { blobsCsv } from './shared/blobs';
import { attachIsolates, type Isolates } from './shared/isolates';
import { findProcess, treePss } from './shared/proc-memory';
import { longTaskOutlines, startTrace, type TracedTask } from './shared/trace';
import { splitRows } from '@/lib/storage/e1';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    workers: { type: 'string', default: '2' },
    'no-big': { type: 'boolean', default: false },
    detail: { type: 'boolean', default: false },
    memory: { type: 'boolean', default: false },
    trace: { type: 'boolean', default: false },
    'udm-rows': { type: 'string' },
  },
});

const OUT = process.env.RORY_OUT ?? join(process.cwd(), 'out');
const SHARED = join(process.cwd(), '..', 'shared', 'datasets');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BIG = { file: 'blobs-10000x8-k4.csv', rows: 10_000, cols: 8 };

interface Scenario {
  readonly algorithm: JobAlgorithm;
  /** Option label pattern of the (training) dataset. */
  readonly dataset: RegExp;
  readonly datasetName: string;
  readonly k?: number;
  readonly test?: RegExp;
  /** A generated n × 8 blobs set (k 4) instead of a shared dataset file. */
  readonly rows?: number;
}

const BLOBS = { dataset: /^blobs-1000x8-k4/, datasetName: 'blobs-1000x8-k4 (1000 × 8)', k: 4 };
const SPLIT = { dataset: /^classification-train/, datasetName: 'classification 200 × 5 / 50 × 5', test: /^classification-test/ };
const SCENARIOS: Scenario[] = [
  ...(['PKMEANS', 'DBSKMEANS', 'SKMEANS', 'DBSKMEANS_PQC', 'SKMEANS_PQC', 'KMEANS', 'DBSNNC', 'DBSNNC_PQC', 'NNC'] as const).map((algorithm) => ({
    algorithm,
    ...BLOBS,
    k: algorithm.includes('NNC') ? undefined : 4,
  })),
  ...(['SKNN_PREDICT', 'SKNN_PQC_PREDICT', 'KNN_PREDICT'] as const).map((algorithm) => ({ algorithm, ...SPLIT })),
  ...(args['no-big'] ? [] : [{ algorithm: 'PKMEANS' as const, dataset: /^blobs-10000x8-k4/, datasetName: 'generated blobs 10 000 × 8', k: 4 }]),
  ...(args['udm-rows'] ? [{ algorithm: 'DBSKMEANS' as const, dataset: new RegExp(`^blobs-${Number(args['udm-rows'])}x8-k4`), datasetName: `generated blobs ${args['udm-rows']} × 8`, k: 4, rows: Number(args['udm-rows']) }] : []),
];

interface Row {
  readonly algorithm: string;
  readonly dataset: string;
  readonly status: string;
  readonly totalS: number;
  readonly approvalWaitS: number;
  readonly keygenS: number;
  readonly approvals: number;
  readonly longTasks: number;
  readonly longestMs: number;
  readonly mbUp: number;
  readonly mbDown: number;
  /** --memory: peak PSS of Chromium's processes above the level at Run, MB. */
  readonly peakMb?: number;
  /** --memory: peak of the live ArrayBuffers of the page and its workers above the level at Run, MB. */
  readonly buffersMb?: number;
  /** --memory, DBSKMeans: 1.5 × the largest UDM chunk + the dataset, MB. */
  readonly boundMb?: number;
  /** --detail: long tasks (ms after Run, duration, the status shown) and the event log's MB. */
  readonly detail: { tasks: { at: number; ms: number; shown: string }[]; logMbUp: number; logMbDown: number; eventSeconds: [string, number][] };
  /** --trace: what ran in each main-thread task over 50 ms. */
  readonly traced?: readonly TracedTask[];
}

async function addDataset(page: Page, url: string, path: string, rows: number, cols: number, labels?: string): Promise<void> {
  await page.goto(`${url}/datasets/`);
  await page.getByLabel('Add dataset file').setInputFiles(path);
  await page.getByText(`${rows} × ${cols}`).first().waitFor({ timeout: 120_000 });
  await page.getByRole('button', { name: 'Save dataset' }).click();
  await page.waitForURL(/\/datasets\/\?id=ds/, { timeout: 120_000 });
  if (labels) {
    await page.getByLabel('Attach labels file').setInputFiles(labels);
    await page.getByText(/^Labels attached from/).waitFor();
  }
}

async function pick(page: Page, select: RegExp, pattern: RegExp): Promise<void> {
  const labels = await page.getByLabel(select).locator('option').allTextContents();
  const label = labels.find((l) => pattern.test(l));
  if (!label) throw new Error(`no option matching ${pattern} in ${labels.join(' | ')}`);
  await page.getByLabel(select).selectOption({ label });
}

async function createJob(page: Page, url: string, s: Scenario): Promise<string> {
  await page.goto(`${url}/jobs/`);
  await page.getByLabel(/^Dataset/).locator('option').first().waitFor({ state: 'attached' });
  await pick(page, /^Dataset/, s.dataset);
  await page.getByLabel('Algorithm').selectOption(s.algorithm);
  if (s.test) await pick(page, /^Test dataset/, s.test);
  if (s.k !== undefined) await page.getByLabel('Clusters (k)').fill(String(s.k));
  await page.getByRole('button', { name: 'Create job' }).click();
  await page.getByRole('button', { name: 'Run', exact: true }).waitFor({ timeout: 60_000 });
  return new URL(page.url()).searchParams.get('id')!;
}

/** The job's record as the job worker persisted it (IndexedDB `rory-jobs`/`jobs`, idb-keyval). */
function readJob(page: Page, id: string): Promise<JobRecord> {
  return page.evaluate(
    (jobId) =>
      new Promise<JobRecord>((resolve, reject) => {
        const open = indexedDB.open('rory-jobs');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const get = db.transaction('jobs').objectStore('jobs').get(jobId);
          get.onsuccess = () => {
            db.close();
            resolve(get.result as JobRecord);
          };
          get.onerror = () => reject(get.error);
        };
      }),
    id,
  );
}

const TERMINAL = ['completed', 'failed', 'denied', 'cancelled', 'interrupted'];

/** Clicks Approve as soon as an approval card shows, until the job ends. */
async function approveUntilDone(page: Page, timeoutMs = 1_800_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const approve = page.getByRole('region', { name: 'Decryption approval' }).getByRole('button', { name: 'Approve', exact: true });
  const badge = page.getByTestId('job-status');
  for (;;) {
    const s = await badge.getAttribute('data-status');
    if (s && TERMINAL.includes(s)) return s;
    if (Date.now() > deadline) throw new Error(`job still ${s} after ${timeoutMs} ms`);
    if (await approve.isVisible().catch(() => false)) await approve.click({ timeout: 2_000 }).catch(() => undefined);
    else await page.waitForTimeout(20);
  }
}

/** A TCP relay to `port` that counts the bytes each way (the app's only way to the router here). */
async function countingRelay(port: number): Promise<{ port: number; up: number; down: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const counts = { up: 0, down: 0 };
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const sock of [client, upstream]) {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
      sock.on('error', () => (client.destroy(), upstream.destroy()));
    }
    client.on('data', (d: Buffer) => (counts.up += d.length));
    upstream.on('data', (d: Buffer) => (counts.down += d.length));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get up() {
      return counts.up;
    },
    get down() {
      return counts.down;
    },
    close: () => {
      for (const sock of sockets) sock.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type Relay = Awaited<ReturnType<typeof countingRelay>>;

/** Issue #13's memory bound for DBSKMeans on n × a: 1.5 × the largest UDM chunk (4 chunks) + the dataset. */
const udmBound = (n: number, a: number) => 1.5 * Math.max(...splitRows(n, 4)) * n * a * 8 + n * a * 8;

async function runScenario(page: Page, url: string, s: Scenario, relay: Relay, cloudOrigins: readonly string[], memory: { pid: number; isolates: Isolates } | undefined): Promise<Row> {
  const id = await createJob(page, url, s);
  const ack = page.getByRole('checkbox');
  if ((await ack.count()) > 0 && !(await ack.first().isDisabled())) await ack.first().check();
  // Manager and worker calls (small: headers and JSON), as Chromium reports their sizes.
  let up = 0;
  let down = 0;
  const pending: Promise<void>[] = [];
  const onFinished = (r: Request) => {
    if (!cloudOrigins.some((o) => r.url().startsWith(o))) return;
    pending.push(
      (async () => {
        const sizes = await r.sizes();
        up += sizes.requestHeadersSize + sizes.requestBodySize;
        down += sizes.responseHeadersSize + sizes.responseBodySize;
      })().catch(() => undefined),
    );
  };
  const relayBefore = { up: relay.up, down: relay.down };
  page.on('requestfinished', onFinished);
  const buffers = async () => (await memory!.isolates.heapUsage()).reduce((sum, u) => sum + u.backingStorageSize, 0);
  const base = memory ? { pss: treePss(memory.pid), buffers: await buffers() } : { pss: 0, buffers: 0 };
  let peak = 0;
  let buffersPeak = 0;
  let sampling = false;
  const sampler = memory
    ? setInterval(() => {
        peak = Math.max(peak, treePss(memory.pid) - base.pss);
        if (sampling) return;
        sampling = true;
        void buffers().then((b) => ((buffersPeak = Math.max(buffersPeak, b - base.buffers)), (sampling = false)));
      }, 100)
    : undefined;
  const tracing = args.trace ? await page.context().newCDPSession(page) : undefined;
  const stopTrace = tracing ? await startTrace(tracing) : undefined;
  const t0 = await page.evaluate(() => performance.now());
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const status = await approveUntilDone(page);
  const t1 = await page.evaluate(() => performance.now());
  const events = stopTrace ? await stopTrace() : undefined;
  // RORY_TRACE_DIR keeps each job's trace, to open in DevTools' Performance panel or Perfetto.
  if (events && process.env.RORY_TRACE_DIR) await writeFile(join(process.env.RORY_TRACE_DIR, `${s.algorithm}.json`), JSON.stringify({ traceEvents: events }));
  const traced = events ? longTaskOutlines(events) : undefined;
  await tracing?.detach();
  clearInterval(sampler);
  page.off('requestfinished', onFinished);
  await Promise.all(pending);
  up += relay.up - relayBefore.up;
  down += relay.down - relayBefore.down;
  const tasks = await page.evaluate(
    ([a, b]) => (window as unknown as { __longTasks: { start: number; duration: number; shown: string }[] }).__longTasks.filter((t) => t.start >= a && t.start <= b),
    [t0, t1] as const,
  );
  const job = await readJob(page, id);
  const started = [...job.events].reverse().find((e) => e.name === 'STARTED')?.at ?? job.createdAt;
  const ended = job.events[job.events.length - 1]?.at ?? job.updatedAt;
  const wait = job.approvals.reduce((sum, a) => sum + (a.decidedAt !== undefined ? a.decidedAt - a.requestedAt : 0), 0);
  const keygen = job.events.filter((e) => e.name === 'KEYGEN' && e.at >= started).reduce((sum, e) => sum + (e.durationMs ?? 0), 0);
  const logged = (name: string) =>
    job.events.filter((e) => e.name === name && e.at >= started).reduce((sum, e) => sum + Number(/(?:^| )bytes=(\d+)/.exec(e.detail ?? '')?.[1] ?? 0), 0) / 1e6;
  return {
    algorithm: s.algorithm,
    dataset: s.datasetName,
    status,
    totalS: (ended - started - wait) / 1000,
    approvalWaitS: wait / 1000,
    keygenS: keygen / 1000,
    approvals: job.approvals.length,
    longTasks: tasks.length,
    longestMs: tasks.reduce((m, t) => Math.max(m, t.duration), 0),
    mbUp: up / 1e6,
    mbDown: down / 1e6,
    ...(memory ? { peakMb: peak / 1e6, buffersMb: buffersPeak / 1e6, ...(s.algorithm === 'DBSKMEANS' ? { boundMb: udmBound(s.rows ?? 1000, 8) / 1e6 } : {}) } : {}),
    detail: { tasks: tasks.map((t) => ({ at: t.start - t0, ms: t.duration, shown: t.shown })), logMbUp: logged('PUT'), logMbDown: logged('GET'), eventSeconds: eventSeconds(job, started) },
    ...(traced ? { traced } : {}),
  };
}

/** The job's timed events since its start, summed by name, longest first (they may overlap). */
function eventSeconds(job: JobRecord, started: number): [string, number][] {
  const sums = new Map<string, number>();
  for (const e of job.events) if (e.at >= started && e.durationMs) sums.set(e.name, (sums.get(e.name) ?? 0) + e.durationMs / 1000);
  return [...sums].sort((a, b) => b[1] - a[1]);
}

async function main(): Promise<void> {
  if (!existsSync(join(OUT, 'index.html'))) throw new Error('out/ is missing: run `npm run build` first.');
  const only = args.only?.split(',').map((x) => x.trim().toUpperCase());
  const scenarios = SCENARIOS.filter((s) => !only || only.includes(s.algorithm));
  const dir = await mkdtemp(join(tmpdir(), 'rory-bench-jobs-'));
  const cloud = await startLocalCloud({ dataDir: join(dir, 'cloud') });
  const relay = await countingRelay(cloud.routerPort);
  const relayUrl = `http://127.0.0.1:${relay.port}`;
  const config = cloudConfig({ routerUrl: relayUrl, managerUrl: cloud.managerUrl });
  const server = await startStaticServer({
    root: OUT,
    config: () => ({ settings: { ...(config() as { settings: object }).settings, MAX_WORKERS: Number(args.workers) } }),
    connectSrc: [relayUrl, cloud.managerUrl, ...cloud.workerUrls],
  });
  cloud.allowOrigin(...appOrigins('127.0.0.1', server.port));
  const profile = join(dir, 'profile');
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true, viewport: { width: 1280, height: 900 } });
  await context.addInitScript(() => {
    const w = window as unknown as { __longTasks: { start: number; duration: number; shown: string }[] };
    w.__longTasks = [];
    new PerformanceObserver((list) => {
      // What the page showed when the task ended: the job's status and current step.
      const shown = `${document.querySelector('[data-testid="job-status"]')?.getAttribute('data-status') ?? '-'} ${document.querySelector('[data-testid="job-phase"]')?.textContent ?? ''}`;
      for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, duration: e.duration, shown });
    }).observe({ type: 'longtask', buffered: true });
  });
  const rows: Row[] = [];
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const url = server.url;
    const needs = (re: RegExp) => scenarios.some((s) => s.dataset === re || s.test === re || s.dataset.source === re.source);
    if (needs(BLOBS.dataset)) await addDataset(page, url, join(SHARED, 'blobs-1000x8-k4.csv'), 1000, 8);
    if (needs(SPLIT.dataset)) {
      await addDataset(page, url, join(SHARED, 'classification-train.csv'), 200, 5, join(SHARED, 'classification-train.labels.csv'));
      await addDataset(page, url, join(SHARED, 'classification-test.csv'), 50, 5, join(SHARED, 'classification-test.labels.csv'));
    }
    if (scenarios.some((s) => s.dataset.source.startsWith('^blobs-10000'))) {
      const path = join(dir, BIG.file);
      await writeFile(path, blobsCsv(BIG.rows, BIG.cols, 4));
      await addDataset(page, url, path, BIG.rows, BIG.cols);
    }
    for (const s of scenarios.filter((x) => x.rows !== undefined)) {
      const path = join(dir, `blobs-${s.rows}x8-k4.csv`);
      await writeFile(path, blobsCsv(s.rows!, 8, 4));
      await addDataset(page, url, path, s.rows!, 8);
    }
    const pid = args.memory ? findProcess(profile) : undefined;
    if (args.memory && pid === undefined) throw new Error('--memory: the Chromium browser process was not found in /proc');
    const memory = pid !== undefined ? { pid, isolates: await attachIsolates(await context.newCDPSession(page)) } : undefined;
    const cloudOrigins = [cloud.managerUrl, ...cloud.workerUrls].map((u) => new URL(u).origin);
    for (const s of scenarios) {
      const row = await runScenario(page, url, s, relay, cloudOrigins, memory);
      rows.push(row);
      const mem =
        row.peakMb === undefined
          ? ''
          : `, peaks: ArrayBuffers +${row.buffersMb!.toFixed(0)} MB${row.boundMb === undefined ? '' : ` (bound ${row.boundMb.toFixed(0)} MB)`}, Chromium PSS +${row.peakMb.toFixed(0)} MB`;
      console.log(`${row.algorithm} on ${row.dataset}: ${row.status} in ${row.totalS.toFixed(1)} s, ${row.longTasks} long task(s), longest ${row.longestMs.toFixed(0)} ms${mem}`);
      if (args.detail) {
        for (const t of row.detail.tasks) console.log(`  long task at +${(t.at / 1000).toFixed(2)} s: ${t.ms.toFixed(0)} ms (page showed: ${t.shown.trim()})`);
        console.log(`  event log: PUT ${row.detail.logMbUp.toFixed(1)} MB, GET ${row.detail.logMbDown.toFixed(1)} MB; network: up ${row.mbUp.toFixed(1)} MB, down ${row.mbDown.toFixed(1)} MB`);
        console.log(`  timed events (s, summed by name): ${row.detail.eventSeconds.map(([n, sec]) => `${n} ${sec.toFixed(2)}`).join(', ')}`);
      }
      for (const t of row.traced ?? []) console.log(`  traced main-thread task: ${t.ms.toFixed(0)} ms, ${t.cpuMs.toFixed(0)} ms of it on a core (wall / CPU ms):\n${t.outline}`);
    }
  } finally {
    await context.close();
    await server.close();
    await relay.close();
    await cloud.close();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`\nJobs in Chromium through the UI against the local cloud (MAX_WORKERS ${args.workers}; approvals clicked as they appear)\n`);
  console.table(
    rows.map((r) => ({
      algorithm: r.algorithm,
      dataset: r.dataset,
      status: r.status,
      'total s (excl. approval waits)': r.totalS.toFixed(1),
      'of which keygen s': r.keygenS.toFixed(1),
      approvals: r.approvals,
      'approval wait s': r.approvalWaitS.toFixed(1),
      'long tasks': r.longTasks,
      'longest ms': r.longestMs.toFixed(0),
      'MB up': r.mbUp.toFixed(1),
      'MB down': r.mbDown.toFixed(1),
      ...(r.peakMb === undefined ? {} : { 'ArrayBuffers peak MB': r.buffersMb!.toFixed(0), 'bound MB': r.boundMb?.toFixed(0) ?? '-', 'PSS peak MB': r.peakMb.toFixed(0) }),
    })),
  );
  const over = rows.filter((r) => r.longestMs > 50);
  console.log(
    over.length === 0
      ? 'No main-thread task over 50 ms in any job.'
      : `Main-thread tasks over 50 ms in: ${over.map((r) => `${r.algorithm} (${r.longestMs.toFixed(0)} ms)`).join(', ')}.`,
  );
  if (rows.some((r) => r.status !== 'completed')) process.exitCode = 1;
}

await main();
