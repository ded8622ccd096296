/**
 * @module rory/headers
 * The Rory header protocol (spec/protocol.md §3, §5.2, §5.3, §8): header names, status codes,
 * and typed builders/parsers for the SKMeans and DBSKMeans worker steps. Every parameter is a
 * string header; integers are written without a fraction, floats so Python's `float()` parses
 * them, shapes as Python tuple literals (`(10, 5, 3)`, `(7,)`).
 *
 * Isomorphic: no DOM, no Node modules.
 */
import { AppError } from '../errors';
import { parsePythonShape, pythonShape } from '../data/matrix';

export { parsePythonShape, pythonShape };

/** `ClusteringStatus` constants (spec/protocol.md §3.5). The upstream docstrings are wrong; these are the values. */
export const ClusteringStatus = Object.freeze({ COMPLETED: 0, START: 1, WORK_IN_PROGRESS: 2 } as const);
export type ClusteringStatusCode = (typeof ClusteringStatus)[keyof typeof ClusteringStatus];

export const ALGORITHMS = [
  'KMEANS',
  'SKMEANS',
  'DBSKMEANS',
  'DBSNNC',
  'NNC',
  'SKMEANS_PQC',
  'DBSKMEANS_PQC',
  'DBSNNC_PQC',
  'KNN_TRAIN',
  'KNN_PREDICT',
  'SKNN_TRAIN',
  'SKNN_PREDICT',
  'SKNN_PQC_TRAIN',
  'SKNN_PQC_PREDICT',
] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** Header names exactly as the Rory services read and write them. */
export const H = Object.freeze({
  STEP_INDEX: 'Step-Index',
  CLUSTERING_STATUS: 'Clustering-Status',
  PLAINTEXT_MATRIX_ID: 'Plaintext-Matrix-Id',
  ENCRYPTED_MATRIX_ID: 'Encrypted-Matrix-Id',
  ENCRYPTED_MATRIX_SHAPE: 'Encrypted-Matrix-Shape',
  ENCRYPTED_MATRIX_DTYPE: 'Encrypted-Matrix-Dtype',
  ENCRYPTED_UDM_SHAPE: 'Encrypted-Udm-Shape',
  ENCRYPTED_UDM_DTYPE: 'Encrypted-Udm-Dtype',
  UDM_MATRIX_SHAPE: 'Udm-Matrix-Shape',
  UDM_MATRIX_DTYPE: 'Udm-Matrix-Dtype',
  NUM_CHUNKS: 'Num-Chunks',
  K: 'K',
  M: 'M',
  ITERATIONS: 'Iterations',
  MAX_ITERATIONS: 'Max-Iterations',
  EXPERIMENT_ID: 'Experiment-Id',
  SHIFT_MATRIX_ID: 'Shift-Matrix-Id',
  SHIFT_MATRIX_OPE_ID: 'Shift-Matrix-Ope-Id',
  IS_ZERO: 'Is-Zero',
  START_TIME: 'Start-Time',
  END_TIME: 'End-Time',
  SERVICE_TIME: 'Service-Time',
  TOTAL_SERVICE_TIME: 'Total-Service-Time',
  ENCRYPTED_SHIFT_MATRIX_ID: 'Encrypted-Shift-Matrix-Id',
  ERROR_MESSAGE: 'Error-Message',
  COMPONENT_TYPE: 'Component-Type',
  ALGORITHM: 'Algorithm',
  WORKER_ID: 'Worker-Id',
  WORKER_PORT: 'Worker-Port',
  /** Our addition (ignored upstream): the host a worker is reachable at from the Data Owner. */
  WORKER_HOST: 'Worker-Host',
} as const);

/** Upstream tags Liu matrices `float32` although the data is float64 (spec/protocol.md §5.2); we send the same string. */
export const ENCRYPTED_MATRIX_DTYPE = 'float32';
export const FLOAT64 = 'float64';

