/** @module rory/algorithms/knn/leakage — what a plaintext KNN job uploads, by phase (spec/protocol.md §5.8; D3). */
import { item } from '../../leakage';

export const MODEL_LABELS = item('{M}labels', 'plaintext', false, 'The class label of every training record, unencrypted.');

export const KNN_TRAIN_LEAKAGE = [item('{M}', 'plaintext', false, 'Your training records, unencrypted.'), MODEL_LABELS];
export const KNN_PREDICT_LEAKAGE = [item('{R}', 'plaintext', false, 'The records to classify, unencrypted.')];
