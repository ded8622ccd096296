/**
 * @module server/worker/algorithms/nnc/route
 * `POST /clustering/nnc` (spec/protocol.md §5.5): DBSNNC's rule on a plaintext distance matrix
 * `{P}dm` and a plaintext `Threshold`.
 */
import { H, keys } from '@/lib/rory/protocol';
import { guardedRoute, type WorkerRoute } from '../../kit';
import { nncOnStoredDm } from '../dbsnnc/route';

export const nncRoute: WorkerRoute = {
  algorithm: 'NNC',
  path: '/clustering/nnc',
  create: ({ store }) => guardedRoute(503, async (hh) => {
    const p = hh.id(H.PLAINTEXT_MATRIX_ID, 500);
    hh.shape(H.PLAINTEXT_MATRIX_SHAPE, 500);
    hh.req(H.PLAINTEXT_MATRIX_DTYPE, 500);
    hh.req(H.DM_DTYPE, 500);
    return nncOnStoredDm(store, hh, keys.dm(p), H.DM_SHAPE, H.THRESHOLD);
  }),
};
