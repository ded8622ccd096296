/**
 * Private k-means (PKMEANS, issue #11 item 6) in Node against the local Rory cloud on loopback:
 * blobs-1000x8-k4 (k 4) and a generated 10 000 × 8 blobs set (k 4, bench/shared/blobs.ts), with 1
 * and 2 workers. Per job: total time, client crypto (CKKS encrypt/decrypt of records, masks and
 * distances), worker time (per round the slowest worker's step 1 + step 2, HTTP wall time), client
 * ⇄ MictlanX transfer, D8 verification, MB up and down (as the runner logs them), client CPU, and
 * whether the labels equal plaintext Lloyd from the same start (the first k records).
 * For comparison, the upload of one DBSKMeans-PQC job on the same data (its n²·a UDM) is computed
 * from its size formula. The Chromium figures (same jobs through the UI, long tasks) come from
 * `bench/jobs-browser.ts --only PKMEANS --workers 1|2`.
 *
 * The cloud runs as separate processes (router, manager, W workers: server/service.ts, as compose
 * runs it), so the workers compute in parallel and the CPU figure is the client's.
 *   npx tsx bench/pkmeans.ts [--runs 1] [--no-big] [--max-iterations 10]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CKKS_DEFAULT_PARAMS } from '@/lib/crypto/ckks';
import type { Matrix } from '@/lib/data/matrix';
import { createInProcessEngine } from '@/lib/engine/in-process';
import { createMemoryKeyStore } from '@/lib/keystore/memory';
import { packingLayout, rotationSteps, normalise, exactDistances, centroidsOf } from '@/lib/rory/algorithms/pkmeans/packing';
import { runPkmeansJob } from '@/lib/rory/algorithms/pkmeans/runner';
import { matrixId, newJobId } from '@/lib/rory/ids';
import type { JobLogEvent, RunContext } from '@/lib/rory/kit';
import { createManagerClient } from '@/lib/rory/manager-client';
import { createWorkerClient } from '@/lib/rory/worker-client';
import { MictlanxClient } from '@/lib/storage/mictlanx-client';
import { blobsCsv } from './shared/blobs';
import { parseNumericCsv } from './shared/csv';
import { startServices } from '@/server/processes';

const CRYPTO = ['SEGMENT.ENCRYPT', 'DECRYPT'];
const TRANSFER = ['PUT', 'GET'];

/** Plaintext Lloyd (squared Euclidean, first minimum on ties, empty cluster keeps its centroid) from the first k records. */
function lloydLabels(m: Matrix, k: number, maxIterations: number): Int32Array {
  const [n, a] = m.shape;
  const norm = normalise(m);
  let means: Float64Array = norm.data.slice(0, k * a);
  let labels: Int32Array | undefined;
  for (let round = 0; round < maxIterations; round++) {
    const d = exactDistances(norm.data, n, a, means, k);
    const next = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (d[i * k + c] < d[i * k + best]) best = c;
      next[i] = best;
    }
    const same = labels !== undefined && next.every((v, i) => v === labels![i]);
    labels = next;
    if (same) break;
    means = centroidsOf(norm.data, n, a, labels, k, means);
  }
  return labels!;
}

const sum = (events: JobLogEvent[], names: string[]) => events.filter((e) => names.includes(e.name)).reduce((s, e) => s + (e.durationMs ?? 0), 0);
const bytes = (events: JobLogEvent[], name: string) => events.filter((e) => e.name === name).reduce((s, e) => s + (typeof e.detail?.bytes === 'number' ? e.detail.bytes : 0), 0);

/** Worker wall time: per round and step, the slowest worker (they run in parallel). */
function workerTime(events: JobLogEvent[]): number {
  const slowest = new Map<string, number>();
  for (const e of events) {
    if (e.name !== 'RUN1' && e.name !== 'RUN2') continue;
    const key = `${e.round}:${e.name}`;
    slowest.set(key, Math.max(slowest.get(key) ?? 0, e.durationMs ?? 0));
  }
  return [...slowest.values()].reduce((s, v) => s + v, 0);
}

