/**
 * @module rory/algorithms/dbsnnc
 * DBSNNC (spec/protocol.md §5.4; spec/crypto.md §7.3): nearest-neighbour clustering on an
 * FDHOPE-encrypted distance matrix and threshold; one call, no decryption.
 */
import { dbsnncFamilySpec } from './spec';
import { DBSNNC_LEAKAGE } from './leakage';

export const dbsnnc = dbsnncFamilySpec('DBSNNC', {
  title: 'DBSNNC (FDHOPE distances)',
  summary: 'Nearest-neighbour clustering on an FDHOPE-encrypted distance matrix and threshold: only ciphertexts leave the browser, one call, no decryption. The number of clusters follows from the threshold.',
  workerLearns: 'The order of all pairwise distances (FDHOPE) and the resulting clusters; Liu ciphertexts reveal the order and ratios of values. Nothing is decrypted.',
  leakage: DBSNNC_LEAKAGE,
});
