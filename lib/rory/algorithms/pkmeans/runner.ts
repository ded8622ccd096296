/**
 * @module rory/algorithms/pkmeans/runner
 * Private k-means, the Data Owner's side (spec/private-kmeans.md; docs/protocol-additions.md §5):
 * exact Lloyd k-means where the worker computes every data-dependent step blind on packed CKKS
 * ciphertexts and learns only n, a, k and the number of rounds.
 *
 * Per job: normalise and pack the records (`./packing.ts`), encrypt the B blocks (seeded symmetric),
 * upload `encrypted{P}` and the public key objects (with Galois keys for the replication steps,
 * uploaded once per key set), ask the Manager for up to W workers and split the blocks between them.
 * Per round: encrypt the cluster masks (fresh encryptions; nothing decrypted is ever sent), step 1
 * on every worker (partial sums), step 2 on every worker (distances of its blocks), fetch, ask the
 * user's approval, decrypt, verify (D8) and assign labels; stop when no label changes or after
 * `maxIterations` assignments.
 *
 * D8: every decrypted distance is compared with the one the browser computes from its own records
 * and the means it knows the worker used; a deviation beyond the CKKS error stops the job. Labels
 * are the argmin of the decrypted distances, except where a record's two nearest centres are within
 * twice that error (CKKS noise could order them wrongly): there the browser's exact distance
 * decides, so labels equal plaintext Lloyd's whatever the noise — and whatever a lying worker adds
 * below the bound. An empty cluster keeps its previous centroid (Lloyd); the worker's mean for it
 * is 0, so its distances are the browser's own.
 */
import { AppError } from '../../../errors';
import { matrix, type Matrix } from '../../../data/matrix';
import type { KeyId } from '../../../engine/types';
import { uploadCkksPublicKeys } from '../../ckks-custody';
import { assertMatrixId } from '../../ids';
import {
  byteSum,
  checkAborted,
  createSteps,
  decryptGuarded,
  guardCiphertexts,
  MAX_CIPHERTEXT_BYTES,
  refuseDecryption,
  requireKey,
  runJob,
  verificationFailed,
  type ApprovalDecision,
  type RunContext,
} from '../../kit';
import { H, keys, parseReply, PkmeansReply, pythonShape as shapeText } from '../../protocol';
import { WORKER_TIMEOUT_MS, type WorkerClient } from '../../worker-client';
import type { WorkerAssignment } from '../../manager-client';
import { buildMasks, centroidsOf, exactDistances, normalise, packingLayout, packRecords, readDistances, rotationSteps, seedMasks, type PackingLayout } from './packing';

import { PKMEANS_ROUTE as PKMEANS_PATH } from './index';

/**
 * Largest honest |decrypted − exact| distance, relative to the largest distance of the round:
 * measured ~1e-6 at N = 8192, scale 2^40 on the reference datasets; 2e-5 leaves a 20× margin.
 */
export const PKMEANS_TOLERANCE = 2e-5;
/** Most workers a job spreads its blocks over. */
export const MAX_PKMEANS_WORKERS = 8;

export interface PkmeansJob {
  readonly jobId: string;
  /** Storage id `P`. */
  readonly matrixId: string;
  /** The plaintext dataset n×a (user units). */
  readonly data: Matrix;
  readonly k: number;
  readonly keys: { readonly ckks?: KeyId };
  /** Most assignments (rounds); default 10 (D6). */
  readonly maxIterations?: number;
  readonly numChunks?: number;
  readonly workerTimeoutMs?: number;
  /** Most workers to spread the blocks over (default: every distinct worker the Manager hands out, ≤ 8). */
  readonly workers?: number;
}

export interface PkmeansResult {
  readonly labels: Int32Array;
  /** Assignments that changed a label (lloyd-reference.json's `iterations`). */
  readonly iterations: number;
  /** Rounds run (iterations + 1 when converged). */
  readonly rounds: number;
  readonly converged: boolean;
  /** Final centroids k×a, in the user's units. */
  readonly centroids: Matrix;
  readonly verification: { readonly ok: boolean; readonly maxError: number; readonly tolerance: number };
  readonly layout: PackingLayout;
  readonly workerIds: readonly string[];
  readonly timings: Readonly<Record<string, number>>;
  readonly totalMs: number;
}

/** Blocks [from, to) of worker w when B blocks are split over W workers. */
export function blockRanges(B: number, W: number): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  for (let w = 0; w < W; w++) out.push({ from: Math.floor((w * B) / W), to: Math.floor(((w + 1) * B) / W) });
  return out;
}

