/** @module rory/algorithms/sknn-pqc/leakage — what an SKNN-PQC job uploads, by phase (docs/protocol-additions.md §4; D3, D4). */
import { CKKS_PUBLIC_KEYS, item } from '../../leakage';
import { MODEL_LABELS } from '../knn/leakage';
import { DISTANCES_INDEX } from '../sknn/leakage';

export const SKNN_PQC_TRAIN_LEAKAGE = [item('encrypted{M}', 'ckks', false, 'Your training records, CKKS-encrypted (several records per ciphertext).'), MODEL_LABELS, CKKS_PUBLIC_KEYS];
export const SKNN_PQC_PREDICT_LEAKAGE = [item('encrypted{R}', 'ckks', false, 'The records to classify, CKKS-encrypted.'), DISTANCES_INDEX];
