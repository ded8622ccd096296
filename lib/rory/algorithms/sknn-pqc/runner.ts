/**
 * @module rory/algorithms/sknn-pqc/runner
 * SKNN-PQC (docs/protocol-additions.md §4): the two SKNN steps on CKKS ciphertexts, packed
 * `R = ⌊slots / a⌋` model records per ciphertext (`Ckks-Rows-Per-Ciphertext`). `encrypted{M}` and
 * `encrypted{R}` are E4, the worker returns `(x − M_b)²` per test record and block, the app
 * decrypts (approved, guarded), sums each group of a slots (squared Euclidean distance), takes the
 * argmin and uploads `distancesindex{R}` as int64 (1, t). The worker gets only the CKKS public
 * objects (D4); both phases need the acknowledgement (D3). D8: the decrypted distances are compared
 * with the browser's own squared distances; the indices sent come from the plaintext.
 */
import { AppError } from '../../../errors';
import { pythonShape } from '../../../data/matrix';
import { uploadCkksPublicKeys } from '../../ckks-custody';
import {
  assignWorker,
  byteSum,
  createSteps,
  decryptGuarded,
  guardCiphertexts,
  matrixUploader,
  MAX_CIPHERTEXT_BYTES,
  parseLabels,
  refuseDecryption,
  requireKey,
  runJob,
  verificationFailed,
  type RunContext,
} from '../../kit';
import { FLOAT64, H, keys } from '../../protocol';
import { SKNN_PQC_PATH } from './index';
import { approveDistances, argminRows, encryptedSetsHeaders, putNearestIndices, startClassify, type ClassifyJob, type ClassifyResult } from '../classification';
import { distancesKeyOf } from '../sknn/runner';
import { SKNN_PQC_PREDICT_LEAKAGE, SKNN_PQC_TRAIN_LEAKAGE } from './leakage';

/** CKKS error of a decrypted squared difference, relative to a·max|x|² (scale 2^40: ~1e-9; 1e-5 leaves room). */
export const SKNN_PQC_TOLERANCE = 1e-5;

