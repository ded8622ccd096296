/**
 * @module rory/algorithms/skmeans-pqc
 * SKMeans-PQC (spec/crypto.md §7.6; docs/protocol-additions.md §2): CKKS-encrypted dataset (one
 * ciphertext per record), plaintext UDM and shifts (acknowledged, D3); public key objects only (D4).
 */
import { kmeansFamilySpec } from '../interactive-kmeans/spec';
import { SKMEANS_PQC_LEAKAGE } from './leakage';

export const skmeansPqc = kmeansFamilySpec('SKMEANS_PQC', {
  title: 'SKMeans-PQC (CKKS, plaintext UDM)',
  summary: 'Secure k-means on a CKKS-encrypted dataset with exact labels, but it uploads the plaintext difference matrix and shifts: needs your acknowledgement.',
  workerLearns: "Your records up to one shift per attribute (plaintext difference matrix), each round's centre movements and the labels; the CKKS dataset itself reveals nothing. A lying worker cannot obtain any decryption (D8).",
  leakage: SKMEANS_PQC_LEAKAGE,
});
