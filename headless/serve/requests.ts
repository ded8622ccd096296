/**
 * @module headless/serve/requests
 * The client service's routes as data, and the reading of their request headers (pure):
 * spec/protocol.md §6 — every route, its headers and upstream defaults, and the JSON reply fields;
 * read against `ShanelReyes/rory:client/src/routes/{clustering,classification}.py` and the SDK
 * (`ShanelReyes/rory_client:roryclient/client.py`, `roryclient/models`).
 *
 * Header values are parsed as upstream parses them (Python `int()` / `float()`), but a bad or
 * missing required value is a 400 naming the header (upstream: a 500 from `int(None)`); the SDK
 * only checks `raise_for_status()`, so this changes nothing for it. `Num-Chunks` is ignored, as
 * upstream ignores it (NUM_CHUNKS comes from the environment).
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '@/lib/errors';
import type { JobAlgorithm } from '@/lib/rory/algorithms/ids';
import type { JobParams } from '@/lib/rory/algorithms/spec';
import { parsePythonShape, type Algorithm } from '@/lib/rory/protocol';

export interface ClusteringRoute {
  readonly path: string;
  readonly algorithm: JobAlgorithm;
  readonly idDefault: string;
  readonly filenameDefault: string;
  /** `K`: a default, or required (upstream's `int(request_headers.get("K"))`). */
  readonly k?: { readonly default?: string };
  readonly maxIterations: boolean;
  /** `Sens` with its default. */
  readonly sens?: string;
  readonly threshold: boolean;
  /** Whether the reply has `iterations` (the NNC family's does not). */
  readonly iterations: boolean;
}

/** Every clustering route (§6), plus the project's `/clustering/pqc/pkmeans` and `/clustering/pqc/dbsnnc`. */
export const CLUSTERING_ROUTES: readonly ClusteringRoute[] = Object.freeze([
  { path: '/clustering/kmeans', algorithm: 'KMEANS', idDefault: 'matrix-0', filenameDefault: 'matrix-0', k: { default: '3' }, maxIterations: false, threshold: false, iterations: true },
  { path: '/clustering/skmeans', algorithm: 'SKMEANS', idDefault: 'matrix0', filenameDefault: 'matrix0', k: {}, maxIterations: true, threshold: false, iterations: true },
  { path: '/clustering/dbskmeans', algorithm: 'DBSKMEANS', idDefault: 'matrix0', filenameDefault: 'matrix0', k: { default: '3' }, maxIterations: true, sens: '0.00000001', threshold: false, iterations: true },
  { path: '/clustering/dbsnnc', algorithm: 'DBSNNC', idDefault: 'matrix0', filenameDefault: 'matrix-0', maxIterations: false, sens: '0.00000001', threshold: true, iterations: false },
  { path: '/clustering/nnc', algorithm: 'NNC', idDefault: 'matrix0', filenameDefault: 'matrix-0', maxIterations: false, threshold: true, iterations: false },
  { path: '/clustering/pqc/skmeans', algorithm: 'SKMEANS_PQC', idDefault: 'matrix0', filenameDefault: 'matrix0', k: {}, maxIterations: true, threshold: false, iterations: true },
  { path: '/clustering/pqc/dbskmeans', algorithm: 'DBSKMEANS_PQC', idDefault: 'matrix0', filenameDefault: 'matrix0', k: {}, maxIterations: true, sens: '0.00000001', threshold: false, iterations: true },
  { path: '/clustering/pqc/pkmeans', algorithm: 'PKMEANS', idDefault: 'matrix0', filenameDefault: 'matrix0', k: { default: '3' }, maxIterations: true, threshold: false, iterations: true },
  { path: '/clustering/pqc/dbsnnc', algorithm: 'DBSNNC_PQC', idDefault: 'matrix0', filenameDefault: 'matrix-0', maxIterations: false, sens: '0.00000001', threshold: true, iterations: false },
] satisfies ClusteringRoute[]);

