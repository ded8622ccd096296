/**
 * @module rory/classify-runner
 * The Data Owner side of classification (spec/protocol.md §1.2, §5.8, §5.9; spec/crypto.md §7.9,
 * §7.12). A job trains (uploads) and predicts:
 *
 * - **SKNN**: upload `{M}labels` in plaintext (1 chunk), `encrypted{M}` and `encrypted{R}` (Liu);
 *   step 1 → the worker stores `distances{R}` (t×n×m); the app decrypts it — only that object,
 *   with that shape and finite values, after the user's approval — takes the argmin per test
 *   record and uploads the indices `distancesindex{R}` (int64 (t, 1)); step 2 → labels. 1-NN.
 * - **SKNN-PQC**: the same two steps on CKKS ciphertexts, packed `R = ⌊slots / a⌋` model records
 *   per ciphertext (docs/protocol-additions.md §4): `encrypted{M}` and `encrypted{R}` are E4, the
 *   worker returns `(x − M_b)²` per test record and block, the app decrypts (approved, guarded),
 *   sums each group of a slots (squared Euclidean distance), takes the argmin and uploads
 *   `distancesindex{R}` as int64 (1, t). The worker gets only the CKKS public objects (D4).
 * - **KNN** (plaintext baseline): upload `{M}`, `{M}labels` and `{R}` unencrypted.
 * Both upload plaintext-derived data, so a job needs the acknowledgement of both phases (D3).
 */
import { AppError } from '../errors';
import { matrix, pythonShape, type Matrix } from '../data/matrix';
import type { NdArray, ObjectStore } from '../storage/types';
import { ENCRYPTED_MATRIX_DTYPE, FLOAT64, H } from './headers';
import { assertMatrixId } from './ids';
import { assertJobAcknowledged, type LeakageAcknowledgement } from './leakage';
import { CKKS_KEYS_ID_HEADER, uploadCkksPublicKeys } from './ckks-custody';
import type { ManagerClient, WorkerAssignment } from './manager-client';
import { looksLikeCiphertexts, type JobLogEvent, type RunnerCrypto } from './runner';
import { byteSum } from './nnc-runner';
import type { ApprovalDecision, ApprovalRequest } from './algorithms/interactive-kmeans';
import { WORKER_TIMEOUT_MS, type WorkerClient, type WorkerReply } from './worker-client';

export type ClassifyAlgorithm = 'KNN_PREDICT' | 'SKNN_PREDICT' | 'SKNN_PQC_PREDICT';

/** Our header: model records packed per CKKS ciphertext (docs/protocol-additions.md §4). */
export const CKKS_ROWS_PER_CIPHERTEXT = 'Ckks-Rows-Per-Ciphertext';

export interface ClassifyJob {
  readonly algorithm: ClassifyAlgorithm;
  readonly jobId: string;
  /** Job storage id; the model is `{id}model`, the test records `{id}test`. */
  readonly storageId: string;
  readonly model: Matrix;
  readonly modelLabels: ArrayLike<number>;
  readonly test: Matrix;
  readonly numChunks?: number;
  readonly acknowledgement?: LeakageAcknowledgement;
  readonly workerTimeoutMs?: number;
}

export interface ClassifyDeps {
  readonly store: ObjectStore;
  readonly manager: Pick<ManagerClient, 'getWorker'>;
  readonly workerClientFactory: (a: WorkerAssignment) => WorkerClient;
  readonly crypto: Pick<RunnerCrypto, 'liuEncryptMatrix' | 'liuDecryptTensor' | 'ckks'>;
  readonly approve: (request: ApprovalRequest) => Promise<ApprovalDecision>;
  readonly onEvent?: (e: JobLogEvent) => void;
  readonly signal?: AbortSignal;
}

export interface ClassifyResult {
  readonly labels: Int32Array;
  /** SKNN: the nearest model record of each test record (what the worker learned). */
  readonly indices?: Int32Array;
  readonly workerId: string;
  readonly totalMs: number;
}

