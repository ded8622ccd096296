/**
 * @module server/worker/algorithms/dbskmeans/route
 * `POST /clustering/dbskmeans`: DBSKMeans on Liu ciphertexts with an FDHOPE UDM (spec/protocol.md §5.3). Steps 1 and 2 live with the rest of the
 * interactive k-means family in `../interactive-kmeans/`.
 */
import type { WorkerRoute } from '../../kit';
import { liuKmeansRoutes } from '../interactive-kmeans/liu';

export const dbskmeansRoute: WorkerRoute = {
  algorithm: 'DBSKMEANS',
  path: '/clustering/dbskmeans',
  create: (services) => liuKmeansRoutes(services).dbskmeans,
};
