/**
 * End-to-end job time on the local Rory cloud (server/cloud.ts) for SKMeans and DBSKMeans on
 * blobs-1000x8-k4 (k = 4), split from the runner's event log into client crypto, transfer
 * (client ⇄ MictlanX) and worker time (HTTP wall time of steps 1/2, and the part the worker
 * reports as its own service time), plus the client's CPU time (process.cpuUsage).
 *
 * The cloud runs in a child process so the CPU figure is the client's alone.
 * Run: `npx tsx bench/jobs.ts [runs=1]`.
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { matrix, type Matrix } from '@/lib/data/matrix';
import { MictlanxClient } from '@/lib/storage/mictlanx-client';
import { createInlineCrypto } from '@/lib/rory/inline-crypto';
import { matrixId, newJobId } from '@/lib/rory/ids';
import { acknowledge } from '@/lib/rory/leakage';
import { createManagerClient } from '@/lib/rory/manager-client';
import { createWorkerClient } from '@/lib/rory/worker-client';
import { runKmeansJob, type JobLogEvent } from '@/lib/rory/runner';

interface CloudInfo {
  readonly routerPort: number;
  readonly managerUrl: string;
}

function loadCsv(name: string): Matrix {
  const text = readFileSync(new URL(`../../shared/datasets/${name}`, import.meta.url), 'utf8');
  const rows = text.split('\n').filter((l) => l.trim() !== '');
  const cols = rows[0].split(',').length;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((l, i) => l.split(',').forEach((c, j) => (data[i * cols + j] = Number(c))));
  return matrix(data, [rows.length, cols]);
}

const CRYPTO = ['SEGMENT.ENCRYPT', 'UDM.GENERATION', 'FDHOPE.KEYGEN', 'FDHOPE.ENCRYPT', 'DECRYPT', 'VERIFY'];
const TRANSFER = ['PUT', 'GET'];
const WORKER = ['RUN1', 'RUN2'];

const sum = (events: JobLogEvent[], names: string[]) => events.filter((e) => names.includes(e.name)).reduce((s, e) => s + (e.durationMs ?? 0), 0);
const reported = (events: JobLogEvent[]) =>
  events.filter((e) => WORKER.includes(e.name)).reduce((s, e) => s + (typeof e.detail?.serviceTime === 'number' ? e.detail.serviceTime * 1000 : 0), 0);

async function main(runs: number): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--cloud'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const info = await new Promise<CloudInfo>((resolve, reject) => {
    child.once('message', (m) => resolve(m as CloudInfo));
    child.once('exit', (c) => reject(new Error(`cloud exited with ${c}`)));
  });
  try {
    const data = loadCsv('blobs-1000x8-k4.csv');
    const store = new MictlanxClient({ routers: [{ id: 'mictlanx-router-0', host: '127.0.0.1', port: info.routerPort, protocol: 'http' }] });
    const manager = createManagerClient({ baseUrl: info.managerUrl });
    const crypto = createInlineCrypto();
    console.log(`jobs bench: blobs-1000x8-k4 (1000×8, k=4, UDM ${((1000 * 1000 * 8 * 8) / 1e6).toFixed(0)} MB), Liu 128, node ${process.version}, ${runs} run(s) each`);
    const header = ['algorithm', 'iter', 'total s', 'crypto s', 'transfer s', 'worker s', '(worker self s)', 'other s', 'client CPU s'];
    const rows: string[][] = [];
    for (const algorithm of ['SKMEANS', 'DBSKMEANS'] as const) {
      for (let r = 0; r < runs; r++) {
        const events: JobLogEvent[] = [];
        const jobId = newJobId();
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const res = await runKmeansJob(
          {
            algorithm,
            jobId,
            matrixId: matrixId('blobs1000', jobId),
            data,
            k: 4,
            acknowledgement: algorithm === 'SKMEANS' ? acknowledge('SKMEANS') : undefined,
          },
          {
            store,
            manager,
            workerClientFactory: (a) => createWorkerClient({ baseUrl: a.url }),
            crypto,
            approve: async () => 'approve-all',
            onEvent: (e) => events.push(e),
          },
        );
        const total = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        const c = sum(events, CRYPTO);
        const t = sum(events, TRANSFER);
        const w = sum(events, WORKER);
        rows.push([
          algorithm,
          String(res.iterations),
          (total / 1000).toFixed(2),
          (c / 1000).toFixed(2),
          (t / 1000).toFixed(2),
          (w / 1000).toFixed(2),
          (reported(events) / 1000).toFixed(2),
          ((total - c - t - w) / 1000).toFixed(2),
          ((cpu.user + cpu.system) / 1e6).toFixed(2),
        ]);
      }
    }
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
    console.log(line(header));
    for (const r of rows) console.log(line(r));
    console.log('crypto = Liu encrypt/decrypt + UDM + FDHOPE keygen/encrypt + verify; transfer = client puts/gets; worker = step 1/2 HTTP time (worker self = its reported service time, incl. its own storage I/O).');
  } finally {
    child.disconnect();
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
  await main(Number(process.argv[2] ?? 1));
}