export async function runClassificationJob(job: ClassifyJob, deps: ClassifyDeps): Promise<ClassifyResult> {
  assertJobAcknowledged(job.algorithm, job.acknowledgement);
  const modelId = `${job.storageId}model`;
  const testId = `${job.storageId}test`;
  assertMatrixId(modelId);
  assertMatrixId(testId);
  const [n, a] = job.model.shape;
  const [t, a2] = job.test.shape;
  if (a !== a2) throw new AppError('SHAPE_MISMATCH', 'model and test attributes differ', { userMessage: `The training set has ${a} attributes but the test set has ${a2}. Pick datasets with the same columns.` });
  if (job.modelLabels.length !== n) throw new AppError('SHAPE_MISMATCH', 'model labels', { userMessage: 'The training set needs one label per record (attach a labels file on the Datasets page).' });
  const numChunks = job.numChunks ?? 4;
  const t0 = Date.now();
  type Detail = Record<string, string | number | boolean>;
  /** Runs `f` and logs it; `detail` may depend on the result (e.g. bytes read). */
  const timed = async <T>(name: string, f: () => Promise<T> | T, detail?: Detail | ((r: T) => Detail)): Promise<T> => {
    if (deps.signal?.aborted) throw new AppError('ABORTED', 'aborted', { userMessage: 'The job was cancelled.' });
    const s = performance.now();
    const r = await f();
    deps.onEvent?.({ name, at: Date.now(), durationMs: performance.now() - s, detail: typeof detail === 'function' ? detail(r) : detail });
    return r;
  };
  const put = (key: string, m: Matrix, chunks = numChunks, fullDtype = FLOAT64) =>
    timed('PUT', () => deps.store.putNdarray(key, nd(m), { numChunks: chunks, tags: { full_shape: pythonShape(m.shape), full_dtype: fullDtype }, signal: deps.signal }), { key, bytes: m.data.byteLength });
  const labelsRow = matrix(Float64Array.from(job.modelLabels, Number), [1, n]);
  const labelsShape = pythonShape([1, n]);
  const timeoutMs = job.workerTimeoutMs ?? WORKER_TIMEOUT_MS;

  if (job.algorithm === 'KNN_PREDICT') {
    await put(modelId, job.model);
    await put(`${modelId}labels`, labelsRow);
    await put(testId, job.test);
    const assignment = await timed('GET.WORKER', () => deps.manager.getWorker('KNN_PREDICT', { signal: deps.signal, matrixId: modelId }));
    const reply = await timed('RUN1', () =>
      deps.workerClientFactory(assignment).post('/classification/knn/predict', { 'Model-Id': modelId, 'Records-Test-Id': testId, 'Model-Labels-Shape': labelsShape }, { signal: deps.signal, timeoutMs }),
    );
    return { labels: parseLabels(reply, t, job.modelLabels), workerId: assignment.workerId, totalMs: Date.now() - t0 };
  }

  if (job.algorithm === 'SKNN_PQC_PREDICT') return runSknnPqc();

  // SKNN
  await put(`${modelId}labels`, labelsRow, 1);
  const encModel = await timed('SEGMENT.ENCRYPT', () => deps.crypto.liuEncryptMatrix(job.model, { signal: deps.signal }), { what: 'model' });
  const m = encModel.shape[2];
  await put(`encrypted${modelId}`, encModel, numChunks, ENCRYPTED_MATRIX_DTYPE);
  const encTest = await timed('SEGMENT.ENCRYPT', () => deps.crypto.liuEncryptMatrix(job.test, { signal: deps.signal }), { what: 'test' });
  await put(`encrypted${testId}`, encTest, numChunks, ENCRYPTED_MATRIX_DTYPE);
  const assignment = await timed('GET.WORKER', () => deps.manager.getWorker('SKNN_PREDICT', { signal: deps.signal, matrixId: modelId }));
  const worker = deps.workerClientFactory(assignment);
  const base = {
    'Model-Id': modelId,
    'Records-Test-Id': testId,
    'Encrypted-Model-Shape': pythonShape([n, a, m]),
    'Encrypted-Model-Dtype': ENCRYPTED_MATRIX_DTYPE,
    'Encrypted-Records-Shape': pythonShape([t, a, m]),
    'Encrypted-Records-Dtype': ENCRYPTED_MATRIX_DTYPE,
    [H.NUM_CHUNKS]: String(numChunks),
    'Model-Labels-Shape': labelsShape,
  };
  const r1 = await timed('RUN1', () => worker.post('/classification/sknn/predict', { ...base, [H.STEP_INDEX]: '1' }, { signal: deps.signal, timeoutMs }));
  const expectedKey = `distances${testId}`;
  const body = json(r1, 'step 1');
  if (body.distances_id !== expectedKey) throw refused(`the worker named ${String(body.distances_id).slice(0, 80)} instead of ${expectedKey}`);
  const dist = await timed('GET', () => deps.store.getNdarray(expectedKey, { force: true, signal: deps.signal }), (d) => ({ key: expectedKey, bytes: d.data.byteLength }));
  // Decryption guard: only this job's distances, with the expected shape and finite values.
  if (dist.dtype !== 'float64' || dist.shape.join() !== [t, n, m].join()) throw refused(`${expectedKey} has shape ${pythonShape(dist.shape)}, expected ${pythonShape([t, n, m])}`);
  const dd = dist.data as Float64Array;
  for (let i = 0; i < dd.length; i++) if (!Number.isFinite(dd[i])) throw refused(`${expectedKey} holds a non-finite value`);
  const decision = await deps.approve({
    jobId: job.jobId,
    algorithm: 'SKMEANS',
    round: 1,
    objectKey: expectedKey,
    shape: pythonShape([t, n, m]),
    purpose: `The encrypted distances between your ${t} test records and ${n} training records are decrypted here; the index of the nearest training record of each test record is then sent to the worker in plaintext, so it learns which training record each test record resembles most.`,
  } as ApprovalRequest);
  if (decision === 'deny') throw new AppError('APPROVAL_DENIED', 'decryption denied', { userMessage: 'You denied the decryption of the distances; the job stopped and nothing more was sent.' });
  const plainDist = await timed('DECRYPT', () => deps.crypto.liuDecryptTensor(matrix(dd, [t, n, m]), { signal: deps.signal }));
  const indices = new Int32Array(t);
  const idx = new BigInt64Array(t);
  for (let i = 0; i < t; i++) {
    let best = 0;
    for (let j = 1; j < n; j++) if (plainDist.data[i * n + j] < plainDist.data[i * n + best]) best = j;
    indices[i] = best;
    idx[i] = BigInt(best);
  }
  await timed('PUT', () => deps.store.putNdarray(`distancesindex${testId}`, { dtype: 'int64', shape: [t, 1], data: idx }, { numChunks, tags: { full_shape: pythonShape([t]), full_dtype: 'int64' }, signal: deps.signal }), { key: `distancesindex${testId}` });
  const r2 = await timed('RUN2', () => worker.post('/classification/sknn/predict', { ...base, [H.STEP_INDEX]: '2' }, { signal: deps.signal, timeoutMs }));
  const labels = parseLabels(r2, t, job.modelLabels);
  deps.onEvent?.({ name: 'COMPLETED', at: Date.now(), durationMs: Date.now() - t0 });
  return { labels, indices, workerId: assignment.workerId, totalMs: Date.now() - t0 };

  async function runSknnPqc(): Promise<ClassifyResult> {
    const ckks = deps.crypto.ckks;
    if (!ckks) throw new AppError('INVALID_KEY', 'a CKKS key set is required', { userMessage: 'SKNN-PQC needs a CKKS key set. Create or import one on the Keys page.' });
    if (!ckks.publicBundle.relinKeys) {
      throw new AppError('INVALID_KEY', 'relinearization keys required', { userMessage: 'SKNN-PQC multiplies ciphertexts and needs a CKKS key set with relinearization keys. Generate one on the Keys page.' });
    }
    if (a > ckks.slots) throw new AppError('SHAPE_MISMATCH', 'too many attributes', { userMessage: `The records have ${a} attributes but a CKKS ciphertext of this key set holds ${ckks.slots}.` });
    const R = Math.max(1, Math.min(n, Math.floor(ckks.slots / a)));
    const B = Math.ceil(n / R);
    const width = R * a;
    // Model blocks: record bR + r at slots r·a … r·a + a − 1; test records repeated R times.
    const blocks = new Float64Array(B * width);
    blocks.set(job.model.data.subarray(0, n * a));
    const reps = new Float64Array(t * width);
    for (let i = 0; i < t; i++) {
      const row = job.test.data.subarray(i * a, (i + 1) * a);
      for (let r = 0; r < R; r++) reps.set(row, i * width + r * a);
    }
    await put(`${modelId}labels`, labelsRow);
    const encModel = await timed('SEGMENT.ENCRYPT', () => ckks.encryptRows(matrix(blocks, [B, width]), { signal: deps.signal }), { what: 'model', ciphertexts: B });
    await timed('PUT', () => deps.store.putBytesMatrix(`encrypted${modelId}`, encModel.map((c) => [c]), { numChunks, signal: deps.signal }), { key: `encrypted${modelId}`, bytes: byteSum(encModel) });
    const encTest = await timed('SEGMENT.ENCRYPT', () => ckks.encryptRows(matrix(reps, [t, width]), { signal: deps.signal }), { what: 'test', ciphertexts: t });
    await timed('PUT', () => deps.store.putBytesMatrix(`encrypted${testId}`, encTest.map((c) => [c]), { numChunks, signal: deps.signal }), { key: `encrypted${testId}`, bytes: byteSum(encTest) });
    const { id: ckksKeysId } = await timed('PUT', () => uploadCkksPublicKeys(deps.store, ckks.publicBundle, { signal: deps.signal }), { key: 'CKKS public keys' });
    const assignment = await timed('GET.WORKER', () => deps.manager.getWorker('SKNN_PQC_PREDICT', { signal: deps.signal, matrixId: modelId }));
    const worker = deps.workerClientFactory(assignment);
    const path = '/classification/pqc/sknn/predict';
    const base = {
      'Model-Id': modelId,
      'Records-Test-Id': testId,
      'Encrypted-Model-Shape': pythonShape([n, a]),
      'Encrypted-Model-Dtype': FLOAT64,
      'Encrypted-Records-Shape': pythonShape([t, a]),
      'Encrypted-Records-Dtype': FLOAT64,
      [H.NUM_CHUNKS]: String(numChunks),
      [CKKS_KEYS_ID_HEADER]: ckksKeysId,
      [CKKS_ROWS_PER_CIPHERTEXT]: String(R),
    };
    const r1 = await timed('RUN1', () => worker.post(path, { ...base, [H.STEP_INDEX]: '1' }, { signal: deps.signal, timeoutMs }));
    const expectedKey = `distances${testId}`;
    const body = json(r1, 'step 1');
    if (body.distances_id !== expectedKey) throw refused(`the worker named ${String(body.distances_id).slice(0, 80)} instead of ${expectedKey}`);
    const dist = await timed('GET', () => deps.store.getBytesMatrix(expectedKey, { force: true, signal: deps.signal }), (d) => ({ key: expectedKey, bytes: byteSum(d.flat()) }));
    // Decryption guard: this job's distances, t rows of B ciphertexts each.
    if (dist.length !== t || dist.some((row) => row.length !== B)) throw refused(`${expectedKey} is not ${t} rows of ${B} ciphertexts`);
    const flat = dist.flat();
    if (!looksLikeCiphertexts(flat)) throw refused(`${expectedKey} holds something that is not a CKKS ciphertext`);
    const decision = await deps.approve({
      jobId: job.jobId,
      algorithm: 'SKMEANS_PQC',
      round: 1,
      objectKey: expectedKey,
      shape: pythonShape([t, n]),
      purpose: `The encrypted squared distances between your ${t} test records and ${n} training records are decrypted here; the index of the nearest training record of each test record is then sent to the worker in plaintext, so it learns which training record each test record resembles most.`,
    } as ApprovalRequest);
    if (decision === 'deny') throw new AppError('APPROVAL_DENIED', 'decryption denied', { userMessage: 'You denied the decryption of the distances; the job stopped and nothing more was sent.' });
    let plain: Matrix;
    try {
      plain = await timed('DECRYPT', () => ckks.decryptRows(flat, width, { signal: deps.signal }), { ciphertexts: flat.length });
    } catch (e) {
      if (deps.signal?.aborted) throw e;
      throw refused(`the ciphertexts of ${expectedKey} do not belong to this job's CKKS key set`);
    }
    const indices = new Int32Array(t);
    const idx = new BigInt64Array(t);
    for (let i = 0; i < t; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let j = 0; j < n; j++) {
        const b = Math.floor(j / R);
        const off = (i * B + b) * width + (j - b * R) * a;
        let d = 0;
        for (let z = 0; z < a; z++) d += plain.data[off + z];
        if (!Number.isFinite(d)) throw refused(`${expectedKey} decrypts to non-finite values`);
        if (d < bestD) {
          bestD = d;
          best = j;
        }
      }
      indices[i] = best;
      idx[i] = BigInt(best);
    }
    const idxKey = `distancesindex${testId}`;
    await timed('PUT', () => deps.store.putNdarray(idxKey, { dtype: 'int64', shape: [1, t], data: idx }, { numChunks, tags: { full_shape: pythonShape([1, t]), full_dtype: 'int64' }, signal: deps.signal }), { key: idxKey });
    const r2 = await timed('RUN2', () => worker.post(path, { 'Model-Id': modelId, 'Records-Test-Id': testId, 'Model-Labels-Shape': labelsShape, [H.STEP_INDEX]: '2' }, { signal: deps.signal, timeoutMs }));
    const labels = parseLabels(r2, t, job.modelLabels);
    deps.onEvent?.({ name: 'COMPLETED', at: Date.now(), durationMs: Date.now() - t0 });
    return { labels, indices, workerId: assignment.workerId, totalMs: Date.now() - t0 };
  }
}

