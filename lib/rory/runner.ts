/**
 * @module rory/runner
 * Runs an SKMeans or DBSKMeans job (Liu or CKKS/PQC variant): feeds the pure reducer (`algorithms/interactive-kmeans.ts`)
 * and performs its effects with injected dependencies — the object store, the manager and
 * worker clients, the crypto provider (so a browser can route Liu/FDHOPE to Web Workers and
 * keep every key there), the user's approval, event log and progress callbacks, and an
 * `AbortSignal` (spec/protocol.md §8; spec/crypto.md §7.1, §7.2, §11.5, §11.6).
 *
 * Guards
 * - D3: SKMeans starts only with an acknowledgement listing exactly its plaintext uploads.
 * - Decryption guard: only `{P}encryptedshiftmatrix` of this job and round (and, for the final
 *   check, `{P}centj`) is decrypted, and only if it has shape (k, a, m), dtype float64 and
 *   finite values — or, for PQC, exactly k SEAL ciphertexts that load in this key set's context
 *   (only the first a slots of each are kept). Anything else → AppError DECRYPTION_REFUSED
 *   (logged as DECRYPTION.REFUSED).
 * - D4 (PQC): the worker gets the CKKS public objects of `ckks-custody.ts`, never the secret key.
 * - Verification: the final centroids `{P}centj` are decrypted and compared with the means of
 *   the plaintext rows per returned label; a mismatch above 1e-6·max(1,|x|) is flagged in the
 *   result (`verification.ok = false`), not thrown.
 *
 * Event names (upstream `ExperimentLogEntry` names plus ours): LOCAL.READ, SEGMENT.ENCRYPT,
 * UDM.GENERATION, FDHOPE.KEYGEN, FDHOPE.ENCRYPT, PUT, GET.WORKER, RUN1, GET, APPROVAL, DECRYPT,
 * RUN2, ITERATION.COMPLETED, VERIFY, COMPLETED, DECRYPTION.REFUSED, FAILED.
 */
import { AppError, toAppError, type ErrorCode } from '../errors';
import { matrix, size, type Matrix } from '../data/matrix';
import { udm as computeUdmDefault } from '../data/udm';
import type { NdArray, ObjectStore, TransferProgress } from '../storage/types';
import { assertAcknowledged, type LeakageAcknowledgement } from './leakage';
import { assertMatrixId } from './ids';
import type { ManagerClient, WorkerAssignment } from './manager-client';
import {
  parseDbskmeansStep2Reply,
  parseSkmeansStep2Reply,
  parseStep1Reply,
  WORKER_TIMEOUT_MS,
  type WorkerClient,
} from './worker-client';
import { keys, pythonShape, sameShape } from './headers';
import { ckksKeyObjectKeys, uploadCkksPublicKeys } from './ckks-custody';
import { hasSealMagic, parseSealHeader, type CkksPublicBundle } from '../crypto/ckks';
import {
  initialState,
  isPqc,
  kmeansConfig,
  next,
  usesFdhope,
  verifyTolerance,
  type ApprovalDecision,
  type ApprovalRequest,
  type Artifact,
  type Effect,
  type KmeansAlgorithm,
  type KmeansEvent,
  type KmeansOutcome,
  type KmeansState,
  type Phase,
} from './algorithms/interactive-kmeans';

/** Opaque handle of an FDHOPE key held by the crypto provider (the key itself may live in a Web Worker). */
export type FdhopeKeyRef = unknown;

/** The crypto a job needs. Keys stay inside the provider; the runner only sees ciphertexts and results. */
export interface RunnerCrypto {
  /** n×a plaintext → n×a×m Liu tensor. */
  liuEncryptMatrix(m: Matrix, opts?: { signal?: AbortSignal }): Promise<Matrix>;
  /** …×m Liu tensor → … plaintext (drops the last axis). */
  liuDecryptTensor(t: Matrix, opts?: { signal?: AbortSignal }): Promise<Matrix>;
  /** FDHOPE keygen on the values of `values` (the UDM). */
  fdhopeKeygen(values: Matrix, opts?: { signal?: AbortSignal }): Promise<FdhopeKeyRef>;
  /** FDHOPE-encrypts every entry of `m` with `key` and noise `sens`. */
  fdhopeEncrypt(key: FdhopeKeyRef, m: Matrix, sens: number, opts?: { signal?: AbortSignal }): Promise<Matrix>;
  /** CKKS (PQC jobs only). The secret key stays inside the provider. */
  readonly ckks?: CkksRunnerCrypto;
}

