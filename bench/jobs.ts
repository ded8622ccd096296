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
import * as ckks from '@/lib/crypto/ckks';
import { matrix, type Matrix } from '@/lib/data/matrix';
import { MictlanxClient } from '@/lib/storage/mictlanx-client';
import { createInlineCrypto } from '@/lib/rory/inline-crypto';
import { matrixId, newJobId } from '@/lib/rory/ids';
import { acknowledge, acknowledgeJob } from '@/lib/rory/leakage';
import { createManagerClient } from '@/lib/rory/manager-client';
import { createWorkerClient } from '@/lib/rory/worker-client';
import { runKmeansJob, type JobLogEvent, type RunnerDeps } from '@/lib/rory/runner';
import { runNncJob, runPlainKmeansJob } from '@/lib/rory/nnc-runner';
import { runClassificationJob } from '@/lib/rory/classify-runner';

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

const KMEANS_FAMILY = ['SKMEANS', 'DBSKMEANS', 'SKMEANS_PQC', 'DBSKMEANS_PQC'] as const;
const ALL = [...KMEANS_FAMILY, 'KMEANS', 'NNC', 'DBSNNC', 'DBSNNC_PQC', 'KNN_PREDICT', 'SKNN_PREDICT', 'SKNN_PQC_PREDICT'] as const;
type BenchAlgorithm = (typeof ALL)[number];

async function main(runs: number, dataset: string, k: number, only: readonly string[]): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--cloud'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const info = await new Promise<CloudInfo>((resolve, reject) => {
    child.once('message', (m) => resolve(m as CloudInfo));
    child.once('exit', (c) => reject(new Error(`cloud exited with ${c}`)));
  });
  const keys = await ckks.generateKeySet(ckks.CKKS_DEFAULT_PARAMS, { relinKeys: true });
  try {
    const data = loadCsv(dataset);
    const [n, a] = data.shape;
    const model = loadCsv('classification-train.csv');
    const modelLabels = loadLabels('classification-train.labels.csv');
    const test = loadCsv('classification-test.csv');
    const store = new MictlanxClient({ routers: [{ id: 'mictlanx-router-0', host: '127.0.0.1', port: info.routerPort, protocol: 'http' }] });
    const manager = createManagerClient({ baseUrl: info.managerUrl });
    const crypto = createInlineCrypto({ ckks: keys });
    const cloudDeps = (events: JobLogEvent[]): RunnerDeps => ({
      store,
      manager,
      workerClientFactory: (w: { url: string }) => createWorkerClient({ baseUrl: w.url }),
      crypto,
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
        const iterations = await runOne(algorithm, { jobId, p, data, k, model, modelLabels, test }, cloudDeps(events));
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
    keys.dispose();
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
}

/** Runs one job of `algorithm`; returns its iteration count when it has one. */
async function runOne(algorithm: BenchAlgorithm, x: BenchInput, d: RunnerDeps): Promise<number | undefined> {
  switch (algorithm) {
    case 'SKMEANS':
    case 'DBSKMEANS':
    case 'SKMEANS_PQC':
    case 'DBSKMEANS_PQC': {
      const ack = algorithm === 'SKMEANS' || algorithm === 'SKMEANS_PQC' ? acknowledge(algorithm) : undefined;
      const r = await runKmeansJob({ algorithm, jobId: x.jobId, matrixId: x.p, data: x.data, k: x.k, acknowledgement: ack }, d);
      return r.iterations;
    }
    case 'KMEANS':
      return (await runPlainKmeansJob({ jobId: x.jobId, matrixId: x.p, data: x.data, k: x.k, acknowledgement: acknowledge('KMEANS') }, d)).iterations;
    case 'NNC':
    case 'DBSNNC':
    case 'DBSNNC_PQC':
      await runNncJob({ algorithm, jobId: x.jobId, matrixId: x.p, data: x.data, acknowledgement: algorithm === 'NNC' ? acknowledge('NNC') : undefined }, d);
      return undefined;
    case 'KNN_PREDICT':
    case 'SKNN_PREDICT':
    case 'SKNN_PQC_PREDICT':
      await runClassificationJob(
        { algorithm, jobId: x.jobId, storageId: x.p, model: x.model, modelLabels: x.modelLabels, test: x.test, acknowledgement: acknowledgeJob(algorithm) },
        d,
      );
      return undefined;
  }
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
