/**
 * @module rory/algorithms/interactive-kmeans/runner
 * Runs an SKMeans or DBSKMeans job (Liu or CKKS/PQC variant): feeds the pure reducer
 * (`./machine.ts`) and performs its effects with the run context of `rory/kit` — the object store,
 * the manager and worker clients, the crypto engine (keys named by id, never held here), the
 * user's approvals, events, progress and an AbortSignal (spec/protocol.md §8; spec/crypto.md §7.1,
 * §7.2, §11.5, §11.6).
 *
 * Guards
 * - D3: SKMeans(-PQC) starts only with an acknowledgement listing exactly its plaintext uploads.
 * - D8 (`./verify.ts`): each decrypted shift is compared with the shift the browser recomputes from
 *   its records, the returned labels and the centroids it tracks; a deviation beyond the scheme's
 *   error stops the job (DECRYPTION_REFUSED, logged DECRYPTION.REFUSED). Only the recomputed shift is
 *   used and sent (plaintext or FDHOPE), so no decryption ever leaves the browser.
 * - Decryption guard: only `{P}encryptedshiftmatrix` of this job and round (and, for the final
 *   check, `{P}centj`) is decrypted, and only if it has shape (k, a, m), dtype float64 and finite
 *   values — or, for PQC, exactly k SEAL ciphertexts that load in this key set's context (only the
 *   first a slots of each are kept). Anything else → DECRYPTION_REFUSED (logged DECRYPTION.REFUSED).
 * - D4 (PQC): the worker gets the CKKS public objects of `ckks-custody.ts`, never the secret key.
 * - Verification: the final centroids `{P}centj` are decrypted and compared with the means of the
 *   plaintext rows per returned label; a mismatch above the tolerance is flagged in the result.
 *
 * Event names (upstream `ExperimentLogEntry` names plus ours): LOCAL.READ, SEGMENT.ENCRYPT,
 * UDM.GENERATION, FDHOPE.KEYGEN, FDHOPE.ENCRYPT, PUT, GET.WORKER, RUN1, GET, APPROVAL, DECRYPT,
 * RUN2, ITERATION.COMPLETED, VERIFY, COMPLETED, DECRYPTION.REFUSED, FAILED.
 */
import { AppError, type ErrorCode } from '../../../errors';
import { clusterMeans } from '../../../data/kmeans';
import { matrix, type Matrix } from '../../../data/matrix';
import { udm as computeUdm, udmMaxAbs } from '../../../data/udm';
import type { KeyId } from '../../../engine/types';
import { fromMatrix } from '../../../storage/ndarray';
import { secureRandomBytes } from '../../../crypto/random';
import { putNdarrayFrom } from '../../../storage/streamed';
import type { NdArray, NdarraySource, TransferProgress } from '../../../storage/types';
import { uploadCkksPublicKeys } from '../../ckks-custody';
import { assertMatrixId } from '../../ids';
import {
  allFinite,
  byteSum,
  createSteps,
  decryptGuarded,
  guardCiphertexts,
  guardFloat64,
  looksLikeCiphertexts,
  MAX_CIPHERTEXT_BYTES,
  maxAbs,
  refuseDecryption,
  requireKey,
  verificationFailed,
  runJob,
  checkAborted,
  type RunContext,
} from '../../kit';
import { assertAcknowledgedFor, profile, type LeakageAcknowledgement } from '../../leakage';
import { SKMEANS_LEAKAGE } from '../skmeans/leakage';
import { SKMEANS_PQC_LEAKAGE } from '../skmeans-pqc/leakage';
import { pythonShape, sameShape } from '../../protocol';
import { WORKER_TIMEOUT_MS, type WorkerClient } from '../../worker-client';
import { parseDbskmeansStep2Reply, parseSkmeansStep2Reply, parseStep1Reply } from './replies';
import { expectedShift, maxDeviation, seedCentroids } from './verify';
import {
  initialState,
  isPqc,
  kmeansConfig,
  next,
  usesFdhope,
  verifyTolerance,
  type Artifact,
  type Effect,
  type KmeansAlgorithm,
  type KmeansEvent,
  type KmeansOutcome,
  type KmeansState,
} from './machine';