export async function runSknnPqcJob(job: ClassifyJob, ctx: RunContext): Promise<ClassifyResult> {
  const steps = createSteps(ctx);
  return runJob(ctx, steps, async () => {
    const { modelId, testId, n, a, t, labelsRow, allowed, numChunks, timeoutMs } = startClassify(job, 'SKNN_PQC_PREDICT', [...SKNN_PQC_TRAIN_LEAKAGE, ...SKNN_PQC_PREDICT_LEAKAGE]);
    const ckksKey = requireKey(job.keys?.ckks, 'CKKS');
    const info = await ctx.engine.ckksPublic(ckksKey);
    if (!info.bundle.relinKeys) {
      throw new AppError('INVALID_KEY', 'relinearization keys required', { userMessage: 'SKNN-PQC multiplies ciphertexts and needs a CKKS key set with relinearization keys. Generate one on the Keys page.' });
    }
    if (a > info.slots) throw new AppError('SHAPE_MISMATCH', 'too many attributes', { userMessage: `The records have ${a} attributes but a CKKS ciphertext of this key set holds ${info.slots}.` });
    const signal = ctx.signal;
    const R = Math.max(1, Math.min(n, Math.floor(info.slots / a)));
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
    const put = matrixUploader(ctx, steps, numChunks);
    await put(keys.modelLabels(modelId), labelsRow);
    const encModel = await steps.timed('SEGMENT.ENCRYPT', () => ctx.engine.ckksEncryptRows(ckksKey, blocks, width, { signal }), { what: 'model', ciphertexts: B });
    await steps.timed('PUT', () => ctx.store.putBytesMatrix(keys.encryptedMatrix(modelId), encModel.map((c) => [c]), { numChunks, signal }), { key: keys.encryptedMatrix(modelId), bytes: byteSum(encModel) });
    const encTest = await steps.timed('SEGMENT.ENCRYPT', () => ctx.engine.ckksEncryptRows(ckksKey, reps, width, { signal }), { what: 'test', ciphertexts: t });
    await steps.timed('PUT', () => ctx.store.putBytesMatrix(keys.encryptedMatrix(testId), encTest.map((c) => [c]), { numChunks, signal }), { key: keys.encryptedMatrix(testId), bytes: byteSum(encTest) });
    const { id: ckksKeysId } = await steps.timed('PUT', () => uploadCkksPublicKeys(ctx.store, info.bundle, { signal }), { key: 'CKKS public keys' });
    const { assignment, worker } = await assignWorker(ctx, steps, 'SKNN_PQC_PREDICT', modelId);
    const base = { ...encryptedSetsHeaders(modelId, testId, [n, a], [t, a], FLOAT64, numChunks), [H.CKKS_KEYS_ID]: ckksKeysId, [H.CKKS_ROWS_PER_CIPHERTEXT]: String(R) };
    const r1 = await steps.timed('RUN1', () => worker.post(SKNN_PQC_PATH, { ...base, [H.STEP_INDEX]: '1' }, { signal, timeoutMs }));
    const distKey = distancesKeyOf(r1, keys.distances(testId), steps);
    const dist = await steps.timed('GET', () => ctx.store.getBytesMatrix(distKey, { force: true, signal, expect: { maxBytes: t * B * MAX_CIPHERTEXT_BYTES } }), (d) => ({ key: distKey, bytes: byteSum(d.flat()) }));
    // Decryption guard: this job's distances, t rows of B ciphertexts each.
    if (dist.length !== t || dist.some((row) => row.length !== B)) throw refuseDecryption(steps, distKey, `it is not ${t} rows of ${B} ciphertexts`);
    const flat = dist.flat();
    guardCiphertexts(steps, flat, distKey, t * B);
    await approveDistances(ctx, job.jobId, 'SKNN_PQC_PREDICT', distKey, t, n, 'squared distances');
    const plain = await steps.timed('DECRYPT', () => decryptGuarded(ctx, steps, ckksKey, flat, width, distKey), { ciphertexts: flat.length });
    // D8: the decrypted squared distances must equal those of the browser's own records within
    // the CKKS error; the indices sent are computed from the plaintext, never from the decryption.
    const sums = new Float64Array(t * n);
    let scale = 1;
    for (const v of job.model.data) scale = Math.max(scale, Math.abs(v));
    for (const v of job.test.data) scale = Math.max(scale, Math.abs(v));
    const tolerance = SKNN_PQC_TOLERANCE * a * scale * scale;
    let deviation = 0;
    for (let i = 0; i < t; i++) {
      for (let j = 0; j < n; j++) {
        const b = Math.floor(j / R);
        const off = (i * B + b) * width + (j - b * R) * a;
        let d = 0;
        let exact = 0;
        for (let z = 0; z < a; z++) {
          d += plain[off + z];
          const diff = job.test.data[i * a + z] - job.model.data[j * a + z];
          exact += diff * diff;
        }
        const dev = Math.abs(d - exact);
        if (!(dev <= deviation)) deviation = Number.isNaN(dev) ? Number.POSITIVE_INFINITY : dev;
        sums[i * n + j] = exact;
      }
    }
    if (!(deviation <= tolerance)) {
      throw verificationFailed(steps, distKey, `the decrypted distances differ from those of your records by ${deviation.toExponential(2)} (allowed ${tolerance.toExponential(2)})`);
    }
    const indices = argminRows((i, j) => sums[i * n + j], t, n);
    await putNearestIndices(ctx, steps, testId, indices, [1, t], [1, t], numChunks);
    const r2 = await steps.timed('RUN2', () =>
      worker.post(SKNN_PQC_PATH, { [H.MODEL_ID]: modelId, [H.RECORDS_TEST_ID]: testId, [H.MODEL_LABELS_SHAPE]: pythonShape(labelsRow.shape), [H.STEP_INDEX]: '2' }, { signal, timeoutMs }),
    );
    const labels = parseLabels(r2, t, 'the prediction request', { allowed });
    steps.emit('COMPLETED', { since: steps.startedAt });
    return { labels, indices, workerId: assignment.workerId, timings: steps.timings, totalMs: steps.elapsed() };
  });
}
