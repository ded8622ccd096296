/**
 * @module rory/algorithms/interactive-kmeans/verify
 * D8 for the interactive k-means family: before anything derived from a decrypted shift leaves
 * the browser, the browser recomputes the shift from its own data — the centroids it tracks and
 * the labels the worker returned — and refuses the round when the decryption differs by more than
 * the scheme's error bound. What is then uploaded (plainly for SKMeans, FDHOPE-encrypted for
 * DBSKMeans) is the RECOMPUTED shift, never the decryption: a worker that sends forged ciphertexts
 * (unit vectors to learn the Liu decryption function, or the dataset's own CKKS rows) gets the job
 * stopped and learns one bit (refused), and even an accepted decryption's noise never leaves.
 *
 * The honest workers' arithmetic (server/worker/algorithms/interactive-kmeans, spec/crypto.md
 * §7.1, §7.6, §0.1 C1): centroids start as records 0…k−1; each round C_new[y] = mean of the
 * records labelled y; shift = C_prev − C_new; C_prev of the next round = C_new. An empty cluster's
 * centroid becomes 0 on the Liu worker and keeps its previous value on the CKKS worker.
 */
import { clusterMeans } from '../../../data/kmeans';
import { matrix, type Matrix } from '../../../data/matrix';

export interface TrackedShift {
  /** C_prev − C_new (k×a), what the worker's shift must decrypt to. */
  readonly shift: Matrix;
  /** C_new: the centroids the next round starts from. */
  readonly next: Matrix;
}

/** The seeds: records 0…k−1 (k×a). */
export function seedCentroids(data: Matrix, k: number): Matrix {
  const a = data.shape[1];
  return matrix(data.data.slice(0, k * a), [k, a]);
}

/**
 * The shift an honest worker returns for `labels`, given the centroids `prev` the round started
 * from. `emptyKeepsPrevious`: the CKKS worker keeps an empty cluster's centroid (shift 0); the Liu
 * worker sets it to 0 (shift = prev).
 */
export function expectedShift(data: Matrix, labels: Int32Array, prev: Matrix, emptyKeepsPrevious: boolean): TrackedShift {
  const [n, a] = data.shape;
  const k = prev.shape[0];
  const next = clusterMeans(data.data, n, a, labels, k, emptyKeepsPrevious ? prev.data : undefined);
  const shift = new Float64Array(k * a);
  for (let i = 0; i < k * a; i++) shift[i] = prev.data[i] - next[i];
  return { shift: matrix(shift, [k, a]), next: matrix(next, [k, a]) };
}

/** Largest |decrypted − expected| over all entries (NaN counts as infinite). */
export function maxDeviation(decrypted: Matrix, expected: Matrix): number {
  let m = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const d = Math.abs(decrypted.data[i] - expected.data[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return m;
}
