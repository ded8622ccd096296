/**
 * @module data/metrics
 * Clustering validation indices as Rory records them (spec/crypto.md §8), with scikit-learn
 * 1.2.1 semantics so values match shared/vectors/kmeans-reference.json `metrics`:
 * - internal (plaintext data + predicted labels): `silhouette` (Euclidean), `daviesBouldin`,
 *   `calinskiHarabasz`;
 * - external (true vs predicted labels): `adjustedRandIndex`, `adjustedMutualInfo`
 *   (average 'arithmetic'), `fowlkesMallows`, `jaccard` (average 'binary' when k = 2, else
 *   'micro', comparing raw label values as sklearn does), plus `accuracy` and `confusionMatrix`.
 *
 * Labels may be any numbers (cluster ids, class ids); like sklearn they are ranked in sorted order.
 * All computations run on the client, where the plaintext is.
 */
import { AppError } from '../errors';
import { matrix, type Matrix } from './matrix';

type Labels = ArrayLike<number>;

const EPS = 2 ** -52;

function assertLabels(x: unknown, name: string, n?: number): asserts x is Labels {
  if (typeof x !== 'object' || x === null || typeof (x as Labels).length !== 'number') {
    throw new AppError('INVALID_ARGUMENT', `${name} must be an array of labels`);
  }
  const l = x as Labels;
  for (let i = 0; i < l.length; i++) {
    if (typeof l[i] !== 'number' || !Number.isFinite(l[i])) throw new AppError('INVALID_ARGUMENT', `${name}[${i}] must be a finite number`);
  }
  if (n !== undefined && l.length !== n) throw new AppError('SHAPE_MISMATCH', `${name} must have ${n} entries, got ${l.length}`);
}

/** Labels → codes 0…K−1 in sorted label order (sklearn's LabelEncoder / np.unique). */
function encode(labels: Labels): { codes: Int32Array; classes: number[] } {
  const classes = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  const index = new Map(classes.map((c, i) => [c, i]));
  const codes = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) codes[i] = index.get(labels[i]) as number;
  return { codes, classes };
}

function dataset(X: Matrix, labels: Labels): { n: number; a: number; codes: Int32Array; K: number } {
  if (typeof X !== 'object' || X === null || !(X.data instanceof Float64Array) || !Array.isArray(X.shape) || X.shape.length !== 2) {
    throw new AppError('INVALID_ARGUMENT', 'X must be a 2-D Matrix');
  }
  const [n, a] = X.shape;
  if (n * a !== X.data.length) throw new AppError('SHAPE_MISMATCH', 'X.data length does not match its shape');
  assertLabels(labels, 'labels', n);
  const { codes, classes } = encode(labels);
  const K = classes.length;
  if (K < 2 || K > n - 1) {
    throw new AppError('INVALID_ARGUMENT', `the number of distinct labels must be in [2, n − 1] = [2, ${n - 1}], got ${K}`, {
      userMessage: 'Internal validation indices need at least two clusters and fewer clusters than records.',
    });
  }
  return { n, a, codes, K };
}

/** Cluster means (rows summed in order, divided by the count) and sizes. */
function centroidsOf(X: Matrix, codes: Int32Array, K: number): { c: Float64Array; counts: Float64Array } {
  const [n, a] = X.shape;
  const d = X.data;
  const c = new Float64Array(K * a);
  const counts = new Float64Array(K);
  for (let x = 0; x < n; x++) {
    counts[codes[x]]++;
    for (let z = 0; z < a; z++) c[codes[x] * a + z] += d[x * a + z];
  }
  for (let k = 0; k < K; k++) for (let z = 0; z < a; z++) c[k * a + z] /= counts[k];
  return { c, counts };
}

function euclid(p: Float64Array, i: number, q: Float64Array, j: number, a: number): number {
  let s = 0;
  for (let z = 0; z < a; z++) {
    const t = p[i + z] - q[j + z];
    s += t * t;
  }
  return Math.sqrt(s);
}

