/**
 * @module rory/protocol/headers
 * Every header name of the Rory wire protocol (spec/protocol.md §3, §4, §5, §12.1) and of this
 * project's additions (docs/protocol-additions.md), spelled once, plus the value formats: integers
 * without a fraction, floats Python's `float()` parses back to the same double, shapes as Python
 * tuple literals (`(10, 5, 3)`, `(7,)`). Used by the Data Owner's runners and by `server/worker`,
 * so client and local cloud cannot drift.
 *
 * Isomorphic: no DOM, no Node modules.
 */
import { AppError, ProtocolError } from '../../errors';
import { parsePythonShape, pythonShape } from '../../data/matrix';

export { parsePythonShape, pythonShape };

/** `ClusteringStatus` constants (spec/protocol.md §3.5). The upstream docstrings are wrong; these are the values. */
export const ClusteringStatus = Object.freeze({ COMPLETED: 0, START: 1, WORK_IN_PROGRESS: 2 } as const);
export type ClusteringStatusCode = (typeof ClusteringStatus)[keyof typeof ClusteringStatus];

/** Header names exactly as the Rory services read and write them. */
export const H = Object.freeze({
  // Interactive k-means family (§5.2, §5.3, §5.6, §5.7)
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
  ENCRYPTED_SHIFT_MATRIX_ID: 'Encrypted-Shift-Matrix-Id',
  // NNC family (§5.4, §5.5)
  ENCRYPTED_DM_ID: 'Encrypted-Dm-Id',
  ENCRYPTED_DM_SHAPE: 'Encrypted-Dm-Shape',
  ENCRYPTED_DM_DTYPE: 'Encrypted-Dm-Dtype',
  ENCRYPTED_THRESHOLD: 'Encrypted-Threshold',
  THRESHOLD: 'Threshold',
  PLAINTEXT_MATRIX_SHAPE: 'Plaintext-Matrix-Shape',
  PLAINTEXT_MATRIX_DTYPE: 'Plaintext-Matrix-Dtype',
  DM_SHAPE: 'Dm-Shape',
  DM_DTYPE: 'Dm-Dtype',
  // Classification (§5.8–§5.10)
  MODEL_ID: 'Model-Id',
  RECORDS_TEST_ID: 'Records-Test-Id',
  MODEL_LABELS_SHAPE: 'Model-Labels-Shape',
  ENCRYPTED_MODEL_SHAPE: 'Encrypted-Model-Shape',
  ENCRYPTED_MODEL_DTYPE: 'Encrypted-Model-Dtype',
  ENCRYPTED_RECORDS_SHAPE: 'Encrypted-Records-Shape',
  ENCRYPTED_RECORDS_DTYPE: 'Encrypted-Records-Dtype',
  // Timing and errors (§3.4, §11)
  START_TIME: 'Start-Time',
  END_TIME: 'End-Time',
  SERVICE_TIME: 'Service-Time',
  TOTAL_SERVICE_TIME: 'Total-Service-Time',
  ERROR_MESSAGE: 'Error-Message',
  COMPONENT_TYPE: 'Component-Type',
  // Manager (§4)
  ALGORITHM: 'Algorithm',
  WORKER_ID: 'Worker-Id',
  WORKER_PORT: 'Worker-Port',
  MATRIX_ID: 'Matrix-Id',
  START_REQUEST_TIME: 'Start-Request-Time',
  // Our additions (docs/protocol-additions.md), ignored by upstream services
  /** The host a worker is reachable at from the Data Owner (manager registration). */
  WORKER_HOST: 'Worker-Host',
  /** The CKKS public key objects of a PQC call (§1). */
  CKKS_KEYS_ID: 'Ckks-Keys-Id',
  /** Records packed per CKKS ciphertext (SKNN-PQC §4, PKMEANS). */
  CKKS_ROWS_PER_CIPHERTEXT: 'Ckks-Rows-Per-Ciphertext',
  /** PKMEANS: slots per record (a power of two ≥ a). */
  CKKS_RECORD_STRIDE: 'Ckks-Record-Stride',
  /** PKMEANS: this worker's blocks, `from:to` (to exclusive). */
  PKMEANS_BLOCK_RANGE: 'Pkmeans-Block-Range',
  /** PKMEANS: this worker's index w and the number of workers W of the round. */
  PKMEANS_WORKER_INDEX: 'Pkmeans-Worker-Index',
  PKMEANS_WORKERS: 'Pkmeans-Workers',
} as const);

export type HeaderName = (typeof H)[keyof typeof H];

/** Upstream tags Liu matrices `float32` although the data is float64 (spec/protocol.md §5.2); we send the same string. */
export const ENCRYPTED_MATRIX_DTYPE = 'float32';
export const FLOAT64 = 'float64';

/** Writes an integer the way Python's `int()` accepts it ("3", never "3.0"). */
export function intHeader(n: number, name = 'value'): string {
  if (!Number.isSafeInteger(n)) throw new AppError('INVALID_ARGUMENT', `${name} must be an integer`, { userMessage: `${name} must be a whole number.` });
  return String(n);
}

/** Writes a float that Python's `float()` parses back to the same double. */
export function floatHeader(x: number, name = 'value'): string {
  if (!Number.isFinite(x)) throw new AppError('INVALID_ARGUMENT', `${name} must be a finite number`, { userMessage: `${name} must be a finite number.` });
  return String(x);
}

const violation = (what: string) =>
  new ProtocolError('PROTOCOL_VIOLATION', what, { userMessage: `A Rory service answered outside the protocol: ${what}.` });

/** Parses an integer header strictly (no fraction, no junk). */
export function parseIntHeader(v: string | null | undefined, name: string): number | undefined {
  if (v === null || v === undefined) return undefined;
  const t = v.trim();
  if (!/^[+-]?\d{1,15}$/.test(t)) throw violation(`${name} is not an integer`);
  return Number(t);
}

/** Parses a float header (Python `float()` syntax subset: decimal and exponent forms). */
export function parseFloatHeader(v: string | null | undefined, name: string): number | undefined {
  if (v === null || v === undefined) return undefined;
  const t = v.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) throw violation(`${name} is not a number`);
  return Number(t);
}

export function parseClusteringStatus(v: string | null | undefined): ClusteringStatusCode | undefined {
  const n = parseIntHeader(v, H.CLUSTERING_STATUS);
  if (n === undefined) return undefined;
  if (n !== 0 && n !== 1 && n !== 2) throw violation('Clustering-Status must be 0, 1 or 2');
  return n;
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

/** Every response header a Rory component may send; a browser can read them only when they are exposed through CORS. */
export const RORY_RESPONSE_HEADERS = [
  H.CLUSTERING_STATUS,
  H.SERVICE_TIME,
  H.TOTAL_SERVICE_TIME,
  H.END_TIME,
  H.START_TIME,
  H.ITERATIONS,
  H.ENCRYPTED_UDM_SHAPE,
  H.ENCRYPTED_UDM_DTYPE,
  H.ENCRYPTED_SHIFT_MATRIX_ID,
  H.ERROR_MESSAGE,
  H.COMPONENT_TYPE,
  H.ENCRYPTED_MATRIX_SHAPE,
  H.ENCRYPTED_MATRIX_DTYPE,
  H.UDM_MATRIX_SHAPE,
  H.UDM_MATRIX_DTYPE,
] as const;

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