/** Storage keys derived from the Plaintext-Matrix-Id `P` (spec/protocol.md §7.5; spec/crypto.md §6). */
export const keys = Object.freeze({
  encryptedMatrix: (p: string) => `encrypted${p}`,
  udm: (p: string) => `${p}udm`,
  encryptedUdm: (p: string) => `${p}encryptedudm`,
  centi: (p: string) => `${p}centi`,
  centj: (p: string) => `${p}centj`,
  encryptedShiftMatrix: (p: string) => `${p}encryptedshiftmatrix`,
  shiftMatrix: (p: string) => `${p}shiftmatrix`,
  shiftMatrixOpe: (p: string) => `${p}shiftmatrixope`,
  /** PQC: CKKS-encrypted zero matrix k×a (spec/protocol.md §7.5). */
  initsm: (p: string) => `${p}initsm`,
});

/** Our header naming the CKKS public key objects of a PQC call (docs/protocol-additions.md §1). */
export const CKKS_KEYS_ID = 'Ckks-Keys-Id';

/** Writes an integer the way Python's `int()` accepts it ("3", never "3.0"). */
export function intHeader(n: number, name = 'value'): string {
  if (!Number.isSafeInteger(n)) throw new AppError('INVALID_ARGUMENT', `${name} must be an integer`);
  return String(n);
}

/** Writes a float that Python's `float()` parses back to the same double. */
export function floatHeader(x: number, name = 'value'): string {
  if (!Number.isFinite(x)) throw new AppError('INVALID_ARGUMENT', `${name} must be a finite number`);
  return String(x);
}

/** Parses an integer header strictly (no fraction, no junk). */
export function parseIntHeader(v: string | null | undefined, name: string): number | undefined {
  if (v === null || v === undefined) return undefined;
  const t = v.trim();
  if (!/^[+-]?\d{1,15}$/.test(t)) throw new AppError('PROTOCOL_VIOLATION', `${name} is not an integer`);
  return Number(t);
}

/** Parses a float header (Python `float()` syntax subset: decimal and exponent forms). */
export function parseFloatHeader(v: string | null | undefined, name: string): number | undefined {
  if (v === null || v === undefined) return undefined;
  const t = v.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) throw new AppError('PROTOCOL_VIOLATION', `${name} is not a number`);
  return Number(t);
}

export function parseClusteringStatus(v: string | null | undefined): ClusteringStatusCode | undefined {
  const n = parseIntHeader(v, H.CLUSTERING_STATUS);
  if (n === undefined) return undefined;
  if (n !== 0 && n !== 1 && n !== 2) throw new AppError('PROTOCOL_VIOLATION', `Clustering-Status must be 0, 1 or 2`);
  return n;
}

/** Common parameters of every SKMeans/DBSKMeans worker call. */
export interface KmeansCallParams {
  /** Plaintext-Matrix-Id `P`. */
  readonly p: string;
  readonly encryptedShape: readonly number[];
  readonly numChunks: number;
  readonly k: number;
  readonly m: number;
  readonly iterations: number;
  readonly maxIterations: number;
  readonly experimentId?: string;
}

function common(p: KmeansCallParams): Record<string, string> {
  const h: Record<string, string> = {
    [H.PLAINTEXT_MATRIX_ID]: p.p,
    [H.ENCRYPTED_MATRIX_ID]: keys.encryptedMatrix(p.p),
    [H.ENCRYPTED_MATRIX_SHAPE]: pythonShape(p.encryptedShape),
    [H.ENCRYPTED_MATRIX_DTYPE]: ENCRYPTED_MATRIX_DTYPE,
    [H.NUM_CHUNKS]: intHeader(p.numChunks, 'Num-Chunks'),
    [H.K]: intHeader(p.k, 'K'),
    [H.M]: intHeader(p.m, 'M'),
    [H.ITERATIONS]: intHeader(p.iterations, 'Iterations'),
    [H.MAX_ITERATIONS]: intHeader(p.maxIterations, 'Max-Iterations'),
  };
  if (p.experimentId !== undefined) h[H.EXPERIMENT_ID] = p.experimentId;
  return h;
}

