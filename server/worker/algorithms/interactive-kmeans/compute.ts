/**
 * @module server/worker/algorithms/interactive-kmeans/compute
 * The worker's computation for Rory's interactive k-means (spec/crypto.md §7.1, §4.2, §4.3,
 * §0.1 C1/C2), as pure functions with no key and no I/O. The same code serves SKMeans (plaintext
 * UDM) and DBSKMeans (FDHOPE UDM): assignment only takes |·| and sums, and
 * the update only adds, which FDHOPE ciphertexts support approximately (spec/crypto.md §3.6).
 *
 * The UDM rules are the shared ones of `lib/data/udm` (`assignFromUdm`, `firstRoundUpdate`,
 * `laterRoundUpdate`); which round applies is read from the stored UDM's shape (n×n×a → round 1,
 * n×k×a → later), so the worker stays stateless.
 *
 * Corrected behaviour (D2):
 * - C2: after round 1, distances read `U[x][y]` directly for every record x, and the update is
 *   `U[x][y] += S[y]` for every x. Round 1 uses upstream's rule on the full n×n×a UDM and leaves
 *   an n×k×a matrix.
 * - START assigns every record (0…n−1) by distance to the seeds (records 0…k−1), ties to the
 *   lowest index; seeds get their own index unless an earlier seed is identical, as plaintext
 *   Lloyd does (upstream forces labels 0…k−1 on the seeds).
 * - Liu ciphertexts are added and scaled component-wise (spec/crypto.md §2.5); an empty
 *   cluster's centroid is the all-zero ciphertext, as upstream.
 */
import { AppError } from '@/lib/errors';
import { matrix, type Matrix } from '@/lib/data/matrix';
import { assignFromUdm, firstRoundUpdate, laterRoundUpdate } from '@/lib/data/udm';

export interface Step1Input {
  /** Liu ciphertext of the dataset, n×a×m. */
  readonly encrypted: Matrix;
  /** UDM (plaintext or FDHOPE), n×n×a at START, n×k×a afterwards. */
  readonly udm: Matrix;
  readonly k: number;
  /** Previous centroids k×a×m (required after START; C1: the previous round's new centroids). */
  readonly centPrev?: Matrix;
}

export interface Step1Output {
  readonly labels: Int32Array;
  /** Centroids the round started from (stored as `{P}centi`). */
  readonly centPrev: Matrix;
  /** New centroids, Liu-encrypted means of the members (stored as `{P}centj`). */
  readonly centNew: Matrix;
  /** `centPrev − centNew`, k×a×m (stored as `{P}encryptedshiftmatrix`). */
  readonly shift: Matrix;
}

/** Shape problems of the step-1 inputs, or null. */
export function step1Problem(i: Step1Input): string | null {
  const [n, a, m] = i.encrypted.shape;
  if (i.encrypted.shape.length !== 3 || !(m >= 2)) return 'encrypted matrix must be n×a×m';
  if (!Number.isInteger(i.k) || i.k < 1 || i.k > n) return `K must be an integer in [1, ${n}]`;
  const u = i.udm.shape;
  if (u.length !== 3 || u[0] !== n || u[2] !== a || (u[1] !== n && u[1] !== i.k)) {
    return `UDM shape (${u.join(', ')}) must be (${n}, ${n}, ${a}) or (${n}, ${i.k}, ${a})`;
  }
  if (i.centPrev) {
    const c = i.centPrev.shape;
    if (c.length !== 3 || c[0] !== i.k || c[1] !== a || c[2] !== m) return `centroids shape (${c.join(', ')}) must be (${i.k}, ${a}, ${m})`;
  }
  return null;
}

/**
 * Whether `udm` (n×c×a) is still the full round-1 matrix. With n = k both shapes coincide; the
 * later-round rules then apply, which equal the round-1 rules on an antisymmetric UDM.
 */
export function isFullUdm(udm: Matrix, k: number): boolean {
  return udm.shape[1] !== k;
}

/** label(x) = argmin_{y<k} Σ_z |U[x][y][z]| (spec/crypto.md §4.2 with C2; first minimum on ties). */
export function assign(udm: Matrix, k: number): Int32Array {
  return assignFromUdm(udm, undefined, k, isFullUdm(udm, k) ? 1 : 2);
}

/** Liu-encrypted means: Σ members ciphertexts, then × (1/|C_y|). Empty clusters give zeros. */
export function encryptedMeans(encrypted: Matrix, labels: Int32Array, k: number): Matrix {
  const [n, a, m] = encrypted.shape;
  const row = a * m;
  const e = encrypted.data;
  const sums = new Float64Array(k * row);
  const counts = new Float64Array(k);
  for (let x = 0; x < n; x++) {
    const y = labels[x];
    counts[y]++;
    const src = x * row;
    const dst = y * row;
    for (let j = 0; j < row; j++) sums[dst + j] += e[src + j];
  }
  for (let y = 0; y < k; y++) {
    if (counts[y] === 0) continue;
    const f = 1 / counts[y];
    for (let j = 0; j < row; j++) sums[y * row + j] *= f;
  }
  return matrix(sums, [k, a, m]);
}

/** Step 1: assign, compute new encrypted centroids and the encrypted shift. */
export function step1(i: Step1Input): Step1Output {
  const problem = step1Problem(i);
  if (problem) throw new AppError('SHAPE_MISMATCH', problem, { userMessage: problem });
  const [, a, m] = i.encrypted.shape;
  const labels = assign(i.udm, i.k);
  // START: the seeds are the first k records' ciphertexts.
  const centPrev = i.centPrev ?? matrix(i.encrypted.data.slice(0, i.k * a * m), [i.k, a, m]);
  const centNew = encryptedMeans(i.encrypted, labels, i.k);
  const s = new Float64Array(centPrev.data.length);
  for (let j = 0; j < s.length; j++) s[j] = centPrev.data[j] - centNew.data[j];
  return { labels, centPrev, centNew, shift: matrix(s, [i.k, a, m]) };
}

/**
 * Step 2 (spec/crypto.md §4.3, C2): round 1 (n×n×a) returns a new n×k×a matrix
 * `D[x] − C_new[y]`; later rounds (n×k×a) add `S[y]` to every `U[x][y]` in place and return the
 * same matrix.
 */
export function updateUdm(udm: Matrix, shift: Matrix, k: number): Matrix {
  return isFullUdm(udm, k) ? firstRoundUpdate(udm, shift, k) : laterRoundUpdate(udm, shift);
}

/** Whether every entry of a decrypted (plaintext) shift is within `tolerance` of zero. */
export function shiftIsZero(shift: Matrix, tolerance: number): boolean {
  for (const v of shift.data) if (!(Math.abs(v) <= tolerance)) return false;
  return true;
}
