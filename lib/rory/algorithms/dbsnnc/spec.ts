/**
 * @module rory/algorithms/dbsnnc/spec
 * The `AlgorithmSpec` shared by DBSNNC and DBSNNC-PQC (one runner, `./runner.ts`).
 */
import type { LeakItem } from '../../leakage';
import { validateNnc, type AlgorithmNeeds, type AlgorithmSpec } from '../spec';
import { DBSNNC_PATH, DBSNNC_PQC_PATH, dbsnncObjectKeys } from './paths';

export function dbsnncFamilySpec(s: {
  readonly id: 'DBSNNC' | 'DBSNNC_PQC';
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
    fields: ['threshold', 'sens'] as const,
    validate: validateNnc,
    routes: [s.id === 'DBSNNC' ? DBSNNC_PATH : DBSNNC_PQC_PATH],
    objectKeys: dbsnncObjectKeys,
    async run(input, ctx) {
      const { runDbsnncJob } = await import('./runner');
      const r = await runDbsnncJob(
        {
          algorithm: s.id,
          jobId: input.jobId,
          matrixId: input.storageId,
          data: input.data,
          keys: input.keys,
          fdhopeKey: { label: `FDHOPE for ${input.datasetName ?? 'a dataset'} (job ${input.jobId})`, datasetId: input.datasetId, usedBy: input.usedBy },
          threshold: input.params.threshold,
          sens: input.params.sens,
          numChunks: input.numChunks,
          workerTimeoutMs: input.workerTimeoutMs,
        },
        ctx,
      );
      return { labels: r.labels, threshold: r.threshold, clusters: r.clusters, workerId: r.workerId, timings: r.timings, totalMs: r.totalMs };
    },
  };
  return Object.freeze(spec);
}
