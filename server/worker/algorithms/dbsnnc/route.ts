/**
 * @module server/worker/algorithms/dbsnnc/route
 * `POST /clustering/dbsnnc` (spec/protocol.md §5.4; spec/crypto.md §7.3): nearest-neighbour
 * clustering on an FDHOPE-encrypted distance matrix with an FDHOPE-encrypted threshold. Assignment
 * uses the newest core's global-minimum rule (`lib/data/kmeans` `nncLabels`); FDHOPE preserves the
 * order the rule needs. Stateless; reads only what the headers name. Errors: 503 + `Error-Message`
 * as upstream; missing shape/dtype headers → 500; missing Num-Chunks → 503.
 */
import { nncLabels } from '@/lib/data/kmeans';
import { H } from '@/lib/rory/protocol';
import type { ObjectStore } from '@/lib/storage/types';
import { HttpError, type Reply } from '../../../common/http';
import { epochSeconds, getMatrix, guardedRoute, HeaderParams, labelsReply, type WorkerRoute } from '../../kit';

/** Clusters the stored distance matrix `dmKey` at the threshold in `thresholdHeader` (shared by NNC and DBSNNC). */
export async function nncOnStoredDm(store: ObjectStore, hh: HeaderParams, dmKey: string, dmShapeHeader: string, thresholdHeader: string): Promise<Reply> {
  const started = epochSeconds();
  const dmShape = hh.shape(dmShapeHeader, 500) as number[];
  const t = hh.float(thresholdHeader, 500);
  hh.int(H.NUM_CHUNKS, undefined, 503, 1);
  const dm = await getMatrix(store, dmKey, 'distance matrix');
  if (dm.shape.length !== 2 || dm.shape[0] !== dm.shape[1] || dm.shape.join() !== dmShape.join()) {
    throw new HttpError(503, `stored distance matrix has shape (${dm.shape.join(', ')}), header says (${dmShape.join(', ')})`);
  }
  return labelsReply(nncLabels(dm, t, { rule: 'global-min' }), started);
}

/** The DBSNNC route body; DBSNNC-PQC reuses it after checking its own matrix shape. */
export function dbsnncHandler(store: ObjectStore) {
  return guardedRoute(503, async (hh) => {
    hh.shape(H.ENCRYPTED_MATRIX_SHAPE, 500);
    hh.req(H.ENCRYPTED_MATRIX_DTYPE, 500);
    hh.req(H.ENCRYPTED_DM_DTYPE, 500);
    const dmId = hh.id(H.ENCRYPTED_DM_ID, 500);
    return nncOnStoredDm(store, hh, dmId, H.ENCRYPTED_DM_SHAPE, H.ENCRYPTED_THRESHOLD);
  });
}

export const dbsnncRoute: WorkerRoute = {
  algorithm: 'DBSNNC',
  path: '/clustering/dbsnnc',
  create: ({ store }) => dbsnncHandler(store),
};
