/**
 * KNN and SKNN on the real local cloud (spec/protocol.md §1.2, §5.8, §5.9): predictions on the
 * classification split equal plaintext 1-NN with Manhattan distance.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nearestNeighbourManhattan } from '@/lib/data/kmeans';
import type { ClassifyJob } from '@/lib/rory/algorithms/classification';
import { runKnnJob } from '@/lib/rory/algorithms/knn/runner';
import { acknowledgeJob } from '@/lib/rory/algorithms/registry';
import { runSknnJob } from '@/lib/rory/algorithms/sknn/runner';
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

/** Runs a classification job as the registry does, by its predict algorithm. */
function runClassificationJob(j: ClassifyJob & { algorithm: 'SKNN_PREDICT' | 'KNN_PREDICT' }, ctx: RunContext) {
  const { algorithm, ...job } = j;
  return algorithm === 'SKNN_PREDICT' ? runSknnJob({ ...job, keys: { liu } }, ctx) : runKnnJob(job, ctx);
}
let approvals: string[];

const labels = async (name: string) =>
  Int32Array.from((await readFile(new URL(`../../../shared/datasets/${name}`, import.meta.url), 'utf8')).split('\n').filter(Boolean).map(Number));

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'rory-cls-'));
  cloud = await startLocalCloud({ dataDir });
  const router = new URL(cloud.routerUrl);
  approvals = [];
  const t = testEngine();
  liu = await t.liuKey();
  deps = {
    store: new MictlanxClient({ routers: [{ id: 'r0', host: router.hostname, port: Number(router.port), protocol: 'http' }], bucket: 'rory', maxRetries: 1 }),
    manager: createManagerClient({ baseUrl: cloud.managerUrl }),
    workerFor: (a) => createWorkerClient({ baseUrl: a.url }),
    engine: t.engine,
    approve: async (req) => (approvals.push(req.objectKey), 'approve'),
  };
});
afterAll(async () => {
  await cloud?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('classification on the local cloud', async () => {
  const model = loadCsv('classification-train.csv');
  const test = loadCsv('classification-test.csv');
  const modelLabels = await labels('classification-train.labels.csv');
  const testLabels = await labels('classification-test.labels.csv');
  const ref = nearestNeighbourManhattan(model, modelLabels, test);

  it('SKNN refuses to start without the acknowledgement of its plaintext uploads (labels, indices)', async () => {
    await expect(runClassificationJob({ algorithm: 'SKNN_PREDICT', jobId: 'j', storageId: 'clsnoack', model, modelLabels, test }, deps)).rejects.toMatchObject({ code: 'ACK_REQUIRED' });
  });

  it('SKNN predictions equal plaintext 1-NN (Manhattan); one approval for the distances', async () => {
    const r = await runClassificationJob({ algorithm: 'SKNN_PREDICT', jobId: 'j', storageId: 'clssknn', model, modelLabels, test, acknowledgement: acknowledgeJob('SKNN_PREDICT') }, deps);
    expect(approvals).toEqual(['distancesclssknntest']);
    expect(Array.from(r.indices!)).toEqual(Array.from(ref.indices));
    expect(Array.from(r.labels)).toEqual(Array.from(ref.labels));
    const acc = r.labels.reduce((s, l, i) => s + (l === testLabels[i] ? 1 : 0), 0) / testLabels.length;
    console.log(`SKNN accuracy on the classification split: ${(acc * 100).toFixed(1)} %`);
    expect(acc).toBeGreaterThan(0.8);
  });

  it('KNN (plaintext baseline) equals plaintext 1-NN', async () => {
    const r = await runClassificationJob({ algorithm: 'KNN_PREDICT', jobId: 'j', storageId: 'clsknn', model, modelLabels, test, acknowledgement: acknowledgeJob('KNN_PREDICT') }, deps);
    expect(Array.from(r.labels)).toEqual(Array.from(ref.labels));
  });

  it('a denied approval stops SKNN before anything derived from the distances is sent', async () => {
    const denyDeps = { ...deps, approve: async () => 'deny' as const };
    await expect(runClassificationJob({ algorithm: 'SKNN_PREDICT', jobId: 'j', storageId: 'clsdeny', model, modelLabels, test, acknowledgement: acknowledgeJob('SKNN_PREDICT') }, denyDeps)).rejects.toMatchObject({ code: 'APPROVAL_DENIED' });
    expect(await deps.store.exists('distancesindexclsdenytest')).toBe(false);
  });
});
