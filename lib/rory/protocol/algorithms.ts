/**
 * @module rory/protocol/algorithms
 * Algorithm names as they travel on the wire (the Manager's `Algorithm` header, spec/protocol.md
 * §3.5, §4.1): upstream's names plus this project's (`DBSNNC_PQC`, `PKMEANS`).
 */
import { memberOf } from '../../util/member-of';

export const ALGORITHMS = [
  'KMEANS',
  'SKMEANS',
  'DBSKMEANS',
  'DBSNNC',
  'NNC',
  'SKMEANS_PQC',
  'DBSKMEANS_PQC',
  'DBSNNC_PQC',
  'KNN_TRAIN',
  'KNN_PREDICT',
  'SKNN_TRAIN',
  'SKNN_PREDICT',
  'SKNN_PQC_TRAIN',
  'SKNN_PQC_PREDICT',
  'PKMEANS',
] as const;

export type Algorithm = (typeof ALGORITHMS)[number];

/** True for a wire name (e.g. an `Algorithm` header read back). */
export const isAlgorithm = memberOf(ALGORITHMS);