async function main(opts: { runs: number; big: boolean; maxIterations: number }): Promise<void> {
  const engine = createInProcessEngine({ keys: createMemoryKeyStore() });
  try {
    const slots = CKKS_DEFAULT_PARAMS.polyModulusDegree / 2;
    const datasets: { name: string; m: Matrix }[] = [
      { name: 'blobs-1000x8-k4', m: parseNumericCsv(await readFile(new URL('../../shared/datasets/blobs-1000x8-k4.csv', import.meta.url), 'utf8')) },
    ];
    if (opts.big) datasets.push({ name: 'generated 10000x8', m: parseNumericCsv(blobsCsv(10_000, 8, 4)) });
    // One key set with the rotation steps of every layout benchmarked (all have 8 columns: stride 8).
    const steps = [...new Set(datasets.flatMap((d) => rotationSteps(packingLayout(d.m.shape[0], d.m.shape[1], slots))))];
    const t0 = performance.now();
    const ckks = (await engine.createCkksKey({ params: CKKS_DEFAULT_PARAMS, relinKeys: true, galoisSteps: steps }, { label: 'bench' })).id;
    const keygenMs = performance.now() - t0;

    console.log(
      `pkmeans bench: CKKS default-128 (N = ${CKKS_DEFAULT_PARAMS.polyModulusDegree}, ${slots} slots), key set with relinearization + ${steps.length} rotation keys made in ${(keygenMs / 1000).toFixed(2)} s (once; its public keys are uploaded by the first job and reused); node ${process.version}; ${opts.runs} run(s) each; max ${opts.maxIterations} rounds`,
    );
    const header = ['dataset', 'k', 'W', 'rounds', 'total s', 'crypto s', 'worker s', 'transfer s', 'verify s', 'client CPU s', 'MB up', 'MB down', 'UDM-PQC MB', 'up/UDM', '= Lloyd'];
    const rows: string[][] = [];
    const references = datasets.map(({ m }) => lloydLabels(m, 4, opts.maxIterations));
    for (const W of [1, 2]) {
      // A cloud of W worker processes (each on its own event loop, as deployed).
      const dataDir = await mkdtemp(join(tmpdir(), 'rory-bench-pk-'));
      const services = await startServices(dataDir, W);
      const router = new URL(services.routerUrl);
      const store = new MictlanxClient({ routers: [{ id: 'mictlanx-router-0', host: router.hostname, port: Number(router.port), protocol: 'http' }] });
      const manager = createManagerClient({ baseUrl: services.managerUrl });
      for (const [d, { name, m }] of datasets.entries()) {
        const [n, a] = m.shape;
        const k = 4;
        const reference = references[d];
        for (let r = 0; r < opts.runs; r++) {
          const events: JobLogEvent[] = [];
          const ctx: RunContext = {
            store,
            manager,
            workerFor: (w) => createWorkerClient({ baseUrl: w.url }),
            engine,
            approve: async () => 'approve-all' as const,
            onEvent: (e) => events.push(e),
          };
          const cpu0 = process.cpuUsage();
          const t = performance.now();
          const res = await runPkmeansJob({ jobId: newJobId(), matrixId: matrixId('', newJobId()), data: m, k, keys: { ckks }, maxIterations: opts.maxIterations, workers: W }, ctx);
          const total = performance.now() - t;
          const cpu = process.cpuUsage(cpu0);
          const up = bytes(events, 'PUT') / 1e6;
          // DBSKMeans-PQC uploads the n²·a UDM as CKKS ciphertexts: at N = 8192 a ciphertext of 4096
          // slots is ~ 8 × its plaintext size in float64, so its upload is at least the plaintext 8·n²·a.
          const udm = (8 * n * n * a) / 1e6;
          rows.push([
            name,
            String(k),
            String(res.workerIds.length),
            String(res.rounds),
            (total / 1000).toFixed(2),
            (sum(events, CRYPTO) / 1000).toFixed(2),
            (workerTime(events) / 1000).toFixed(2),
            (sum(events, TRANSFER) / 1000).toFixed(2),
            (sum(events, ['VERIFY']) / 1000).toFixed(2),
            ((cpu.user + cpu.system) / 1e6).toFixed(2),
            up.toFixed(1),
            (bytes(events, 'GET') / 1e6).toFixed(1),
            `≥ ${udm.toFixed(0)}`,
            `≤ 1/${Math.floor(udm / up)}`,
            res.labels.every((v, i) => v === reference[i]) ? 'yes' : 'NO',
          ]);
          console.log(`  ${name} W=${W} run ${r + 1}: ${(total / 1000).toFixed(2)} s`);
        }
      }
      await services.close();
      await rm(dataDir, { recursive: true, force: true });
    }
    rows.sort((x, y) => x[0].localeCompare(y[0]) || Number(x[2]) - Number(y[2]));
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]) => cells.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
    console.log(line(header));
    for (const row of rows) console.log(line(row));
    console.log(
      'crypto = CKKS encryption of records and masks + decryption of distances; worker = per round the slowest worker’s step 1 + step 2 (HTTP wall time, includes its storage I/O); transfer = client puts/gets; verify = D8 check of every distance; MB up: records and masks (the CKKS public keys, uploaded once per key set, are not counted). UDM-PQC MB: plaintext size of the n²·a matrix DBSKMeans-PQC must upload (its ciphertexts are larger).',
    );
  } finally {
    engine.dispose();
  }
}

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1' }, 'no-big': { type: 'boolean', default: false }, 'max-iterations': { type: 'string', default: '10' } } });
await main({ runs: Number(values.runs), big: !values['no-big'], maxIterations: Number(values['max-iterations']) });
