/**
 * @module rory/algorithms/dbsnnc/spec
 * The `AlgorithmSpec` shared by DBSNNC and DBSNNC-PQC (one runner, `./runner.ts`).
 */
import type { LeakItem } from '../../leakage';
import { fdhopeKeyMeta, runnerBase, validateNnc, type AlgorithmSpec, type FamilyMember } from '../spec';
import { DBSNNC_PATH, DBSNNC_PQC_PATH, dbsnncObjectKeys } from './paths';

export function dbsnncFamilySpec(s: FamilyMember<'DBSNNC' | 'DBSNNC_PQC'> & { readonly leakage: readonly LeakItem[] }): AlgorithmSpec {
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
        { ...runnerBase(input), algorithm: s.id, fdhopeKey: fdhopeKeyMeta(input), threshold: input.params.threshold, sens: input.params.sens },
        ctx,
      );
      return { labels: r.labels, threshold: r.threshold, clusters: r.clusters, workerId: r.workerId, timings: r.timings, totalMs: r.totalMs };
    },
  };
  return Object.freeze(spec);
}
