/**
 * The SKMeans/DBSKMeans reducer (lib/rory/algorithms) step by step, then whole jobs through the
 * runner with the in-memory store and the worker core in-process (no sockets): iris and blobs
 * must reproduce ../shared/vectors/kmeans-reference.json exactly (spec/crypto.md §0.1 C1/C2,
 * §7.1), DBSKMeans must find the blobs partition, and the guards must hold (D3, decryption
 * guard, approval denial, abort).
 */
import { describe, expect, it } from 'vitest';
import { matrix, type Matrix } from '@/lib/data/matrix';
import { initialState, kmeansConfig, next, type Effect, type KmeansConfigInput, type KmeansEvent, type KmeansState, type Transition } from '@/lib/rory/algorithms/interactive-kmeans/machine';
import { runKmeansJob, type KmeansJob } from '@/lib/rory/algorithms/interactive-kmeans/runner';
import { acknowledge, REGISTRY } from '@/lib/rory/algorithms/registry';
import type { ApprovalDecision, ApprovalRequest, JobLogEvent, RunContext } from '@/lib/rory/kit';
import { createWorkerClient } from '@/lib/rory/worker-client';
import { MemoryStore } from '../helpers/memory-store';
import { inProcessWorkerFetch, workerRoutes, type CoreRoute } from '../helpers/in-process-worker';
import { testEngine } from '../helpers/engine';
import { kmeansReference, loadCsv } from '../helpers/datasets';
import { rejection } from '../helpers/errors';
import { adjustedRandIndex } from '@/lib/data/metrics';

// ---------------------------------------------------------------------------------------------
// Reducer

type Init = Omit<KmeansConfigInput, 'algorithm'>;
const skmeans = { init: (c: Init) => initialState(kmeansConfig({ ...c, algorithm: 'SKMEANS' })), next };
const dbskmeans = { init: (c: Init) => initialState(kmeansConfig({ ...c, algorithm: 'DBSKMEANS', acknowledged: c.acknowledged ?? true })), next };

function drive(s: KmeansState, ...events: KmeansEvent[]): Transition {
  let t: Transition = { state: s, effects: [] };
  for (const e of events) t = skmeans.next(t.state, e);
  return t;
}

const types = (effects: readonly Effect[]) => effects.map((e) => e.type);

function skState(extra: Partial<Parameters<typeof skmeans.init>[0]> = {}) {
  return skmeans.init({ jobId: 'job1', p: 'P1', n: 6, a: 2, k: 2, acknowledged: true, ...extra });
}

/** Events up to the first step 1 of an SKMeans job with n=6, a=2, m=3. */
const PREP: KmeansEvent[] = [
  { type: 'start' },
  { type: 'matrixEncrypted', shape: [6, 2, 3] },
  { type: 'udmComputed', shape: [6, 6, 2] },
  { type: 'uploaded', key: 'encryptedP1' },
  { type: 'uploaded', key: 'P1udm' },
  { type: 'workerAssigned', workerId: 'w0', url: 'http://w0' },
];
const LABELS = Int32Array.from([0, 0, 0, 1, 1, 1]);
const FETCHED: KmeansEvent = { type: 'shiftFetched', key: 'P1encryptedshiftmatrix', shape: [2, 2, 3], dtype: 'float64', allFinite: true };

