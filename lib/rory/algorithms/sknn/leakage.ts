/** @module rory/algorithms/sknn/leakage — what an SKNN job uploads, by phase (spec/protocol.md §5.9; D3). */
import { item, LIU_NOTE } from '../../leakage';
import { MODEL_LABELS } from '../knn/leakage';

export const DISTANCES_INDEX = item('distancesindex{R}', 'plaintext', false, 'For each record to classify, which training record is nearest, unencrypted.');

export const SKNN_TRAIN_LEAKAGE = [item('encrypted{M}', 'liu', false, `Your training records. ${LIU_NOTE}.`), MODEL_LABELS];
export const SKNN_PREDICT_LEAKAGE = [item('encrypted{R}', 'liu', false, `The records to classify. ${LIU_NOTE}.`), DISTANCES_INDEX];
