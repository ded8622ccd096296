/**
 * @module rory/algorithms/interactive-kmeans/calls
 * The worker calls of the interactive k-means family (spec/protocol.md §5.2 SKMeans, §5.3
 * DBSKMeans, §5.6–5.7 their PQC variants; docs/protocol-additions.md §2): one builder for the
 * headers of step 1 and step 2 of each variant, from the names in `rory/protocol`.
 *
 * - Every call: Plaintext-Matrix-Id, Encrypted-Matrix-Id/Shape/Dtype, Num-Chunks, K, Iterations,
 *   Max-Iterations (+ Experiment-Id); Liu variants add M; PQC variants add Ckks-Keys-Id.
 * - DBSKMeans(-PQC) echo the FDHOPE UDM shape; step 2 names `Shift-Matrix-Ope-Id` explicitly
 *   (upstream's default name is wrong, spec/protocol.md §13).
 * - Step 2 carries `Is-Zero`, the client's convergence decision (D2).
 */
import {
  ClusteringStatus,
  ENCRYPTED_MATRIX_DTYPE,
  FLOAT64,
  H,
  intHeader,
  keys,
  pythonShape,
  type ClusteringStatusCode,
} from '../../protocol';

export type KmeansAlgorithm = 'SKMEANS' | 'DBSKMEANS' | 'SKMEANS_PQC' | 'DBSKMEANS_PQC';

/** CKKS variants (spec/crypto.md §7.6, §7.7): the dataset and centroids are CKKS ciphertexts (E3). */
export function isPqc(a: KmeansAlgorithm): a is 'SKMEANS_PQC' | 'DBSKMEANS_PQC' {
  return a === 'SKMEANS_PQC' || a === 'DBSKMEANS_PQC';
}

/** Variants whose UDM and shifts travel FDHOPE-encrypted (no acknowledgement needed). */
export function usesFdhope(a: KmeansAlgorithm): a is 'DBSKMEANS' | 'DBSKMEANS_PQC' {
  return a === 'DBSKMEANS' || a === 'DBSKMEANS_PQC';
}

export const STEP_PATH: Readonly<Record<KmeansAlgorithm, string>> = Object.freeze({
  SKMEANS: '/clustering/skmeans',
  DBSKMEANS: '/clustering/dbskmeans',
  SKMEANS_PQC: '/clustering/pqc/skmeans',
  DBSKMEANS_PQC: '/clustering/pqc/dbskmeans',
});

export interface KmeansCallParams {
  readonly algorithm: KmeansAlgorithm;
  /** Plaintext-Matrix-Id `P`. */
  readonly p: string;
  /** (n, a, m) for Liu, (n, a) for CKKS (one ciphertext per record). */
  readonly encryptedShape: readonly number[];
  readonly numChunks: number;
  readonly k: number;
  readonly iterations: number;
  readonly maxIterations: number;
  readonly experimentId?: string;
  /** PQC: the CKKS public key objects (docs/protocol-additions.md §1). */
  readonly ckksKeysId?: string;
  /** DBSKMeans: the FDHOPE UDM shape the worker holds. */
  readonly udmShape?: readonly number[];
}

function common(p: KmeansCallParams): Record<string, string> {
  const h: Record<string, string> = {
    [H.PLAINTEXT_MATRIX_ID]: p.p,
    [H.ENCRYPTED_MATRIX_ID]: keys.encryptedMatrix(p.p),
    [H.ENCRYPTED_MATRIX_SHAPE]: pythonShape(p.encryptedShape),
    [H.ENCRYPTED_MATRIX_DTYPE]: ENCRYPTED_MATRIX_DTYPE,
    [H.NUM_CHUNKS]: intHeader(p.numChunks, H.NUM_CHUNKS),
    [H.K]: intHeader(p.k, H.K),
    [H.ITERATIONS]: intHeader(p.iterations, H.ITERATIONS),
    [H.MAX_ITERATIONS]: intHeader(p.maxIterations, H.MAX_ITERATIONS),
  };
  if (isPqc(p.algorithm)) h[H.CKKS_KEYS_ID] = p.ckksKeysId ?? '';
  else h[H.M] = intHeader(p.encryptedShape[2], H.M);
  if (p.experimentId !== undefined) h[H.EXPERIMENT_ID] = p.experimentId;
  if (usesFdhope(p.algorithm) && p.udmShape) {
    h[H.ENCRYPTED_UDM_SHAPE] = pythonShape(p.udmShape);
  }
  return h;
}

/** Step 1 (assignment and new centroids). */
export function step1Headers(p: KmeansCallParams & { readonly status: ClusteringStatusCode }): Record<string, string> {
  return { ...common(p), [H.STEP_INDEX]: '1', [H.CLUSTERING_STATUS]: String(p.status), [H.ENCRYPTED_UDM_DTYPE]: FLOAT64 };
}

/** Step 2 (UDM update with the client's shift). */
export function step2Headers(p: KmeansCallParams & { readonly isZero: boolean }): Record<string, string> {
  const h: Record<string, string> = {
    ...common(p),
    [H.STEP_INDEX]: '2',
    [H.CLUSTERING_STATUS]: String(ClusteringStatus.WORK_IN_PROGRESS),
    [H.IS_ZERO]: p.isZero ? '1' : '0',
  };
  if (usesFdhope(p.algorithm)) {
    h[H.SHIFT_MATRIX_OPE_ID] = keys.shiftMatrixOpe(p.p);
    h[H.ENCRYPTED_UDM_DTYPE] = FLOAT64;
  } else {
    h[H.SHIFT_MATRIX_ID] = keys.shiftMatrix(p.p);
  }
  return h;
}

/**
 * Every storage key a job of `algorithm` with matrix id `p` writes (client and worker side). The
 * CKKS public key objects are shared between jobs (content-addressed) and not listed.
 */
export function kmeansObjectKeys(algorithm: KmeansAlgorithm, p: string): string[] {
  const common = [keys.encryptedMatrix(p), keys.centi(p), keys.centj(p), keys.encryptedShiftMatrix(p)];
  const pqc = isPqc(algorithm) ? [keys.initsm(p)] : [];
  return !usesFdhope(algorithm)
    ? [...common, ...pqc, keys.udm(p), keys.shiftMatrix(p)]
    : [...common, ...pqc, keys.encryptedUdm(p), keys.shiftMatrixOpe(p)];
}
