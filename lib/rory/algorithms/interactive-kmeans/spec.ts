/**
 * @module rory/algorithms/interactive-kmeans/spec
 * Builds the `AlgorithmSpec` of an interactive k-means variant: the four folders
 * (`skmeans`, `dbskmeans`, `skmeans-pqc`, `dbskmeans-pqc`) differ in name, text, keys and leakage;
 * they share this machine, runner and job mapping.
 */
import type { LeakItem } from '../../leakage';
import { fdhopeKeyMeta, runnerBase, validateKmeans, verifiedClusteringOutcome, type AlgorithmSpec, type FamilyMember } from '../spec';
import { kmeansObjectKeys, STEP_PATH, usesFdhope, type KmeansAlgorithm } from './calls';

export function kmeansFamilySpec(s: FamilyMember<KmeansAlgorithm> & { readonly leakage: readonly LeakItem[] }): AlgorithmSpec {
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
          ...runnerBase(input),
          algorithm: s.id,
          k,
          fdhopeKey: fdhopeKeyMeta(input),
          maxIterations: input.params.maxIterations ?? input.maxIterations,
          tolerance: input.params.tolerance,
          sens: input.params.sens,
          acknowledgement: input.acknowledgement,
        },
        ctx,
      );
      return {
        ...verifiedClusteringOutcome(
          r,
          k,
          r.workerId,
          r.verification.ok
            ? 'The decrypted final centroids equal the means of your records per returned label.'
            : 'The decrypted final centroids do NOT match the returned labels: the worker’s answer is inconsistent.',
        ),
        maxShiftPerRound: r.maxShiftPerRound,
      };
    },
  };
  return Object.freeze(spec);
}
