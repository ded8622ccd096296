/**
 * The job worker protocol (issue #13 item 1) against the real local Rory cloud on loopback: the
 * page's JobService (workers/job-client.ts) drives the job worker's API (workers/job-api.ts) over a
 * real MessageChannel (tests/helpers/fake-worker.ts: structured cloning as in the browser), which
 * runs the real JobController with memory stores and the in-process crypto engine.
 *
 * Checked: the page follows jobs only through messages (a created job is in the mirror before
 * `create` resolves; approvals appear and are answered through it); progress reaches the page
 * coalesced; the job store is written at every state change and otherwise at most once a second
 * (not once per progress tick); errors cross as AppErrors; cancelling and removing work; a crashed
 * worker is replaced and its running job shows as interrupted; the budget refuses up front; and the
 * size estimate of a DBSKMeans job matches the bytes it really uploads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Settings } from '@/lib/config';
import { createDatasetRecord, type Dataset, type ParsedDataset } from '@/lib/data/dataset';
import { plainMatrix } from '@/lib/data/matrix';
import { createMemoryDatasetStore } from '@/lib/datasets';
import { createInProcessEngine } from '@/lib/engine/in-process';
import { JobController, PERSIST_INTERVAL_MS } from '@/lib/jobs/controller';
import type { JobsSnapshot } from '@/lib/jobs/live';
import type { JobService } from '@/lib/jobs/service';
import { createMemoryJobStore, type JobStore } from '@/lib/jobs/store';
import type { JobRecord } from '@/lib/jobs/types';
import { createMemoryKeyStore } from '@/lib/keystore';
import { REGISTRY } from '@/lib/rory/algorithms/registry';
import { MictlanxClient } from '@/lib/storage/mictlanx-client';
import type { ObjectStore } from '@/lib/storage/types';
import type { LocalCloud } from '@/server/cloud';
import { createJobWorkerApi } from '@/workers/job-api';
import { createJobService } from '@/workers/job-client';
import { labelsOf, loadCsv } from '../helpers/datasets';
import { startTestCloud, type TestCloud } from '../helpers/cloud-settings';
import { FakeWorker } from '../helpers/fake-worker';

let testCloud: TestCloud;
let cloud: LocalCloud;
let settings: Settings;

beforeAll(async () => {
  testCloud = await startTestCloud('rory-jobworker-');
  ({ cloud, settings } = testCloud);
});
afterAll(async () => {
  await testCloud?.close();
});


/** A job store that counts its writes. */
function countingStore(): JobStore & { writes: { at: number; status: string }[] } {
  const inner = createMemoryJobStore();
  const writes: { at: number; status: string }[] = [];
  return {
    writes,
    list: () => inner.list(),
    get: (id) => inner.get(id),
    put: async (job) => {
      writes.push({ at: Date.now(), status: job.status });
      await inner.put(job);
    },
    update: (id, fn) =>
      inner.update(id, (j) => {
        const next = fn(j);
        writes.push({ at: Date.now(), status: next.status });
        return next;
      }),
    delete: (id) => inner.delete(id),
  };
}

/** An object store that counts the payload bytes each ball uploads. */
function countingObjects(inner: ObjectStore, uploaded: Map<string, number>): ObjectStore {
  const add = (key: string, n: number) => uploaded.set(key, (uploaded.get(key) ?? 0) + n);
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      if (prop === 'putNdarray' || prop === 'putBlob') {
        return (key: string, arr: { data: ArrayBufferView }, opts?: unknown) => (add(key, arr.data.byteLength), v.call(target, key, arr, opts));
      }
      if (prop === 'putNdarrayStream') {
        // A streamed E1 array (the encrypted UDM): float64 of its shape.
        return (key: string, source: { shape: readonly number[] }, opts?: unknown) => (add(key, 8 * source.shape.reduce((p, d) => p * d, 1)), v.call(target, key, source, opts));
      }
      if (prop === 'putBytesList') {
        return (key: string, items: readonly Uint8Array[], opts?: unknown) => (add(key, items.reduce((s, i) => s + i.byteLength, 0)), v.call(target, key, items, opts));
      }
      return v.bind(target);
    },
  });
}

