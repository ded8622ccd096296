/**
 * Peak client memory of a DBSKMeans job whose UDM is streamed (issue #13 item 2): a generated
 * n × 8 blobs set (k 4; default n = 1000 and 3000), run through the registry as the app runs it
 * (in-process engine, the local Rory cloud as separate processes: server/processes.ts). The client's ArrayBuffer memory
 * (`process.memoryUsage().arrayBuffers`, where every matrix and ciphertext lives) is sampled every
 * 20 ms; the peak above the level before the job is compared with the bound "1.5 × the largest
 * UDM chunk + the dataset". Each sample forces a garbage collection first (node --expose-gc), so it
 * counts live buffers, not garbage waiting to be collected.
 *   node --expose-gc --import tsx bench/udm-stream.ts [--rows 1000,3000] [--chunks 4]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createInProcessEngine } from '@/lib/engine/in-process';
import { createMemoryKeyStore } from '@/lib/keystore/memory';
import { acknowledgeJob, REGISTRY } from '@/lib/rory/algorithms/registry';
import { matrixId, newJobId } from '@/lib/rory/ids';
import type { JobLogEvent } from '@/lib/rory/kit';
import { createManagerClient } from '@/lib/rory/manager-client';
import { createWorkerClient } from '@/lib/rory/worker-client';
import { splitRows } from '@/lib/storage/e1';
import { MictlanxClient } from '@/lib/storage/mictlanx-client';
import { blobsCsv } from './shared/blobs';
import { parseNumericCsv } from './shared/csv';
import { startServices } from '@/server/processes';

const MB = 1e6;
/** With --expose-gc (as `npm run bench` runs this file), each sample counts live buffers only. */
const gc = (globalThis as { gc?: () => void }).gc;

async function main(rowsList: number[], numChunks: number): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'rory-bench-udm-'));
  const services = await startServices(dataDir, 1);
  const router = new URL(services.routerUrl);
  const engine = createInProcessEngine({ keys: createMemoryKeyStore() });
  try {
    const store = new MictlanxClient({ routers: [{ id: 'mictlanx-router-0', host: '127.0.0.1', port: Number(router.port), protocol: 'http' }], timeoutMs: 600_000 });
    const manager = createManagerClient({ baseUrl: services.managerUrl });
    const liu = (await engine.createLiuKey(128, { label: 'bench' })).id;
    console.log(`udm-stream bench: DBSKMeans, generated blobs n × 8, k 4, ${numChunks} chunks, Liu 128; node ${process.version}`);
    const header = ['n', 'UDM MB', 'largest chunk MB', 'dataset MB', 'bound MB', 'peak MB', 'peak / bound', 'rounds', 'total s', 'UDM put s'];
    const rows: string[][] = [];
    for (const n of rowsList) {
      const data = parseNumericCsv(blobsCsv(n, 8, 4));
      const a = 8;
      const udmBytes = n * n * a * 8;
      const largest = Math.max(...splitRows(n, numChunks)) * n * a * 8;
      const bound = 1.5 * largest + data.data.byteLength;
      const events: JobLogEvent[] = [];
      const live = () => {
        gc?.();
        return process.memoryUsage().arrayBuffers;
      };
      const base = live();
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, live() - base)), 20);
      const t0 = performance.now();
      const jobId = newJobId();
      const outcome = await REGISTRY.DBSKMEANS.run(
        {
          jobId,
          storageId: matrixId('', jobId),
          data,
          params: { k: 4 },
          keys: { liu },
          acknowledgement: acknowledgeJob('DBSKMEANS'),
          numChunks,
          maxIterations: 10,
          workerTimeoutMs: 600_000,
        },
        { store, manager, workerFor: (w) => createWorkerClient({ baseUrl: w.url, timeoutMs: 600_000 }), engine, approve: async () => 'approve-all' as const, onEvent: (e) => events.push(e) },
      );
      const total = performance.now() - t0;
      clearInterval(sampler);
      peak = Math.max(peak, live() - base);
      const udmPut = events.find((e) => e.name === 'PUT' && typeof e.detail?.key === 'string' && e.detail.key.endsWith('encryptedudm'));
      rows.push([
        String(n),
        (udmBytes / MB).toFixed(0),
        (largest / MB).toFixed(0),
        (data.data.byteLength / MB).toFixed(2),
        (bound / MB).toFixed(0),
        (peak / MB).toFixed(0),
        (peak / bound).toFixed(2),
        String(outcome.iterations ?? '-'),
        (total / 1000).toFixed(1),
        ((udmPut?.durationMs ?? 0) / 1000).toFixed(1),
      ]);
      console.log(`  n = ${n}: ${(total / 1000).toFixed(1)} s, peak ${(peak / MB).toFixed(0)} MB of ArrayBuffers above the start`);
    }
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((x, i) => x.padStart(widths[i])).join('  ');
    console.log(line(header));
    for (const r of rows) console.log(line(r));
    if (!gc) console.log('(run with node --expose-gc to count live buffers only: these peaks include garbage)');
    console.log('peak = largest sampled process.memoryUsage().arrayBuffers during the job minus its value before (client only; the cloud runs in its own processes). UDM put s includes its encryption (two passes: hash, then upload).');
  } finally {
    engine.dispose();
    await services.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000,3000' }, chunks: { type: 'string', default: '4' } } });
await main(values.rows.split(',').map(Number), Number(values.chunks));