/**
 * Mean silhouette coefficient with Euclidean distances (sklearn `silhouette_score`); samples in
 * singleton clusters score 0. O(n²·a).
 *
 * @throws AppError INVALID_ARGUMENT unless 2 ≤ #labels ≤ n − 1
 */
export function silhouette(X: Matrix, labels: Labels): number {
  const { n, a, codes, K } = dataset(X, labels);
  const d = X.data;
  const freq = new Float64Array(K);
  for (let i = 0; i < n; i++) freq[codes[i]]++;
  const sums = new Float64Array(K);
  let total = 0;
  for (let i = 0; i < n; i++) {
    sums.fill(0);
    for (let j = 0; j < n; j++) if (j !== i) sums[codes[j]] += euclid(d, i * a, d, j * a, a);
    const own = codes[i];
    const intra = sums[own] / (freq[own] - 1);
    let inter = Infinity;
    for (let k = 0; k < K; k++) if (k !== own) inter = Math.min(inter, sums[k] / freq[k]);
    const s = (inter - intra) / Math.max(intra, inter);
    total += Number.isFinite(s) ? s : 0; // singleton (0/0) or a = b = 0: sklearn's nan_to_num gives 0
  }
  return total / n;
}

/**
 * Davies–Bouldin index (sklearn `davies_bouldin_score`; lower is better).
 *
 * @throws AppError INVALID_ARGUMENT unless 2 ≤ #labels ≤ n − 1
 */
export function daviesBouldin(X: Matrix, labels: Labels): number {
  const { n, a, codes, K } = dataset(X, labels);
  const d = X.data;
  const { c, counts } = centroidsOf(X, codes, K);
  const intra = new Float64Array(K);
  for (let x = 0; x < n; x++) intra[codes[x]] += euclid(d, x * a, c, codes[x] * a, a);
  for (let k = 0; k < K; k++) intra[k] /= counts[k];
  const cd = new Float64Array(K * K);
  for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) cd[i * K + j] = i === j ? 0 : euclid(c, i * a, c, j * a, a);
  const allClose0 = (v: Float64Array) => v.every((t) => Math.abs(t) <= 1e-8); // np.allclose(v, 0)
  if (allClose0(intra) || allClose0(cd)) return 0;
  let total = 0;
  for (let i = 0; i < K; i++) {
    let best = -Infinity;
    for (let j = 0; j < K; j++) {
      const dist = cd[i * K + j];
      best = Math.max(best, (intra[i] + intra[j]) / (dist === 0 ? Infinity : dist));
    }
    total += best;
  }
  return total / K;
}

/**
 * Calinski–Harabasz index (sklearn `calinski_harabasz_score`; higher is better). 1 when every
 * cluster is a single point value.
 *
 * @throws AppError INVALID_ARGUMENT unless 2 ≤ #labels ≤ n − 1
 */
export function calinskiHarabasz(X: Matrix, labels: Labels): number {
  const { n, a, codes, K } = dataset(X, labels);
  const d = X.data;
  const mean = new Float64Array(a);
  for (let x = 0; x < n; x++) for (let z = 0; z < a; z++) mean[z] += d[x * a + z];
  for (let z = 0; z < a; z++) mean[z] /= n;
  const { c, counts } = centroidsOf(X, codes, K);
  let extra = 0;
  for (let k = 0; k < K; k++) {
    let s = 0;
    for (let z = 0; z < a; z++) s += (c[k * a + z] - mean[z]) ** 2;
    extra += counts[k] * s;
  }
  let intra = 0;
  for (let x = 0; x < n; x++) for (let z = 0; z < a; z++) intra += (d[x * a + z] - c[codes[x] * a + z]) ** 2;
  return intra === 0 ? 1 : (extra * (n - K)) / (intra * (K - 1));
}

interface Contingency {
  readonly n: number;
  readonly rows: number; // classes (true)
  readonly cols: number; // clusters (pred)
  readonly table: Float64Array; // rows × cols counts
  readonly rowSums: Float64Array;
  readonly colSums: Float64Array;
}