export interface KmeansJob {
  readonly algorithm: KmeansAlgorithm;
  readonly jobId: string;
  /** Plaintext-Matrix-Id `P` (see `ids.ts`). */
  readonly matrixId: string;
  /** The plaintext dataset n×a. Never leaves the runner except as the algorithm's uploads. */
  readonly data: Matrix;
  readonly k: number;
  /** Key-store ids: a Liu key (Liu variants) or a CKKS key set (PQC variants). */
  readonly keys: { readonly liu?: KeyId; readonly ckks?: KeyId };
  /** Label and owner of the per-job FDHOPE key (DBSKMeans variants). */
  readonly fdhopeKey?: { readonly label: string; readonly datasetId?: string; readonly usedBy?: readonly { kind: 'job' | 'dataset'; id: string; label?: string }[] };
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

/** Means of the rows of `d` (n×a) per label (k clusters); an empty cluster gets zeros, as the Liu worker does. */
export function centroidsFromLabels(d: Matrix, labels: Int32Array, k: number): Matrix {
  const [n, a] = d.shape;
  return matrix(clusterMeans(d.data, n, a, labels, k), [k, a]);
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

/**
 * Runs one SKMeans/DBSKMeans job to the end. Resolves with labels, iterations, the converged
 * flag, decrypted centroids, the verification and timings; rejects with an AppError
 * (ACK_REQUIRED, APPROVAL_DENIED, DECRYPTION_REFUSED, NO_WORKERS, WORKER_*, STORAGE_*,
 * PROTOCOL_VIOLATION, ABORTED, …).
 */
export async function runKmeansJob(job: KmeansJob, ctx: RunContext): Promise<KmeansResult> {
  const steps = createSteps(ctx);
  return runJob(ctx, steps, () => run());

  async function run(): Promise<KmeansResult> {
    const { algorithm, data } = job;
    if (algorithm !== 'SKMEANS' && algorithm !== 'DBSKMEANS' && algorithm !== 'SKMEANS_PQC' && algorithm !== 'DBSKMEANS_PQC') {
      throw new AppError('INVALID_ARGUMENT', `unsupported algorithm ${String(algorithm)}`, { userMessage: 'This algorithm is not part of the k-means family.' });
    }
    if (data.shape.length !== 2) throw new AppError('SHAPE_MISMATCH', 'the dataset must be a 2-D matrix', { userMessage: 'The dataset must be a table of numbers (rows × columns).' });
    assertMatrixId(job.matrixId);
    if (!usesFdhope(algorithm)) assertAcknowledgedFor(profile(algorithm, algorithm === 'SKMEANS' ? SKMEANS_LEAKAGE : SKMEANS_PQC_LEAKAGE), job.acknowledgement);
    const pqc = isPqc(algorithm);
    const [n, a] = data.shape;
    const ckksKey = pqc ? requireKey(job.keys.ckks, 'CKKS') : undefined;
    const liuKey = pqc ? undefined : requireKey(job.keys.liu, 'Liu');
    const ckksInfo = ckksKey ? await ctx.engine.ckksPublic(ckksKey) : undefined;
    if (ckksInfo && a > ckksInfo.slots) {
      throw new AppError('SHAPE_MISMATCH', 'too many attributes for one ciphertext', {
        userMessage: `The dataset has ${a} attributes but a CKKS ciphertext of this key set holds ${ckksInfo.slots}.`,
      });
    }

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
    const signal = ctx.signal;
    const opt = { signal };
    const timeoutMs = job.workerTimeoutMs ?? WORKER_TIMEOUT_MS;

    /** D8: the centroids this round started from, as the browser tracks them (records 0…k−1 first). */
    let centPrev = seedCentroids(data, k);
    /** Largest honest |decrypted − recomputed| shift entry: the scheme's error at this data's scale. */
    const shiftTolerance = verifyTolerance(algorithm) * Math.max(1, maxAbs(data.data));
    const artifacts = new Map<Artifact, Matrix>();
    /** PQC artifacts: lists of serialized CKKS ciphertexts. */
    const cipherLists = new Map<Artifact, Uint8Array[]>();
    let fetched: { key: string; nd?: NdArray; items?: Uint8Array[] } | undefined;
    let fdhopeKey: KeyId | undefined;
    /** FDHOPE algorithms: the UDM is streamed (issue #13 item 2), produced by this source when uploaded. */
    const streamUdm = usesFdhope(algorithm);
    let encryptedUdm: NdarraySource | undefined;
    let udmEncryptMs = 0;
    let worker: WorkerClient | undefined;
    let centroids: Matrix | undefined;
    let outcome: KmeansOutcome | undefined;

    const progress = (transfer?: TransferProgress, cryptoStep?: { what: string; done: number; total: number }) =>
      ctx.onProgress?.({
        phase: state.phase,
        round: state.phase === 'idle' ? 0 : Math.min(state.round + 1, maxIterations),
        maxIterations,
        transfer,
        crypto: cryptoStep,
      });
    const cryptoProgress = (what: string) => (p: { done: number; total: number }) => progress(undefined, { what, done: p.done, total: p.total });
    const art = (name: Artifact): Matrix => {
      const m = artifacts.get(name);
      if (!m) throw new AppError('INTERNAL', `artifact ${name} is missing`);
      return m;
    };
    /**
     * Size bounds of what this job reads back (issue #12 finding 5): k ciphertexts or a k×a×m
     * tensor. Bounds, not exact shapes, so a wrong shape reaches the decryption guard and is
     * refused there with DECRYPTION_REFUSED.
     */
    const readBound = (expectedShape: readonly number[]) => ({
      maxBytes: pqc ? k * MAX_CIPHERTEXT_BYTES : expectedShape.reduce((x, y) => x * y, 1) * 8 + 4096,
    });
    const fdhopeKeyId = (): KeyId => {
      if (!fdhopeKey) throw new AppError('INTERNAL', 'no FDHOPE key yet');
      return fdhopeKey;
    };

    /** Decrypts `fetched` after the guards: a k×a matrix of shift or centroid values. */
    const decryptFetched = async (key: string, expectedShape: readonly number[], round?: number): Promise<Matrix> => {
      const f = fetched;
      fetched = undefined;
      if (!f || f.key !== key) throw refuseDecryption(steps, key, 'it is not the object this round expects', round);
      if (pqc) {
        guardCiphertexts(steps, f.items ?? [], key, k, round);
        return matrix(await decryptGuarded(ctx, steps, ckksKey as string, f.items as Uint8Array[], a, key, round), [k, a]);
      }
      if (!f.nd) throw refuseDecryption(steps, key, 'it is not an ndarray', round);
      const tensor = guardFloat64(steps, f.nd, key, expectedShape, round);
      const plain = await ctx.engine.liuDecrypt(liuKey as string, tensor.data, opt);
      return matrix(plain, tensor.shape.slice(0, -1));
    };

    const exec = async (eff: Effect): Promise<KmeansEvent | undefined> => {
      checkAborted(signal);
      switch (eff.type) {
        case 'encryptMatrix': {
          let t = performance.now();
          if (!allFinite(data.data)) {
            throw new AppError('DATA_MAGNITUDE', 'the dataset contains non-finite values', {
              userMessage: 'The dataset contains values that are not finite numbers. Fix the data and try again.',
            });
          }
          steps.emit('LOCAL.READ', { since: t, detail: { shape: pythonShape(data.shape) } });
          t = performance.now();
          if (pqc) {
            const rows = await ctx.engine.ckksEncryptRows(ckksKey as string, data.data, a, { signal, onProgress: cryptoProgress('encrypt') });
            if (rows.length !== n) throw new AppError('CRYPTO_FAILURE', `CKKS encryption returned ${rows.length} ciphertexts for ${n} rows`);
            cipherLists.set('encryptedMatrix', rows);
            cipherLists.set('initsm', await ctx.engine.ckksEncryptRows(ckksKey as string, new Float64Array(k * a), a, opt));
            steps.emit('SEGMENT.ENCRYPT', { since: t, detail: { shape: pythonShape([n, a]), scheme: 'ckks', bytes: byteSum(rows) } });
            return { type: 'matrixEncrypted', shape: [n, a] };
          }
          const enc = await ctx.engine.liuEncrypt(liuKey as string, data.data, { signal, onProgress: cryptoProgress('encrypt') });
          if (!allFinite(enc)) {
            throw new AppError('DATA_MAGNITUDE', 'Liu ciphertexts overflow', {
              userMessage: 'The values are too large to encrypt (the ciphertexts overflow). Rescale the data and try again.',
            });
          }
          const m = enc.length / (n * a);
          artifacts.set('encryptedMatrix', matrix(enc, [n, a, m]));
          steps.emit('SEGMENT.ENCRYPT', { since: t, detail: { shape: pythonShape([n, a, m]) } });
          return { type: 'matrixEncrypted', shape: [n, a, m] };
        }
        case 'computeUdm': {
          const t = performance.now();
          if (streamUdm) {
            // FDHOPE UDM: never built whole. Keygen and encryption produce it in row blocks inside
            // the crypto engine; the upload streams it chunk by chunk (lib/storage/streamed.ts).
            udmMaxAbs(data);
            steps.emit('UDM.GENERATION', { since: t, detail: { shape: pythonShape([n, n, a]), streamed: true } });
            return { type: 'udmComputed', shape: [n, n, a] };
          }
          const u = computeUdm(data);
          if (!allFinite(u.data)) {
            throw new AppError('DATA_MAGNITUDE', 'the UDM overflows', {
              userMessage: 'Differences between records overflow (values too large). Rescale the data and try again.',
            });
          }
          artifacts.set('udm', u);
          steps.emit('UDM.GENERATION', { since: t, detail: { shape: pythonShape(u.shape) } });
          return { type: 'udmComputed', shape: u.shape };
        }
        case 'fdhopeKeygen': {
          const meta = job.fdhopeKey ?? { label: `FDHOPE for job ${job.jobId}` };
          const rec = await steps.timed('FDHOPE.KEYGEN', () =>
            streamUdm ? ctx.engine.createFdhopeKeyForUdm(data.data, a, meta, opt) : ctx.engine.createFdhopeKey(art('udm').data, meta, opt),
          );
          fdhopeKey = rec.id;
          return { type: 'fdhopeKeyReady' };
        }
        case 'fdhopeEncryptUdm': {
          if (streamUdm) {
            // Encrypted while it is uploaded; a per-job ChaCha20 seed makes both passes equal.
            const seed = new Uint8Array(32);
            secureRandomBytes(seed);
            const key = fdhopeKeyId();
            const sens = eff.sens;
            encryptedUdm = {
              shape: [n, n, a],
              rows: async (from, to, sig) => {
                const t0 = performance.now();
                const out = await ctx.engine.fdhopeEncryptUdmRows(key, data.data, a, { from, to }, sens, seed, { signal: sig });
                udmEncryptMs += performance.now() - t0;
                return out;
              },
            };
            return { type: 'udmEncrypted', shape: [n, n, a] };
          }
          const u = art('udm');
          const eu = await steps.timed(
            'FDHOPE.ENCRYPT',
            () => ctx.engine.fdhopeEncrypt(fdhopeKeyId(), u.data, eff.sens, { signal, onProgress: cryptoProgress('fdhope') }),
            { what: 'udm', shape: pythonShape(u.shape) },
          );
          artifacts.delete('udm');
          artifacts.set('encryptedUdm', matrix(eu, u.shape));
          return { type: 'udmEncrypted', shape: u.shape };
        }
        case 'upload':
        case 'uploadShift': {
          const t = performance.now();
          if (eff.type === 'upload' && eff.encoding === 'E3') {
            const items = cipherLists.get(eff.artifact);
            if (!items) throw new AppError('INTERNAL', `artifact ${eff.artifact} is missing`);
            await ctx.store.putBytesList(eff.key, items, { numChunks: eff.numChunks, tags: eff.tags, signal, onProgress: (p) => progress(p) });
            if (eff.release) cipherLists.delete(eff.artifact);
            steps.emit('PUT', { since: t, detail: { key: eff.key, bytes: byteSum(items) } });
            return { type: 'uploaded', key: eff.key };
          }
          if (eff.type === 'upload' && eff.artifact === 'encryptedUdm' && encryptedUdm) {
            const source = encryptedUdm;
            await putNdarrayFrom(ctx.store, eff.key, source, { numChunks: eff.numChunks, tags: eff.tags, signal, onProgress: (p) => progress(p) });
            encryptedUdm = undefined;
            steps.emit('FDHOPE.ENCRYPT', { since: performance.now() - udmEncryptMs, detail: { what: 'udm', shape: pythonShape(source.shape), streamed: true, passes: 2 } });
            steps.emit('PUT', { since: t, detail: { key: eff.key, bytes: 8 * source.shape.reduce((x, y) => x * y, 1), streamed: true } });
            return { type: 'uploaded', key: eff.key };
          }
          const m = art(eff.artifact);
          await ctx.store.putNdarray(eff.key, fromMatrix(m), {
            numChunks: eff.numChunks,
            tags: eff.type === 'upload' ? eff.tags : undefined,
            signal,
            onProgress: (p) => progress(p),
          });
          if (eff.type === 'upload' && eff.release) artifacts.delete(eff.artifact);
          steps.emit('PUT', { since: t, round: eff.type === 'uploadShift' ? eff.round : undefined, detail: { key: eff.key, bytes: m.data.byteLength } });
          return { type: 'uploaded', key: eff.key };
        }
        case 'uploadKeys': {
          const info = ckksInfo as NonNullable<typeof ckksInfo>;
          const t = performance.now();
          const { id, uploaded } = await uploadCkksPublicKeys(ctx.store, info.bundle, { signal });
          steps.emit('PUT', { since: t, detail: { key: `${id} (CKKS public keys)`, objects: uploaded.length } });
          return { type: 'keysUploaded', id };
        }
        case 'getWorker': {
          const assignment = await steps.timed('GET.WORKER', () => ctx.manager.getWorker(eff.algorithm, opt), (r) => ({ workerId: r.workerId }));
          worker = ctx.workerFor(assignment);
          return { type: 'workerAssigned', workerId: assignment.workerId, url: assignment.url };
        }
        case 'callStep1': {
          if (!worker) throw new AppError('INTERNAL', 'no worker assigned');
          const w = worker;
          const t = performance.now();
          const reply = await w.post(eff.path, { ...eff.headers }, { signal, timeoutMs });
          const parsed = parseStep1Reply(reply, { n, k });
          steps.emit('RUN1', { since: t, round: eff.round, detail: parsed.serviceTime !== undefined ? { serviceTime: parsed.serviceTime } : {} });
          return { type: 'step1Done', labels: parsed.labels, shiftId: parsed.encryptedShiftMatrixId };
        }
        case 'fetchShift': {
          const t = performance.now();
          fetched = undefined;
          if (eff.encoding === 'E3') {
            const items = await ctx.store.getBytesList(eff.key, { force: true, signal, onProgress: (p) => progress(p), expect: readBound([k]) });
            fetched = { key: eff.key, items };
            steps.emit('GET', { since: t, round: eff.round, detail: { key: eff.key, bytes: byteSum(items) } });
            return { type: 'shiftFetched', key: eff.key, shape: [items.length], dtype: 'ckks', allFinite: looksLikeCiphertexts(items) };
          }
          const nd = await ctx.store.getNdarray(eff.key, { force: true, signal, onProgress: (p) => progress(p), expect: readBound([k, a, (state.encryptedShape ?? [n, a, 6])[2]]) });
          fetched = { key: eff.key, nd };
          steps.emit('GET', { since: t, round: eff.round, detail: { key: eff.key, bytes: nd.data.byteLength } });
          const finite = nd.dtype === 'float64' || nd.dtype === 'float32' ? allFinite(nd.data as Float64Array) : true;
          return { type: 'shiftFetched', key: eff.key, shape: nd.shape, dtype: nd.dtype, allFinite: finite };
        }
        case 'requestApproval': {
          const t = performance.now();
          const decision = await ctx.approve(eff.request);
          if (decision !== 'approve' && decision !== 'deny' && decision !== 'approve-all') throw new AppError('INTERNAL', 'invalid approval decision');
          steps.emit('APPROVAL', { since: t, round: eff.request.round - 1, detail: { decision, key: eff.request.objectKey } });
          return { type: 'approval', decision };
        }
        case 'decrypt': {
          const t = performance.now();
          const dec = await decryptFetched(eff.objectKey, eff.expectedShape, eff.round);
          if (!sameShape(dec.shape, [k, a])) throw new AppError('CRYPTO_FAILURE', 'decrypted shift has the wrong shape');
          // D8: the shift must be what the browser recomputes from its own records and the labels
          // the worker returned. Only the recomputed shift is ever used or sent, never the decryption.
          const expected = expectedShift(data, state.labels as Int32Array, centPrev, pqc);
          const deviation = maxDeviation(dec, expected.shift);
          if (!(deviation <= shiftTolerance)) {
            throw verificationFailed(
              steps,
              eff.objectKey,
              `the decrypted shift differs from the one your records and the returned labels give by ${deviation.toExponential(2)} (allowed ${shiftTolerance.toExponential(2)})`,
              eff.round,
            );
          }
          centPrev = expected.next;
          artifacts.set('shift', expected.shift);
          const m = maxAbs(expected.shift.data);
          steps.emit('DECRYPT', { since: t, round: eff.round, detail: { key: eff.objectKey, maxAbsShift: m, verified: true, deviation } });
          return { type: 'decrypted', maxAbsShift: m };
        }
        case 'fdhopeEncryptShift': {
          const so = await steps.timed('FDHOPE.ENCRYPT', () => ctx.engine.fdhopeEncrypt(fdhopeKeyId(), art('shift').data, eff.sens, opt), { what: 'shift' }, eff.round);
          artifacts.set('shiftOpe', matrix(so, [k, a]));
          return { type: 'shiftEncrypted' };
        }
        case 'callStep2': {
          if (!worker) throw new AppError('INTERNAL', 'no worker assigned');
          const w = worker;
          const t = performance.now();
          const reply = await w.post(eff.path, { ...eff.headers }, { signal, timeoutMs });
          const parsed = usesFdhope(algorithm) ? parseDbskmeansStep2Reply(reply) : parseSkmeansStep2Reply(reply);
          steps.emit('RUN2', { since: t, round: eff.round, detail: { status: parsed.status, ...(parsed.serviceTime !== undefined ? { serviceTime: parsed.serviceTime } : {}) } });
          return { type: 'step2Done', status: parsed.status, udmShape: parsed.encryptedUdmShape };
        }
        case 'verify': {
          let t = performance.now();
          if (pqc) {
            const items = await ctx.store.getBytesList(eff.objectKey, { force: true, signal, expect: readBound([k]) });
            fetched = { key: eff.objectKey, items };
            steps.emit('GET', { since: t, detail: { key: eff.objectKey, bytes: byteSum(items) } });
          } else {
            const nd = await ctx.store.getNdarray(eff.objectKey, { force: true, signal, expect: readBound(eff.expectedShape) });
            fetched = { key: eff.objectKey, nd };
            steps.emit('GET', { since: t, detail: { key: eff.objectKey, bytes: nd.data.byteLength } });
          }
          t = performance.now();
          const dec = await decryptFetched(eff.objectKey, eff.expectedShape);
          if (!sameShape(dec.shape, [k, a])) throw new AppError('CRYPTO_FAILURE', 'decrypted centroids have the wrong shape');
          centroids = dec;
          const maxError = centroidError(dec, data, eff.labels, k, pqc);
          steps.emit('VERIFY', { since: t, detail: { maxError, ok: maxError <= verifyTolerance(algorithm) } });
          return { type: 'verified', maxError };
        }
        case 'log':
          steps.emit(eff.name, { round: eff.round, detail: eff.detail ? { ...eff.detail } : undefined });
          return undefined;
        case 'done':
          outcome = eff.outcome;
          return undefined;
        case 'fail':
          if (eff.code === 'DECRYPTION_REFUSED') steps.emit('DECRYPTION.REFUSED', { round: state.round, detail: { why: eff.message.slice(0, 200) } });
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
    const totalMs = steps.elapsed();
    steps.emit('COMPLETED', { since: steps.startedAt, detail: { iterations: outcome.iterations, converged: outcome.converged, stop: outcome.stopReason } });
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
      timings: steps.timings,
      totalMs,
    };
  }
}
