/**
 * @module rory/algorithms/pkmeans
 * Private k-means (spec/private-kmeans.md; D7): exact Lloyd k-means on packed CKKS ciphertexts.
 * The worker computes the cluster means and every record's distances blind; the browser decrypts,
 * verifies (D8) and assigns. Only ciphertexts and public keys leave; the worker learns n, a, k and
 * the number of rounds. The default and recommended clustering algorithm.
 */
import { keys } from '../../protocol';
import { runnerBase, validateIterations, validateK, verifiedClusteringOutcome, type AlgorithmSpec } from '../spec';
import { PKMEANS_LEAKAGE } from './leakage';
import { packingLayout, rotationSteps } from './packing';
import { pkmeansEstimate } from '../size';

export const PKMEANS_ROUTE = '/clustering/pqc/pkmeans';
/** Worker object slots listed for clean-up (a job uses at most this many workers). */
const MAX_WORKER_OBJECTS = 8;

export const pkmeans: AlgorithmSpec = Object.freeze({
  id: 'PKMEANS',
  wire: 'PKMEANS',
  kind: 'clustering',
  title: 'Private k-means (CKKS, exact)',
  summary:
    'Exact k-means (the same labels as plain Lloyd k-means) on encrypted data: the worker computes every mean and distance on CKKS ciphertexts and learns only the number of records, attributes, clusters and rounds. Nothing to acknowledge; linear in the number of records.',
  recommended: true,
  workerLearns: 'Only the number of records, attributes and clusters, and the number of rounds (plus timing and sizes). Not your records, the labels, the cluster sizes, the centroids or the distances. A lying worker can only make the job stop.',
  needs: {
    liu: false,
    fdhope: false,
    ckks: { relin: true, galoisSteps: ({ rows, cols, slots }) => rotationSteps(packingLayout(rows, cols, slots)) },
  },
  leakage: PKMEANS_LEAKAGE,
  estimate: pkmeansEstimate,
  fields: ['k', 'maxIterations'],
  validate(p, ctx) {
    validateK(p, ctx);
    validateIterations(p);
  },
  routes: [PKMEANS_ROUTE],
  objectKeys: (p: string) => [
    keys.encryptedMatrix(p),
    ...Array.from({ length: MAX_WORKER_OBJECTS }, (_, w) => [keys.pkmeansMasks(p, w), keys.pkmeansPartial(p, w), keys.pkmeansDistances(p, w)]).flat(),
  ],
  async run(input, ctx) {
    const k = input.params.k ?? 3;
    const { runPkmeansJob } = await import('./runner');
    const r = await runPkmeansJob(
      { ...runnerBase(input), k, maxIterations: input.params.maxIterations ?? input.maxIterations },
      ctx,
    );
    return verifiedClusteringOutcome(
      r,
      k,
      r.workerIds.join(', '),
      `Every decrypted distance of every round matched your own arithmetic (largest deviation ${r.verification.maxError.toExponential(1)} of the largest distance; allowed ${r.verification.tolerance.toExponential(0)}).`,
    );
  },
} satisfies AlgorithmSpec);