describe('SKMeans reducer', () => {
  it('prepares, uploads and calls step 1 with the spec headers', () => {
    let t = skmeans.next(skState(), { type: 'start' });
    expect(types(t.effects)).toEqual(['encryptMatrix']);
    t = skmeans.next(t.state, { type: 'matrixEncrypted', shape: [6, 2, 3] });
    expect(types(t.effects)).toEqual(['computeUdm']);
    t = skmeans.next(t.state, { type: 'udmComputed', shape: [6, 6, 2] });
    expect(t.effects).toEqual([
      { type: 'upload', key: 'encryptedP1', artifact: 'encryptedMatrix', encoding: 'E1', numChunks: 4, tags: { full_shape: '(6, 2, 3)', full_dtype: 'float32' }, release: true },
    ]);
    t = skmeans.next(t.state, { type: 'uploaded', key: 'encryptedP1' });
    expect(t.effects[0]).toMatchObject({ type: 'upload', key: 'P1udm', artifact: 'udm', tags: { full_shape: '(6, 6, 2)' } });
    t = skmeans.next(t.state, { type: 'uploaded', key: 'P1udm' });
    expect(t.effects).toEqual([{ type: 'getWorker', algorithm: 'SKMEANS' }]);
    t = skmeans.next(t.state, { type: 'workerAssigned', workerId: 'w0', url: 'http://w0' });
    expect(t.effects).toHaveLength(1);
    const call = t.effects[0];
    expect(call.type).toBe('callStep1');
    if (call.type !== 'callStep1') return;
    expect(call.path).toBe('/clustering/skmeans');
    expect(call.headers).toMatchObject({ 'Step-Index': '1', 'Clustering-Status': '1', Iterations: '0', K: '2', M: '3', 'Encrypted-Matrix-Shape': '(6, 2, 3)' });
  });

  it('runs a round: fetch, approval, decrypt, upload the shift, step 2, next step 1 in progress', () => {
    let t = drive(skState(), ...PREP, { type: 'step1Done', labels: LABELS, shiftId: 'P1encryptedshiftmatrix' });
    expect(t.effects).toEqual([{ type: 'fetchShift', key: 'P1encryptedshiftmatrix', encoding: 'E1', round: 0 }]);
    t = skmeans.next(t.state, FETCHED);
    expect(t.effects).toHaveLength(1);
    const req = t.effects[0];
    expect(req.type).toBe('requestApproval');
    if (req.type !== 'requestApproval') return;
    expect(req.request).toMatchObject({ jobId: 'job1', round: 1, objectKey: 'P1encryptedshiftmatrix', shape: [2, 2, 3] });
    expect(req.request.purpose).toMatch(/unencrypted/);
    t = skmeans.next(t.state, { type: 'approval', decision: 'approve' });
    expect(t.effects).toEqual([{ type: 'decrypt', objectKey: 'P1encryptedshiftmatrix', expectedShape: [2, 2, 3], round: 0 }]);
    t = skmeans.next(t.state, { type: 'decrypted', maxAbsShift: 0.5 });
    expect(t.effects).toEqual([{ type: 'uploadShift', key: 'P1shiftmatrix', artifact: 'shift', numChunks: 2, round: 0 }]);
    t = skmeans.next(t.state, { type: 'uploaded', key: 'P1shiftmatrix' });
    const s2 = t.effects[0];
    expect(s2.type === 'callStep2' && s2.headers).toMatchObject({ 'Step-Index': '2', 'Clustering-Status': '2', 'Shift-Matrix-Id': 'P1shiftmatrix', 'Is-Zero': '0' });
    t = skmeans.next(t.state, { type: 'step2Done', status: 2 });
    expect(types(t.effects)).toEqual(['log', 'callStep1']);
    const c1 = t.effects[1];
    expect(c1.type === 'callStep1' && c1.headers).toMatchObject({ 'Clustering-Status': '2', Iterations: '1' });
    expect(t.state.round).toBe(1);
    expect(t.state.maxShiftPerRound).toEqual([0.5]);
  });

  it('stops on convergence without uploading the shift, then verifies and finishes', () => {
    let t = drive(skState(), ...PREP, { type: 'step1Done', labels: LABELS, shiftId: 'P1encryptedshiftmatrix' }, FETCHED, { type: 'approval', decision: 'approve' });
    t = skmeans.next(t.state, { type: 'decrypted', maxAbsShift: 1e-9 });
    expect(types(t.effects)).toEqual(['log', 'verify']);
    expect(t.effects[1]).toMatchObject({ objectKey: 'P1centj', expectedShape: [2, 2, 3] });
    t = skmeans.next(t.state, { type: 'verified', maxError: 1e-12 });
    expect(t.effects).toHaveLength(1);
    const done = t.effects[0];
    expect(done.type).toBe('done');
    if (done.type !== 'done') return;
    expect(done.outcome).toMatchObject({ iterations: 1, converged: true, stopReason: 'converged', verification: { ok: true } });
    expect(Array.from(done.outcome.labels)).toEqual(Array.from(LABELS));
    expect(skmeans.next(t.state, { type: 'start' }).effects).toEqual([]);
  });

  it('honours the worker COMPLETED status and the iteration cap (no approval when nothing is sent)', () => {
    let t = drive(skState(), ...PREP, { type: 'step1Done', labels: LABELS, shiftId: 'P1encryptedshiftmatrix' }, FETCHED, { type: 'approval', decision: 'approve' });
    t = drive(t.state, { type: 'decrypted', maxAbsShift: 1 }, { type: 'uploaded', key: 'P1shiftmatrix' }, { type: 'step2Done', status: 0 });
    expect(types(t.effects)).toEqual(['log', 'verify']);
    expect(t.state.stopReason).toBe('workerCompleted');

    let c = drive(skState({ maxIterations: 1 }), ...PREP, { type: 'step1Done', labels: LABELS, shiftId: 'P1encryptedshiftmatrix' });
    c = skmeans.next(c.state, FETCHED);
    expect(types(c.effects)).toEqual(['decrypt']);
    c = skmeans.next(c.state, { type: 'decrypted', maxAbsShift: 1 });
    expect(types(c.effects)).toEqual(['log', 'verify']);
    expect(c.state.stopReason).toBe('maxIterations');
  });

  it('asks once with approve-all', () => {
    let t = drive(skState(), ...PREP, { type: 'step1Done', labels: LABELS, shiftId: 'P1encryptedshiftmatrix' }, FETCHED, { type: 'approval', decision: 'approve-all' });
    t = drive(t.state, { type: 'decrypted', maxAbsShift: 1 }, { type: 'uploaded', key: 'P1shiftmatrix' }, { type: 'step2Done', status: 2 });
    t = drive(t.state, { type: 'step1Done', labels: LABELS, shiftId: 'P1encryptedshiftmatrix' }, FETCHED);
    expect(types(t.effects)).toEqual(['decrypt']);
  });

  it('refuses to decrypt anything but this round\'s (k, a, m) finite float64 shift', () => {
    const at = drive(skState(), ...PREP);
    const wrongId = skmeans.next(at.state, { type: 'step1Done', labels: LABELS, shiftId: 'encryptedP1' });
    expect(wrongId.effects[0]).toMatchObject({ type: 'fail', code: 'DECRYPTION_REFUSED' });
    const fetching = skmeans.next(at.state, { type: 'step1Done', labels: LABELS, shiftId: 'P1encryptedshiftmatrix' }).state;
    for (const bad of [
      { ...FETCHED, shape: [6, 2, 3] },
      { ...FETCHED, allFinite: false },
      { ...FETCHED, dtype: 'float32' },
      { ...FETCHED, key: 'encryptedP1' },
    ] as KmeansEvent[]) {
      const t = skmeans.next(fetching, bad);
      expect(t.effects).toHaveLength(1);
      expect(t.effects[0]).toMatchObject({ type: 'fail', code: 'DECRYPTION_REFUSED' });
      expect(t.state.phase).toBe('failed');
    }
    const short = skmeans.next(at.state, { type: 'step1Done', labels: Int32Array.from([0, 1]), shiftId: 'P1encryptedshiftmatrix' });
    expect(short.effects[0]).toMatchObject({ type: 'fail', code: 'PROTOCOL_VIOLATION' });
  });

  it('stops with APPROVAL_DENIED, ACK_REQUIRED and INVALID_ARGUMENT', () => {
    const denied = drive(skState(), ...PREP, { type: 'step1Done', labels: LABELS, shiftId: 'P1encryptedshiftmatrix' }, FETCHED, { type: 'approval', decision: 'deny' });
    expect(denied.effects).toEqual([expect.objectContaining({ type: 'fail', code: 'APPROVAL_DENIED' })]);
    expect(skmeans.next(skState({ acknowledged: false }), { type: 'start' }).effects[0]).toMatchObject({ type: 'fail', code: 'ACK_REQUIRED' });
    expect(skmeans.next(skState({ k: 7 }), { type: 'start' }).effects[0]).toMatchObject({ type: 'fail', code: 'INVALID_ARGUMENT' });
    expect(skmeans.next(skState(), { type: 'verified', maxError: 0 }).effects[0]).toMatchObject({ type: 'fail', code: 'INTERNAL' });
  });
});

