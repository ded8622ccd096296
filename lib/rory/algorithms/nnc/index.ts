/**
 * @module rory/algorithms/nnc
 * NNC, the plaintext baseline of DBSNNC (spec/protocol.md §5.5): dataset, distance matrix and
 * threshold leave unencrypted, after the per-job acknowledgement (D3).
 */
import { validateNnc, type AlgorithmSpec } from '../spec';
import { keys } from '../../protocol';
import { NNC_LEAKAGE } from './leakage';
import { nncFamilyEstimate } from '../size';

export const NNC_PATH = '/clustering/nnc';

export const nnc: AlgorithmSpec = Object.freeze({
  id: 'NNC',
  wire: 'NNC',
  kind: 'clustering',
  title: 'NNC (plaintext baseline)',
  summary: 'The same clustering on your plaintext dataset and distance matrix: needs your acknowledgement.',
  workerLearns: 'Everything: your dataset, its distance matrix and the threshold, unencrypted.',
  needs: { liu: false, fdhope: false, ckks: false },
  leakage: NNC_LEAKAGE,
  fields: ['threshold'],
  validate: validateNnc,
  routes: [NNC_PATH],
  objectKeys: (p: string) => [keys.plaintext(p), keys.dm(p)],
  estimate: nncFamilyEstimate('plaintext', false),
  async run(input, ctx) {
    const { runNncJob } = await import('./runner');
    const r = await runNncJob(
      {
        jobId: input.jobId,
        matrixId: input.storageId,
        data: input.data,
        threshold: input.params.threshold,
        numChunks: input.numChunks,
        acknowledgement: input.acknowledgement,
        workerTimeoutMs: input.workerTimeoutMs,
      },
      ctx,
    );
    return { labels: r.labels, threshold: r.threshold, clusters: r.clusters, workerId: r.workerId, timings: r.timings, totalMs: r.totalMs };
  },
} satisfies AlgorithmSpec);
