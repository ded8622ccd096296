/**
 * @module rory/algorithms/dbsnnc-pqc
 * DBSNNC-PQC (docs/protocol-additions.md §3, absent upstream): DBSNNC with the dataset
 * CKKS-encrypted instead of Liu. The worker does not read the dataset, so no key objects are sent.
 */
import { dbsnncFamilySpec } from '../dbsnnc/spec';
import { DBSNNC_PQC_LEAKAGE } from './leakage';

export const dbsnncPqc = dbsnncFamilySpec('DBSNNC_PQC', {
  title: 'DBSNNC-PQC (CKKS dataset, FDHOPE distances)',
  summary: 'DBSNNC with the dataset CKKS-encrypted instead of Liu: only ciphertexts leave the browser, one call, no decryption.',
  workerLearns: 'The order of all pairwise distances (FDHOPE) and the resulting clusters. Nothing is decrypted.',
  leakage: DBSNNC_PQC_LEAKAGE,
});
