/**
 * @module rory/algorithms/dbskmeans
 * DBSKMeans (spec/crypto.md §7.2, §0.1 C5; spec/protocol.md §5.3): Liu-encrypted dataset, FDHOPE
 * UDM and shifts with one per-job FDHOPE key. Only ciphertexts leave the browser, but FDHOPE is
 * order-preserving, not additive, so labels are approximate (private-kmeans.md §0).
 */
import { kmeansFamilySpec } from '../interactive-kmeans/spec';
import { DBSKMEANS_LEAKAGE } from './leakage';

export const dbskmeans = kmeansFamilySpec('DBSKMEANS', {
  title: 'DBSKMeans (Liu + FDHOPE, approximate)',
  summary: 'Upstream-compatible secure k-means: only ciphertexts leave the browser, but FDHOPE ciphertexts cannot be added exactly, so the labels are approximate (wine: ARI 0.53 against plaintext k-means). Needs an n²·a difference matrix.',
  workerLearns: 'The order and sign of every pairwise difference per attribute (a full per-attribute ranking of your records), rough magnitudes, and the labels it computes. A lying worker cannot obtain any decryption (D8).',
  leakage: DBSKMEANS_LEAKAGE,
});