describe('DBSKMeans reducer', () => {
  const init = () => dbskmeans.init({ jobId: 'j', p: 'P1', n: 6, a: 2, k: 2 });
  const prep: KmeansEvent[] = [
    { type: 'start' },
    { type: 'matrixEncrypted', shape: [6, 2, 3] },
    { type: 'udmComputed', shape: [6, 6, 2] },
    { type: 'fdhopeKeyReady' },
    { type: 'udmEncrypted', shape: [6, 6, 2] },
    { type: 'uploaded', key: 'encryptedP1' },
    { type: 'uploaded', key: 'P1encryptedudm' },
    { type: 'workerAssigned', workerId: 'w0', url: 'http://w0' },
  ];

  it('FDHOPE-encrypts the UDM and each shift and echoes the UDM shape', () => {
    let t = dbskmeans.next(init(), { type: 'start' });
    t = dbskmeans.next(t.state, { type: 'matrixEncrypted', shape: [6, 2, 3] });
    t = dbskmeans.next(t.state, { type: 'udmComputed', shape: [6, 6, 2] });
    expect(types(t.effects)).toEqual(['fdhopeKeygen']);
    t = dbskmeans.next(t.state, { type: 'fdhopeKeyReady' });
    expect(t.effects).toEqual([{ type: 'fdhopeEncryptUdm', sens: 1e-8 }]);
    let r = { state: init(), effects: [] } as Transition;
    for (const e of prep) r = dbskmeans.next(r.state, e);
    const c1 = r.effects[0];
    expect(c1.type === 'callStep1' && c1.path).toBe('/clustering/dbskmeans');
    expect(c1.type === 'callStep1' && c1.headers['Encrypted-Udm-Shape']).toBe('(6, 6, 2)');
    for (const e of [{ type: 'step1Done', labels: LABELS, shiftId: 'P1encryptedshiftmatrix' }, FETCHED, { type: 'approval', decision: 'approve' }] as KmeansEvent[]) {
      r = dbskmeans.next(r.state, e);
    }
    expect(r.effects[0].type).toBe('decrypt');
    r = dbskmeans.next(r.state, { type: 'decrypted', maxAbsShift: 0.3 });
    expect(r.effects).toEqual([{ type: 'fdhopeEncryptShift', sens: 1e-5, round: 0 }]);
    r = dbskmeans.next(r.state, { type: 'shiftEncrypted' });
    expect(r.effects[0]).toMatchObject({ type: 'uploadShift', key: 'P1shiftmatrixope', artifact: 'shiftOpe' });
    r = dbskmeans.next(r.state, { type: 'uploaded', key: 'P1shiftmatrixope' });
    expect(r.effects[0].type === 'callStep2' && r.effects[0].headers['Shift-Matrix-Ope-Id']).toBe('P1shiftmatrixope');
    const bad = dbskmeans.next(r.state, { type: 'step2Done', status: 2, udmShape: [6, 6, 2] });
    expect(bad.effects[0]).toMatchObject({ type: 'fail', code: 'PROTOCOL_VIOLATION' });
    r = dbskmeans.next(r.state, { type: 'step2Done', status: 2, udmShape: [6, 2, 2] });
    const next1 = r.effects[1];
    expect(next1.type === 'callStep1' && next1.headers['Encrypted-Udm-Shape']).toBe('(6, 2, 2)');
  });
});

