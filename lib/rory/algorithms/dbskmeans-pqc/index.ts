/**
 * @module rory/algorithms/dbskmeans-pqc
 * DBSKMeans-PQC (spec/crypto.md §7.7; docs/protocol-additions.md §2): CKKS-encrypted dataset, FDHOPE
 * UDM and shifts; only ciphertexts and public key objects leave the browser. Approximate like
 * DBSKMeans.
 */
import { kmeansFamilySpec } from '../interactive-kmeans/spec';
import { DBSKMEANS_PQC_LEAKAGE } from './leakage';

export const dbskmeansPqc = kmeansFamilySpec('DBSKMEANS_PQC', {
  title: 'DBSKMeans-PQC (CKKS + FDHOPE, approximate)',
  summary: 'DBSKMeans with a post-quantum (CKKS) encrypted dataset: only ciphertexts and public keys leave the browser. Approximate like DBSKMeans (wine: ARI 0.42).',
  workerLearns: 'The order and sign of every pairwise difference per attribute (FDHOPE), rough magnitudes and the labels; the CKKS dataset itself reveals nothing. A lying worker cannot obtain any decryption (D8).',
  leakage: DBSKMEANS_PQC_LEAKAGE,
});