export async function runPkmeansJob(job: PkmeansJob, ctx: RunContext): Promise<PkmeansResult> {
  const steps = createSteps(ctx);
  return runJob(ctx, steps, async () => {
    const { data } = job;
    assertMatrixId(job.matrixId);
    if (data.shape.length !== 2) throw new AppError('SHAPE_MISMATCH', 'the dataset must be a 2-D matrix', { userMessage: 'The dataset must be a table of numbers (rows × columns).' });
    const [n, a] = data.shape;
    const k = job.k;
    if (!Number.isInteger(k) || k < 2 || k > n) {
      throw new AppError('INVALID_ARGUMENT', `k = ${k} with ${n} records`, { userMessage: `k must be a whole number between 2 and the number of records (${n}).` });
    }
    const maxIterations = job.maxIterations ?? 10;
    const p = job.matrixId;
    const numChunks = job.numChunks ?? 4;
    const timeoutMs = job.workerTimeoutMs ?? WORKER_TIMEOUT_MS;
    const signal = ctx.signal;
    const ckksKey = requireKey(job.keys.ckks, 'CKKS');
    const info = await ctx.engine.ckksPublic(ckksKey);
    const L = packingLayout(n, a, info.slots);
    const needed = rotationSteps(L);
    if (!info.bundle.relinKeys || !info.bundle.galoisKeys || (info.galoisSteps && !needed.every((s) => info.galoisSteps!.includes(s)))) {
      throw new AppError('INVALID_KEY', 'the CKKS key set lacks relinearization or rotation keys', {
        userMessage: `Private k-means needs a CKKS key set with relinearization keys and rotation keys for steps ${needed.join(', ')}. Let the job create one, or pick another set.`,
      });
    }
    const progress = (round: number, phase: string) => ctx.onProgress?.({ phase, round, maxIterations });

    // Records, normalised (translation + one global scale) and packed R per ciphertext.
    const norm = normalise(data);
    const blocks = await steps.timed(
      'SEGMENT.ENCRYPT',
      () => ctx.engine.ckksEncryptRows(ckksKey, packRecords(norm.data, L), L.slots, { signal, onProgress: (q) => ctx.onProgress?.({ phase: 'encrypting', round: 0, maxIterations, crypto: { what: 'encrypt', ...q } }) }),
      (r) => ({ scheme: 'ckks', ciphertexts: r.length, bytes: byteSum(r), recordsPerCiphertext: L.R }),
    );
    await steps.timed('PUT', () => ctx.store.putBytesList(keys.encryptedMatrix(p), blocks, { numChunks: Math.min(numChunks, L.B), signal }), { key: keys.encryptedMatrix(p), bytes: byteSum(blocks) });
    const custody = await steps.timed('PUT', () => uploadCkksPublicKeys(ctx.store, info.bundle, { signal }), (r) => ({ key: `${r.id} (CKKS public keys)`, objects: r.uploaded.length }));

    // Workers: as many distinct ones as the Manager hands out, at most one per block.
    const want = Math.max(1, Math.min(job.workers ?? MAX_PKMEANS_WORKERS, MAX_PKMEANS_WORKERS, L.B));
    const assignments: WorkerAssignment[] = [];
    const clients: WorkerClient[] = [];
    while (assignments.length < want) {
      checkAborted(signal);
      const as = await steps.timed('GET.WORKER', () => ctx.manager.getWorker('PKMEANS', { signal, matrixId: p }), (r) => ({ workerId: r.workerId }));
      if (assignments.some((x) => x.url === as.url)) break;
      assignments.push(as);
      clients.push(ctx.workerFor(as));
    }
    const W = assignments.length;
    const ranges = blockRanges(L.B, W);
    const base = {
      [H.PLAINTEXT_MATRIX_ID]: p,
      [H.ENCRYPTED_MATRIX_ID]: keys.encryptedMatrix(p),
      [H.ENCRYPTED_MATRIX_SHAPE]: shapeText([n, a]),
      [H.ENCRYPTED_MATRIX_DTYPE]: 'float64',
      [H.K]: String(k),
      [H.NUM_CHUNKS]: String(numChunks),
      [H.CKKS_KEYS_ID]: custody.id,
      [H.CKKS_ROWS_PER_CIPHERTEXT]: String(L.R),
      [H.CKKS_RECORD_STRIDE]: String(L.stride),
      [H.PKMEANS_WORKERS]: String(W),
    };
    const headersFor = (w: number, round: number, stepIndex: '1' | '2') => ({
      ...base,
      [H.STEP_INDEX]: stepIndex,
      [H.ITERATIONS]: String(round),
      [H.PKMEANS_WORKER_INDEX]: String(w),
      [H.PKMEANS_BLOCK_RANGE]: `${ranges[w].from}:${ranges[w].to}`,
    });

    // What the browser tracks: the means the worker uses (an empty cluster's is 0) and Lloyd's
    // centroids (an empty cluster keeps its previous one), both normalised.
    let workerMeans: Float64Array = norm.data.slice(0, k * a);
    let lloydMeans: Float64Array = workerMeans.slice();
    let labels: Int32Array | undefined;
    let approveAll = false;
    let maxError = 0;
    let iterations = 0;
    let converged = false;
    let round = 0;
    for (; round < maxIterations; round++) {
      progress(round + 1, 'masks');
      // Masks: fresh encryptions of this round's memberships (round 0: the seeds).
      const masks = labels ? buildMasks(labels, k, L) : seedMasks(k, L);
      await Promise.all(
        ranges.map(async ({ from, to }, w) => {
          const rows = new Float64Array(k * (to - from) * L.slots);
          for (let c = 0; c < k; c++) rows.set(masks.subarray((c * L.B + from) * L.slots, (c * L.B + to) * L.slots), c * (to - from) * L.slots);
          const cts = await steps.timed('SEGMENT.ENCRYPT', () => ctx.engine.ckksEncryptRows(ckksKey, rows, L.slots, { signal }), { what: 'masks', ciphertexts: k * (to - from) }, round);
          const matrixOf = Array.from({ length: k }, (_, c) => cts.slice(c * (to - from), (c + 1) * (to - from)));
          await steps.timed('PUT', () => ctx.store.putBytesMatrix(keys.pkmeansMasks(p, w), matrixOf, { numChunks: Math.min(numChunks, k), signal }), { key: keys.pkmeansMasks(p, w), bytes: byteSum(cts) }, round);
        }),
      );
      progress(round + 1, 'step1');
      await Promise.all(clients.map((wc, w) => steps.timed('RUN1', () => call(wc, headersFor(w, round, '1'), 'partial_id', keys.pkmeansPartial(p, w)), { worker: w }, round)));
      progress(round + 1, 'step2');
      await Promise.all(clients.map((wc, w) => steps.timed('RUN2', () => call(wc, headersFor(w, round, '2'), 'distances_id', keys.pkmeansDistances(p, w)), { worker: w }, round)));

      // Fetch and guard: k rows of this worker's block count, SEAL ciphertexts only.
      progress(round + 1, 'fetching');
      const fetched = await Promise.all(
        ranges.map(({ from, to }, w) =>
          steps.timed(
            'GET',
            () => ctx.store.getBytesMatrix(keys.pkmeansDistances(p, w), { force: true, signal, expect: { maxBytes: k * (to - from) * MAX_CIPHERTEXT_BYTES } }),
            (r) => ({ key: keys.pkmeansDistances(p, w), bytes: byteSum(r.flat()) }),
            round,
          ),
        ),
      );
      const ordered: Uint8Array[] = new Array(k * L.B);
      fetched.forEach((rows, w) => {
        const { from, to } = ranges[w];
        const key = keys.pkmeansDistances(p, w);
        if (rows.length !== k || rows.some((r) => r.length !== to - from)) throw refuseDecryption(steps, key, `it is not ${k} rows of ${to - from} ciphertexts`, round);
        guardCiphertexts(steps, rows.flat(), key, k * (to - from), round);
        rows.forEach((r, c) => r.forEach((ct, j) => (ordered[c * L.B + from + j] = ct)));
      });

      if (!approveAll) {
        progress(round + 1, 'awaitingApproval');
        const t = performance.now();
        const decision: ApprovalDecision = await ctx.approve({
          jobId: job.jobId,
          algorithm: 'PKMEANS',
          round: round + 1,
          objectKey: keys.pkmeansDistances(p, 0),
          shape: [n, k],
          purpose: `The encrypted distances between your ${n} records and the ${k} cluster centres of round ${round + 1} are decrypted here to assign each record to its nearest centre. Nothing decrypted is sent: the next round's cluster masks leave freshly encrypted, so the worker learns nothing from this round but that it happened.`,
        });
        steps.emit('APPROVAL', { since: t, round, detail: { decision } });
        if (decision === 'deny') throw new AppError('APPROVAL_DENIED', `decryption of round ${round + 1} denied`, { userMessage: 'You denied the decryption, so the job was stopped. Nothing more was sent to the cloud.' });
        approveAll = decision === 'approve-all';
      }
      progress(round + 1, 'decrypting');
      const decrypted = await steps.timed('DECRYPT', () => decryptGuarded(ctx, steps, ckksKey, ordered, L.slots, keys.pkmeansDistances(p, 0), round), { ciphertexts: ordered.length }, round);
      const dist = readDistances(decrypted, k, L);

      // D8: every distance against the browser's own arithmetic.
      const t = performance.now();
      const exactWorker = exactDistances(norm.data, n, a, workerMeans, k);
      let largest = 0;
      for (const v of exactWorker) largest = Math.max(largest, v);
      const tolerance = PKMEANS_TOLERANCE * Math.max(1, largest);
      let deviation = 0;
      for (let i = 0; i < dist.length; i++) {
        const d = Math.abs(dist[i] - exactWorker[i]);
        if (!(d <= deviation)) deviation = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
      }
      if (!(deviation <= tolerance)) {
        throw verificationFailed(steps, keys.pkmeansDistances(p, 0), `the decrypted distances differ from those of your records by ${deviation.toExponential(2)} (allowed ${tolerance.toExponential(2)})`, round);
      }
      maxError = Math.max(maxError, deviation / Math.max(1, largest));
      const next = assign(dist, exactDistances(norm.data, n, a, lloydMeans, k), labels, k, n, 2 * tolerance);
      steps.emit('VERIFY', { since: t, round, detail: { maxDeviation: deviation, tolerance, ok: true } });

      const changed = labels === undefined || next.some((y, i) => y !== labels![i]);
      labels = next;
      if (!changed) {
        converged = true;
        iterations = round;
        steps.emit('ITERATION.COMPLETED', { round, detail: { stop: 'converged' } });
        break;
      }
      iterations = round + 1;
      steps.emit('ITERATION.COMPLETED', { round });
      lloydMeans = centroidsOf(norm.data, n, a, labels, k, lloydMeans);
      workerMeans = centroidsOf(norm.data, n, a, labels, k, new Float64Array(k * a));
    }
    const finalLabels = labels as Int32Array;
    // Centroids in the user's units: means of the original records per final label (an empty
    // cluster keeps its last centroid, denormalised).
    const kept = lloydMeans.map((v, i) => v * norm.scale + norm.mean[i % a]);
    const centroids = matrix(centroidsOf(data.data, n, a, finalLabels, k, kept), [k, a]);
    steps.emit('COMPLETED', { since: steps.startedAt, detail: { iterations, converged, workers: W } });
    return {
      labels: finalLabels,
      iterations,
      rounds: Math.min(round + 1, maxIterations),
      converged,
      centroids,
      verification: { ok: true, maxError, tolerance: PKMEANS_TOLERANCE },
      layout: L,
      workerIds: assignments.map((x) => x.workerId),
      timings: steps.timings,
      totalMs: steps.elapsed(),
    };

    async function call(wc: WorkerClient, headers: Record<string, string>, field: 'partial_id' | 'distances_id', expected: string): Promise<void> {
      const reply = await wc.post(PKMEANS_PATH, headers, { signal, timeoutMs });
      const body = parseReply(PkmeansReply, reply.text, `private k-means step ${headers[H.STEP_INDEX]}`);
      if (body[field] !== expected) {
        throw refuseDecryption(steps, expected, `the worker named ${String(body[field]).slice(0, 80)} instead of ${expected}`);
      }
    }
  });
}

/**
 * Labels from decrypted distances (n×k): argmin, first minimum on ties — except where the two
 * nearest are within `ambiguity` (CKKS noise could swap them) or a cluster is empty (its worker
 * mean is 0): there the exact distances to Lloyd's centroids decide.
 */
function assign(dist: Float64Array, exact: Float64Array, previous: Int32Array | undefined, k: number, n: number, ambiguity: number): Int32Array {
  const empty = new Uint8Array(k);
  if (previous) {
    const counts = new Int32Array(k);
    for (const y of previous) counts[y]++;
    for (let c = 0; c < k; c++) empty[c] = counts[c] === 0 ? 1 : 0;
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bestD = Number.POSITIVE_INFINITY;
    let second = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      const d = empty[c] ? exact[i * k + c] : dist[i * k + c];
      if (d < bestD) {
        second = bestD;
        bestD = d;
        best = c;
      } else if (d < second) second = d;
    }
    if (second - bestD <= ambiguity || empty.some((e) => e === 1)) {
      best = 0;
      for (let c = 1; c < k; c++) if (exact[i * k + c] < exact[i * k + best]) best = c;
    }
    out[i] = best;
  }
  return out;
}

