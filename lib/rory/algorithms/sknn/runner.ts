/**
 * @module rory/algorithms/sknn/runner
 * SKNN (1-NN on Liu ciphertexts; spec/protocol.md §5.9; spec/crypto.md §7.9): upload `{M}labels`
 * in plaintext (1 chunk), `encrypted{M}` and `encrypted{R}` (Liu); step 1 → the worker stores
 * `distances{R}` (t×n×m); the app decrypts it — only that object, with that shape and finite
 * values, after the user's approval — takes the argmin per test record and uploads the indices
 * `distancesindex{R}` (int64 (t, 1)); step 2 → labels. Needs the acknowledgement of both phases (D3).
 * D8: before approval and decryption, the fetched tensor is compared with the one the browser
 * computes from the ciphertexts it uploaded; a worker's probe (any other ciphertext) is refused.
 */
import { AppError } from '../../../errors';
import { matrix, pythonShape, type Matrix } from '../../../data/matrix';
import { fromMatrix } from '../../../storage/ndarray';
import { assignWorker, createSteps, guardFloat64, invalidReply, parseLabels, refuseDecryption, requireKey, runJob, verificationFailed, type RunContext } from '../../kit';
import { assertAcknowledgedFor, profile } from '../../leakage';
import { DistancesReply, ENCRYPTED_MATRIX_DTYPE, FLOAT64, H, keys, parseReply } from '../../protocol';
import { WORKER_TIMEOUT_MS, type WorkerReply } from '../../worker-client';
import { SKNN_PATH } from './index';
import { argminRowsResolved, classifySetup, type ClassifyJob, type ClassifyResult } from '../classification';
import { liuManhattanTensor, relativeDeviation, SKNN_LIU_TOLERANCE } from './compute';

/** Relative band within which decrypted Liu distances could be swapped by decryption error. */
const SKNN_TIE_AMBIGUITY = 1e-6;
import { SKNN_PREDICT_LEAKAGE, SKNN_TRAIN_LEAKAGE } from './leakage';

/** The `distances_id` a step-1 reply names; anything but this job's `distances{R}` is refused. */
export function distancesKeyOf(reply: WorkerReply, expected: string, steps: Parameters<typeof refuseDecryption>[0]): string {
  if (reply.status !== 200) throw invalidReply('step 1', `HTTP ${reply.status}, expected 200`);
  const body = parseReply(DistancesReply, reply.text, 'step 1');
  if (body.distances_id !== expected) throw refuseDecryption(steps, expected, `the worker named ${body.distances_id.slice(0, 80)} instead of ${expected}`);
  return expected;
}

