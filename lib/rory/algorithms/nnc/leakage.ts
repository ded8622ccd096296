/** @module rory/algorithms/nnc/leakage — what a plaintext NNC job uploads (spec/protocol.md §5.5; D3). */
import { item } from '../../leakage';

export const NNC_LEAKAGE = [
  item('{P}', 'plaintext', false, 'Your whole dataset, unencrypted.'),
  item('{P}dm', 'plaintext', false, 'The distance between every pair of records, unencrypted.'),
  item('header:Threshold', 'plaintext', false, 'The clustering threshold, unencrypted.'),
];
