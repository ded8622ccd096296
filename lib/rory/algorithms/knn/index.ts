/**
 * @module rory/algorithms/knn
 * KNN (1-NN), the plaintext classification baseline (spec/protocol.md §5.8).
 */
import { classificationSpec } from '../classification';
import { KNN_PREDICT_LEAKAGE, KNN_TRAIN_LEAKAGE } from './leakage';
import { knnEstimate } from '../size';

export const KNN_PATH = '/classification/knn/predict';

export const knn = classificationSpec('KNN_PREDICT', {
  title: 'KNN classification (plaintext baseline)',
  summary: 'The same 1-NN classification on unencrypted training and test sets: needs your acknowledgement.',
  workerLearns: 'Everything: your training records, their labels and the records to classify, unencrypted.',
  needs: { liu: false, fdhope: false, ckks: false },
  train: KNN_TRAIN_LEAKAGE,
  predict: KNN_PREDICT_LEAKAGE,
  trainWire: 'KNN_TRAIN',
  path: KNN_PATH,
  runner: async () => (await import('./runner')).runKnnJob,
  estimate: knnEstimate,
});
