/**
 * @module rory/algorithms/nnc/runner
 * NNC, the plaintext baseline of DBSNNC (spec/protocol.md §5.5): uploads the dataset `{P}` and its
 * distance matrix `{P}dm` and sends the threshold in clear — only with the per-job
 * acknowledgement (D3).
 */
import { pythonShape, type Matrix } from '../../../data/matrix';
import { dm as distanceMatrix } from '../../../data/udm';
import { assertMatrixId } from '../../ids';
import { assignWorker, createSteps, matrixUploader, parseLabels, runJob, type RunContext } from '../../kit';
import { assertAcknowledgedFor, profile, type LeakageAcknowledgement } from '../../leakage';
import { FLOAT64, H, keys } from '../../protocol';
import { WORKER_TIMEOUT_MS } from '../../worker-client';
import { assertTable, resolveThreshold, type NncResult } from '../dbsnnc/runner';
import { NNC_LEAKAGE } from './leakage';
import { NNC_PATH } from './index';

export interface NncJob {
  readonly jobId: string;
  readonly matrixId: string;
  readonly data: Matrix;
  readonly threshold?: number;
  readonly numChunks?: number;
  readonly acknowledgement?: LeakageAcknowledgement;
  readonly workerTimeoutMs?: number;
}

export async function runNncJob(job: NncJob, ctx: RunContext): Promise<NncResult> {
  const steps = createSteps(ctx);
  return runJob(ctx, steps, async () => {
    assertMatrixId(job.matrixId);
    assertAcknowledgedFor(profile('NNC', NNC_LEAKAGE), job.acknowledgement);
    const [n, a] = assertTable(job.data);
    const p = job.matrixId;
    const numChunks = job.numChunks ?? 4;
    const signal = ctx.signal;
    const put = matrixUploader(ctx, steps, numChunks);
    const dmPlain = await steps.timed('DM.GENERATION', () => distanceMatrix(job.data), { shape: pythonShape([n, n]) });
    const threshold = resolveThreshold(dmPlain, job.threshold);
    await put(keys.plaintext(p), job.data);
    await put(keys.dm(p), dmPlain);
    const headers = {
      [H.PLAINTEXT_MATRIX_ID]: p,
      [H.PLAINTEXT_MATRIX_SHAPE]: pythonShape([n, a]),
      [H.PLAINTEXT_MATRIX_DTYPE]: FLOAT64,
      [H.DM_SHAPE]: pythonShape([n, n]),
      [H.DM_DTYPE]: FLOAT64,
      [H.THRESHOLD]: String(threshold),
      [H.NUM_CHUNKS]: String(numChunks),
    };
    const { assignment, worker } = await assignWorker(ctx, steps, 'NNC');
    const reply = await steps.timed('RUN1', () => worker.post(NNC_PATH, headers, { signal, timeoutMs: job.workerTimeoutMs ?? WORKER_TIMEOUT_MS }), { workerId: assignment.workerId });
    const labels = parseLabels(reply, n, 'the clustering request');
    const clusters = new Set(labels).size;
    steps.emit('COMPLETED', { since: steps.startedAt, detail: { clusters } });
    return { labels, clusters, threshold, workerId: assignment.workerId, timings: steps.timings, totalMs: steps.elapsed() };
  });
}