// ---------------------------------------------------------------------------------------------
// Whole jobs, in-process

interface Harness {
  readonly store: MemoryStore;
  readonly events: JobLogEvent[];
  readonly approvals: ApprovalRequest[];
  /** Number of Liu values (k·a) of each decryption. */
  readonly decrypted: number[];
  readonly deps: RunContext;
  readonly liuKey: string;
}

async function harness(
  opts: { routes?: Record<string, CoreRoute>; approve?: (r: ApprovalRequest) => ApprovalDecision; signal?: AbortSignal; seed?: number } = {},
): Promise<Harness> {
  const store = new MemoryStore();
  const fetchFn = inProcessWorkerFetch(store, opts.routes);
  const t = testEngine({ seed: opts.seed ?? 1 });
  const liuKey = await t.liuKey();
  const decrypted: number[] = [];
  const engine = {
    ...t.engine,
    async liuDecrypt(id: string, c: Float64Array, o?: Parameters<typeof t.engine.liuDecrypt>[2]) {
      const out = await t.engine.liuDecrypt(id, c, o);
      decrypted.push(out.length);
      return out;
    },
  };
  const events: JobLogEvent[] = [];
  const approvals: ApprovalRequest[] = [];
  return {
    store,
    events,
    approvals,
    decrypted,
    liuKey,
    deps: {
      store,
      manager: { getWorker: async () => ({ workerId: 'rory-worker-0', workerPort: 9000, url: 'http://rory-worker-0:9000' }) },
      workerFor: (a) => createWorkerClient({ baseUrl: a.url, fetch: fetchFn }),
      engine,
      approve: async (r) => {
        approvals.push(r);
        return opts.approve ? opts.approve(r) : 'approve';
      },
      onEvent: (e) => events.push(e),
      signal: opts.signal,
    },
  };
}

