/**
 * @module rory/algorithms/kmeans
 * KMeans, the plaintext baseline (spec/protocol.md §5.1): the dataset leaves unencrypted, after
 * the per-job acknowledgement (D3).
 */
import { validateIterations, validateK, type AlgorithmSpec } from '../spec';
import { keys } from '../../protocol';
import { KMEANS_LEAKAGE } from './leakage';
import { plainEstimate } from '../size';

export const KMEANS_PATH = '/clustering/kmeans';

export const kmeans: AlgorithmSpec = Object.freeze({
  id: 'KMEANS',
  wire: 'KMEANS',
  kind: 'clustering',
  title: 'KMeans (plaintext baseline)',
  summary: 'Plain k-means on your unencrypted dataset, for comparison: needs your acknowledgement.',
  workerLearns: 'Everything: your whole dataset, unencrypted.',
  needs: { liu: false, fdhope: false, ckks: false },
  leakage: KMEANS_LEAKAGE,
  fields: ['k', 'maxIterations'],
  validate(p, ctx) {
    validateK(p, ctx);
    validateIterations(p);
  },
  routes: [KMEANS_PATH],
  objectKeys: (p: string) => [keys.plaintext(p)],
  estimate: plainEstimate,
  async run(input, ctx) {
    const k = input.params.k ?? 3;
    const { runPlainKmeansJob } = await import('./runner');
    const r = await runPlainKmeansJob(
      {
        jobId: input.jobId,
        matrixId: input.storageId,
        data: input.data,
        k,
        maxIterations: input.params.maxIterations ?? input.maxIterations,
        acknowledgement: input.acknowledgement,
        workerTimeoutMs: input.workerTimeoutMs,
      },
      ctx,
    );
    return { labels: r.labels, iterations: r.iterations, clusters: k, workerId: r.workerId, timings: r.timings, totalMs: r.totalMs };
  },
} satisfies AlgorithmSpec);
