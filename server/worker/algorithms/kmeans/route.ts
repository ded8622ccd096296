/**
 * @module server/worker/algorithms/kmeans/route
 * `POST /clustering/kmeans` (spec/protocol.md §5.1): plaintext `P` as an E2 blob; Lloyd from the
 * first k rows. Assignment is Manhattan with mean centroids (`kmeansManhattan`), the rule the secure
 * variants follow, so a plaintext baseline and SKMeans are directly comparable (upstream's old core
 * used scikit-learn's Euclidean KMeans here).
 */
import { kmeansManhattan } from '@/lib/data/kmeans';
import { matrix } from '@/lib/data/matrix';
import { H, keys } from '@/lib/rory/protocol';
import { HttpError } from '../../../common/http';
import { epochSeconds, guardedRoute, labelsReply, type WorkerRoute } from '../../kit';

export const kmeansRoute: WorkerRoute = {
  algorithm: 'KMEANS',
  path: '/clustering/kmeans',
  create: ({ store }) => guardedRoute(500, async (hh) => {
    const started = epochSeconds();
    const p = hh.id(H.PLAINTEXT_MATRIX_ID, 500);
    const k = hh.int(H.K, 3, 500, 1);
    const maxIterations = hh.int(H.MAX_ITERATIONS, 10, 500, 1);
    const nd = await store.getBlob(keys.plaintext(p), { force: true });
    if (nd.shape.length !== 2) throw new HttpError(500, 'the plaintext matrix must be 2-D');
    const data = nd.data instanceof Float64Array ? nd.data : Float64Array.from(nd.data as ArrayLike<number>, Number);
    const r = kmeansManhattan(matrix(data, nd.shape), k, { maxIterations });
    return labelsReply(r.labels, started, { iterations: r.iterations });
  }),
};
