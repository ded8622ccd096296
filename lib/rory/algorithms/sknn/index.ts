/**
 * @module rory/algorithms/sknn
 * SKNN (1-NN on Liu ciphertexts; spec/protocol.md §5.9; spec/crypto.md §7.9).
 */
import { classificationSpec } from '../classification';
import { SKNN_PREDICT_LEAKAGE, SKNN_TRAIN_LEAKAGE } from './leakage';
import { sknnEstimate } from '../size';

export const SKNN_PATH = '/classification/sknn/predict';

export const sknn = classificationSpec('SKNN_PREDICT', {
  title: 'SKNN classification (Liu, 1-NN)',
  summary: 'Classifies a test set by its nearest training record on Liu ciphertexts. Uploads the training labels and the nearest-record indices in plaintext: needs your acknowledgement.',
  workerLearns: 'The training labels and, for each record to classify, its nearest training record; the Liu ciphertexts reveal the order and ratios of values. A lying worker cannot obtain any decryption (D8: its distances are checked before decrypting).',
  needs: { liu: true, fdhope: false, ckks: false },
  train: SKNN_TRAIN_LEAKAGE,
  predict: SKNN_PREDICT_LEAKAGE,
  trainWire: 'SKNN_TRAIN',
  path: SKNN_PATH,
  runner: async () => (await import('./runner')).runSknnJob,
  estimate: sknnEstimate,
});
