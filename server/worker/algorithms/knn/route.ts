/**
 * @module server/worker/algorithms/knn/route
 * `POST /classification/knn/predict` (spec/protocol.md §5.8): plaintext model `{M}`, labels
 * `{M}labels` (1, n) and test records `{R}` (E1); 1-NN with Manhattan distance
 * (`DISTANCE=MANHATHAN` upstream). Errors: 503 + `Error-Message` (missing shape headers → 500).
 */
import { nearestNeighbourManhattan } from '@/lib/data/kmeans';
import type { ObjectStore } from '@/lib/storage/types';
import { H, keys } from '@/lib/rory/protocol';
import { HttpError } from '../../../common/http';
import { epochSeconds, getMatrix, guardedRoute, labelsReply, type WorkerRoute } from '../../kit';

/** `{M}labels`, checked to hold `expected` values. */
export async function modelLabels(store: ObjectStore, modelId: string, expected: number): Promise<Float64Array> {
  const l = await getMatrix(store, keys.modelLabels(modelId), 'model labels');
  if (l.data.length !== expected) throw new HttpError(503, `model labels hold ${l.data.length} values, Model-Labels-Shape says ${expected}`);
  return l.data;
}

export const knnRoute: WorkerRoute = {
  algorithm: 'KNN_PREDICT',
  path: '/classification/knn/predict',
  create: ({ store }) => guardedRoute(503, async (hh) => {
    const started = epochSeconds();
    const m = hh.id(H.MODEL_ID, 500, 'model0');
    const r = hh.id(H.RECORDS_TEST_ID, 500, 'matrix0');
    const nLabels = (hh.shape(H.MODEL_LABELS_SHAPE, 500) as number[])[1];
    const model = await getMatrix(store, m, 'model');
    const test = await getMatrix(store, r, 'test records');
    const labels = await modelLabels(store, m, nLabels);
    return labelsReply(nearestNeighbourManhattan(model, labels, test).labels, started);
  }),
};
