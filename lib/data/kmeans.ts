/**
 * @module data/kmeans
 * Plaintext reference algorithms, run on the client to verify what the cloud returns
 * (spec/crypto.md §11 item 6) and as baselines:
 * - `kmeansManhattan`: the Lloyd iteration that the corrected secure SKMeans reproduces exactly
 *   (shared/vectors/kmeans-reference.json `_about.algorithm`; spec §0.1 C1/C2, §7.1): first-k
 *   initialisation, Manhattan assignment (ties to the lowest index), mean centroids (an empty
 *   cluster gets an all-zero centroid, as the Liu worker does), stop when max|C − C_new| ≤ tolerance
 *   or after `maxIterations` assignments;
 * - `nncLabels`: DBSNNC/NNC threshold clustering on a distance matrix (spec §7.3, §7.4);
 * - `nearestNeighbourManhattan`: 1-NN classification, what SKNN/KNN compute (spec §7.9, §7.12).
 */
import { AppError } from '../errors';
import { matrix, type Matrix } from './matrix';

export interface KmeansOptions {
  /** Maximum number of assignments (client default `MAX_ITERATIONS` = 10, D6). */
  readonly maxIterations?: number;
  /** Converged when max|S| ≤ tolerance (default 1e-6, spec §11). */
  readonly tolerance?: number;
}

export interface KmeansResult {
  /** Labels of the last assignment. */
  readonly labels: Int32Array;
  /** Number of assignments performed. */
  readonly iterations: number;
  readonly converged: boolean;
  /** The centroids computed from the last assignment (k×a). */
  readonly centroids: Matrix;
  /** max|S| after each assignment. */
  readonly maxShiftPerIteration: readonly number[];
}

function dataset(D: Matrix, name = 'D'): [number, number] {
  if (typeof D !== 'object' || D === null || !(D.data instanceof Float64Array) || !Array.isArray(D.shape)) {
    throw new AppError('INVALID_ARGUMENT', `${name} must be a Matrix`);
  }
  if (D.shape.length !== 2 || D.shape[0] * D.shape[1] !== D.data.length) {
    throw new AppError('SHAPE_MISMATCH', `${name} must be a 2-D matrix (n×a)`);
  }
  return [D.shape[0], D.shape[1]];
}

/**
 * Manhattan-assignment, mean-centroid k-means from the first k rows.
 *
 * @throws AppError INVALID_ARGUMENT (k not in [1, n], bad options), SHAPE_MISMATCH
 */
export function kmeansManhattan(D: Matrix, k: number, opts: KmeansOptions = {}): KmeansResult {
  const [n, a] = dataset(D);
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > n) throw new AppError('INVALID_ARGUMENT', `k must be an integer in [1, ${n}]`);
  const maxIterations = opts.maxIterations ?? 10;
  const tolerance = opts.tolerance ?? 1e-6;
  if (!Number.isInteger(maxIterations) || maxIterations < 1) throw new AppError('INVALID_ARGUMENT', 'maxIterations must be an integer ≥ 1');
  if (typeof tolerance !== 'number' || !(tolerance >= 0)) throw new AppError('INVALID_ARGUMENT', 'tolerance must be a number ≥ 0');
  const d = D.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) throw new AppError('DATA_MAGNITUDE', `D has a non-finite value at index ${i}`);
  let C: Float64Array = d.slice(0, k * a);
  const labels = new Int32Array(n);
  const shifts: number[] = [];
  let converged = false;
  let next: Float64Array = C;
  let it = 0;
  while (it < maxIterations) {
    it++;
    for (let x = 0; x < n; x++) labels[x] = nearestManhattan(d, x, C, k, a);
    next = clusterMeans(d, n, a, labels, k);
    let maxShift = 0;
    for (let j = 0; j < next.length; j++) maxShift = Math.max(maxShift, Math.abs(C[j] - next[j]));
    shifts.push(maxShift);
    if (maxShift <= tolerance) {
      converged = true;
      break;
    }
    C = next;
  }
  return { labels, iterations: it, converged, centroids: matrix(next, [k, a]), maxShiftPerIteration: shifts };
}

/**
 * The row of `rows` (`count`×a) nearest to row `x` of `d` (n×a) by Manhattan distance, summed left
 * to right; ties to the lowest index.
 */
function nearestManhattan(d: Float64Array, x: number, rows: Float64Array, count: number, a: number): number {
  let best = 0;
  let bestD = Infinity;
  for (let y = 0; y < count; y++) {
    let s = 0;
    for (let z = 0; z < a; z++) s += Math.abs(d[x * a + z] - rows[y * a + z]);
    if (s < bestD) {
      bestD = s;
      best = y;
    }
  }
  return best;
}

/**
 * Per-cluster means k×a of the rows of `d` (n×a) by `labels` (rows summed in order, then divided
 * by the count). An empty cluster's mean is 0, or its row of `previous` when given (the CKKS
 * workers keep an empty cluster's centroid; the Liu worker and this reference zero it).
 */
