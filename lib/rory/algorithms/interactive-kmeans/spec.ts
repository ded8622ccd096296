/**
 * @module rory/algorithms/interactive-kmeans/spec
 * Builds the `AlgorithmSpec` of an interactive k-means variant: the four folders
 * (`skmeans`, `dbskmeans`, `skmeans-pqc`, `dbskmeans-pqc`) differ in name, text and leakage;
 * the keys, size estimate, form fields, route and storage keys follow from the variant (Liu or
 * CKKS dataset, plaintext or FDHOPE UDM), and they share this machine, runner and job mapping.
 */
import type { LeakItem } from '../../leakage';
import { kmeansFamilyEstimate } from '../size';
import { fdhopeKeyMeta, runnerBase, validateKmeans, verifiedClusteringOutcome, type AlgorithmSpec, type AlgorithmText } from '../spec';
import { isPqc, kmeansObjectKeys, STEP_PATH, usesFdhope, type KmeansAlgorithm } from './calls';

export function kmeansFamilySpec(id: KmeansAlgorithm, s: AlgorithmText & { readonly leakage: readonly LeakItem[] }): AlgorithmSpec {
  const pqc = isPqc(id);
  const fdhope = usesFdhope(id);
  const spec: AlgorithmSpec = {
    id,
    ...s,
    wire: id,
    kind: 'clustering',
    // The dataset is Liu- or CKKS-encrypted; the DBS variants encrypt the UDM and shifts with a per-job FDHOPE key.
    needs: { liu: !pqc, fdhope, ckks: pqc ? { relin: false } : false },
    estimate: kmeansFamilyEstimate(pqc ? 'ckks' : 'liu', fdhope),
    fields: fdhope ? (['k', 'maxIterations', 'tolerance', 'sens'] as const) : (['k', 'maxIterations', 'tolerance'] as const),
    validate: validateKmeans,
    routes: [STEP_PATH[id]],
    objectKeys: (p: string) => kmeansObjectKeys(id, p),
    async run(input, ctx) {
      const k = input.params.k ?? 3;
      // Runners load on first use: the page's form and leakage panel only need the metadata.
      const { runKmeansJob } = await import('./runner');
      const r = await runKmeansJob(
        {
          ...runnerBase(input),
          algorithm: id,
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