function contingency(labelsTrue: Labels, labelsPred: Labels): Contingency {
  assertLabels(labelsTrue, 'labelsTrue');
  assertLabels(labelsPred, 'labelsPred', labelsTrue.length);
  const t = encode(labelsTrue);
  const p = encode(labelsPred);
  const rows = t.classes.length;
  const cols = p.classes.length;
  const table = new Float64Array(rows * cols);
  const rowSums = new Float64Array(rows);
  const colSums = new Float64Array(cols);
  for (let i = 0; i < t.codes.length; i++) {
    table[t.codes[i] * cols + p.codes[i]]++;
    rowSums[t.codes[i]]++;
    colSums[p.codes[i]]++;
  }
  return { n: labelsTrue.length, rows, cols, table, rowSums, colSums };
}

const big = (x: number) => BigInt(x);

/**
 * Adjusted Rand index (sklearn `adjusted_rand_score`, via the pair confusion matrix in exact
 * integer arithmetic). 1 for identical partitions up to renaming.
 */
export function adjustedRandIndex(labelsTrue: Labels, labelsPred: Labels): number {
  const { n, table, rowSums, colSums } = contingency(labelsTrue, labelsPred);
  let sumSquares = 0n;
  for (const v of table) sumSquares += big(v) * big(v);
  // contingency · n_k summed = Σ_ij n_ij·colSum_j;  contingencyᵀ · n_c summed = Σ_ij n_ij·rowSum_i
  let dotCols = 0n;
  let dotRows = 0n;
  for (let i = 0; i < rowSums.length; i++) {
    for (let j = 0; j < colSums.length; j++) {
      const v = big(table[i * colSums.length + j]);
      dotCols += v * big(colSums[j]);
      dotRows += v * big(rowSums[i]);
    }
  }
  const N = big(n);
  const tp = sumSquares - N;
  const fp = dotCols - sumSquares;
  const fn = dotRows - sumSquares;
  const tn = N * N - fp - fn - sumSquares;
  if (fn === 0n && fp === 0n) return 1;
  const num = tp * tn - fn * fp;
  const den = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn);
  return (2 * Number(num)) / Number(den);
}

/** ln Γ(x) for integer x ≥ 1: exact factorials up to 18!, then Stirling's series (error < 1e-15 rel.). */
function lgammaInt(x: number): number {
  if (x <= 19) {
    let f = 1;
    for (let i = 2; i < x; i++) f *= i;
    return Math.log(f);
  }
  const x2 = x * x;
  const series = 1 / (12 * x) - 1 / (360 * x * x2) + 1 / (1260 * x * x2 * x2) - 1 / (1680 * x * x2 * x2 * x2);
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series;
}

/** Entropy (nats) of a labelling, from its class counts (sklearn `entropy`). */
function entropyOf(counts: Float64Array, total: number): number {
  if (total === 0) return 1;
  const logTotal = Math.log(total);
  let h = 0;
  for (const c of counts) if (c > 0) h += (c / total) * (Math.log(c) - logTotal);
  return -h;
}

function mutualInfo(ct: Contingency): number {
  const { n, rows, cols, table, rowSums, colSums } = ct;
  if (rows === 1 || cols === 1) return 0;
  const logN = Math.log(n);
  let mi = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = table[i * cols + j];
      if (v === 0) continue;
      const nm = v / n;
      const logOuter = -Math.log(rowSums[i] * colSums[j]) + logN + logN;
      const term = nm * (Math.log(v) - logN) + nm * logOuter;
      if (Math.abs(term) >= EPS) mi += term;
    }
  }
  return Math.max(mi, 0);
}

