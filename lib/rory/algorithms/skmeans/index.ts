/**
 * @module rory/algorithms/skmeans
 * SKMeans (spec/crypto.md §7.1; spec/protocol.md §1.1, §5.2): Liu-encrypted dataset, plaintext UDM
 * and plaintext shifts (needs the per-job acknowledgement, D3); exact labels. Machine and runner:
 * `../interactive-kmeans/`.
 */
import { kmeansFamilySpec } from '../interactive-kmeans/spec';
import { SKMEANS_LEAKAGE } from './leakage';

export const skmeans = kmeansFamilySpec('SKMEANS', {
  title: 'SKMeans (Liu, plaintext UDM)',
  summary: 'Secure k-means with exact labels, but it uploads the plaintext difference matrix and shifts: needs your acknowledgement.',
  workerLearns: "Your records up to one shift per attribute (from the plaintext difference matrix), each round's centre movements and the labels. A lying worker can choose labels, steering which means are sent; it cannot obtain any decryption (D8).",
  leakage: SKMEANS_LEAKAGE,
});
