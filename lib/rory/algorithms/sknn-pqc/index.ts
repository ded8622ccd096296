/**
 * @module rory/algorithms/sknn-pqc
 * SKNN-PQC (1-NN, squared Euclidean, on packed CKKS ciphertexts; docs/protocol-additions.md §4).
 */
import { classificationSpec } from '../classification';
import { SKNN_PQC_PREDICT_LEAKAGE, SKNN_PQC_TRAIN_LEAKAGE } from './leakage';
import { sknnPqcEstimate } from '../size';

export const SKNN_PQC_PATH = '/classification/pqc/sknn/predict';

export const sknnPqc = classificationSpec('SKNN_PQC_PREDICT', {
  title: 'SKNN-PQC classification (CKKS, 1-NN)',
  summary: 'Classifies a test set by its nearest training record (squared Euclidean) on CKKS ciphertexts. Uploads the training labels and the nearest-record indices in plaintext: needs your acknowledgement.',
  workerLearns: 'The training labels and, for each record to classify, its nearest training record; the CKKS records reveal nothing. A lying worker cannot obtain any decryption (D8).',
  needs: { liu: false, fdhope: false, ckks: { relin: true } },
  train: SKNN_PQC_TRAIN_LEAKAGE,
  predict: SKNN_PQC_PREDICT_LEAKAGE,
  trainWire: 'SKNN_PQC_TRAIN',
  path: SKNN_PQC_PATH,
  runner: async () => (await import('./runner')).runSknnPqcJob,
  estimate: sknnPqcEstimate,
});