/** SKMeans step 1 (spec/protocol.md §5.2). */
export function skmeansStep1Headers(p: KmeansCallParams & { readonly status: ClusteringStatusCode }): Record<string, string> {
  return { ...common(p), [H.STEP_INDEX]: '1', [H.CLUSTERING_STATUS]: String(p.status), [H.ENCRYPTED_UDM_DTYPE]: FLOAT64 };
}

/**
 * SKMeans step 2. `Is-Zero` is the client's convergence decision (the worker honours it, D2);
 * upstream Liu workers ignore it.
 */
export function skmeansStep2Headers(p: KmeansCallParams & { readonly isZero: boolean }): Record<string, string> {
  return {
    ...common(p),
    [H.STEP_INDEX]: '2',
    [H.CLUSTERING_STATUS]: String(ClusteringStatus.WORK_IN_PROGRESS),
    [H.SHIFT_MATRIX_ID]: keys.shiftMatrix(p.p),
    [H.IS_ZERO]: p.isZero ? '1' : '0',
  };
}

/** DBSKMeans step 1 (spec/protocol.md §5.3): adds the FDHOPE UDM shape the last step 2 returned. */
export function dbskmeansStep1Headers(
  p: KmeansCallParams & { readonly status: ClusteringStatusCode; readonly udmShape: readonly number[] },
): Record<string, string> {
  return {
    ...common(p),
    [H.STEP_INDEX]: '1',
    [H.CLUSTERING_STATUS]: String(p.status),
    [H.ENCRYPTED_UDM_SHAPE]: pythonShape(p.udmShape),
    [H.ENCRYPTED_UDM_DTYPE]: FLOAT64,
  };
}

/** DBSKMeans step 2: sends `Shift-Matrix-Ope-Id` explicitly (upstream's default name is wrong, §13). */
export function dbskmeansStep2Headers(
  p: KmeansCallParams & { readonly udmShape: readonly number[]; readonly isZero: boolean },
): Record<string, string> {
  return {
    ...common(p),
    [H.STEP_INDEX]: '2',
    [H.CLUSTERING_STATUS]: String(ClusteringStatus.WORK_IN_PROGRESS),
    [H.SHIFT_MATRIX_OPE_ID]: keys.shiftMatrixOpe(p.p),
    [H.ENCRYPTED_UDM_SHAPE]: pythonShape(p.udmShape),
    [H.ENCRYPTED_UDM_DTYPE]: FLOAT64,
    [H.IS_ZERO]: p.isZero ? '1' : '0',
  };
}

/** Parameters of a PQC (CKKS) SKMeans/DBSKMeans call: `encryptedShape` is (n, a); there is no `M`. */
export interface PqcCallParams extends Omit<KmeansCallParams, 'm'> {
  readonly ckksKeysId: string;
}

function pqcCommon(p: PqcCallParams): Record<string, string> {
  const { [H.M]: _m, ...rest } = common({ ...p, m: 0 });
  void _m;
  return { ...rest, [CKKS_KEYS_ID]: p.ckksKeysId };
}

/** `/clustering/pqc/skmeans` step 1 (spec/protocol.md §5.6): SKMeans' headers minus `M`, plus `Ckks-Keys-Id`. */
export function pqcSkmeansStep1Headers(p: PqcCallParams & { readonly status: ClusteringStatusCode }): Record<string, string> {
  return { ...pqcCommon(p), [H.STEP_INDEX]: '1', [H.CLUSTERING_STATUS]: String(p.status), [H.ENCRYPTED_UDM_DTYPE]: FLOAT64 };
}

