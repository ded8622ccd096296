/**
 * @module rory/algorithms/dbsnnc/runner
 * DBSNNC and DBSNNC-PQC, the one-shot nearest-neighbour clustering on FDHOPE ciphertexts
 * (spec/protocol.md §5.4, §7.5; spec/crypto.md §7.3; docs/protocol-additions.md §3):
 * encrypt the dataset (`encrypted{P}`: Liu n×a×m, or CKKS one ciphertext per record, E3 — uploaded
 * for wire compatibility; the worker does not use it, so no CKKS key objects are uploaded), compute
 * the Manhattan distance matrix, fit a per-job FDHOPE key to it, upload `FDHOPE(DM)` as
 * `{P}encrypteddm` and send `FDHOPE(θ + sens)` as `Encrypted-Threshold`. Only ciphertexts leave the
 * browser; nothing needs decrypting, so no approval is asked.
 *
 * Threshold: the job's value, or (undefined / −1) the smallest non-zero distance (§4.1). Every DM
 * entry carries FDHOPE noise in [0, sens·scale); upstream encrypts θ with noise too, so a distance
 * exactly equal to θ joins or not by chance. Encrypting θ + sens without noise bounds every such
 * noise from above: d ≤ θ ⇒ Enc(d) ≤ Enc(θ).
 */
import { AppError } from '../../../errors';
import { matrix, pythonShape, type Matrix } from '../../../data/matrix';
import { defaultThreshold, dm as distanceMatrix } from '../../../data/udm';
import type { KeyId } from '../../../engine/types';
import type { UsageRef } from '../../../keystore/types';
import { assertMatrixId } from '../../ids';
import { assignWorker, byteSum, createSteps, matrixUploader, parseLabels, requireKey, runJob, type RunContext } from '../../kit';
import { ENCRYPTED_MATRIX_DTYPE, FLOAT64, H, keys } from '../../protocol';
import { WORKER_TIMEOUT_MS } from '../../worker-client';
import { DBSNNC_PATH, DBSNNC_PQC_PATH } from './paths';

export const DEFAULT_NNC_SENS = 1e-8;

export interface DbsnncJob {
  readonly algorithm: 'DBSNNC' | 'DBSNNC_PQC';
  readonly jobId: string;
  readonly matrixId: string;
  readonly data: Matrix;
  /** Liu key (DBSNNC) or CKKS key set (DBSNNC-PQC). */
  readonly keys: { readonly liu?: KeyId; readonly ckks?: KeyId };
  readonly fdhopeKey?: { readonly label: string; readonly datasetId?: string; readonly usedBy?: readonly UsageRef[] };
  /** Distance threshold; undefined or −1 = the smallest non-zero distance. */
  readonly threshold?: number;
  /** FDHOPE noise; default the upstream client's 1e-8. */
  readonly sens?: number;
  readonly numChunks?: number;
  readonly workerTimeoutMs?: number;
}

export interface NncResult {
  readonly labels: Int32Array;
  readonly clusters: number;
  readonly threshold: number;
  readonly workerId: string;
  readonly timings: Readonly<Record<string, number>>;
  readonly totalMs: number;
}

/** The threshold to use: the job's, or the smallest non-zero distance. */
export function resolveThreshold(dmPlain: Matrix, threshold: number | undefined): number {
  const t = threshold === undefined || threshold === -1 ? defaultThreshold(dmPlain) : threshold;
  if (!Number.isFinite(t) || t < 0) {
    throw new AppError('INVALID_ARGUMENT', 'threshold must be a non-negative number', { userMessage: 'The threshold must be a non-negative number (or −1 for automatic).' });
  }
  return t;
}

export function assertTable(data: Matrix): [number, number] {
  const [n, a] = data.shape;
  if (data.shape.length !== 2 || n < 1) throw new AppError('SHAPE_MISMATCH', 'the dataset must be an n×a matrix', { userMessage: 'The dataset must be a table of numbers with at least one row.' });
  return [n, a];
}