export interface ClassificationRoute {
  /** `/classification/knn` etc.; `/train` and `/predict` are appended. */
  readonly base: string;
  readonly algorithm: Extract<JobAlgorithm, 'KNN_PREDICT' | 'SKNN_PREDICT' | 'SKNN_PQC_PREDICT'>;
  readonly trainWire: Algorithm;
  readonly trainModelIdDefault: string;
  readonly predictModelIdDefault: string;
  /** Predict headers the upstream route refuses to run without. */
  readonly requires: readonly string[];
  /** Train reply: `encrypted_model_shape` as `(n, a, m)` (Liu), `(n, a)` (CKKS), or none. */
  readonly encryptedShape: 'liu' | 'ckks' | 'none';
  /** Upstream sends the PQC train `response_time` as a string (a quirk kept: pydantic reads it as a float). */
  readonly responseTimeAsString: boolean;
}

export const CLASSIFICATION_ROUTES: readonly ClassificationRoute[] = Object.freeze([
  {
    base: '/classification/knn',
    algorithm: 'KNN_PREDICT',
    trainWire: 'KNN_TRAIN',
    trainModelIdDefault: 'matrix0model',
    predictModelIdDefault: 'model-0',
    requires: ['Model-Labels-Shape'],
    encryptedShape: 'none',
    responseTimeAsString: false,
  },
  {
    base: '/classification/sknn',
    algorithm: 'SKNN_PREDICT',
    trainWire: 'SKNN_TRAIN',
    trainModelIdDefault: 'matrix-0_model',
    predictModelIdDefault: 'model0',
    requires: ['Encrypted-Model-Shape', 'Encrypted-Model-Dtype', 'Model-Labels-Shape'],
    encryptedShape: 'liu',
    responseTimeAsString: false,
  },
  {
    base: '/classification/pqc/sknn',
    algorithm: 'SKNN_PQC_PREDICT',
    trainWire: 'SKNN_PQC_TRAIN',
    trainModelIdDefault: 'matrix-0_model',
    predictModelIdDefault: 'model0',
    requires: ['Encrypted-Model-Shape', 'Encrypted-Model-Dtype'],
    encryptedShape: 'ckks',
    responseTimeAsString: true,
  },
] satisfies ClassificationRoute[]);

export type HeaderReader = (name: string) => string | undefined;

export function badHeader(name: string, why: string): AppError {
  return new AppError('INVALID_ARGUMENT', `header ${name}: ${why}`, { userMessage: `The ${name} header ${why}.`, details: { field: name } });
}

/** Python `int()` of a header: optional sign and whitespace, digits only ("3", never "3.0"). */
export function intOf(name: string, v: string): number {
  const t = v.trim();
  if (!/^[+-]?\d{1,9}$/.test(t)) throw badHeader(name, `must be a whole number such as 3 (got “${t.slice(0, 20)}”)`);
  return Number(t);
}

/** Python `float()` of a header: decimal or exponent form. */
export function floatOf(name: string, v: string): number {
  const t = v.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) throw badHeader(name, `must be a number such as 0.5 or 1e-8 (got “${t.slice(0, 20)}”)`);
  return Number(t);
}

/** Upstream's default Experiment-Id: `uuid4().hex[:10]`. */
export function defaultExperimentId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 10);
}

/** An Experiment-Id safe for file names (upstream accepts anything; it only logs it). */
export function experimentIdOf(h: HeaderReader): string {
  const v = h('Experiment-Id');
  if (v === undefined || v.trim() === '') return defaultExperimentId();
  const clean = v.trim().replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
  return clean === '' ? defaultExperimentId() : clean;
}

export interface ClusteringRequest {
  readonly plaintextMatrixId: string;
  readonly filename: string;
  readonly extension: string;
  readonly experimentId: string;
  readonly experimentIteration: string;
  readonly params: JobParams;
}

