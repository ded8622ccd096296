/**
 * DBSNNC and NNC on the real local cloud (spec/protocol.md §5.4, §5.5; spec/crypto.md §7.3, §7.4):
 * labels equal plaintext nearest-neighbour clustering on the distance matrix with the same threshold.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nncLabels } from '@/lib/data/kmeans';
import { defaultThreshold, dm } from '@/lib/data/udm';
import { acknowledge } from '@/lib/rory/algorithms/registry';
import { runDbsnncJob } from '@/lib/rory/algorithms/dbsnnc/runner';
import { runNncJob } from '@/lib/rory/algorithms/nnc/runner';
import type { RunContext } from '@/lib/rory/kit';
import { createManagerClient } from '@/lib/rory/manager-client';
import { createWorkerClient } from '@/lib/rory/worker-client';
import { MictlanxClient } from '@/lib/storage/mictlanx-client';
import { startLocalCloud, type LocalCloud } from '@/server/cloud';
import { loadCsv } from '../helpers/datasets';
import { testEngine } from '../helpers/engine';

let cloud: LocalCloud;
let dataDir: string;
let deps: RunContext;
let liu: string;
let seen: string[];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'rory-nnc-'));
  cloud = await startLocalCloud({ dataDir });
  const router = new URL(cloud.routerUrl);
  seen = [];
  const t = testEngine();
  liu = await t.liuKey();
  deps = {
    store: new MictlanxClient({ routers: [{ id: 'r0', host: router.hostname, port: Number(router.port), protocol: 'http' }], bucket: 'rory', maxRetries: 1 }),
    manager: createManagerClient({ baseUrl: cloud.managerUrl }),
    workerFor: (a) => createWorkerClient({ baseUrl: a.url }),
    engine: t.engine,
    approve: async () => 'deny',
    onEvent: (e) => seen.push(e.name),
  };
});
afterAll(async () => {
  await cloud?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const plain = (file: string, threshold?: number) => {
  const D = loadCsv(file);
  const DM = dm(D);
  const t = threshold ?? defaultThreshold(DM);
  return { D, labels: Array.from(nncLabels(DM, t, { rule: 'global-min' })), t };
};

describe('DBSNNC on the local cloud', () => {
  // Iris distances are sums of one-decimal values, so many are exactly equal. The global-minimum
  // rule breaks such ties by cluster order; FDHOPE noise (sens > 0) breaks them at random instead,
  // so exact equality with the plaintext rule needs sens = 0 there (spec/crypto.md §3.6).
  for (const [file, threshold, sens] of [
    ['blobs-100x5-k2.csv', undefined, undefined],
    ['blobs-100x5-k2.csv', 0.5, undefined],
    ['iris.csv', undefined, 0],
    ['iris.csv', 0.6, 0],
  ] as const) {
    it(`${file}, threshold ${threshold ?? 'automatic'}, sens ${sens ?? 'default'}: equals plaintext NNC on the distance matrix`, async () => {
      const ref = plain(file, threshold);
      const id = `nnc${file.replace(/[^a-z0-9]/gi, '')}${String(threshold ?? 'auto').replace('.', '')}`;
      const r = await runDbsnncJob({ algorithm: 'DBSNNC', keys: { liu }, jobId: 'j', matrixId: id, data: ref.D, threshold, sens }, deps);
      expect(r.threshold).toBe(ref.t);
      expect(Array.from(r.labels)).toEqual(ref.labels);
      expect(r.clusters).toBe(new Set(ref.labels).size);
    });
  }

  it('uploads only ciphertexts: no plaintext dataset or distance matrix objects exist in storage', async () => {
    const D = loadCsv('blobs-100x5-k2.csv');
    await runDbsnncJob({ algorithm: 'DBSNNC', keys: { liu }, jobId: 'j', matrixId: 'nncprivacy', data: D }, deps);
    expect(await deps.store.exists('nncprivacy')).toBe(false);
    expect(await deps.store.exists('nncprivacydm')).toBe(false);
    const edm = await deps.store.getNdarray('nncprivacyencrypteddm');
    const DM = dm(D);
    expect(edm.shape).toEqual([100, 100]);
    // Order is kept (that is what FDHOPE is for), values are not.
    let equal = 0;
    for (let i = 0; i < DM.data.length; i++) if ((edm.data as Float64Array)[i] === DM.data[i] && DM.data[i] !== 0) equal++;
    expect(equal).toBe(0);
  });
});

describe('DBSNNC with FDHOPE noise on tied distances', () => {
  it('iris with the default sens: labels close to the plaintext rule (ARI printed)', async () => {
    const ref = plain('iris.csv', 0.6);
    const r = await runDbsnncJob({ algorithm: 'DBSNNC', keys: { liu }, jobId: 'j', matrixId: 'nncirisnoise', data: ref.D, threshold: 0.6 }, deps);
    const { adjustedRandIndex } = await import('@/lib/data/metrics');
    const ari = adjustedRandIndex(ref.labels, Array.from(r.labels));
    console.log(`DBSNNC iris, threshold 0.6, sens 1e-8: ${r.clusters} clusters (plaintext ${new Set(ref.labels).size}), ARI ${ari.toFixed(3)} vs plaintext NNC`);
    // Observed 0.75–0.90 over runs: ties broken at random change which cluster a record joins.
    expect(ari).toBeGreaterThan(0.6);
  });
});

describe('KMeans (plaintext baseline)', () => {
  it('refuses without the acknowledgement, and with it equals the plaintext k-means reference on iris and blobs', async () => {
    const { runPlainKmeansJob } = await import('@/lib/rory/algorithms/kmeans/runner');
    const { kmeansManhattan } = await import('@/lib/data/kmeans');
    await expect(runPlainKmeansJob({ jobId: 'j', matrixId: 'kmack', data: loadCsv('iris.csv'), k: 3 }, deps)).rejects.toMatchObject({ code: 'ACK_REQUIRED' });
    for (const [file, k] of [['iris.csv', 3], ['blobs-100x5-k2.csv', 2]] as const) {
      const D = loadCsv(file);
      const ref = kmeansManhattan(D, k, { maxIterations: 10 });
      const r = await runPlainKmeansJob({ jobId: 'j', matrixId: `km${k}`, data: D, k, acknowledgement: acknowledge('KMEANS') }, deps);
      expect(Array.from(r.labels)).toEqual(Array.from(ref.labels));
      expect(r.iterations).toBe(ref.iterations);
    }
  });
});

describe('NNC (plaintext baseline)', () => {
  it('refuses to run without the acknowledgement (D3)', async () => {
    await expect(runNncJob({ jobId: 'j', matrixId: 'nncack', data: loadCsv('iris.csv') }, deps)).rejects.toMatchObject({ code: 'ACK_REQUIRED' });
  });

  it('equals plaintext NNC with the acknowledgement', async () => {
    const ref = plain('iris.csv');
    const r = await runNncJob({ jobId: 'j', matrixId: 'nncplain', data: ref.D, acknowledgement: acknowledge('NNC') }, deps);
    expect(Array.from(r.labels)).toEqual(ref.labels);
  });

  it('reports worker errors with upstream status codes: missing header → 500, missing object → 503', async () => {
    const w = createWorkerClient({ baseUrl: cloud.workerUrls[0] });
    await expect(w.post('/clustering/dbsnnc', { 'Plaintext-Matrix-Id': 'x' })).rejects.toMatchObject({
      code: 'WORKER_ERROR',
      details: { status: 500, errorMessage: expect.stringContaining('missing header Encrypted-Matrix-Shape') },
    });
    await expect(
      w.post('/clustering/dbsnnc', {
        'Encrypted-Matrix-Shape': '(1, 1, 3)', 'Encrypted-Matrix-Dtype': 'float32', 'Encrypted-Dm-Id': 'nosuchdm', 'Encrypted-Dm-Shape': '(1, 1)',
        'Encrypted-Dm-Dtype': 'float64', 'Encrypted-Threshold': '1.5', 'Num-Chunks': '1',
      }),
    ).rejects.toMatchObject({ code: 'WORKER_ERROR', details: { status: 503 } });
  });
});