/** Expected mutual information under the hypergeometric model (sklearn `expected_mutual_information`). */
function expectedMutualInfo(ct: Contingency): number {
  const { n: N, rowSums: a, colSums: b } = ct;
  if (a.length === 1 || b.length === 1) return 0;
  let maxAB = 0;
  for (const v of a) maxAB = Math.max(maxAB, v);
  for (const v of b) maxAB = Math.max(maxAB, v);
  const logN = Math.log(N);
  const glnN1 = lgammaInt(N + 1);
  const logNnij = new Float64Array(maxAB + 1);
  const glnNnij = new Float64Array(maxAB + 1);
  for (let nij = 1; nij <= maxAB; nij++) {
    logNnij[nij] = logN + Math.log(nij);
    glnNnij[nij] = lgammaInt(nij + 1) + glnN1;
  }
  let emi = 0;
  for (const ai of a) {
    const logA = Math.log(ai);
    const glnA = lgammaInt(ai + 1);
    const glnNA = lgammaInt(N - ai + 1);
    for (const bj of b) {
      const logB = Math.log(bj);
      const glnB = lgammaInt(bj + 1);
      const glnNB = lgammaInt(N - bj + 1);
      const start = Math.max(1, ai - N + bj);
      const end = Math.min(ai, bj);
      for (let nij = start; nij <= end; nij++) {
        const term2 = logNnij[nij] - logA - logB;
        const gln = glnA + glnB + glnNA + glnNB - glnNnij[nij] - lgammaInt(ai - nij + 1) - lgammaInt(bj - nij + 1) - lgammaInt(N - ai - bj + nij + 1);
        emi += (nij / N) * term2 * Math.exp(gln);
      }
    }
  }
  return emi;
}

/**
 * Adjusted mutual information (sklearn `adjusted_mutual_info_score`, average_method
 * 'arithmetic'). 1 when both labellings put everything in one cluster.
 */
export function adjustedMutualInfo(labelsTrue: Labels, labelsPred: Labels): number {
  const ct = contingency(labelsTrue, labelsPred);
  if ((ct.rows === 1 && ct.cols === 1) || (ct.rows === 0 && ct.cols === 0)) return 1;
  const mi = mutualInfo(ct);
  const emi = expectedMutualInfo(ct);
  const hTrue = entropyOf(ct.rowSums, ct.n);
  const hPred = entropyOf(ct.colSums, ct.n);
  let denominator = (hTrue + hPred) / 2 - emi;
  denominator = denominator < 0 ? Math.min(denominator, -EPS) : Math.max(denominator, EPS);
  return (mi - emi) / denominator;
}

/** Fowlkes–Mallows index (sklearn `fowlkes_mallows_score`). */
export function fowlkesMallows(labelsTrue: Labels, labelsPred: Labels): number {
  const { n, table, rowSums, colSums } = contingency(labelsTrue, labelsPred);
  let tk = -n;
  for (const v of table) tk += v * v;
  let pk = -n;
  for (const v of colSums) pk += v * v;
  let qk = -n;
  for (const v of rowSums) qk += v * v;
  return tk !== 0 ? Math.sqrt(tk / pk) * Math.sqrt(tk / qk) : 0;
}

export type JaccardAverage = 'binary' | 'micro';

/** The average Rory uses for `k` clusters: 'binary' if k = 2, else 'micro' (spec/crypto.md §8). */
export function jaccardAverageFor(k: number): JaccardAverage {
  return k === 2 ? 'binary' : 'micro';
}

/**
 * Jaccard score with sklearn's semantics (`jaccard_score`), comparing raw label values — so it
 * depends on how clusters are numbered (blobs: ARI 1 but Jaccard 0).
 * - 'binary': TP/(TP+FP+FN) for `posLabel` (default 1); the labels together may take at most
 *   two values;
 * - 'micro': Σ TP / Σ (TP+FP+FN) over all labels = T/(2n − T), T = number of equal labels.
 * An undefined ratio (0/0) gives 0, as sklearn's default zero_division.
 *
 * @throws AppError INVALID_ARGUMENT for 'binary' with more than two label values, or when
 *   `posLabel` is absent from two present values
 */