/** Reads a clustering request's headers with the route's upstream defaults. */
export function readClusteringRequest(r: ClusteringRoute, h: HeaderReader, env: { maxIterations: number }): ClusteringRequest {
  const params: { k?: number; maxIterations?: number; sens?: number; threshold?: number } = {};
  if (r.k) {
    const v = h('K') ?? r.k.default;
    if (v === undefined) throw badHeader('K', 'is required (the number of clusters, e.g. K: 3)');
    params.k = intOf('K', v);
  }
  if (r.maxIterations) params.maxIterations = intOf('Max-Iterations', h('Max-Iterations') ?? String(env.maxIterations));
  if (r.sens !== undefined) params.sens = floatOf('Sens', h('Sens') ?? r.sens);
  if (r.threshold) params.threshold = floatOf('Threshold', h('Threshold') ?? '-1');
  return {
    plaintextMatrixId: h('Plaintext-Matrix-Id') ?? r.idDefault,
    filename: h('Plaintext-Matrix-Filename') ?? r.filenameDefault,
    extension: h('Extension') ?? 'csv',
    experimentId: experimentIdOf(h),
    experimentIteration: h('Experiment-Iteration') ?? '0',
    params,
  };
}

export interface TrainRequest {
  readonly modelId: string;
  readonly modelFilename: string;
  readonly labelsFilename: string;
  readonly extension: string;
  readonly experimentId: string;
}

export function readTrainRequest(r: ClassificationRoute, h: HeaderReader): TrainRequest {
  return modelHeaders(h, h('Model-Id') ?? r.trainModelIdDefault);
}

/** The model headers /train and /predict share, with the model id's defaults. */
function modelHeaders(h: HeaderReader, modelId: string): TrainRequest {
  return {
    modelId,
    modelFilename: h('Model-Filename') ?? modelId,
    labelsFilename: h('Model-Labels-Filename') ?? `${modelId}labels`,
    extension: h('Extension') ?? 'npy',
    experimentId: experimentIdOf(h),
  };
}

export interface PredictRequest extends TrainRequest {
  readonly recordsTestId: string;
  readonly recordsTestFilename: string;
  /** `Model-Labels-Shape` parsed (`(1, n)`), when sent. */
  readonly modelLabelsShape?: number[];
  /** `Encrypted-Model-Shape` parsed (`(n, a, m)` or `(n, a)`), when sent. */
  readonly encryptedModelShape?: number[];
}

function shapeOf(name: string, v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  try {
    return parsePythonShape(v);
  } catch {
    throw badHeader(name, `must be a shape such as (1, 150) (got “${v.slice(0, 30)}”)`);
  }
}

export function readPredictRequest(r: ClassificationRoute, h: HeaderReader): PredictRequest {
  for (const name of r.requires) if (h(name) === undefined) throw badHeader(name, 'is required (the /train reply gives it)');
  const recordsTestId = h('Records-Test-Id') ?? 'matrix0data';
  return {
    ...modelHeaders(h, h('Model-Id') ?? r.predictModelIdDefault),
    recordsTestId,
    recordsTestFilename: h('Records-Test-Filename') ?? recordsTestId,
    modelLabelsShape: shapeOf('Model-Labels-Shape', h('Model-Labels-Shape')),
    encryptedModelShape: shapeOf('Encrypted-Model-Shape', h('Encrypted-Model-Shape')),
  };
}

/** Checks that the shapes the caller sends (from the train reply) match the model used. */
export function checkModelShapes(p: PredictRequest, n: number, a: number): void {
  const ls = p.modelLabelsShape;
  if (ls && (ls.length !== 2 || ls[0] !== 1 || ls[1] !== n)) {
    throw badHeader('Model-Labels-Shape', `(${ls.join(', ')}) does not match the model's ${n} labels: send the model_labels_shape of the /train reply`);
  }
  const es = p.encryptedModelShape;
  if (es && (es.length < 2 || es[0] !== n || es[1] !== a)) {
    throw badHeader('Encrypted-Model-Shape', `(${es.join(', ')}) does not match the model (${n} records × ${a} attributes): send the encrypted_model_shape of the /train reply`);
  }
}