function nd(m: Matrix): NdArray<'float64'> {
  return { dtype: 'float64', shape: m.shape, data: m.data };
}

const refused = (why: string) =>
  new AppError('DECRYPTION_REFUSED', `refused to decrypt: ${why}`, { userMessage: `The worker's answer was not what this job expects (${why}); nothing was decrypted and the job stopped.` });

function json(reply: WorkerReply, what: string): Record<string, unknown> {
  try {
    const b = JSON.parse(reply.text);
    if (b && typeof b === 'object') return b as Record<string, unknown>;
  } catch {
    /* below */
  }
  throw new AppError('PROTOCOL_VIOLATION', `${what}: not JSON`, { userMessage: `The worker's ${what} answer is not valid.` });
}

function parseLabels(reply: WorkerReply, t: number, modelLabels: ArrayLike<number>): Int32Array {
  const allowed = new Set(Array.from(modelLabels, Number));
  const lv = json(reply, 'prediction').label_vector;
  if (!Array.isArray(lv) || lv.length !== t) throw new AppError('PROTOCOL_VIOLATION', 'label_vector length', { userMessage: `The worker returned ${Array.isArray(lv) ? lv.length : 'no'} labels for ${t} test records.` });
  const out = new Int32Array(t);
  lv.forEach((v, i) => {
    if (typeof v !== 'number' || !allowed.has(v)) throw new AppError('PROTOCOL_VIOLATION', 'unknown label', { userMessage: 'The worker returned a label that is not in the training set.' });
    out[i] = v;
  });
  return out;
}
