/**
 * @module rory/algorithms/ids
 * The algorithms a job can run, by the name jobs are stored under (the wire name of the algorithm,
 * or of its predict phase for classification). One entry per folder in this directory; the
 * registry (`registry.ts`) maps each to its spec. Kept apart from the registry so types can be
 * imported without pulling every runner in. Every job id is a wire name (checked below).
 */
import type { Algorithm } from '../protocol/algorithms';
import { memberOf } from '../../util/member-of';

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
] as const satisfies readonly Algorithm[];

export type JobAlgorithm = (typeof JOB_ALGORITHMS)[number];

/** True for an algorithm a job can run (e.g. a name read from a plan file or a stored job). */
export const isJobAlgorithm = memberOf(JOB_ALGORITHMS);