function job(h: Harness, algorithm: 'SKMEANS' | 'DBSKMEANS', data: Matrix, k: number, extra: Partial<KmeansJob> = {}): KmeansJob {
  return {
    algorithm,
    jobId: 'jobtest1',
    matrixId: 'datajobtest1',
    data,
    k,
    keys: { liu: h.liuKey },
    acknowledgement: algorithm === 'SKMEANS' ? acknowledge('SKMEANS') : undefined,
    ...extra,
  };
}


const reference = kmeansReference();

describe('SKMeans job, in-process worker', () => {
  it('reproduces the iris reference exactly: 10 assignments, not converged', async () => {
    const ref = reference['iris.csv'];
    const h = await harness();
    const r = await runKmeansJob(job(h, 'SKMEANS', loadCsv('iris.csv'), 3), h.deps);
    expect(Array.from(r.labels)).toEqual(ref.labels);
    expect(r.iterations).toBe(10);
    expect(r.converged).toBe(false);
    expect(r.stopReason).toBe('maxIterations');
    expect(r.verification.ok).toBe(true);
    r.centroids.data.forEach((v, i) => expect(Math.abs(v - ref.final_centroids.flat()[i])).toBeLessThan(1e-9));
    r.maxShiftPerRound.forEach((v, i) => expect(v).toBeCloseTo(ref.max_abs_shift_per_iteration[i], 9));
    // Rounds 1–9 send a shift (approved); round 10's stays local.
    expect(h.approvals.map((a) => a.round)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(h.decrypted).toEqual(Array(11).fill(3 * 4));
    const names = new Set(h.events.map((e) => e.name));
    for (const n of ['LOCAL.READ', 'SEGMENT.ENCRYPT', 'UDM.GENERATION', 'PUT', 'GET.WORKER', 'RUN1', 'DECRYPT', 'ITERATION.COMPLETED', 'COMPLETED']) {
      expect(names.has(n), n).toBe(true);
    }
    expect(h.events.filter((e) => e.name === 'RUN1')).toHaveLength(10);
    expect(h.events.filter((e) => e.name === 'RUN2')).toHaveLength(9);
    expect(h.store.entries.get('datajobtest1udm')?.value).toMatchObject({ shape: [150, 3, 4] });
  });

  it('reproduces the blobs reference: converges after 3 assignments', async () => {
    const ref = reference['blobs-100x5-k2.csv'];
    const h = await harness({ approve: () => 'approve-all' });
    const r = await runKmeansJob(job(h, 'SKMEANS', loadCsv('blobs-100x5-k2.csv'), 2), h.deps);
    expect(Array.from(r.labels)).toEqual(ref.labels);
    expect(r.iterations).toBe(3);
    expect(r.converged).toBe(true);
    expect(r.verification.ok).toBe(true);
    expect(h.approvals).toHaveLength(1);
    // The job's objects can be removed afterwards (upstream never collects them).
    expect([...h.store.entries.keys()].sort()).toEqual(REGISTRY.SKMEANS.objectKeys('datajobtest1').sort());
    let deleted = 0;
    for (const key of REGISTRY.SKMEANS.objectKeys('datajobtest1')) deleted += await h.store.deleteBall(key);
    expect(deleted).toBe(6);
    expect(h.store.entries.size).toBe(0);
  });

  it('refuses to start without the D3 acknowledgement and uploads nothing', async () => {
    const h = await harness();
    const e = await rejection(runKmeansJob(job(h, 'SKMEANS', loadCsv('blobs-100x5-k2.csv'), 2, { acknowledgement: undefined }), h.deps));
    expect(e.code).toBe('ACK_REQUIRED');
    expect(h.store.ops).toEqual([]);
    const wrong = await rejection(
      runKmeansJob(job(h, 'SKMEANS', loadCsv('blobs-100x5-k2.csv'), 2, { acknowledgement: { algorithm: 'SKMEANS', objects: ['{P}udm'] } }), h.deps),
    );
    expect(wrong.code).toBe('ACK_REQUIRED');
  });

  it('stops cleanly with APPROVAL_DENIED and never uploads a shift', async () => {
    const h = await harness({ approve: () => 'deny' });
    const e = await rejection(runKmeansJob(job(h, 'SKMEANS', loadCsv('iris.csv'), 3), h.deps));
    expect(e.code).toBe('APPROVAL_DENIED');
    expect(h.decrypted).toEqual([]);
    expect(h.store.entries.has('datajobtest1shiftmatrix')).toBe(false);
    expect(h.events.at(-1)?.name).toBe('FAILED');
  });

  it('aborts with ABORTED', async () => {
    const ac = new AbortController();
    const h = await harness({
      signal: ac.signal,
      approve: (r) => {
        if (r.round === 2) ac.abort();
        return 'approve';
      },
    });
    const e = await rejection(runKmeansJob(job(h, 'SKMEANS', loadCsv('iris.csv'), 3), h.deps));
    expect(e.code).toBe('ABORTED');
  });
});

describe('DBSKMeans job, in-process worker', () => {
  it('finds the blobs partition (ARI 1) without any plaintext upload', async () => {
    const ref = reference['blobs-100x5-k2.csv'];
    const h = await harness({ approve: () => 'approve-all' });
    const r = await runKmeansJob(job(h, 'DBSKMEANS', loadCsv('blobs-100x5-k2.csv'), 2), h.deps);
    expect(adjustedRandIndex(r.labels, ref.labels)).toBe(1);
    expect(r.verification.ok).toBe(true);
    expect(h.store.entries.has('datajobtest1udm')).toBe(false);
    expect(h.store.entries.has('datajobtest1shiftmatrix')).toBe(false);
    expect(h.store.entries.get('datajobtest1encryptedudm')?.value).toMatchObject({ shape: [100, 2, 5] });
  });
});

describe('lying workers', () => {
  /** A worker whose step 1 runs normally, then replaces the shift with `tamper(shift)`. */
  function tampering(store: MemoryStore, tamper: (m: Matrix) => Matrix | undefined, shiftId?: string): Record<string, CoreRoute> {
    const skmeansRoute = workerRoutes(store).get('/clustering/skmeans')!;
    return {
      '/clustering/skmeans': async (hdr) => {
        const reply = await skmeansRoute(hdr);
        if (hdr('Step-Index') !== '1' || reply.status !== 200) return reply;
        const p = hdr('Plaintext-Matrix-Id') as string;
        const nd = await store.getNdarray(`${p}encryptedshiftmatrix`);
        const bad = tamper(matrix(nd.data as Float64Array, nd.shape));
        if (bad) await store.putNdarray(`${p}encryptedshiftmatrix`, { dtype: 'float64', shape: bad.shape, data: bad.data });
        if (shiftId) return { ...reply, body: { ...(reply.body as object), encrypted_shift_matrix_id: shiftId } };
        return reply;
      },
    };
  }

  const cases: [string, (m: Matrix) => Matrix | undefined, string?][] = [
    ['a shift with the wrong shape', (m) => matrix(m.data.slice(0, m.data.length - m.shape[2]), [m.shape[0] * m.shape[1] - 1, 1, m.shape[2]])],
    [
      'a shift with non-finite values',
      (m) => {
        const d = m.data.slice();
        d[1] = Number.NaN;
        return matrix(d, m.shape);
      },
    ],
    ['the encrypted dataset instead of the shift', () => undefined, 'encrypteddatajobtest1'],
  ];

  for (const [what, tamper, id] of cases) {
    it(`refuses to decrypt ${what}`, async () => {
      const h0 = await harness();
      const h = await harness({ routes: tampering(h0.store, tamper, id) });
      const deps: RunContext = { ...h.deps, store: h0.store };
      const e = await rejection(runKmeansJob(job(h, 'SKMEANS', loadCsv('blobs-100x5-k2.csv'), 2, { keys: { liu: h.liuKey } }), deps));
      expect(e.code).toBe('DECRYPTION_REFUSED');
      expect(h.decrypted).toEqual([]);
      expect(h.approvals).toEqual([]);
      expect(h0.store.entries.has('datajobtest1shiftmatrix')).toBe(false);
    });
  }
});
