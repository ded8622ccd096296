/**
 * @module rory/algorithms/interactive-kmeans/spec
 * Builds the `AlgorithmSpec` of an interactive k-means variant: the four folders
 * (`skmeans`, `dbskmeans`, `skmeans-pqc`, `dbskmeans-pqc`) differ in name, text, keys and leakage;
 * they share this machine, runner and job mapping.
 */
import type { LeakItem } from '../../leakage';
import type { AlgorithmNeeds, AlgorithmSpec } from '../spec';
import { validateKmeans } from '../spec';
import { kmeansObjectKeys, STEP_PATH, usesFdhope, type KmeansAlgorithm } from './calls';

export function kmeansFamilySpec(s: {
  readonly id: KmeansAlgorithm;
  readonly title: string;
  readonly summary: string;
  readonly workerLearns: string;
  readonly needs: AlgorithmNeeds;
  readonly leakage: readonly LeakItem[];
  readonly estimate: AlgorithmSpec['estimate'];
}): AlgorithmSpec {
  const spec: AlgorithmSpec = {
    ...s,
    wire: s.id,
    kind: 'clustering',
    fields: usesFdhope(s.id) ? (['k', 'maxIterations', 'tolerance', 'sens'] as const) : (['k', 'maxIterations', 'tolerance'] as const),
    validate: validateKmeans,
    routes: [STEP_PATH[s.id]],
    objectKeys: (p: string) => kmeansObjectKeys(s.id, p),
    async run(input, ctx) {
      const k = input.params.k ?? 3;
      // Runners load on first use: the page's form and leakage panel only need the metadata.
      const { runKmeansJob } = await import('./runner');
      const r = await runKmeansJob(
        {
          algorithm: s.id,
          jobId: input.jobId,
          matrixId: input.storageId,
          data: input.data,
          k,
          keys: input.keys,
          fdhopeKey: { label: `FDHOPE for ${input.datasetName ?? 'a dataset'} (job ${input.jobId})`, datasetId: input.datasetId, usedBy: input.usedBy },
          maxIterations: input.params.maxIterations ?? input.maxIterations,
          tolerance: input.params.tolerance,
          numChunks: input.numChunks,
          sens: input.params.sens,
          acknowledgement: input.acknowledgement,
          workerTimeoutMs: input.workerTimeoutMs,
        },
        ctx,
      );
      return {
        labels: r.labels,
        iterations: r.iterations,
        converged: r.converged,
        centroids: r.centroids,
        verification: {
          ...r.verification,
          detail: r.verification.ok
            ? 'The decrypted final centroids equal the means of your records per returned label.'
            : 'The decrypted final centroids do NOT match the returned labels: the worker’s answer is inconsistent.',
        },
        maxShiftPerRound: r.maxShiftPerRound,
        clusters: k,
        workerId: r.workerId,
        timings: r.timings,
        totalMs: r.totalMs,
      };
    },
  };
  return Object.freeze(spec);
}