async function setup(opts: { files?: string[]; uploaded?: Map<string, number>; jobs?: ReturnType<typeof countingStore>; budgetMb?: number } = {}) {
  const datasets = createMemoryDatasetStore();
  const ids: Record<string, string> = {};
  for (const file of opts.files ?? ['blobs-100x5-k2.csv']) {
    const m = loadCsv(file);
    const parsed: ParsedDataset = {
      matrix: plainMatrix(m.data, m.shape[0], m.shape[1]),
      rows: m.shape[0],
      cols: m.shape[1],
      sourceFormat: 'csv',
      labels: labelsOf(file.replace('.csv', '.labels.csv')),
    };
    const ds: Dataset = { record: createDatasetRecord(parsed, { name: file }), matrix: parsed.matrix, labels: parsed.labels };
    await datasets.save(ds);
    ids[file] = ds.record.id;
  }
  const keys = createMemoryKeyStore();
  const jobs = opts.jobs ?? countingStore();
  const effective = { ...settings, ...(opts.budgetMb ? { JOB_SIZE_BUDGET_MB: opts.budgetMb } : {}) };
  const mictlanx = () =>
    new MictlanxClient({ routers: [{ id: 'r0', host: '127.0.0.1', port: cloud.routerPort, protocol: 'http' }], bucket: cloud.bucket, maxRetries: 2 });
  const controllers: JobController[] = [];
  const workers: FakeWorker[] = [];
  const open = () => {
    const controller = new JobController({
      jobs,
      datasets,
      keys,
      engine: createInProcessEngine({ keys }),
      settings: () => effective,
      objectStore: opts.uploaded ? () => countingObjects(mictlanx(), opts.uploaded!) : undefined,
    });
    controllers.push(controller);
    return { controller, ready: controller.recoverInterrupted().then(() => undefined) };
  };
  const messages: unknown[] = [];
  const service = createJobService({
    create: () => {
      const w = new FakeWorker((post) => createJobWorkerApi({ open, post: (m) => (messages.push(m), post(m)) }));
      workers.push(w);
      return w as unknown as Worker;
    },
  });
  return { service, jobs, ids, workers, controllers, messages };
}

/** Resolves with the first snapshot that satisfies `pred` (checked on every change). */
function when(service: JobService, pred: (s: JobsSnapshot) => boolean, timeoutMs = 60_000): Promise<JobsSnapshot> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (stop(), reject(new Error('condition not reached'))), timeoutMs);
    const check = () => {
      const s = service.snapshot();
      if (pred(s)) {
        clearTimeout(timer);
        stop();
        resolve(s);
      }
    };
    const stop = service.subscribe(check);
    check();
  });
}

/** Answers every approval the page sees, as a user clicking "Approve" would. */
function approveAll(service: JobService, jobId: string): () => void {
  const answered = new Set<string>();
  return service.subscribe(() => {
    const job = service.snapshot().byId.get(jobId);
    const pending = job?.approvals.find((a) => !a.decision && !answered.has(a.id));
    if (pending && service.snapshot().running.has(jobId)) {
      answered.add(pending.id);
      void service.decide(jobId, pending.id, 'approve').catch(() => undefined);
    }
  });
}

