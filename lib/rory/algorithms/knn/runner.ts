/**
 * @module rory/algorithms/knn/runner
 * KNN (1-NN), the plaintext baseline (spec/protocol.md §5.8): uploads `{M}`, `{M}labels` and `{R}`
 * unencrypted — only with the acknowledgement of both phases (D3) — and reads the labels back.
 */
import { pythonShape, type Matrix } from '../../../data/matrix';
import { fromMatrix } from '../../../storage/ndarray';
import { assignWorker, createSteps, parseLabels, runJob, type RunContext } from '../../kit';
import { assertAcknowledgedFor, profile } from '../../leakage';
import { FLOAT64, H, keys } from '../../protocol';
import { WORKER_TIMEOUT_MS } from '../../worker-client';
import { KNN_PATH } from './index';
import { classifySetup, type ClassifyJob, type ClassifyResult } from '../classification';
import { KNN_PREDICT_LEAKAGE, KNN_TRAIN_LEAKAGE } from './leakage';

export async function runKnnJob(job: ClassifyJob, ctx: RunContext): Promise<ClassifyResult> {
  const steps = createSteps(ctx);
  return runJob(ctx, steps, async () => {
    assertAcknowledgedFor(profile('KNN_PREDICT', [...KNN_TRAIN_LEAKAGE, ...KNN_PREDICT_LEAKAGE]), job.acknowledgement);
    const { modelId, testId, t, labelsRow, allowed } = classifySetup(job);
    const numChunks = job.numChunks ?? 4;
    const signal = ctx.signal;
    const put = (key: string, m: Matrix) =>
      steps.timed('PUT', () => ctx.store.putNdarray(key, fromMatrix(m), { numChunks, tags: { full_shape: pythonShape(m.shape), full_dtype: FLOAT64 }, signal }), { key, bytes: m.data.byteLength });
    await put(modelId, job.model);
    await put(keys.modelLabels(modelId), labelsRow);
    await put(testId, job.test);
    const { assignment, worker } = await assignWorker(ctx, steps, 'KNN_PREDICT', modelId);
    const headers = { [H.MODEL_ID]: modelId, [H.RECORDS_TEST_ID]: testId, [H.MODEL_LABELS_SHAPE]: pythonShape(labelsRow.shape) };
    const reply = await steps.timed('RUN1', () => worker.post(KNN_PATH, headers, { signal, timeoutMs: job.workerTimeoutMs ?? WORKER_TIMEOUT_MS }));
    const labels = parseLabels(reply, t, 'the prediction request', { allowed });
    steps.emit('COMPLETED', { since: steps.startedAt });
    return { labels, workerId: assignment.workerId, timings: steps.timings, totalMs: steps.elapsed() };
  });
}
