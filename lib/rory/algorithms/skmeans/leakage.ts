/** @module rory/algorithms/skmeans/leakage — what an SKMeans job uploads (spec/protocol.md §7.6; D3). */
import { ENCRYPTED_P_LIU, item } from '../../leakage';

export const SKMEANS_UDM = item(
  '{P}udm',
  'plaintext',
  false,
  'The pairwise-difference matrix of your records, unencrypted. It reveals your whole dataset up to one shift per attribute.',
);
export const SKMEANS_SHIFT = item('{P}shiftmatrix', 'plaintext', true, 'Each round, how far every cluster centre moved on every attribute, unencrypted.');

export const SKMEANS_LEAKAGE = [ENCRYPTED_P_LIU, SKMEANS_UDM, SKMEANS_SHIFT];