export async function runDbsnncJob(job: DbsnncJob, ctx: RunContext): Promise<NncResult> {
  const steps = createSteps(ctx);
  return runJob(ctx, steps, async () => {
    assertMatrixId(job.matrixId);
    const [n, a] = assertTable(job.data);
    const p = job.matrixId;
    const numChunks = job.numChunks ?? 4;
    const signal = ctx.signal;
    const pqc = job.algorithm === 'DBSNNC_PQC';
    const put = matrixUploader(ctx, steps, numChunks);

    const dmPlain = await steps.timed('DM.GENERATION', () => distanceMatrix(job.data), { shape: pythonShape([n, n]) });
    const threshold = resolveThreshold(dmPlain, job.threshold);

    let shapeHeaders: Record<string, string>;
    if (pqc) {
      const ckksKey = requireKey(job.keys.ckks, 'CKKS');
      const { slots } = await ctx.engine.ckksPublic(ckksKey);
      if (a > slots) throw new AppError('SHAPE_MISMATCH', 'too many attributes', { userMessage: `The dataset has ${a} attributes but a CKKS ciphertext of this key set holds ${slots}.` });
      const rows = await steps.timed('SEGMENT.ENCRYPT', () => ctx.engine.ckksEncryptRows(ckksKey, job.data.data, a, { signal }), { scheme: 'ckks' });
      await steps.timed('PUT', () => ctx.store.putBytesList(keys.encryptedMatrix(p), rows, { numChunks, signal }), { key: keys.encryptedMatrix(p), bytes: byteSum(rows) });
      shapeHeaders = { [H.ENCRYPTED_MATRIX_SHAPE]: pythonShape([n, a]), [H.ENCRYPTED_MATRIX_DTYPE]: ENCRYPTED_MATRIX_DTYPE };
    } else {
      const liuKey = requireKey(job.keys.liu, 'Liu');
      const enc = await steps.timed('SEGMENT.ENCRYPT', () => ctx.engine.liuEncrypt(liuKey, job.data.data, { signal }));
      const m = enc.length / (n * a);
      await put(keys.encryptedMatrix(p), matrix(enc, [n, a, m]), { fullDtype: ENCRYPTED_MATRIX_DTYPE });
      shapeHeaders = { [H.ENCRYPTED_MATRIX_SHAPE]: pythonShape([n, a, m]), [H.ENCRYPTED_MATRIX_DTYPE]: ENCRYPTED_MATRIX_DTYPE, [H.M]: String(m) };
    }
    const key = await steps.timed('FDHOPE.KEYGEN', () => ctx.engine.createFdhopeKey(dmPlain.data, job.fdhopeKey ?? { label: `FDHOPE for job ${job.jobId}` }, { signal }));
    const sens = job.sens ?? DEFAULT_NNC_SENS;
    const edm = await steps.timed('FDHOPE.ENCRYPT', () => ctx.engine.fdhopeEncrypt(key.id, dmPlain.data, sens, { signal }), { what: 'dm' });
    const eth = await steps.timed('FDHOPE.ENCRYPT', () => ctx.engine.fdhopeEncrypt(key.id, Float64Array.of(threshold + sens), 0, { signal }), { what: 'threshold' });
    await put(keys.encryptedDm(p), matrix(edm, [n, n]));
    const headers = {
      [H.PLAINTEXT_MATRIX_ID]: p,
      [H.ENCRYPTED_MATRIX_ID]: keys.encryptedMatrix(p),
      ...shapeHeaders,
      [H.ENCRYPTED_DM_ID]: keys.encryptedDm(p),
      [H.ENCRYPTED_DM_SHAPE]: pythonShape([n, n]),
      [H.ENCRYPTED_DM_DTYPE]: FLOAT64,
      [H.ENCRYPTED_THRESHOLD]: String(eth[0]),
      [H.NUM_CHUNKS]: String(numChunks),
    };
    const { assignment, worker } = await assignWorker(ctx, steps, job.algorithm);
    const path = pqc ? DBSNNC_PQC_PATH : DBSNNC_PATH;
    const reply = await steps.timed('RUN1', () => worker.post(path, headers, { signal, timeoutMs: job.workerTimeoutMs ?? WORKER_TIMEOUT_MS }), { workerId: assignment.workerId });
    const labels = parseLabels(reply, n, 'the clustering request');
    const clusters = new Set(labels).size;
    steps.emit('COMPLETED', { since: steps.startedAt, detail: { clusters } });
    return { labels, clusters, threshold, workerId: assignment.workerId, timings: steps.timings, totalMs: steps.elapsed() };
  });
}