export function clusterMeans(d: Float64Array, n: number, a: number, labels: Int32Array, k: number, previous?: Float64Array): Float64Array {
  const sums = new Float64Array(k * a);
  const counts = new Float64Array(k);
  for (let x = 0; x < n; x++) {
    const y = labels[x];
    counts[y]++;
    for (let z = 0; z < a; z++) sums[y * a + z] += d[x * a + z];
  }
  for (let y = 0; y < k; y++) {
    for (let z = 0; z < a; z++) sums[y * a + z] = counts[y] === 0 ? (previous ? previous[y * a + z] : 0) : sums[y * a + z] / counts[y];
  }
  return sums;
}

export interface NncOptions {
  /**
   * `global-min` (newest core, default): join the first cluster attaining the smallest distance
   * if it is ≤ threshold. `first-fit` (2023 core): join the first cluster, in creation order,
   * whose smallest distance is ≤ threshold.
   */
  readonly rule?: 'global-min' | 'first-fit';
}

/**
 * DBSNNC / NNC clustering (spec/crypto.md §7.3): record 0 opens cluster 0; each record r reads
 * row r of the (plaintext or FDHOPE-encrypted) DM against the earlier records, and joins a
 * cluster or opens a new one. The threshold must be in the same space as the DM (encrypted with
 * the same key for DBSNNC).
 *
 * @returns labels (cluster indices in creation order)
 * @throws AppError SHAPE_MISMATCH (DM not n×n), INVALID_ARGUMENT
 */
export function nncLabels(dmMatrix: Matrix, threshold: number, opts: NncOptions = {}): Int32Array {
  if (typeof dmMatrix !== 'object' || dmMatrix === null || !(dmMatrix.data instanceof Float64Array) || !Array.isArray(dmMatrix.shape)) {
    throw new AppError('INVALID_ARGUMENT', 'dm must be a Matrix');
  }
  const [n, n2] = dmMatrix.shape;
  if (dmMatrix.shape.length !== 2 || n !== n2 || n * n !== dmMatrix.data.length) throw new AppError('SHAPE_MISMATCH', 'dm must be a square n×n matrix');
  if (typeof threshold !== 'number' || Number.isNaN(threshold)) throw new AppError('INVALID_ARGUMENT', 'threshold must be a number');
  const rule = opts.rule ?? 'global-min';
  if (rule !== 'global-min' && rule !== 'first-fit') throw new AppError('INVALID_ARGUMENT', "opts.rule must be 'global-min' or 'first-fit'");
  const m = dmMatrix.data;
  const labels = new Int32Array(n);
  if (n === 0) return labels;
  let clusters = 1;
  const minPerCluster = new Float64Array(n);
  for (let r = 1; r < n; r++) {
    const row = r * n;
    if (rule === 'global-min') {
      // The cluster holding the global minimum; on equal distances the lowest cluster index.
      let best = Infinity;
      let bestC = -1;
      for (let q = 0; q < r; q++) {
        const v = m[row + q];
        if (v < best || (v === best && labels[q] < bestC)) {
          best = v;
          bestC = labels[q];
        }
      }
      labels[r] = bestC >= 0 && best <= threshold ? bestC : clusters++;
    } else {
      minPerCluster.fill(Infinity, 0, clusters);
      for (let q = 0; q < r; q++) minPerCluster[labels[q]] = Math.min(minPerCluster[labels[q]], m[row + q]);
      let joined = -1;
      for (let c = 0; c < clusters; c++) {
        if (minPerCluster[c] <= threshold) {
          joined = c;
          break;
        }
      }
      labels[r] = joined >= 0 ? joined : clusters++;
    }
  }
  return labels;
}

export interface NearestNeighbour {
  /** Index of the nearest model record for each test record (first on ties). */
  readonly indices: Int32Array;
  /** `modelLabels[indices[i]]`. */
  readonly labels: Int32Array;
}

/**
 * 1-NN by Manhattan distance (summed left to right), ties to the lowest model index.
 *
 * @throws AppError SHAPE_MISMATCH (attribute counts or label count differ), INVALID_ARGUMENT
 */
export function nearestNeighbourManhattan(model: Matrix, modelLabels: ArrayLike<number>, test: Matrix): NearestNeighbour {
  const [r, a] = dataset(model, 'model');
  const [t, a2] = dataset(test, 'test');
  if (a !== a2) throw new AppError('SHAPE_MISMATCH', `model and test must have the same number of attributes (${a} vs ${a2})`);
  if (modelLabels?.length !== r) throw new AppError('SHAPE_MISMATCH', `modelLabels must have ${r} entries`);
  if (r === 0 && t > 0) throw new AppError('INVALID_ARGUMENT', 'model must have at least one record');
  const md = model.data;
  const td = test.data;
  const indices = new Int32Array(t);
  const labels = new Int32Array(t);
  for (let i = 0; i < t; i++) {
    indices[i] = nearestManhattan(td, i, md, r, a);
    labels[i] = modelLabels[indices[i]];
  }
  return { indices, labels };
}