export function jaccard(labelsTrue: Labels, labelsPred: Labels, average: JaccardAverage = 'micro', posLabel = 1): number {
  assertLabels(labelsTrue, 'labelsTrue');
  assertLabels(labelsPred, 'labelsPred', labelsTrue.length);
  const n = labelsTrue.length;
  if (average === 'micro') {
    let T = 0;
    for (let i = 0; i < n; i++) if (labelsTrue[i] === labelsPred[i]) T++;
    const den = 2 * n - T;
    return den === 0 ? 0 : T / den;
  }
  if (average !== 'binary') throw new AppError('INVALID_ARGUMENT', "average must be 'binary' or 'micro'");
  const present = new Set([...Array.from(labelsTrue), ...Array.from(labelsPred)]);
  if (present.size > 2) throw new AppError('INVALID_ARGUMENT', "average 'binary' needs at most two distinct label values; use 'micro'");
  if (!present.has(posLabel) && present.size >= 2) throw new AppError('INVALID_ARGUMENT', 'posLabel is not one of the label values');
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < n; i++) {
    const t = labelsTrue[i] === posLabel;
    const p = labelsPred[i] === posLabel;
    if (t && p) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  const den = tp + fp + fn;
  return den === 0 ? 0 : tp / den;
}

/** Fraction of positions where the labels agree (sklearn `accuracy_score`). */
export function accuracy(labelsTrue: Labels, labelsPred: Labels): number {
  assertLabels(labelsTrue, 'labelsTrue');
  assertLabels(labelsPred, 'labelsPred', labelsTrue.length);
  if (labelsTrue.length === 0) throw new AppError('INVALID_ARGUMENT', 'labels must not be empty');
  let same = 0;
  for (let i = 0; i < labelsTrue.length; i++) if (labelsTrue[i] === labelsPred[i]) same++;
  return same / labelsTrue.length;
}

export interface ConfusionMatrix {
  /** Sorted union of the label values; row i / column j refer to labels[i] / labels[j]. */
  readonly labels: readonly number[];
  /** counts[i][j] = #{true = labels[i], predicted = labels[j]} (L×L). */
  readonly counts: Matrix;
}

/** Confusion matrix over the sorted union of labels (sklearn `confusion_matrix`). */
export function confusionMatrix(labelsTrue: Labels, labelsPred: Labels): ConfusionMatrix {
  assertLabels(labelsTrue, 'labelsTrue');
  assertLabels(labelsPred, 'labelsPred', labelsTrue.length);
  const labels = [...new Set([...Array.from(labelsTrue), ...Array.from(labelsPred)])].sort((a, b) => a - b);
  const index = new Map(labels.map((l, i) => [l, i]));
  const L = labels.length;
  const counts = new Float64Array(L * L);
  for (let i = 0; i < labelsTrue.length; i++) counts[(index.get(labelsTrue[i]) as number) * L + (index.get(labelsPred[i]) as number)]++;
  return { labels, counts: matrix(counts, [L, L]) };
}

export interface InternalMetrics {
  readonly silhouette: number;
  readonly daviesBouldin: number;
  readonly calinskiHarabasz: number;
}

export interface ExternalMetrics {
  readonly adjustedRand: number;
  readonly adjustedMutualInfo: number;
  readonly fowlkesMallows: number;
  readonly jaccard: number;
  readonly jaccardAverage: JaccardAverage;
}

/** The three internal indices Rory records (Dunn is disabled upstream, always 0, so omitted). */
export function internalMetrics(X: Matrix, labels: Labels): InternalMetrics {
  return { silhouette: silhouette(X, labels), daviesBouldin: daviesBouldin(X, labels), calinskiHarabasz: calinskiHarabasz(X, labels) };
}

/** The four external indices Rory records, Jaccard averaged as for `k` clusters. */
export function externalMetrics(labelsTrue: Labels, labelsPred: Labels, k: number): ExternalMetrics {
  const jaccardAverage = jaccardAverageFor(k);
  return {
    adjustedRand: adjustedRandIndex(labelsTrue, labelsPred),
    adjustedMutualInfo: adjustedMutualInfo(labelsTrue, labelsPred),
    fowlkesMallows: fowlkesMallows(labelsTrue, labelsPred),
    jaccard: jaccard(labelsTrue, labelsPred, jaccardAverage),
    jaccardAverage,
  };
}
