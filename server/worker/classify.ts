/**
 * @module server/worker/classify
 * Classification routes (spec/protocol.md §5.8, §5.9; spec/crypto.md §7.9, §7.12):
 * - `POST /classification/knn/predict`: plaintext model `{M}`, labels `{M}labels` (1, n) and test
 *   records `{R}` (E1); 1-NN with Manhattan distance (`DISTANCE=MANHATHAN` upstream).
 * - `POST /classification/sknn/predict`: step 1 writes `distances{R}` = Σ_z |E(test) − E(model)|
 *   taken component-wise on Liu ciphertexts (t×n×m; decrypts to ≈ the Manhattan distance only
 *   because Liu leaks sign, §7.9); step 2 maps the client's argmin indices `distancesindex{R}`
 *   (int64 (t, 1)) to `{M}labels`.
 * Errors: 503 + `Error-Message` (missing shape/dtype headers → 500, missing Num-Chunks → 503).
 */
import { nearestNeighbourManhattan } from '@/lib/data/kmeans';
import { pythonShape } from '@/lib/data/matrix';
import type { ObjectStore } from '@/lib/storage/types';
import { H } from '@/lib/rory/headers';
import { HttpError, json, type Reply } from '../common/http';
import { errorReply, HeaderParams, toMatrix, type HeaderReader } from './core';

export const CLASSIFY_HEADERS = Object.freeze({
  MODEL_ID: 'Model-Id',
  RECORDS_TEST_ID: 'Records-Test-Id',
  MODEL_LABELS_SHAPE: 'Model-Labels-Shape',
  ENCRYPTED_MODEL_SHAPE: 'Encrypted-Model-Shape',
  ENCRYPTED_MODEL_DTYPE: 'Encrypted-Model-Dtype',
  ENCRYPTED_RECORDS_SHAPE: 'Encrypted-Records-Shape',
  ENCRYPTED_RECORDS_DTYPE: 'Encrypted-Records-Dtype',
});
const C = CLASSIFY_HEADERS;

export function createClassifyRoutes(store: ObjectStore) {
  const get = async (key: string, what: string) => toMatrix(await store.getNdarray(key, { force: true }), what);
  const labelsOf = async (modelId: string, expected: number) => {
    const l = await get(`${modelId}labels`, 'model labels');
    if (l.data.length !== expected) throw new HttpError(503, `model labels hold ${l.data.length} values, Model-Labels-Shape says ${expected}`);
    return l.data;
  };

  return {
    async knn(h: HeaderReader): Promise<Reply> {
      const hh = new HeaderParams(h);
      try {
        const started = Date.now() / 1000;
        const m = hh.id(C.MODEL_ID, 500, 'model0');
        const r = hh.id(C.RECORDS_TEST_ID, 500, 'matrix0');
        const nLabels = (hh.shape(C.MODEL_LABELS_SHAPE, 500) as number[])[1];
        const model = await get(m, 'model');
        const test = await get(r, 'test records');
        const labels = await labelsOf(m, nLabels);
        const res = nearestNeighbourManhattan(model, labels, test);
        const serviceTime = Date.now() / 1000 - started;
        return json(200, { label_vector: Array.from(res.labels), service_time: serviceTime }, { [H.START_TIME]: String(started), [H.SERVICE_TIME]: String(serviceTime) });
      } catch (e) {
        return errorReply(e, 503);
      }
    },

    async sknn(h: HeaderReader): Promise<Reply> {
      const hh = new HeaderParams(h);
      const step = hh.opt(H.STEP_INDEX) ?? '1';
      try {
        const started = Date.now() / 1000;
        const m = hh.id(C.MODEL_ID, 500, 'model0');
        const r = hh.id(C.RECORDS_TEST_ID, 500, 'matrix0data');
        if (step === '1') {
          const mShape = hh.shape(C.ENCRYPTED_MODEL_SHAPE, 500) as number[];
          hh.req(C.ENCRYPTED_MODEL_DTYPE, 500);
          const rShape = hh.shape(C.ENCRYPTED_RECORDS_SHAPE, 500) as number[];
          hh.req(C.ENCRYPTED_RECORDS_DTYPE, 500);
          const numChunks = hh.int(H.NUM_CHUNKS, undefined, 503, 1);
          const model = await get(`encrypted${m}`, 'encrypted model');
          const test = await get(`encrypted${r}`, 'encrypted test records');
          if (model.shape.join() !== mShape.join() || test.shape.join() !== rShape.join() || model.shape[1] !== test.shape[1] || model.shape[2] !== test.shape[2]) {
            throw new HttpError(503, 'stored ciphertext shapes do not match the headers');
          }
          const [n, a, mm] = model.shape;
          const t = test.shape[0];
          const out = new Float64Array(t * n * mm);
          for (let i = 0; i < t; i++) {
            for (let j = 0; j < n; j++) {
              const o = (i * n + j) * mm;
              for (let z = 0; z < a; z++) {
                const ti = (i * a + z) * mm;
                const mj = (j * a + z) * mm;
                for (let c = 0; c < mm; c++) out[o + c] += Math.abs(test.data[ti + c] - model.data[mj + c]);
              }
            }
          }
          const key = `distances${r}`;
          await store.putNdarray(key, { dtype: 'float64', shape: [t, n, mm], data: out }, { numChunks, tags: { full_shape: pythonShape([t, n, mm]), full_dtype: 'float64' } });
          const serviceTime = Date.now() / 1000 - started;
          return json(200, { distances_id: key, distances_shape: pythonShape([t, n, mm]), distances_dtype: 'float64', service_time: serviceTime });
        }
        if (step === '2') {
          const nLabels = (hh.shape(C.MODEL_LABELS_SHAPE, 500) as number[])[1];
          const labels = await labelsOf(m, nLabels);
          const idx = await store.getNdarray(`distancesindex${r}`, { force: true });
          if (idx.dtype !== 'int64') throw new HttpError(503, `distancesindex must be int64, got ${idx.dtype}`);
          const out = Array.from(idx.data as BigInt64Array, (v) => {
            const j = Number(v);
            if (!Number.isInteger(j) || j < 0 || j >= labels.length) throw new HttpError(503, 'an index is outside the model');
            return labels[j];
          });
          const serviceTime = Date.now() / 1000 - started;
          return json(200, { label_vector: out, service_time: serviceTime });
        }
        return json(200, {});
      } catch (e) {
        return errorReply(e, 503);
      }
    },
  };
}

