/**
 * @module server/worker/nnc
 * One-shot nearest-neighbour clustering routes (spec/protocol.md §5.4, §5.5; spec/crypto.md §7.3,
 * §7.4): `POST /clustering/dbsnnc` on an FDHOPE-encrypted distance matrix with an FDHOPE-encrypted
 * threshold, and `POST /clustering/nnc` on a plaintext one. Assignment uses the newest core's
 * global-minimum rule (`lib/data/kmeans` `nncLabels`); FDHOPE preserves the order the rule needs.
 * Stateless; reads only what the headers name. Errors: 503 + `Error-Message`, as upstream;
 * missing shape/dtype headers → 500; missing Num-Chunks → 503.
 */
import { kmeansManhattan, nncLabels } from '@/lib/data/kmeans';
import { matrix } from '@/lib/data/matrix';
import type { ObjectStore } from '@/lib/storage/types';
import { H } from '@/lib/rory/headers';
import { HttpError, json, type Reply } from '../common/http';
import { errorReply, HeaderParams, toMatrix, type HeaderReader } from './core';

/** Header names of the one-shot NNC family (exact upstream spellings). */
export const NNC_HEADERS = Object.freeze({
  ENCRYPTED_DM_ID: 'Encrypted-Dm-Id',
  ENCRYPTED_DM_SHAPE: 'Encrypted-Dm-Shape',
  ENCRYPTED_DM_DTYPE: 'Encrypted-Dm-Dtype',
  ENCRYPTED_THRESHOLD: 'Encrypted-Threshold',
  THRESHOLD: 'Threshold',
  PLAINTEXT_MATRIX_SHAPE: 'Plaintext-Matrix-Shape',
  PLAINTEXT_MATRIX_DTYPE: 'Plaintext-Matrix-Dtype',
  DM_SHAPE: 'Dm-Shape',
  DM_DTYPE: 'Dm-Dtype',
});

function threshold(hh: HeaderParams, name: string): number {
  const v = hh.req(name, 500);
  const t = Number(v);
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(v) || !Number.isFinite(t)) throw new HttpError(500, `${name} must be a finite number`);
  return t;
}

export function createNncRoutes(store: ObjectStore) {
  const run = async (hh: HeaderParams, dmKey: string, dmShapeHeader: string, thresholdHeader: string): Promise<Reply> => {
    const started = Date.now() / 1000;
    const dmShape = hh.shape(dmShapeHeader, 500) as number[];
    const t = threshold(hh, thresholdHeader);
    hh.int(H.NUM_CHUNKS, undefined, 503, 1);
    const dm = toMatrix(await store.getNdarray(dmKey, { force: true }), 'distance matrix');
    if (dm.shape.length !== 2 || dm.shape[0] !== dm.shape[1] || dm.shape.join() !== dmShape.join()) {
      throw new HttpError(503, `stored distance matrix has shape (${dm.shape.join(', ')}), header says (${dmShape.join(', ')})`);
    }
    const labels = nncLabels(dm, t, { rule: 'global-min' });
    const serviceTime = Date.now() / 1000 - started;
    return json(200, { label_vector: Array.from(labels), service_time: serviceTime }, { [H.START_TIME]: String(started), [H.SERVICE_TIME]: String(serviceTime) });
  };

  return {
    /**
     * `POST /clustering/kmeans` (§5.1): plaintext `P` as an E2 blob; Lloyd from the first k rows.
     * Assignment is Manhattan with mean centroids (`kmeansManhattan`), the rule the secure variants
     * follow, so a plaintext baseline and SKMeans are directly comparable (upstream's old core used
     * scikit-learn's Euclidean KMeans here).
     */
    async kmeans(h: HeaderReader): Promise<Reply> {
      const hh = new HeaderParams(h);
      try {
        const started = Date.now() / 1000;
        const p = hh.id(H.PLAINTEXT_MATRIX_ID, 500);
        const k = hh.int(H.K, 3, 500, 1);
        const maxIterations = hh.int(H.MAX_ITERATIONS, 10, 500, 1);
        const nd = await store.getBlob(p, { force: true });
        if (nd.shape.length !== 2) throw new HttpError(500, 'the plaintext matrix must be 2-D');
        const data = nd.data instanceof Float64Array ? nd.data : Float64Array.from(nd.data as ArrayLike<number>, Number);
        const r = kmeansManhattan(matrix(data, nd.shape), k, { maxIterations });
        const serviceTime = Date.now() / 1000 - started;
        return json(200, { label_vector: Array.from(r.labels), iterations: r.iterations, service_time: serviceTime }, { [H.SERVICE_TIME]: String(serviceTime), [H.ITERATIONS]: String(r.iterations) });
      } catch (e) {
        return errorReply(e, 500);
      }
    },

    async dbsnnc(h: HeaderReader): Promise<Reply> {
      const hh = new HeaderParams(h);
      try {
        hh.shape(H.ENCRYPTED_MATRIX_SHAPE, 500);
        hh.req(H.ENCRYPTED_MATRIX_DTYPE, 500);
        hh.req(NNC_HEADERS.ENCRYPTED_DM_DTYPE, 500);
        const dmId = hh.id(NNC_HEADERS.ENCRYPTED_DM_ID, 500);
        return await run(hh, dmId, NNC_HEADERS.ENCRYPTED_DM_SHAPE, NNC_HEADERS.ENCRYPTED_THRESHOLD);
      } catch (e) {
        return errorReply(e, 503);
      }
    },
    async nnc(h: HeaderReader): Promise<Reply> {
      const hh = new HeaderParams(h);
      try {
        const p = hh.id(H.PLAINTEXT_MATRIX_ID, 500);
        hh.shape(NNC_HEADERS.PLAINTEXT_MATRIX_SHAPE, 500);
        hh.req(NNC_HEADERS.PLAINTEXT_MATRIX_DTYPE, 500);
        hh.req(NNC_HEADERS.DM_DTYPE, 500);
        return await run(hh, `${p}dm`, NNC_HEADERS.DM_SHAPE, NNC_HEADERS.THRESHOLD);
      } catch (e) {
        return errorReply(e, 503);
      }
    },
  };
}