export async function runSknnJob(job: ClassifyJob, ctx: RunContext): Promise<ClassifyResult> {
  const steps = createSteps(ctx);
  return runJob(ctx, steps, async () => {
    assertAcknowledgedFor(profile('SKNN_PREDICT', [...SKNN_TRAIN_LEAKAGE, ...SKNN_PREDICT_LEAKAGE]), job.acknowledgement);
    const { modelId, testId, n, a, t, labelsRow, allowed } = classifySetup(job);
    const liuKey = requireKey(job.keys?.liu, 'Liu');
    const numChunks = job.numChunks ?? 4;
    const signal = ctx.signal;
    const timeoutMs = job.workerTimeoutMs ?? WORKER_TIMEOUT_MS;
    const put = (key: string, m: Matrix, chunks = numChunks, fullDtype = FLOAT64) =>
      steps.timed('PUT', () => ctx.store.putNdarray(key, fromMatrix(m), { numChunks: chunks, tags: { full_shape: pythonShape(m.shape), full_dtype: fullDtype }, signal }), { key, bytes: m.data.byteLength });

    await put(keys.modelLabels(modelId), labelsRow, 1);
    const encModel = await steps.timed('SEGMENT.ENCRYPT', () => ctx.engine.liuEncrypt(liuKey, job.model.data, { signal }), { what: 'model' });
    const m = encModel.length / (n * a);
    await put(keys.encryptedMatrix(modelId), matrix(encModel, [n, a, m]), numChunks, ENCRYPTED_MATRIX_DTYPE);
    const encTest = await steps.timed('SEGMENT.ENCRYPT', () => ctx.engine.liuEncrypt(liuKey, job.test.data, { signal }), { what: 'test' });
    await put(keys.encryptedMatrix(testId), matrix(encTest, [t, a, m]), numChunks, ENCRYPTED_MATRIX_DTYPE);
    const { assignment, worker } = await assignWorker(ctx, steps, 'SKNN_PREDICT', modelId);
    const base = {
      [H.MODEL_ID]: modelId,
      [H.RECORDS_TEST_ID]: testId,
      [H.ENCRYPTED_MODEL_SHAPE]: pythonShape([n, a, m]),
      [H.ENCRYPTED_MODEL_DTYPE]: ENCRYPTED_MATRIX_DTYPE,
      [H.ENCRYPTED_RECORDS_SHAPE]: pythonShape([t, a, m]),
      [H.ENCRYPTED_RECORDS_DTYPE]: ENCRYPTED_MATRIX_DTYPE,
      [H.NUM_CHUNKS]: String(numChunks),
      [H.MODEL_LABELS_SHAPE]: pythonShape(labelsRow.shape),
    };
    const r1 = await steps.timed('RUN1', () => worker.post(SKNN_PATH, { ...base, [H.STEP_INDEX]: '1' }, { signal, timeoutMs }));
    const distKey = distancesKeyOf(r1, keys.distances(testId), steps);
    const dist = await steps.timed('GET', () => ctx.store.getNdarray(distKey, { force: true, signal, expect: { maxBytes: t * n * m * 8 + 4096 } }), (d) => ({ key: distKey, bytes: d.data.byteLength }));
    // Decryption guard: only this job's distances, with the expected shape and finite values.
    const tensor = guardFloat64(steps, dist, distKey, [t, n, m]);
    // D8: the distances must be exactly what the worker computes from the ciphertexts this browser
    // made; anything else (a probe of the Liu key) is refused before any decryption.
    const expected = liuManhattanTensor(encTest, encModel, t, n, a, m);
    const deviation = relativeDeviation(tensor.data, expected);
    if (!(deviation <= SKNN_LIU_TOLERANCE)) {
      throw verificationFailed(steps, distKey, `the encrypted distances differ from those of the ciphertexts this browser uploaded (relative deviation ${deviation.toExponential(2)})`);
    }
    const decision = await ctx.approve({
      jobId: job.jobId,
      algorithm: 'SKNN_PREDICT',
      round: 1,
      objectKey: distKey,
      shape: [t, n],
      purpose: `The encrypted distances between your ${t} test records and ${n} training records are decrypted here; the index of the nearest training record of each test record is then sent to the worker in plaintext, so it learns which training record each test record resembles most.`,
    });
    if (decision === 'deny') throw new AppError('APPROVAL_DENIED', 'decryption denied', { userMessage: 'You denied the decryption of the distances; the job stopped and nothing more was sent.' });
    const plain = await steps.timed('DECRYPT', () => ctx.engine.liuDecrypt(liuKey, tensor.data, { signal }));
    // Near-ties (within Liu's decryption error) are decided by the browser's own Manhattan distances.
    const md = job.model.data;
    const td = job.test.data;
    const manhattan = (i: number, j: number) => {
      let s = 0;
      for (let z = 0; z < a; z++) s += Math.abs(td[i * a + z] - md[j * a + z]);
      return s;
    };
    const indices = argminRowsResolved((i, j) => plain[i * n + j], manhattan, t, n, SKNN_TIE_AMBIGUITY);
    await steps.timed('PUT', () =>
      ctx.store.putNdarray(keys.distancesIndex(testId), { dtype: 'int64', shape: [t, 1], data: BigInt64Array.from(indices, (v) => BigInt(v)) }, { numChunks, tags: { full_shape: pythonShape([t]), full_dtype: 'int64' }, signal }),
      { key: keys.distancesIndex(testId) },
    );
    const r2 = await steps.timed('RUN2', () => worker.post(SKNN_PATH, { ...base, [H.STEP_INDEX]: '2' }, { signal, timeoutMs }));
    const labels = parseLabels(r2, t, 'the prediction request', { allowed });
    steps.emit('COMPLETED', { since: steps.startedAt });
    return { labels, indices, workerId: assignment.workerId, timings: steps.timings, totalMs: steps.elapsed() };
  });
}