describe('jobs run in the job worker; the page follows them by message', () => {
  it('DBSKMeans: created job in the mirror at once, approvals answered through it, progress coalesced, store written at state changes and at most once a second otherwise', async () => {
    const { service, jobs, ids } = await setup();
    await when(service, (s) => s.status === 'ready');
    const job = await service.create({ algorithm: 'DBSKMEANS', datasetId: ids['blobs-100x5-k2.csv'], params: { k: 2 } });
    // Messages and comlink replies share one ordered channel: the record is already here.
    expect(service.snapshot().byId.get(job.id)?.status).toBe('draft');

    const seen: JobRecord[] = [];
    const stopSeen = service.subscribe(() => {
      const j = service.snapshot().byId.get(job.id);
      if (j && j !== seen[seen.length - 1]) seen.push(j);
    });
    const stopApprove = approveAll(service, job.id);
    jobs.writes.length = 0;
    const t0 = Date.now();
    const done = await service.start(job.id);
    const ms = Date.now() - t0;
    stopApprove();
    stopSeen();

    expect(done.status).toBe('completed');
    expect(done.result?.verified?.ok).toBe(true);
    const final = await when(service, (s) => !s.running.has(job.id) && s.byId.get(job.id)?.status === 'completed');
    // The page's copy is the record as stored.
    expect(final.byId.get(job.id)).toEqual(await jobs.get(job.id));
    // Progress reached the page while it ran (phases, encryption fraction)…
    expect(seen.some((j) => j.status === 'running' && j.progress.phase !== undefined)).toBe(true);
    expect(seen.some((j) => (j.progress.encrypt ?? 0) > 0)).toBe(true);
    expect(seen.some((j) => j.status === 'awaiting-approval')).toBe(true);
    // …and the store was written at each state change (start, each approval asked and answered, the
    // end) plus at most one throttled write per second of run — not once per progress tick.
    const approvals = done.approvals.length;
    expect(approvals).toBeGreaterThan(0);
    const stateWrites = 1 + 2 * approvals + 1;
    expect(jobs.writes.length).toBeGreaterThanOrEqual(stateWrites);
    expect(jobs.writes.length).toBeLessThanOrEqual(stateWrites + Math.ceil(ms / PERSIST_INTERVAL_MS) + 2);
    expect(seen.length).toBeGreaterThan(jobs.writes.length); // the page saw more than the store got
  });

  it('errors cross as AppErrors; the budget refuses before anything is created', async () => {
    const { service, ids, jobs } = await setup({ files: ['blobs-1000x8-k4.csv'], budgetMb: 50 });
    await expect(service.create({ algorithm: 'DBSKMEANS', datasetId: ids['blobs-1000x8-k4.csv'], params: { k: 2000 } })).rejects.toMatchObject({
      name: 'AppError',
      code: 'INVALID_ARGUMENT',
      userMessage: expect.stringMatching(/k must not exceed the number of records \(1000\)/),
    });
    const refused = service.create({ algorithm: 'DBSKMEANS', datasetId: ids['blobs-1000x8-k4.csv'], params: { k: 4 } });
    await expect(refused).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'size' },
      userMessage: expect.stringMatching(/8·n²·a-byte FDHOPE difference matrix \(UDM\): 64 MB for 1 000 × 8.*budget of 50 MB.*Use Private k-means \(CKKS, exact\) instead, which is linear in the number of records: about 32 MB/),
    });
    expect(await jobs.list()).toEqual([]);
    // Private k-means on the same dataset fits.
    const pk = await service.create({ algorithm: 'PKMEANS', datasetId: ids['blobs-1000x8-k4.csv'], params: { k: 4 } });
    expect(pk.status).toBe('draft');
  });

  it('cancel while awaiting approval ends the job as cancelled; remove drops it from the page', async () => {
    const { service, ids } = await setup();
    const job = await service.create({ algorithm: 'DBSKMEANS', datasetId: ids['blobs-100x5-k2.csv'], params: { k: 2 } });
    const ended = service.start(job.id);
    await when(service, (s) => s.byId.get(job.id)?.status === 'awaiting-approval');
    await service.cancel(job.id);
    expect((await ended).status).toBe('cancelled');
    const s = await when(service, (x) => !x.running.has(job.id));
    expect(s.byId.get(job.id)?.status).toBe('cancelled');
    await service.remove(job.id);
    await when(service, (x) => !x.byId.has(job.id));
  });

  it('a crashed job worker is replaced: the job it was running shows as interrupted, as after a reload', async () => {
    const { service, ids, workers } = await setup();
    const job = await service.create({ algorithm: 'DBSKMEANS', datasetId: ids['blobs-100x5-k2.csv'], params: { k: 2 } });
    void service.start(job.id).catch(() => undefined);
    await when(service, (s) => s.byId.get(job.id)?.status === 'awaiting-approval');
    expect(workers[0].crash('out of memory').defaultPrevented).toBe(true);
    const s = await when(service, (x) => x.byId.get(job.id)?.status === 'interrupted');
    expect(workers).toHaveLength(2);
    expect(workers[0].terminated).toBe(true);
    expect(s.byId.get(job.id)?.error?.userMessage).toMatch(/Run again/);
    expect(s.running.has(job.id)).toBe(false);
  });

  it('the size estimate of a DBSKMeans job is what it really uploads (payload bytes)', async () => {
    const uploaded = new Map<string, number>();
    const { service, ids } = await setup({ uploaded });
    const job = await service.create({ algorithm: 'DBSKMEANS', datasetId: ids['blobs-100x5-k2.csv'], params: { k: 2 } });
    const stop = approveAll(service, job.id);
    const done = await service.start(job.id);
    stop();
    expect(done.status).toBe('completed');
    const estimate = REGISTRY.DBSKMEANS.estimate({ rows: 100, cols: 5, k: 2 });
    const [dataset, udm] = estimate.items;
    expect(uploaded.get(`encrypted${job.storageId}`)).toBe(dataset.bytes);
    expect(uploaded.get(`${job.storageId}encryptedudm`)).toBe(udm.bytes);
  });
});
