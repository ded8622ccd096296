/**
 * @module rory/nnc-runner
 * The Data Owner side of the one-shot nearest-neighbour clustering jobs (spec/protocol.md §5.4,
 * §5.5, §7.5; spec/crypto.md §7.3, §7.4):
 *
 * - **DBSNNC**: Liu-encrypt the dataset (`encrypted{P}`, uploaded for wire compatibility; the
 *   worker does not use it), compute the Manhattan distance matrix, fit an FDHOPE key to it,
 *   upload `FDHOPE(DM)` as `{P}encrypteddm` and send `FDHOPE(threshold)` as `Encrypted-Threshold`.
 *   Only ciphertexts leave the browser; nothing needs decrypting, so no approval is asked.
 * - **DBSNNC_PQC** (absent upstream; docs/protocol-additions.md §3): the same, with the dataset
 *   CKKS-encrypted one ciphertext per record (E3). The worker does not read it, so no CKKS key
 *   objects are uploaded.
 * - **NNC** (plaintext baseline): upload the dataset `{P}` and its distance matrix `{P}dm` and send
 *   the threshold in clear — only with the per-job acknowledgement (D3).
 *
 * Threshold: the job's value, or (undefined / −1) the smallest non-zero distance (§4.1).
 */
import { AppError } from '../errors';
import { matrix, pythonShape, type Matrix } from '../data/matrix';
import { defaultThreshold, dm as distanceMatrix } from '../data/udm';
import type { NdArray, ObjectStore } from '../storage/types';
import { ENCRYPTED_MATRIX_DTYPE, FLOAT64, H, keys } from './headers';
import { assertMatrixId } from './ids';
import { assertAcknowledged, type LeakageAcknowledgement } from './leakage';
import type { ManagerClient, WorkerAssignment } from './manager-client';
import type { FdhopeKeyRef, JobLogEvent, RunnerCrypto } from './runner';
import { WORKER_TIMEOUT_MS, type WorkerClient, type WorkerReply } from './worker-client';

export type NncAlgorithm = 'DBSNNC' | 'DBSNNC_PQC' | 'NNC';

export interface NncJob {
  readonly algorithm: NncAlgorithm;
  readonly jobId: string;
  readonly matrixId: string;
  readonly data: Matrix;
  /** Distance threshold; undefined or −1 = the smallest non-zero distance. */
  readonly threshold?: number;
  /** FDHOPE noise (DBSNNC); default the upstream client's 1e-8. */
  readonly sens?: number;
  readonly numChunks?: number;
  readonly acknowledgement?: LeakageAcknowledgement;
  readonly workerTimeoutMs?: number;
}

export interface NncDeps {
  readonly store: ObjectStore;
  readonly manager: Pick<ManagerClient, 'getWorker'>;
  readonly workerClientFactory: (a: WorkerAssignment) => WorkerClient;
  readonly crypto: RunnerCrypto;
  readonly onEvent?: (e: JobLogEvent) => void;
  readonly signal?: AbortSignal;
}

export interface NncResult {
  readonly labels: Int32Array;
  readonly clusters: number;
  readonly threshold: number;
  readonly workerId: string;
  readonly timings: Readonly<Record<string, number>>;
  readonly totalMs: number;
}

const DEFAULT_SENS = 1e-8;