/** `/clustering/pqc/skmeans` step 2: `Is-Zero` is required by the PQC workers. */
export function pqcSkmeansStep2Headers(p: PqcCallParams & { readonly isZero: boolean }): Record<string, string> {
  return {
    ...pqcCommon(p),
    [H.STEP_INDEX]: '2',
    [H.CLUSTERING_STATUS]: String(ClusteringStatus.WORK_IN_PROGRESS),
    [H.SHIFT_MATRIX_ID]: keys.shiftMatrix(p.p),
    [H.IS_ZERO]: p.isZero ? '1' : '0',
  };
}

/** `/clustering/pqc/dbskmeans` step 1 (spec/protocol.md §5.7). */
export function pqcDbskmeansStep1Headers(
  p: PqcCallParams & { readonly status: ClusteringStatusCode; readonly udmShape: readonly number[] },
): Record<string, string> {
  return {
    ...pqcCommon(p),
    [H.STEP_INDEX]: '1',
    [H.CLUSTERING_STATUS]: String(p.status),
    [H.ENCRYPTED_UDM_SHAPE]: pythonShape(p.udmShape),
    [H.ENCRYPTED_UDM_DTYPE]: FLOAT64,
  };
}

/** `/clustering/pqc/dbskmeans` step 2: names `Shift-Matrix-Ope-Id` (upstream's default is broken, §13). */
export function pqcDbskmeansStep2Headers(
  p: PqcCallParams & { readonly udmShape: readonly number[]; readonly isZero: boolean },
): Record<string, string> {
  return {
    ...pqcCommon(p),
    [H.STEP_INDEX]: '2',
    [H.CLUSTERING_STATUS]: String(ClusteringStatus.WORK_IN_PROGRESS),
    [H.SHIFT_MATRIX_OPE_ID]: keys.shiftMatrixOpe(p.p),
    [H.ENCRYPTED_UDM_SHAPE]: pythonShape(p.udmShape),
    [H.ENCRYPTED_UDM_DTYPE]: FLOAT64,
    [H.IS_ZERO]: p.isZero ? '1' : '0',
  };
}

/** The Rory response headers a client reads, parsed (absent → undefined). */
export interface RoryResponseHeaders {
  readonly clusteringStatus?: ClusteringStatusCode;
  readonly serviceTime?: number;
  readonly totalServiceTime?: number;
  readonly startTime?: number;
  readonly endTime?: number;
  readonly iterations?: number;
  readonly encryptedUdmShape?: number[];
  readonly encryptedUdmDtype?: string;
  readonly encryptedMatrixShape?: number[];
  readonly encryptedShiftMatrixId?: string;
  readonly errorMessage?: string;
  readonly componentType?: string;
}

/** Reads the Rory response headers from anything with `get(name)` (a fetch `Headers`). */
export function parseResponseHeaders(h: { get(name: string): string | null }): RoryResponseHeaders {
  const s = (n: string) => h.get(n) ?? undefined;
  const shape = (n: string) => {
    const v = s(n);
    return v === undefined ? undefined : parsePythonShape(v);
  };
  // Times are informational: a malformed one is dropped, not fatal.
  const time = (n: string) => {
    try {
      return parseFloatHeader(s(n), n);
    } catch {
      return undefined;
    }
  };
  return {
    clusteringStatus: parseClusteringStatus(s(H.CLUSTERING_STATUS)),
    serviceTime: time(H.SERVICE_TIME),
    totalServiceTime: time(H.TOTAL_SERVICE_TIME),
    startTime: time(H.START_TIME),
    endTime: time(H.END_TIME),
    iterations: parseIntHeader(s(H.ITERATIONS), H.ITERATIONS),
    encryptedUdmShape: shape(H.ENCRYPTED_UDM_SHAPE),
    encryptedUdmDtype: s(H.ENCRYPTED_UDM_DTYPE),
    encryptedMatrixShape: shape(H.ENCRYPTED_MATRIX_SHAPE),
    encryptedShiftMatrixId: s(H.ENCRYPTED_SHIFT_MATRIX_ID),
    errorMessage: s(H.ERROR_MESSAGE),
    componentType: s(H.COMPONENT_TYPE),
  };
}

/** Whether two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
