/** @module rory/algorithms/pkmeans/leakage — what a private k-means job uploads (spec/private-kmeans.md §6; docs/protocol-additions.md §5). */
import { item } from '../../leakage';

export const PKMEANS_LEAKAGE = [
  item('encrypted{P}', 'ckks', false, 'Your dataset, normalised and packed many records per CKKS ciphertext. The worker learns the number of records and attributes, nothing else.'),
  item('{P}masksw{w}', 'ckks', true, 'Each round, which records belong to which cluster (as 1/size per record), CKKS-encrypted afresh: the worker cannot read memberships, sizes or labels.'),
  item(
    '{C}ctx, {C}pubkey, {C}relinkey, {C}rotatekey',
    'public-key',
    false,
    'The CKKS parameters, public, relinearization and rotation keys, so the worker can compute on ciphertexts. Public by design: they cannot decrypt. Uploaded once per key set. The secret key never leaves this browser.',
  ),
];
