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
import { matrix, pythonShape } from '../../../data/matrix';
import { assignWorker, createSteps, guardFloat64, invalidReply, matrixUploader, parseLabels, refuseDecryption, requireKey, runJob, verificationFailed, type RunContext } from '../../kit';
import { DistancesReply, ENCRYPTED_MATRIX_DTYPE, H, keys, parseReply } from '../../protocol';
import type { WorkerReply } from '../../worker-client';
import { SKNN_PATH } from './index';
import { approveDistances, argminRowsResolved, encryptedSetsHeaders, putNearestIndices, startClassify, type ClassifyJob, type ClassifyResult } from '../classification';
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
    const { modelId, testId, n, a, t, labelsRow, allowed, numChunks, timeoutMs } = startClassify(job, 'SKNN_PREDICT', [...SKNN_TRAIN_LEAKAGE, ...SKNN_PREDICT_LEAKAGE]);
    const liuKey = requireKey(job.keys?.liu, 'Liu');
    const signal = ctx.signal;
    const put = matrixUploader(ctx, steps, numChunks);

    await put(keys.modelLabels(modelId), labelsRow, { chunks: 1 });
    const encModel = await steps.timed('SEGMENT.ENCRYPT', () => ctx.engine.liuEncrypt(liuKey, job.model.data, { signal }), { what: 'model' });
    const m = encModel.length / (n * a);
    await put(keys.encryptedMatrix(modelId), matrix(encModel, [n, a, m]), { fullDtype: ENCRYPTED_MATRIX_DTYPE });
    const encTest = await steps.timed('SEGMENT.ENCRYPT', () => ctx.engine.liuEncrypt(liuKey, job.test.data, { signal }), { what: 'test' });
    await put(keys.encryptedMatrix(testId), matrix(encTest, [t, a, m]), { fullDtype: ENCRYPTED_MATRIX_DTYPE });
    const { assignment, worker } = await assignWorker(ctx, steps, 'SKNN_PREDICT', modelId);
    const base = { ...encryptedSetsHeaders(modelId, testId, [n, a, m], [t, a, m], ENCRYPTED_MATRIX_DTYPE, numChunks), [H.MODEL_LABELS_SHAPE]: pythonShape(labelsRow.shape) };
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
    await approveDistances(ctx, job.jobId, 'SKNN_PREDICT', distKey, t, n, 'distances');
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
    await putNearestIndices(ctx, steps, testId, indices, [t, 1], [t], numChunks);
    const r2 = await steps.timed('RUN2', () => worker.post(SKNN_PATH, { ...base, [H.STEP_INDEX]: '2' }, { signal, timeoutMs }));
    const labels = parseLabels(r2, t, 'the prediction request', { allowed });
    steps.emit('COMPLETED', { since: steps.startedAt });
    return { labels, indices, workerId: assignment.workerId, timings: steps.timings, totalMs: steps.elapsed() };
  });
}
