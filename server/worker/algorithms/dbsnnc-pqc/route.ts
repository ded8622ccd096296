/**
 * @module server/worker/algorithms/dbsnnc-pqc/route
 * `POST /clustering/pqc/dbsnnc` (docs/protocol-additions.md §3, absent upstream): DBSNNC with a
 * CKKS dataset (E3, `(n, a)`) the worker does not read; it clusters on the FDHOPE DM only.
 */
import { H } from '@/lib/rory/protocol';
import { HttpError } from '../../../common/http';
import { errorReply, type WorkerRoute } from '../../kit';
import { dbsnncHandler } from '../dbsnnc/route';

export const dbsnncPqcRoute: WorkerRoute = {
  algorithm: 'DBSNNC_PQC',
  path: '/clustering/pqc/dbsnnc',
  create({ store }) {
    const dbsnnc = dbsnncHandler(store);
    return async (h) => {
      const shape = h(H.ENCRYPTED_MATRIX_SHAPE);
      if (shape !== undefined && !/^\(\s*\d+\s*,\s*\d+\s*\)$/.test(shape.trim())) {
        return errorReply(new HttpError(500, 'Encrypted-Matrix-Shape must be (n, a) for a CKKS dataset'), 500);
      }
      return dbsnnc(h);
    };
  },
};
