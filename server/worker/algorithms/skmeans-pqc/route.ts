/**
 * @module server/worker/algorithms/skmeans-pqc/route
 * `POST /clustering/pqc/skmeans`: SKMeans-PQC on CKKS ciphertexts (spec/protocol.md §5.6; docs/protocol-additions.md §2). Steps 1 and 2 live with the rest of the
 * interactive k-means family in `../interactive-kmeans/`.
 */
import type { WorkerRoute } from '../../kit';
import { pqcKmeansRoutes } from '../interactive-kmeans/pqc';

export const skmeansPqcRoute: WorkerRoute = {
  algorithm: 'SKMEANS_PQC',
  path: '/clustering/pqc/skmeans',
  create: (services) => pqcKmeansRoutes(services).skmeans,
};
