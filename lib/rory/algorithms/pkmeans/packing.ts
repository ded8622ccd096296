/**
 * @module rory/algorithms/pkmeans/packing
 * Private k-means (spec/private-kmeans.md §2, §4): the Data Owner's pure arithmetic — normalising
 * the records, packing them into CKKS slot vectors, building each round's cluster masks, reading
 * decrypted distances back, and the exact Lloyd steps the browser recomputes to verify the worker
 * (D8). No I/O, no keys.
 *
 * Layout: `stride` = the next power of two ≥ a; `R = slots / stride` records per ciphertext;
 * `B = ⌈n / R⌉` blocks. Record `bR + r` sits in slots `r·stride … r·stride + a − 1` of block b;
 * every other slot is 0. Normalisation `x' = (x − m) / s` (m = column means, s = max |x − m|)
 * keeps every slot in [−1, 1] and changes no argmin: translation and one global scale preserve
 * the order of squared Euclidean distances.
 */
import { AppError } from '../../../errors';
import { clusterMeans } from '../../../data/kmeans';
import type { Matrix } from '../../../data/matrix';

export interface PackingLayout {
  readonly n: number;
  readonly a: number;
  readonly slots: number;
  /** Slots per record: the next power of two ≥ a. */
  readonly stride: number;
  /** Records per ciphertext. */
  readonly R: number;
  /** Ciphertexts (blocks) for the dataset. */
  readonly B: number;
}

export function nextPowerOfTwo(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}

export function packingLayout(n: number, a: number, slots: number): PackingLayout {
  const stride = nextPowerOfTwo(a);
  if (stride > slots) {
    throw new AppError('SHAPE_MISMATCH', `a = ${a} attributes do not fit ${slots} slots`, {
      userMessage: `The dataset has ${a} attributes; a CKKS ciphertext of this key set holds ${slots}. Use fewer columns.`,
    });
  }
  const R = slots / stride;
  return { n, a, slots, stride, R, B: Math.ceil(n / R) };
}

/**
 * Rotation steps the worker needs (spec/private-kmeans.md §3): `stride·2^j` for j < log2 R, to
 * replicate a cluster's mean over every record position. (Summing within a record is left to the
 * client, who decrypts all slots anyway, so no steps below the stride are needed.)
 */
export function rotationSteps(layout: Pick<PackingLayout, 'stride' | 'R'>): number[] {
  const steps: number[] = [];
  for (let s = 1; s < layout.R; s *= 2) steps.push(layout.stride * s);
  return steps;
}

export interface Normalised {
  /** (x − mean) / scale, n×a. */
  readonly data: Float64Array;
  readonly mean: Float64Array;
  readonly scale: number;
}

/** Column means, one global scale: every value in [−1, 1] (a constant dataset gets scale 1). */
export function normalise(d: Matrix): Normalised {
  const [n, a] = d.shape;
  const mean = new Float64Array(a);
  for (let x = 0; x < n; x++) for (let z = 0; z < a; z++) mean[z] += d.data[x * a + z];
  for (let z = 0; z < a; z++) mean[z] /= n;
  let scale = 0;
  for (let x = 0; x < n; x++) for (let z = 0; z < a; z++) scale = Math.max(scale, Math.abs(d.data[x * a + z] - mean[z]));
  if (!(scale > 0) || !Number.isFinite(scale)) scale = 1;
  const out = new Float64Array(n * a);
  for (let x = 0; x < n; x++) for (let z = 0; z < a; z++) out[x * a + z] = (d.data[x * a + z] - mean[z]) / scale;
  return { data: out, mean, scale };
}

/** B slot vectors (B×slots, flat): the packed, normalised records. */
export function packRecords(data: Float64Array, L: PackingLayout): Float64Array {
  const out = new Float64Array(L.B * L.slots);
  for (let i = 0; i < L.n; i++) {
    const b = Math.floor(i / L.R);
    const r = i - b * L.R;
    out.set(data.subarray(i * L.a, (i + 1) * L.a), b * L.slots + r * L.stride);
  }
  return out;
}

/**
 * The masks of a round (spec/private-kmeans.md §4): k×B slot vectors (row c·B + b). Mask (c, b)
 * holds 1/|C_c| in the `stride` slots of every record of block b labelled c, 0 elsewhere. An empty
 * cluster's mask is all zero (the worker's mean is then 0; the client keeps the cluster's previous
 * centroid in its own bookkeeping and the distances to it are never the minimum that matters).
 */
export function buildMasks(labels: Int32Array, k: number, L: PackingLayout): Float64Array {
  const counts = new Float64Array(k);
  for (const y of labels) counts[y]++;
  const out = new Float64Array(k * L.B * L.slots);
  for (let i = 0; i < L.n; i++) {
    const c = labels[i];
    const b = Math.floor(i / L.R);
    const r = i - b * L.R;
    const base = (c * L.B + b) * L.slots + r * L.stride;
    out.fill(1 / counts[c], base, base + L.stride);
  }
  return out;
}

/** Round 1's labels: record c alone in cluster c (c < k), the seeds; every other record in none. */
export function seedMasks(k: number, L: PackingLayout): Float64Array {
  const out = new Float64Array(k * L.B * L.slots);
  for (let c = 0; c < k; c++) {
    const b = Math.floor(c / L.R);
    const r = c - b * L.R;
    const base = (c * L.B + b) * L.slots + r * L.stride;
    out.fill(1, base, base + L.stride);
  }
  return out;
}

/**
 * Distances from decrypted blocks: `decrypted` holds k×B slot vectors (row c·B + b, `slots` values
 * each); record i's distance to cluster c is the sum of its a slots. Returns n×k, row-major.
 */
export function readDistances(decrypted: Float64Array, k: number, L: PackingLayout): Float64Array {
  const out = new Float64Array(L.n * k);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < L.n; i++) {
      const b = Math.floor(i / L.R);
      const r = i - b * L.R;
      const base = (c * L.B + b) * L.slots + r * L.stride;
      let s = 0;
      for (let z = 0; z < L.a; z++) s += decrypted[base + z];
      out[i * k + c] = s;
    }
  }
  return out;
}

/** Centroids (k×a) as means of the members; an empty cluster keeps `previous`. */
export function centroidsOf(data: Float64Array, n: number, a: number, labels: Int32Array, k: number, previous: Float64Array): Float64Array {
  return clusterMeans(data, n, a, labels, k, previous);
}

/** Squared Euclidean distances n×k of every record to every centroid. */
export function exactDistances(data: Float64Array, n: number, a: number, centroids: Float64Array, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let z = 0; z < a; z++) {
        const d = data[i * a + z] - centroids[c * a + z];
        s += d * d;
      }
      out[i * k + c] = s;
    }
  }
  return out;
}