/** The CKKS operations a PQC job needs (spec/crypto.md §5.2, §5.4). */
export interface CkksRunnerCrypto {
  /** What the worker may receive (D4): context, public and relinearization (and Galois) keys. */
  readonly publicBundle: CkksPublicBundle;
  /** Slots per ciphertext (N/2). */
  readonly slots: number;
  /** One ciphertext per row of `m` (slots 0..a−1 = the row). */
  encryptRows(m: Matrix, opts?: { signal?: AbortSignal; onProgress?: (p: { done: number; total: number }) => void }): Promise<Uint8Array[]>;
  /** Decrypts each ciphertext and keeps its first `take` slots: an n×take matrix. */
  decryptRows(ciphertexts: readonly Uint8Array[], take: number, opts?: { signal?: AbortSignal }): Promise<Matrix>;
}

/** Largest serialized CKKS ciphertext the guard accepts (a fresh one is ~0.4 MB at N = 8192; 4 MB covers N = 32768 uncompressed). */
export const MAX_CIPHERTEXT_BYTES = 16 * 1024 * 1024;

/** Whether every item looks like one serialized SEAL ciphertext (header, size); loading in the context is checked when decrypting. */
export function looksLikeCiphertexts(items: readonly Uint8Array[]): boolean {
  for (const b of items) {
    if (!(b instanceof Uint8Array) || b.length > MAX_CIPHERTEXT_BYTES || !hasSealMagic(b)) return false;
    try {
      parseSealHeader(b, 'ciphertext');
    } catch {
      return false;
    }
  }
  return true;
}

