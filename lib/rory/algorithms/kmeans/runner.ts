/**
 * @module rory/algorithms/kmeans/runner
 * KMEANS, the plaintext baseline (spec/protocol.md §5.1): uploads the dataset unencrypted as an E2
 * blob — only with the per-job acknowledgement (D3) — and asks a worker to cluster it.
 */
import type { Matrix } from '../../../data/matrix';
import { fromMatrix } from '../../../storage/ndarray';
import { assertMatrixId } from '../../ids';
import { assignWorker, createSteps, invalidReply, parseLabels, runJob, type RunContext } from '../../kit';
import { assertAcknowledgedFor, profile, type LeakageAcknowledgement } from '../../leakage';
import { H, LabelsReply, keys, parseReply } from '../../protocol';
import { WORKER_TIMEOUT_MS } from '../../worker-client';
import { KMEANS_LEAKAGE } from './leakage';
import { KMEANS_PATH } from './index';

export interface PlainKmeansJob {
  readonly jobId: string;
  readonly matrixId: string;
  readonly data: Matrix;
  readonly k: number;
  readonly maxIterations?: number;
  readonly acknowledgement?: LeakageAcknowledgement;
  readonly workerTimeoutMs?: number;
}

export async function runPlainKmeansJob(
  job: PlainKmeansJob,
  ctx: RunContext,
): Promise<{ labels: Int32Array; iterations: number; workerId: string; timings: Readonly<Record<string, number>>; totalMs: number }> {
  const steps = createSteps(ctx);
  return runJob(ctx, steps, async () => {
    assertMatrixId(job.matrixId);
    assertAcknowledgedFor(profile('KMEANS', KMEANS_LEAKAGE), job.acknowledgement);
    const [n] = job.data.shape;
    const signal = ctx.signal;
    await steps.timed('PUT', () => ctx.store.putBlob(keys.plaintext(job.matrixId), fromMatrix(job.data), { signal }), { key: job.matrixId, bytes: job.data.data.byteLength });
    const { assignment, worker } = await assignWorker(ctx, steps, 'KMEANS');
    const headers = { [H.PLAINTEXT_MATRIX_ID]: job.matrixId, [H.K]: String(job.k), [H.MAX_ITERATIONS]: String(job.maxIterations ?? 10) };
    const reply = await steps.timed('RUN1', () => worker.post(KMEANS_PATH, headers, { signal, timeoutMs: job.workerTimeoutMs ?? WORKER_TIMEOUT_MS }));
    const labels = parseLabels(reply, n, 'the clustering request', { below: job.k });
    const iterations = parseReply(LabelsReply, reply.text, 'the clustering request').iterations;
    if (iterations !== undefined && iterations < 0) throw invalidReply('the clustering request', 'iterations is negative');
    steps.emit('COMPLETED', { since: steps.startedAt });
    return { labels, iterations: iterations ?? 0, workerId: assignment.workerId, timings: steps.timings, totalMs: steps.elapsed() };
  });
}
