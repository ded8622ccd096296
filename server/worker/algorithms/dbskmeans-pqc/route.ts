/**
 * @module server/worker/algorithms/dbskmeans-pqc/route
 * `POST /clustering/pqc/dbskmeans`: DBSKMeans-PQC on CKKS ciphertexts (spec/protocol.md §5.7; docs/protocol-additions.md §2). Steps 1 and 2 live with the rest of the
 * interactive k-means family in `../interactive-kmeans/`.
 */
import type { WorkerRoute } from '../../kit';
import { pqcKmeansRoutes } from '../interactive-kmeans/pqc';

export const dbskmeansPqcRoute: WorkerRoute = {
  algorithm: 'DBSKMEANS_PQC',
  path: '/clustering/pqc/dbskmeans',
  create: (services) => pqcKmeansRoutes(services).dbskmeans,
};
