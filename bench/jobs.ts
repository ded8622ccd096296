/**
 * End-to-end job time on the local Rory cloud (server/cloud.ts) for every algorithm: the k-means
 * family (SKMeans, DBSKMeans, their CKKS variants and the plaintext KMeans) on one dataset
 * (default blobs-1000x8-k4, k = 4), the NNC family (NNC, DBSNNC, DBSNNC-PQC) on the same data,
 * and classification (KNN, SKNN, SKNN-PQC) on the classification split (200 training × 50 test
 * records). Each run's event log is split into client crypto, transfer (client ⇄ MictlanX) and
 * worker time (HTTP wall time of steps 1/2, and the part the worker reports as its own service
 * time), plus the client's CPU time (process.cpuUsage).
 *
 * The cloud runs in a child process so the CPU figure is the client's alone.
 * Run: `npx tsx bench/jobs.ts [runs=1] [dataset=blobs-1000x8-k4.csv] [k=4] [only=ALG,ALG…]`.
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CKKS_DEFAULT_PARAMS } from '@/lib/crypto/ckks';
import { matrix, type Matrix } from '@/lib/data/matrix';
import { createInProcessEngine } from '@/lib/engine/in-process';
import { createMemoryKeyStore } from '@/lib/keystore/memory';
import { MictlanxClient } from '@/lib/storage/mictlanx-client';
import { matrixId, newJobId } from '@/lib/rory/ids';
import { acknowledgeJob, REGISTRY } from '@/lib/rory/algorithms/registry';
import type { JobAlgorithm } from '@/lib/rory/algorithms/ids';
import type { JobLogEvent, RunContext } from '@/lib/rory/kit';
import { createManagerClient } from '@/lib/rory/manager-client';
import { createWorkerClient } from '@/lib/rory/worker-client';

interface CloudInfo {
  readonly routerPort: number;
  readonly managerUrl: string;
}

function loadLabels(name: string): Int32Array {
  return Int32Array.from(readFileSync(new URL(`../../shared/datasets/${name}`, import.meta.url), 'utf8').split('\n').filter(Boolean).map(Number));
}

function loadCsv(name: string): Matrix {
  const text = readFileSync(new URL(`../../shared/datasets/${name}`, import.meta.url), 'utf8');
  const rows = text.split('\n').filter((l) => l.trim() !== '');
  const cols = rows[0].split(',').length;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((l, i) => l.split(',').forEach((c, j) => (data[i * cols + j] = Number(c))));
  return matrix(data, [rows.length, cols]);
}

const CRYPTO = ['SEGMENT.ENCRYPT', 'UDM.GENERATION', 'DM.GENERATION', 'FDHOPE.KEYGEN', 'FDHOPE.ENCRYPT', 'DECRYPT', 'VERIFY'];
const TRANSFER = ['PUT', 'GET'];
const WORKER = ['RUN1', 'RUN2'];

const sum = (events: JobLogEvent[], names: string[]) => events.filter((e) => names.includes(e.name)).reduce((s, e) => s + (e.durationMs ?? 0), 0);
const reported = (events: JobLogEvent[]) =>
  events.filter((e) => WORKER.includes(e.name)).reduce((s, e) => s + (typeof e.detail?.serviceTime === 'number' ? e.detail.serviceTime * 1000 : 0), 0);

const ALL: readonly JobAlgorithm[] = ['SKMEANS', 'DBSKMEANS', 'SKMEANS_PQC', 'DBSKMEANS_PQC', 'KMEANS', 'NNC', 'DBSNNC', 'DBSNNC_PQC', 'KNN_PREDICT', 'SKNN_PREDICT', 'SKNN_PQC_PREDICT'];

async function main(runs: number, dataset: string, k: number, only: readonly string[]): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--cloud'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const info = await new Promise<CloudInfo>((resolve, reject) => {
    child.once('message', (m) => resolve(m as CloudInfo));
    child.once('exit', (c) => reject(new Error(`cloud exited with ${c}`)));
  });
  const keyStore = createMemoryKeyStore();
  const engine = createInProcessEngine({ keys: keyStore });
  const liu = (await engine.createLiuKey(128, { label: 'bench' })).id;
  const ckksKey = (await engine.createCkksKey({ params: CKKS_DEFAULT_PARAMS, relinKeys: true }, { label: 'bench' })).id;
  try {
    const data = loadCsv(dataset);
    const [n, a] = data.shape;
    const model = loadCsv('classification-train.csv');
    const modelLabels = loadLabels('classification-train.labels.csv');
    const test = loadCsv('classification-test.csv');
    const store = new MictlanxClient({ routers: [{ id: 'mictlanx-router-0', host: '127.0.0.1', port: info.routerPort, protocol: 'http' }] });
    const manager = createManagerClient({ baseUrl: info.managerUrl });
    const cloudDeps = (events: JobLogEvent[]): RunContext => ({
      store,
      manager,
      workerFor: (w: { url: string }) => createWorkerClient({ baseUrl: w.url }),
      engine,
      approve: async () => 'approve-all' as const,
      onEvent: (e: JobLogEvent) => events.push(e),
    });
    console.log(
      `jobs bench: clustering on ${dataset} (${n}×${a}, k=${k}, UDM ${((n * n * a * 8) / 1e6).toFixed(0)} MB); classification on the 200×5 / 50×5 split; Liu 128, CKKS default-128 (N=8192); node ${process.version}; ${runs} run(s) each`,
    );
    const header = ['algorithm', 'iter', 'total s', 'crypto s', 'transfer s', 'worker s', '(worker self s)', 'other s', 'client CPU s', 'MB up', 'MB down'];
    const rows: string[][] = [];
    const selected = ALL.filter((x) => only.length === 0 || only.includes(x));
    for (const algorithm of selected) {
      for (let r = 0; r < runs; r++) {
        const events: JobLogEvent[] = [];
        const jobId = newJobId();
        const p = matrixId('bench', jobId);
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const iterations = await runOne(algorithm, { jobId, p, data, k, model, modelLabels, test, keys: { liu, ckks: ckksKey } }, cloudDeps(events));
        const total = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        const c = sum(events, CRYPTO);
        const t = sum(events, TRANSFER);
        const w = sum(events, WORKER);
        const bytes = (...names: string[]) => events.filter((e) => names.includes(e.name)).reduce((s2, e) => s2 + (typeof e.detail?.bytes === 'number' ? e.detail.bytes : 0), 0) / 1e6;
        rows.push([
          algorithm,
          iterations === undefined ? '-' : String(iterations),
          (total / 1000).toFixed(2),
          (c / 1000).toFixed(2),
          (t / 1000).toFixed(2),
          (w / 1000).toFixed(2),
          (reported(events) / 1000).toFixed(2),
          ((total - c - t - w) / 1000).toFixed(2),
          ((cpu.user + cpu.system) / 1e6).toFixed(2),
          bytes('PUT').toFixed(1),
          bytes('GET').toFixed(1),
        ]);
        console.log(`  ${algorithm} run ${r + 1}: ${(total / 1000).toFixed(2)} s`);
      }
    }
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
    console.log(line(header));
    for (const r of rows) console.log(line(r));
    console.log(
      'crypto = Liu/CKKS encrypt/decrypt + UDM/DM + FDHOPE keygen/encrypt + verify; transfer = client puts/gets (MB as logged by the runners; worker-side storage I/O is inside worker time); worker = step 1/2 HTTP time (worker self = its reported service time).',
    );
  } finally {
    engine.dispose();
    child.disconnect();
  }
}

interface BenchInput {
  readonly jobId: string;
  readonly p: string;
  readonly data: Matrix;
  readonly k: number;
  readonly model: Matrix;
  readonly modelLabels: Int32Array;
  readonly test: Matrix;
  readonly keys: { readonly liu: string; readonly ckks: string };
}

/** Runs one job of `algorithm` through the registry, as the app does; returns its iteration count when it has one. */
async function runOne(algorithm: JobAlgorithm, x: BenchInput, ctx: RunContext): Promise<number | undefined> {
  const spec = REGISTRY[algorithm];
  const classify = spec.kind === 'classification';
  const outcome = await spec.run(
    {
      jobId: x.jobId,
      storageId: x.p,
      data: classify ? x.model : x.data,
      labels: classify ? x.modelLabels : undefined,
      test: classify ? x.test : undefined,
      params: { k: x.k, testDatasetId: classify ? 'bench' : undefined },
      keys: x.keys,
      acknowledgement: acknowledgeJob(algorithm),
      numChunks: 4,
      maxIterations: 10,
      workerTimeoutMs: 300_000,
    },
    ctx,
  );
  return outcome.iterations;
}

if (process.argv[2] === '--cloud') {
  // Child: run the cloud until the parent disconnects.
  const { startLocalCloud } = await import('@/server/cloud');
  const dir = await mkdtemp(join(tmpdir(), 'rory-bench-'));
  const cloud = await startLocalCloud({ dataDir: dir, workerPorts: [0, 0] });
  const info: CloudInfo = { routerPort: cloud.routerPort, managerUrl: cloud.managerUrl };
  process.send?.(info);
  process.on('disconnect', async () => {
    await cloud.close();
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  });
} else {
  const [runs = '1', dataset = 'blobs-1000x8-k4.csv', k = '4', only = ''] = process.argv.slice(2);
  await main(Number(runs), dataset, Number(k), only ? only.split(',') : []);
}
