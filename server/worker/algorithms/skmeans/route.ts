/**
 * @module server/worker/algorithms/skmeans/route
 * `POST /clustering/skmeans`: SKMeans on Liu ciphertexts with a plaintext UDM (spec/protocol.md §5.2). Steps 1 and 2 live with the rest of the
 * interactive k-means family in `../interactive-kmeans/`.
 */
import type { WorkerRoute } from '../../kit';
import { liuKmeansRoutes } from '../interactive-kmeans/liu';

export const skmeansRoute: WorkerRoute = {
  algorithm: 'SKMEANS',
  path: '/clustering/skmeans',
  create: (services) => liuKmeansRoutes(services).skmeans,
};