export interface JobLogEvent {
  readonly name: string;
  /** Epoch milliseconds when the event ended. */
  readonly at: number;
  readonly durationMs?: number;
  /** 0-based round. */
  readonly round?: number;
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

export interface JobProgress {
  readonly phase: Phase;
  /** 1-based current round (0 before the first). */
  readonly round: number;
  readonly maxIterations: number;
  readonly transfer?: TransferProgress;
}

export interface RunnerDeps {
  readonly store: ObjectStore;
  readonly manager: Pick<ManagerClient, 'getWorker'>;
  readonly workerClientFactory: (assignment: WorkerAssignment) => WorkerClient;
  readonly crypto: RunnerCrypto;
  readonly approve: (request: ApprovalRequest) => Promise<ApprovalDecision>;
  readonly onEvent?: (e: JobLogEvent) => void;
  readonly onProgress?: (p: JobProgress) => void;
  readonly signal?: AbortSignal;
  /** Defaults to `lib/data/udm` `udm(D)`. */
  readonly computeUdm?: (d: Matrix) => Matrix | Promise<Matrix>;
}

export interface KmeansJob {
  readonly algorithm: KmeansAlgorithm;
  readonly jobId: string;
  /** Plaintext-Matrix-Id `P` (see `ids.ts`). */
  readonly matrixId: string;
  /** The plaintext dataset n×a. Never leaves the runner except as the algorithm's uploads. */
  readonly data: Matrix;
  readonly k: number;
  readonly maxIterations?: number;
  readonly tolerance?: number;
  readonly numChunks?: number;
  /** DBSKMeans: FDHOPE sens of the UDM (default 1e-8) and of each shift (default 1e-5). */
  readonly sens?: number;
  readonly shiftSens?: number;
  readonly experimentId?: string;
  /** Required for SKMeans (D3). */
  readonly acknowledgement?: LeakageAcknowledgement;
  readonly workerTimeoutMs?: number;
}

export interface KmeansResult {
  readonly jobId: string;
  readonly algorithm: KmeansAlgorithm;
  readonly matrixId: string;
  readonly labels: Int32Array;
  readonly iterations: number;
  readonly converged: boolean;
  readonly stopReason: KmeansOutcome['stopReason'];
  /** Decrypted final centroids k×a (`{P}centj`). */
  readonly centroids: Matrix;
  readonly verification: { readonly ok: boolean; readonly maxError: number; readonly tolerance: number };
  readonly maxShiftPerRound: readonly number[];
  readonly workerId?: string;
  /** Total milliseconds per event name. */
  readonly timings: Readonly<Record<string, number>>;
  readonly totalMs: number;
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

function toNd(m: Matrix): NdArray<'float64'> {
  return { dtype: 'float64', shape: m.shape, data: m.data };
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (v > m || Number.isNaN(v)) m = v;
  }
  return m;
}

/**
 * Largest relative error between decrypted centroids and the means of the plaintext rows per
 * label. Empty clusters compare with zeros (Liu worker) or are skipped (`skipEmpty`: the CKKS
 * worker keeps an empty cluster's previous centroid).
 */
export function centroidError(dec: Matrix, d: Matrix, labels: Int32Array, k: number, skipEmpty: boolean): number {
  const a = d.shape[1];
  const expected = centroidsFromLabels(d, labels, k);
  const counts = new Int32Array(k);
  for (const y of labels) counts[y]++;
  let maxError = 0;
  for (let y = 0; y < k; y++) {
    if (skipEmpty && counts[y] === 0) continue;
    for (let z = 0; z < a; z++) {
      const i = y * a + z;
      const err = Math.abs(dec.data[i] - expected.data[i]) / Math.max(1, Math.abs(expected.data[i]));
      if (!(err <= maxError)) maxError = err;
    }
  }
  return maxError;
}

/** Grid the decrypted CKKS shift is rounded to before use (2^-20 ≈ 9.5e-7; CKKS noise here is ~2^-25). */
export const PQC_SHIFT_GRID = 2 ** -20;

function roundTo(m: Matrix, grid: number): Matrix {
  const out = new Float64Array(m.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(m.data[i] / grid) * grid;
  return matrix(out, m.shape);
}

/** Means of the rows of `d` (n×a) per label (k clusters); an empty cluster gets zeros, as the Liu worker does. */
export function centroidsFromLabels(d: Matrix, labels: Int32Array, k: number): Matrix {
  const [n, a] = d.shape;
  const sums = new Float64Array(k * a);
  const counts = new Float64Array(k);
  for (let x = 0; x < n; x++) {
    const y = labels[x];
    counts[y]++;
    for (let z = 0; z < a; z++) sums[y * a + z] += d.data[x * a + z];
  }
  for (let y = 0; y < k; y++) {
    if (counts[y] === 0) continue;
    for (let z = 0; z < a; z++) sums[y * a + z] /= counts[y];
  }
  return matrix(sums, [k, a]);
}

/**
 * Runs one SKMeans/DBSKMeans job to the end. Resolves with labels, iterations, the converged
 * flag, decrypted centroids, the verification and timings; rejects with an AppError
 * (ACK_REQUIRED, APPROVAL_DENIED, DECRYPTION_REFUSED, NO_WORKERS, WORKER_*, STORAGE_*,
 * PROTOCOL_VIOLATION, ABORTED, …).
 */
export async function runKmeansJob(job: KmeansJob, deps: RunnerDeps): Promise<KmeansResult> {
  const t0 = now();
  const timings: Record<string, number> = {};
  const emit = (name: string, startedAt: number | undefined, extra: { round?: number; detail?: Record<string, string | number | boolean> } = {}) => {
    const durationMs = startedAt === undefined ? undefined : now() - startedAt;
    if (durationMs !== undefined) timings[name] = (timings[name] ?? 0) + durationMs;
    deps.onEvent?.({ name, at: Date.now(), durationMs, round: extra.round, detail: extra.detail });
  };

  try {
    return await run();
  } catch (e) {
    // Once the caller aborted, whatever failed failed because of it.
    const err = deps.signal?.aborted
      ? e instanceof AppError && e.code === 'ABORTED'
        ? e
        : new AppError('ABORTED', 'job aborted', { userMessage: 'The job was cancelled.', cause: e })
      : toAppError(e);
    emit('FAILED', undefined, { detail: { code: err.code } });
    throw err;
  }

  async function run(): Promise<KmeansResult> {
    const { algorithm, data } = job;
    if (algorithm !== 'SKMEANS' && algorithm !== 'DBSKMEANS' && algorithm !== 'SKMEANS_PQC' && algorithm !== 'DBSKMEANS_PQC') {
      throw new AppError('INVALID_ARGUMENT', `unsupported algorithm ${String(algorithm)}`);
    }
    if (data.shape.length !== 2) throw new AppError('SHAPE_MISMATCH', 'the dataset must be a 2-D matrix');
    assertMatrixId(job.matrixId);
    if (!usesFdhope(algorithm)) assertAcknowledged(algorithm, job.acknowledgement);
    const pqc = isPqc(algorithm);
    const ckks = deps.crypto.ckks;
    if (pqc && !ckks) throw new AppError('INVALID_KEY', 'a CKKS key set is required', { userMessage: 'This algorithm needs a CKKS key set. Create or import one on the Keys page.' });
    if (pqc && ckks && data.shape[1] > ckks.slots) {
      throw new AppError('SHAPE_MISMATCH', 'too many attributes for one ciphertext', { userMessage: `The dataset has ${data.shape[1]} attributes but a CKKS ciphertext of this key set holds ${ckks.slots}.` });
    }

    const [n, a] = data.shape;
    let state: KmeansState = initialState(
      kmeansConfig({
        algorithm,
        jobId: job.jobId,
        p: job.matrixId,
        n,
        a,
        k: job.k,
        numChunks: job.numChunks,
        maxIterations: job.maxIterations,
        tolerance: job.tolerance,
        udmSens: job.sens,
        shiftSens: job.shiftSens,
        experimentId: job.experimentId,
        acknowledged: usesFdhope(algorithm) || job.acknowledgement !== undefined,
      }),
    );
    const maxIterations = state.config.maxIterations;
    const k = state.config.k;

    const shiftBound = 2 * maxAbs(data.data) * (1 + 1e-6) + 1e-6;
    const artifacts = new Map<Artifact, Matrix>();
    /** PQC artifacts: lists of serialized CKKS ciphertexts. */
    const cipherLists = new Map<Artifact, Uint8Array[]>();
    let fetchedShift: { key: string; nd: NdArray } | undefined;
    let fetchedCts: { key: string; items: Uint8Array[] } | undefined;
    let fdhopeKey: FdhopeKeyRef | undefined;
    let worker: WorkerClient | undefined;
    let centroids: Matrix | undefined;
    let outcome: KmeansOutcome | undefined;
    const signal = deps.signal;
    const opt = { signal };

    const progress = (transfer?: TransferProgress) =>
      deps.onProgress?.({ phase: state.phase, round: state.phase === 'idle' ? 0 : Math.min(state.round + 1, maxIterations), maxIterations, transfer });
    const art = (name: Artifact): Matrix => {
      const m = artifacts.get(name);
      if (!m) throw new AppError('INTERNAL', `artifact ${name} is missing`);
      return m;
    };
    const refuse = (key: string, why: string, round?: number): never => {
      emit('DECRYPTION.REFUSED', undefined, { round, detail: { key, why } });
      throw new AppError('DECRYPTION_REFUSED', `refusing to decrypt ${key}: ${why}`, {
        userMessage: `The cloud returned an object that is not what this job expects (${why}). The job was stopped; nothing was decrypted.`,
      });
    };
    /** The decryption guard: `nd` must come from `key` and have `shape`, float64, finite values. */
    const guard = (fetched: { key: string; nd: NdArray } | undefined, key: string, shape: readonly number[], round?: number): Matrix => {
      if (!fetched || fetched.key !== key) return refuse(key, 'it is not the object this round expects', round);
      const { nd } = fetched;
      if (nd.dtype !== 'float64' || !(nd.data instanceof Float64Array)) return refuse(key, `dtype ${nd.dtype} instead of float64`, round);
      if (!sameShape(nd.shape, shape)) return refuse(key, `shape ${pythonShape(nd.shape)} instead of ${pythonShape(shape)}`, round);
      if (nd.data.length !== size(shape)) return refuse(key, 'its size does not match its shape', round);
      if (!allFinite(nd.data)) return refuse(key, 'it contains non-finite values', round);
      return matrix(nd.data, shape);
    };

    /** The PQC decryption guard: k ciphertexts of `key` that load in this key set's context; keeps a slots each. */
    const decryptCts = async (fetched: { key: string; items: Uint8Array[] } | undefined, key: string, round?: number): Promise<Matrix> => {
      if (!ckks) throw new AppError('INTERNAL', 'no CKKS provider');
      if (!fetched || fetched.key !== key) return refuse(key, 'it is not the object this round expects', round);
      if (fetched.items.length !== k) return refuse(key, `${fetched.items.length} ciphertexts instead of ${k}`, round);
      if (!looksLikeCiphertexts(fetched.items)) return refuse(key, 'it holds something that is not a CKKS ciphertext', round);
      let m: Matrix;
      try {
        m = await ckks.decryptRows(fetched.items, a, opt);
      } catch (e) {
        if (signal?.aborted) throw e;
        return refuse(key, 'its ciphertexts do not belong to this job’s CKKS key set', round);
      }
      if (!allFinite(m.data)) return refuse(key, 'it decrypts to non-finite values', round);
      return m;
    };

    const exec = async (eff: Effect): Promise<KmeansEvent | undefined> => {
      if (signal?.aborted) throw new AppError('ABORTED', 'job aborted', { userMessage: 'The job was cancelled.' });
      switch (eff.type) {
        case 'encryptMatrix': {
          let t = now();
          if (!allFinite(data.data)) {
            throw new AppError('DATA_MAGNITUDE', 'the dataset contains non-finite values', {
              userMessage: 'The dataset contains values that are not finite numbers. Fix the data and try again.',
            });
          }
          emit('LOCAL.READ', t, { detail: { shape: pythonShape(data.shape) } });
          t = now();
          if (pqc && ckks) {
            // Progress of the encryption is the provider's to report (the app shows it as "Encryption").
            const rows = await ckks.encryptRows(data, opt);
            if (rows.length !== n) throw new AppError('CRYPTO_FAILURE', `CKKS encryption returned ${rows.length} ciphertexts for ${n} rows`);
            cipherLists.set('encryptedMatrix', rows);
            cipherLists.set('initsm', await ckks.encryptRows(matrix(new Float64Array(k * a), [k, a]), opt));
            emit('SEGMENT.ENCRYPT', t, { detail: { shape: pythonShape([n, a]), scheme: 'ckks', bytes: rows.reduce((s, r) => s + r.length, 0) } });
            return { type: 'matrixEncrypted', shape: [n, a] };
          }
          const enc = await deps.crypto.liuEncryptMatrix(data, opt);
          if (!allFinite(enc.data)) {
            throw new AppError('DATA_MAGNITUDE', 'Liu ciphertexts overflow', {
              userMessage: 'The values are too large to encrypt (the ciphertexts overflow). Rescale the data and try again.',
            });
          }
          artifacts.set('encryptedMatrix', enc);
          emit('SEGMENT.ENCRYPT', t, { detail: { shape: pythonShape(enc.shape) } });
          return { type: 'matrixEncrypted', shape: enc.shape };
        }
        case 'computeUdm': {
          const t = now();
          const u = await (deps.computeUdm ?? computeUdmDefault)(data);
          if (!allFinite(u.data)) {
            throw new AppError('DATA_MAGNITUDE', 'the UDM overflows', {
              userMessage: 'Differences between records overflow (values too large). Rescale the data and try again.',
            });
          }
          artifacts.set('udm', u);
          emit('UDM.GENERATION', t, { detail: { shape: pythonShape(u.shape) } });
          return { type: 'udmComputed', shape: u.shape };
        }
        case 'fdhopeKeygen': {
          const t = now();
          fdhopeKey = await deps.crypto.fdhopeKeygen(art('udm'), opt);
          emit('FDHOPE.KEYGEN', t);
          return { type: 'fdhopeKeyReady' };
        }
        case 'fdhopeEncryptUdm': {
          const t = now();
          const eu = await deps.crypto.fdhopeEncrypt(fdhopeKey, art('udm'), eff.sens, opt);
          artifacts.delete('udm');
          artifacts.set('encryptedUdm', eu);
          emit('FDHOPE.ENCRYPT', t, { detail: { what: 'udm', shape: pythonShape(eu.shape) } });
          return { type: 'udmEncrypted', shape: eu.shape };
        }
        case 'upload':
        case 'uploadShift': {
          const t = now();
          if (eff.type === 'upload' && eff.encoding === 'E3') {
            const items = cipherLists.get(eff.artifact);
            if (!items) throw new AppError('INTERNAL', `artifact ${eff.artifact} is missing`);
            await deps.store.putBytesList(eff.key, items, { numChunks: eff.numChunks, tags: eff.tags, signal, onProgress: (p) => progress(p) });
            if (eff.release) cipherLists.delete(eff.artifact);
            emit('PUT', t, { detail: { key: eff.key, bytes: items.reduce((s, r) => s + r.length, 0) } });
            return { type: 'uploaded', key: eff.key };
          }
          const m = art(eff.artifact);
          await deps.store.putNdarray(eff.key, toNd(m), {
            numChunks: eff.numChunks,
            tags: eff.type === 'upload' ? eff.tags : undefined,
            signal,
            onProgress: (p) => progress(p),
          });
          if (eff.type === 'upload' && eff.release) artifacts.delete(eff.artifact);
          emit('PUT', t, { round: eff.type === 'uploadShift' ? eff.round : undefined, detail: { key: eff.key, bytes: m.data.byteLength } });
          return { type: 'uploaded', key: eff.key };
        }
        case 'uploadKeys': {
          if (!ckks) throw new AppError('INTERNAL', 'no CKKS provider');
          const t = now();
          const { id, uploaded } = await uploadCkksPublicKeys(deps.store, ckks.publicBundle, { signal });
          emit('PUT', t, { detail: { key: `${id} (CKKS public keys)`, objects: uploaded.length } });
          return { type: 'keysUploaded', id };
        }
        case 'getWorker': {
          const t = now();
          const assignment = await deps.manager.getWorker(eff.algorithm, opt);
          worker = deps.workerClientFactory(assignment);
          emit('GET.WORKER', t, { detail: { workerId: assignment.workerId } });
          return { type: 'workerAssigned', workerId: assignment.workerId, url: assignment.url };
        }
        case 'callStep1': {
          if (!worker) throw new AppError('INTERNAL', 'no worker assigned');
          const t = now();
          const reply = await worker.post(eff.path, { ...eff.headers }, { signal, timeoutMs: job.workerTimeoutMs ?? WORKER_TIMEOUT_MS });
          const parsed = parseStep1Reply(reply, { n, k });
          emit('RUN1', t, { round: eff.round, detail: parsed.serviceTime !== undefined ? { serviceTime: parsed.serviceTime } : {} });
          return { type: 'step1Done', labels: parsed.labels, shiftId: parsed.encryptedShiftMatrixId };
        }
        case 'fetchShift': {
          const t = now();
          fetchedShift = undefined;
          fetchedCts = undefined;
          if (eff.encoding === 'E3') {
            const items = await deps.store.getBytesList(eff.key, { force: true, signal, onProgress: (p) => progress(p) });
            fetchedCts = { key: eff.key, items };
            emit('GET', t, { round: eff.round, detail: { key: eff.key, bytes: items.reduce((s, r) => s + r.length, 0) } });
            return { type: 'shiftFetched', key: eff.key, shape: [items.length], dtype: 'ckks', allFinite: looksLikeCiphertexts(items) };
          }
          const nd = await deps.store.getNdarray(eff.key, { force: true, signal, onProgress: (p) => progress(p) });
          fetchedShift = { key: eff.key, nd };
          emit('GET', t, { round: eff.round, detail: { key: eff.key, bytes: nd.data.byteLength } });
          const finite = nd.dtype === 'float64' || nd.dtype === 'float32' ? allFinite(nd.data as Float64Array) : true;
          return { type: 'shiftFetched', key: eff.key, shape: nd.shape, dtype: nd.dtype, allFinite: finite };
        }
        case 'requestApproval': {
          const t = now();
          const decision = await deps.approve(eff.request);
          if (decision !== 'approve' && decision !== 'deny' && decision !== 'approve-all') throw new AppError('INTERNAL', 'invalid approval decision');
          emit('APPROVAL', t, { round: eff.request.round - 1, detail: { decision, key: eff.request.objectKey } });
          return { type: 'approval', decision };
        }
        case 'decrypt': {
          let s: Matrix;
          const t = now();
          if (pqc) {
            s = await decryptCts(fetchedCts, eff.objectKey, eff.round);
            fetchedCts = undefined;
          } else {
            const tensor = guard(fetchedShift, eff.objectKey, eff.expectedShape, eff.round);
            s = await deps.crypto.liuDecryptTensor(tensor, opt);
            fetchedShift = undefined;
          }
          if (!sameShape(s.shape, [k, a])) throw new AppError('CRYPTO_FAILURE', 'decrypted shift has the wrong shape');
          if (!allFinite(s.data)) throw new AppError('CRYPTO_FAILURE', 'decrypted shift is not finite');
          // Centroids are means of records, so an honest shift is bounded by 2·max|x|. Anything
          // larger is not a shift of this job (e.g. a ciphertext under another key): never send it.
          if (!(maxAbs(s.data) <= shiftBound)) {
            emit('DECRYPTION.REFUSED', undefined, { round: eff.round, detail: { key: eff.objectKey, why: 'out of range after decryption' } });
            throw new AppError('DECRYPTION_REFUSED', `${eff.objectKey} decrypts to values no shift of this dataset can have`, {
              userMessage: `The worker's shift for round ${eff.round + 1} decrypted to values no honest shift can have (larger than twice your largest value). The job was stopped and nothing derived from it was sent.`,
            });
          }
          // CKKS: the decryption carries noise that depends on the secret key; rounding it away
          // before anything is sent blunts decryption-oracle attacks (IND-CPA-D).
          if (pqc) s = roundTo(s, PQC_SHIFT_GRID);
          artifacts.set('shift', s);
          const m = maxAbs(s.data);
          emit('DECRYPT', t, { round: eff.round, detail: { key: eff.objectKey, maxAbsShift: m } });
          return { type: 'decrypted', maxAbsShift: m };
        }
        case 'fdhopeEncryptShift': {
          const t = now();
          const so = await deps.crypto.fdhopeEncrypt(fdhopeKey, art('shift'), eff.sens, opt);
          artifacts.set('shiftOpe', so);
          emit('FDHOPE.ENCRYPT', t, { round: eff.round, detail: { what: 'shift' } });
          return { type: 'shiftEncrypted' };
        }
        case 'callStep2': {
          if (!worker) throw new AppError('INTERNAL', 'no worker assigned');
          const t = now();
          const reply = await worker.post(eff.path, { ...eff.headers }, { signal, timeoutMs: job.workerTimeoutMs ?? WORKER_TIMEOUT_MS });
          const parsed = usesFdhope(algorithm) ? parseDbskmeansStep2Reply(reply) : parseSkmeansStep2Reply(reply);
          emit('RUN2', t, {
            round: eff.round,
            detail: { status: parsed.status, ...(parsed.serviceTime !== undefined ? { serviceTime: parsed.serviceTime } : {}) },
          });
          return { type: 'step2Done', status: parsed.status, udmShape: parsed.encryptedUdmShape };
        }
        case 'verify': {
          let t = now();
          let dec: Matrix;
          if (pqc) {
            const items = await deps.store.getBytesList(eff.objectKey, { force: true, signal });
            emit('GET', t, { detail: { key: eff.objectKey, bytes: items.reduce((s, r) => s + r.length, 0) } });
            t = now();
            dec = await decryptCts({ key: eff.objectKey, items }, eff.objectKey);
          } else {
            const nd = await deps.store.getNdarray(eff.objectKey, { force: true, signal });
            emit('GET', t, { detail: { key: eff.objectKey, bytes: nd.data.byteLength } });
            const tensor = guard({ key: eff.objectKey, nd }, eff.objectKey, eff.expectedShape);
            t = now();
            dec = await deps.crypto.liuDecryptTensor(tensor, opt);
          }
          if (!sameShape(dec.shape, [k, a])) throw new AppError('CRYPTO_FAILURE', 'decrypted centroids have the wrong shape');
          centroids = dec;
          const maxError = centroidError(dec, data, eff.labels, k, pqc);
          emit('VERIFY', t, { detail: { maxError, ok: maxError <= verifyTolerance(algorithm) } });
          return { type: 'verified', maxError };
        }
        case 'log':
          emit(eff.name, undefined, { round: eff.round, detail: eff.detail ? { ...eff.detail } : undefined });
          return undefined;
        case 'done':
          outcome = eff.outcome;
          return undefined;
        case 'fail':
          if (eff.code === 'DECRYPTION_REFUSED') emit('DECRYPTION.REFUSED', undefined, { round: state.round, detail: { why: eff.message.slice(0, 200) } });
          throw new AppError(eff.code as ErrorCode, eff.message, { userMessage: eff.userMessage });
      }
    };

    const queue: KmeansEvent[] = [{ type: 'start' }];
    while (queue.length > 0) {
      const ev = queue.shift() as KmeansEvent;
      const t = next(state, ev);
      state = t.state;
      progress();
      for (const eff of t.effects) {
        const out = await exec(eff);
        if (out) queue.push(out);
      }
    }
    if (!outcome || !centroids) throw new AppError('INTERNAL', 'job ended without a result');
    const totalMs = now() - t0;
    emit('COMPLETED', t0, { detail: { iterations: outcome.iterations, converged: outcome.converged, stop: outcome.stopReason } });
    return {
      jobId: job.jobId,
      algorithm,
      matrixId: job.matrixId,
      labels: outcome.labels,
      iterations: outcome.iterations,
      converged: outcome.converged,
      stopReason: outcome.stopReason,
      centroids,
      verification: { ...outcome.verification, tolerance: verifyTolerance(algorithm) },
      maxShiftPerRound: outcome.maxShiftPerRound,
      workerId: outcome.workerId,
      timings,
      totalMs,
    };
  }
}

/**
 * Every storage key a job of `algorithm` with matrix id `p` writes (client and worker side). The
 * CKKS public key objects are shared between jobs (content-addressed) and not listed; see
 * `ckksKeyObjectKeys`.
 */
export function jobObjectKeys(algorithm: KmeansAlgorithm, p: string): string[] {
  const common = [keys.encryptedMatrix(p), keys.centi(p), keys.centj(p), keys.encryptedShiftMatrix(p)];
  const pqc = isPqc(algorithm) ? [keys.initsm(p)] : [];
  return !usesFdhope(algorithm)
    ? [...common, ...pqc, keys.udm(p), keys.shiftMatrix(p)]
    : [...common, ...pqc, keys.encryptedUdm(p), keys.shiftMatrixOpe(p)];
}

export { ckksKeyObjectKeys };

/**
 * Deletes a finished job's objects from storage (upstream never does: spec/protocol.md §7.5
 * "Nothing is ever garbage-collected"). Returns the number of chunks deleted.
 */
export async function deleteJobObjects(store: ObjectStore, algorithm: KmeansAlgorithm, p: string, opts: { signal?: AbortSignal } = {}): Promise<number> {
  assertMatrixId(p);
  let n = 0;
  for (const key of jobObjectKeys(algorithm, p)) n += await store.deleteBall(key, opts);
  return n;
}
