/**
 * @module server/worker/algorithms/registry
 * Every algorithm route of the local worker, one line each (the Data Owner's side has its own
 * registry, lib/rory/algorithms/registry.ts; tests/unit/registry.test.ts checks that every client
 * algorithm's routes are served here).
 */
import type { RouteHandler, WorkerRoute, WorkerServices } from '../kit';
import { dbskmeansRoute } from './dbskmeans/route';
import { dbskmeansPqcRoute } from './dbskmeans-pqc/route';
import { dbsnncRoute } from './dbsnnc/route';
import { dbsnncPqcRoute } from './dbsnnc-pqc/route';
import { kmeansRoute } from './kmeans/route';
import { knnRoute } from './knn/route';
import { nncRoute } from './nnc/route';
import { pkmeansRoute } from './pkmeans/route';
import { skmeansRoute } from './skmeans/route';
import { skmeansPqcRoute } from './skmeans-pqc/route';
import { sknnRoute } from './sknn/route';
import { sknnPqcRoute } from './sknn-pqc/route';

export const WORKER_ROUTES: readonly WorkerRoute[] = Object.freeze([
  pkmeansRoute,
  skmeansRoute,
  dbskmeansRoute,
  skmeansPqcRoute,
  dbskmeansPqcRoute,
  dbsnncRoute,
  dbsnncPqcRoute,
  nncRoute,
  kmeansRoute,
  knnRoute,
  sknnRoute,
  sknnPqcRoute,
]);

/** The handler of every algorithm route, by path. */
export function createAlgorithmRoutes(services: WorkerServices): Map<string, RouteHandler> {
  return new Map(WORKER_ROUTES.map((r) => [r.path, r.create(services)]));
}
