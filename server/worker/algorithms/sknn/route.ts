/**
 * @module server/worker/algorithms/sknn/route
 * `POST /classification/sknn/predict` (spec/protocol.md §5.9; spec/crypto.md §7.9): step 1 writes
 * `distances{R}` = Σ_z |E(test) − E(model)| taken component-wise on Liu ciphertexts (t×n×m;
 * decrypts to ≈ the Manhattan distance only because Liu leaks sign); step 2 maps the client's
 * argmin indices `distancesindex{R}` (int64 (t, 1)) to `{M}labels`.
 * Errors: 503 + `Error-Message` (missing shape/dtype headers → 500, missing Num-Chunks → 503).
 */
import { pythonShape } from '@/lib/data/matrix';
import type { ObjectStore } from '@/lib/storage/types';
import type { DistancesBody } from '@/lib/rory/protocol';
import { H, keys } from '@/lib/rory/protocol';
import { HttpError, json } from '../../../common/http';
import { epochSeconds, getMatrix, guardedRoute, labelsReply, type WorkerRoute } from '../../kit';
import { liuManhattanTensor } from '@/lib/rory/algorithms/sknn/compute';
import { modelLabels } from '../knn/route';

/** Step 2 of SKNN and SKNN-PQC: the client's nearest-record indices → the model's labels. */
export async function labelsOfIndices(store: ObjectStore, r: string, labels: Float64Array): Promise<number[]> {
  const idx = await store.getNdarray(keys.distancesIndex(r), { force: true });
  if (idx.dtype !== 'int64') throw new HttpError(503, `distancesindex must be int64, got ${idx.dtype}`);
  if (idx.shape.length !== 2 || (idx.shape[0] !== 1 && idx.shape[1] !== 1)) throw new HttpError(503, `distancesindex must have shape (1, t) or (t, 1), got ${pythonShape(idx.shape)}`);
  return Array.from(idx.data as BigInt64Array, (v) => {
    const j = Number(v);
    if (!Number.isInteger(j) || j < 0 || j >= labels.length) throw new HttpError(503, 'an index is outside the model');
    return labels[j];
  });
}

export const sknnRoute: WorkerRoute = {
  algorithm: 'SKNN_PREDICT',
  path: '/classification/sknn/predict',
  create: ({ store }) => guardedRoute(503, async (hh) => {
    const step = hh.opt(H.STEP_INDEX) ?? '1';
    const started = epochSeconds();
    const m = hh.id(H.MODEL_ID, 500, 'model0');
    const r = hh.id(H.RECORDS_TEST_ID, 500, 'matrix0data');
    if (step === '1') {
      const mShape = hh.shape(H.ENCRYPTED_MODEL_SHAPE, 500) as number[];
      hh.req(H.ENCRYPTED_MODEL_DTYPE, 500);
      const rShape = hh.shape(H.ENCRYPTED_RECORDS_SHAPE, 500) as number[];
      hh.req(H.ENCRYPTED_RECORDS_DTYPE, 500);
      const numChunks = hh.int(H.NUM_CHUNKS, undefined, 503, 1);
      const model = await getMatrix(store, keys.encryptedMatrix(m), 'encrypted model');
      const test = await getMatrix(store, keys.encryptedMatrix(r), 'encrypted test records');
      if (model.shape.join() !== mShape.join() || test.shape.join() !== rShape.join() || model.shape[1] !== test.shape[1] || model.shape[2] !== test.shape[2]) {
        throw new HttpError(503, 'stored ciphertext shapes do not match the headers');
      }
      const [n, a, mm] = model.shape;
      const t = test.shape[0];
      const out = liuManhattanTensor(test.data, model.data, t, n, a, mm);
      const key = keys.distances(r);
      await store.putNdarray(key, { dtype: 'float64', shape: [t, n, mm], data: out }, { numChunks, tags: { full_shape: pythonShape([t, n, mm]), full_dtype: 'float64' } });
      const body: DistancesBody = { distances_id: key, distances_shape: pythonShape([t, n, mm]), distances_dtype: 'float64', service_time: epochSeconds() - started };
      return json(200, body);
    }
    if (step === '2') {
      const nLabels = (hh.shape(H.MODEL_LABELS_SHAPE, 500) as number[])[1];
      const labels = await modelLabels(store, m, nLabels);
      return labelsReply(await labelsOfIndices(store, r, labels), started);
    }
    return json(200, {});
  }),
};