export async function runNncJob(job: NncJob, deps: NncDeps): Promise<NncResult> {
  assertMatrixId(job.matrixId);
  if (job.algorithm === 'NNC') assertAcknowledged('NNC', job.acknowledgement);
  const [n, a] = job.data.shape;
  if (job.data.shape.length !== 2 || n < 1) throw new AppError('SHAPE_MISMATCH', 'the dataset must be an n×a matrix');
  const p = job.matrixId;
  const numChunks = job.numChunks ?? 4;
  const timings: Record<string, number> = {};
  const t0 = Date.now();
  const step = async <T>(name: string, f: () => Promise<T> | T, detail?: Record<string, string | number | boolean>): Promise<T> => {
    if (deps.signal?.aborted) throw new AppError('ABORTED', 'aborted', { userMessage: 'The job was cancelled.' });
    const t = performance.now();
    const r = await f();
    const durationMs = performance.now() - t;
    timings[name] = (timings[name] ?? 0) + durationMs;
    deps.onEvent?.({ name, at: Date.now(), durationMs, detail });
    return r;
  };
  const put = (key: string, m: Matrix, fullShape: readonly number[], fullDtype: string) =>
    step('PUT', () => deps.store.putNdarray(key, nd(m), { numChunks, tags: { full_shape: pythonShape(fullShape), full_dtype: fullDtype }, signal: deps.signal }), { key, bytes: m.data.byteLength });

  const dmPlain = await step('DM.GENERATION', () => distanceMatrix(job.data), { shape: pythonShape([n, n]) });
  const threshold = job.threshold === undefined || job.threshold === -1 ? defaultThreshold(dmPlain) : job.threshold;
  if (!Number.isFinite(threshold) || threshold < 0) {
    throw new AppError('INVALID_ARGUMENT', 'threshold must be a non-negative number', { userMessage: 'The threshold must be a non-negative number (or −1 for automatic).' });
  }

  let headers: Record<string, string>;
  let path: string;
  if (job.algorithm === 'DBSNNC' || job.algorithm === 'DBSNNC_PQC') {
    const pqc = job.algorithm === 'DBSNNC_PQC';
    let shapeHeaders: Record<string, string>;
    if (pqc) {
      const ckks = deps.crypto.ckks;
      if (!ckks) throw new AppError('INVALID_KEY', 'a CKKS key set is required', { userMessage: 'This algorithm needs a CKKS key set. Create or import one on the Keys page.' });
      if (a > ckks.slots) throw new AppError('SHAPE_MISMATCH', 'too many attributes', { userMessage: `The dataset has ${a} attributes but a CKKS ciphertext of this key set holds ${ckks.slots}.` });
      const rows = await step('SEGMENT.ENCRYPT', () => ckks.encryptRows(job.data, { signal: deps.signal }), { scheme: 'ckks' });
      await step('PUT', () => deps.store.putBytesList(keys.encryptedMatrix(p), rows, { numChunks, signal: deps.signal }), { key: keys.encryptedMatrix(p), bytes: byteSum(rows) });
      shapeHeaders = { [H.ENCRYPTED_MATRIX_SHAPE]: pythonShape([n, a]), [H.ENCRYPTED_MATRIX_DTYPE]: ENCRYPTED_MATRIX_DTYPE };
    } else {
      const enc = await step('SEGMENT.ENCRYPT', () => deps.crypto.liuEncryptMatrix(job.data, { signal: deps.signal }));
      const m = enc.shape[2];
      await put(keys.encryptedMatrix(p), enc, enc.shape, ENCRYPTED_MATRIX_DTYPE);
      shapeHeaders = { [H.ENCRYPTED_MATRIX_SHAPE]: pythonShape([n, a, m]), [H.ENCRYPTED_MATRIX_DTYPE]: ENCRYPTED_MATRIX_DTYPE, [H.M]: String(m) };
    }
    const key: FdhopeKeyRef = await step('FDHOPE.KEYGEN', () => deps.crypto.fdhopeKeygen(dmPlain, { signal: deps.signal }));
    const sens = job.sens ?? DEFAULT_SENS;
    const edm = await step('FDHOPE.ENCRYPT', () => deps.crypto.fdhopeEncrypt(key, dmPlain, sens, { signal: deps.signal }), { what: 'dm' });
    // Every DM entry carries noise in [0, sens·scale). Upstream encrypts θ with noise too, so a
    // distance exactly equal to θ (the default θ is itself a DM entry) joins or not by chance.
    // Encrypting θ + sens without noise bounds every such noise from above: d ≤ θ ⇒ Enc(d) ≤ Enc(θ).
    const eth = await step('FDHOPE.ENCRYPT', () => deps.crypto.fdhopeEncrypt(key, matrix(Float64Array.of(threshold + sens), [1, 1]), 0, { signal: deps.signal }), { what: 'threshold' });
    await put(`${p}encrypteddm`, edm, [n, n], FLOAT64);
    path = pqc ? '/clustering/pqc/dbsnnc' : '/clustering/dbsnnc';
    headers = {
      [H.PLAINTEXT_MATRIX_ID]: p,
      [H.ENCRYPTED_MATRIX_ID]: keys.encryptedMatrix(p),
      ...shapeHeaders,
      'Encrypted-Dm-Id': `${p}encrypteddm`,
      'Encrypted-Dm-Shape': pythonShape([n, n]),
      'Encrypted-Dm-Dtype': FLOAT64,
      'Encrypted-Threshold': String(eth.data[0]),
      [H.NUM_CHUNKS]: String(numChunks),
    };
  } else {
    await put(p, job.data, [n, a], FLOAT64);
    await put(`${p}dm`, dmPlain, [n, n], FLOAT64);
    path = '/clustering/nnc';
    headers = {
      [H.PLAINTEXT_MATRIX_ID]: p,
      'Plaintext-Matrix-Shape': pythonShape([n, a]),
      'Plaintext-Matrix-Dtype': FLOAT64,
      'Dm-Shape': pythonShape([n, n]),
      'Dm-Dtype': FLOAT64,
      Threshold: String(threshold),
      [H.NUM_CHUNKS]: String(numChunks),
    };
  }

  const assignment = await step('GET.WORKER', () => deps.manager.getWorker(job.algorithm, { signal: deps.signal }));
  const worker = deps.workerClientFactory(assignment);
  const reply = await step('RUN1', () => worker.post(path, headers, { signal: deps.signal, timeoutMs: job.workerTimeoutMs ?? WORKER_TIMEOUT_MS }), { workerId: assignment.workerId });
  const labels = parseLabels(reply, n);
  const clusters = new Set(labels).size;
  deps.onEvent?.({ name: 'COMPLETED', at: Date.now(), durationMs: Date.now() - t0, detail: { clusters } });
  return { labels, clusters, threshold, workerId: assignment.workerId, timings, totalMs: Date.now() - t0 };
}

