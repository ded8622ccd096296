/**
 * @module rory/algorithms/ids
 * The algorithms a job can run, by the name jobs are stored under (the wire name of the algorithm,
 * or of its predict phase for classification). One entry per folder in this directory; the
 * registry (`registry.ts`) maps each to its spec. Kept apart from the registry so types can be
 * imported without pulling every runner in.
 */
export const JOB_ALGORITHMS = [
  'PKMEANS',
  'DBSKMEANS',
  'SKMEANS',
  'DBSKMEANS_PQC',
  'SKMEANS_PQC',
  'DBSNNC',
  'DBSNNC_PQC',
  'NNC',
  'KMEANS',
  'SKNN_PREDICT',
  'SKNN_PQC_PREDICT',
  'KNN_PREDICT',
] as const;

export type JobAlgorithm = (typeof JOB_ALGORITHMS)[number];

export function isJobAlgorithm(v: unknown): v is JobAlgorithm {
  return typeof v === 'string' && (JOB_ALGORITHMS as readonly string[]).includes(v);
}
