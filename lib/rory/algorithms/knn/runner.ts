/**
 * @module rory/algorithms/knn/runner
 * KNN (1-NN), the plaintext baseline (spec/protocol.md §5.8): uploads `{M}`, `{M}labels` and `{R}`
 * unencrypted — only with the acknowledgement of both phases (D3) — and reads the labels back.
 */
import { pythonShape } from '../../../data/matrix';
import { assignWorker, createSteps, matrixUploader, parseLabels, runJob, type RunContext } from '../../kit';
import { H, keys } from '../../protocol';
import { KNN_PATH } from './index';
import { startClassify, type ClassifyJob, type ClassifyResult } from '../classification';
import { KNN_PREDICT_LEAKAGE, KNN_TRAIN_LEAKAGE } from './leakage';

export async function runKnnJob(job: ClassifyJob, ctx: RunContext): Promise<ClassifyResult> {
  const steps = createSteps(ctx);
  return runJob(ctx, steps, async () => {
    const { modelId, testId, t, labelsRow, allowed, numChunks, timeoutMs } = startClassify(job, 'KNN_PREDICT', [...KNN_TRAIN_LEAKAGE, ...KNN_PREDICT_LEAKAGE]);
    const put = matrixUploader(ctx, steps, numChunks);
    await put(modelId, job.model);
    await put(keys.modelLabels(modelId), labelsRow);
    await put(testId, job.test);
    const { assignment, worker } = await assignWorker(ctx, steps, 'KNN_PREDICT', modelId);
    const headers = { [H.MODEL_ID]: modelId, [H.RECORDS_TEST_ID]: testId, [H.MODEL_LABELS_SHAPE]: pythonShape(labelsRow.shape) };
    const reply = await steps.timed('RUN1', () => worker.post(KNN_PATH, headers, { signal: ctx.signal, timeoutMs }));
    const labels = parseLabels(reply, t, 'the prediction request', { allowed });
    steps.emit('COMPLETED', { since: steps.startedAt });
    return { labels, workerId: assignment.workerId, timings: steps.timings, totalMs: steps.elapsed() };
  });
}