/** Total bytes of a list of serialized ciphertexts (for the event log). */
export function byteSum(items: readonly Uint8Array[]): number {
  return items.reduce((s, b) => s + b.length, 0);
}

function nd(m: Matrix): NdArray<'float64'> {
  return { dtype: 'float64', shape: m.shape, data: m.data };
}

/** `{label_vector}` with n labels: non-negative integers, clusters numbered 0.. in first-appearance order. */
function parseLabels(reply: WorkerReply, n: number): Int32Array {
  const bad = (why: string) =>
    new AppError('PROTOCOL_VIOLATION', `worker reply: ${why}`, { userMessage: `The worker's answer is not valid (${why}). The job stopped; nothing was decrypted.` });
  if (reply.status !== 200) throw bad(`HTTP ${reply.status}, expected 200`);
  let body: unknown;
  try {
    body = JSON.parse(reply.text);
  } catch {
    throw bad('not JSON');
  }
  const lv = (body as { label_vector?: unknown })?.label_vector;
  if (!Array.isArray(lv) || lv.length !== n) throw bad(`label_vector must hold ${n} labels`);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = lv[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= n) throw bad(`label ${i} is not a cluster index`);
    labels[i] = v;
  }
  return labels;
}

export interface PlainKmeansJob {
  readonly jobId: string;
  readonly matrixId: string;
  readonly data: Matrix;
  readonly k: number;
  readonly maxIterations?: number;
  readonly acknowledgement?: LeakageAcknowledgement;
  readonly workerTimeoutMs?: number;
}

/**
 * KMEANS (plaintext baseline, spec/protocol.md §5.1): uploads the dataset unencrypted as an E2
 * blob — only with the per-job acknowledgement (D3) — and asks a worker to cluster it.
 */
export async function runPlainKmeansJob(job: PlainKmeansJob, deps: Omit<NncDeps, 'crypto'>): Promise<{ labels: Int32Array; iterations: number; workerId: string; totalMs: number }> {
  assertMatrixId(job.matrixId);
  assertAcknowledged('KMEANS', job.acknowledgement);
  const [n] = job.data.shape;
  const t0 = Date.now();
  const timed = async <T>(name: string, f: () => Promise<T>, detail?: Record<string, string | number | boolean>) => {
    const t = performance.now();
    const r = await f();
    deps.onEvent?.({ name, at: Date.now(), durationMs: performance.now() - t, detail });
    return r;
  };
  await timed('PUT', () => deps.store.putBlob(job.matrixId, nd(job.data), { signal: deps.signal }), { key: job.matrixId, bytes: job.data.data.byteLength });
  const assignment = await timed('GET.WORKER', () => deps.manager.getWorker('KMEANS', { signal: deps.signal }));
  const worker = deps.workerClientFactory(assignment);
  const reply = await timed('RUN1', () =>
    worker.post('/clustering/kmeans', { [H.PLAINTEXT_MATRIX_ID]: job.matrixId, [H.K]: String(job.k), [H.MAX_ITERATIONS]: String(job.maxIterations ?? 10) }, { signal: deps.signal, timeoutMs: job.workerTimeoutMs ?? WORKER_TIMEOUT_MS }),
  );
  const labels = parseLabels(reply, n);
  if (labels.some((l) => l >= job.k)) throw new AppError('PROTOCOL_VIOLATION', 'worker reply: label out of range', { userMessage: "The worker's answer is not valid (a label is not a cluster index)." });
  const iterations = Number((JSON.parse(reply.text) as { iterations?: unknown }).iterations ?? 0);
  deps.onEvent?.({ name: 'COMPLETED', at: Date.now(), durationMs: Date.now() - t0 });
  return { labels, iterations, workerId: assignment.workerId, totalMs: Date.now() - t0 };
}
