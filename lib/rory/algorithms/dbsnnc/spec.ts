/**
 * @module rory/algorithms/dbsnnc/spec
 * The `AlgorithmSpec` shared by DBSNNC and DBSNNC-PQC (one runner, `./runner.ts`): they differ in
 * name, text and leakage, and in the dataset's scheme (Liu or CKKS), from which keys, size
 * estimate and route follow.
 */
import type { LeakItem } from '../../leakage';
import { nncFamilyEstimate } from '../size';
import { fdhopeKeyMeta, runnerBase, validateNnc, type AlgorithmSpec, type AlgorithmText } from '../spec';
import { DBSNNC_PATH, DBSNNC_PQC_PATH, dbsnncObjectKeys } from './paths';

export function dbsnncFamilySpec(id: 'DBSNNC' | 'DBSNNC_PQC', s: AlgorithmText & { readonly leakage: readonly LeakItem[] }): AlgorithmSpec {
  const pqc = id === 'DBSNNC_PQC';
  const spec: AlgorithmSpec = {
    id,
    ...s,
    wire: id,
    kind: 'clustering',
    // The distance matrix and threshold are FDHOPE-encrypted; the dataset Liu- or CKKS-encrypted.
    needs: { liu: !pqc, fdhope: true, ckks: pqc ? { relin: false } : false },
    estimate: nncFamilyEstimate(pqc ? 'ckks' : 'liu', true),
    fields: ['threshold', 'sens'] as const,
    validate: validateNnc,
    routes: [pqc ? DBSNNC_PQC_PATH : DBSNNC_PATH],
    objectKeys: dbsnncObjectKeys,
    async run(input, ctx) {
      const { runDbsnncJob } = await import('./runner');
      const r = await runDbsnncJob(
        { ...runnerBase(input), algorithm: id, fdhopeKey: fdhopeKeyMeta(input), threshold: input.params.threshold, sens: input.params.sens },
        ctx,
      );
      return { labels: r.labels, threshold: r.threshold, clusters: r.clusters, workerId: r.workerId, timings: r.timings, totalMs: r.totalMs };
    },
  };
  return Object.freeze(spec);
}
