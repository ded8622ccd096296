/**
 * Plaintext reference k-means against shared/vectors/kmeans-reference.json, and in-process
 * simulations of the corrected secure protocols (spec/crypto.md §0.1 C1–C3, §4.2, §4.3, §7.1, §7.2)
 * built from lib/crypto and lib/data/udm: SKMeans must reproduce the reference labels and
 * iteration counts exactly; DBSKMeans (FDHOPE UDM) must give ARI 1 on blobs. Also NNC/DBSNNC
 * (§7.3) and 1-NN (§7.9).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as fdhope from '@/lib/crypto/fdhope';
import * as liu from '@/lib/crypto/liu';
import { seededRandomBytes, type RandomBytes } from '@/lib/crypto/random';
import { AppError } from '@/lib/errors';
import { matrix, type Matrix } from '@/lib/data/matrix';
import { kmeansManhattan, nearestNeighbourManhattan, nncLabels } from '@/lib/data/kmeans';
import { adjustedRandIndex, accuracy } from '@/lib/data/metrics';
import { assignFromUdm, defaultThreshold, dm, firstRoundUpdate, laterRoundUpdate, udm } from '@/lib/data/udm';

interface Ref {
  dataset: string;
  true_labels_file: string;
  n: number;
  a: number;
  k: number;
  labels: number[];
  iterations: number;
  converged: boolean;
  max_abs_shift_per_iteration: number[];
  final_centroids: number[][];
  labels_per_iteration: number[][];
  uncapped_max_100: { iterations: number; converged: boolean; labels: number[]; max_abs_shift_per_iteration: number[] };
}

const SHARED = new URL('../../../shared/', import.meta.url);
const REF = JSON.parse(readFileSync(fileURLToPath(new URL('vectors/kmeans-reference.json', SHARED)), 'utf8')).datasets as Ref[];

/** The datasets are plain float CSVs (no header); a real parser lives in lib/data/csv.ts. */
function csv(name: string): Matrix {
  const rows = readFileSync(fileURLToPath(new URL(`datasets/${name}`, SHARED)), 'utf8').trim().split('\n').map((l) => l.split(',').map(Number));
  return matrix(Float64Array.from(rows.flat()), [rows.length, rows[0].length]);
}
const labelsFile = (name: string) => readFileSync(fileURLToPath(new URL(`datasets/${name}`, SHARED)), 'utf8').trim().split('\n').map(Number);

describe('kmeansManhattan = kmeans-reference.json', () => {
  for (const r of REF) {
    const D = csv(r.dataset);
    it(`${r.dataset}: labels, iterations, convergence, shifts and centroids`, () => {
      expect(D.shape).toEqual([r.n, r.a]);
      const got = kmeansManhattan(D, r.k);
      expect(Array.from(got.labels)).toEqual(r.labels);
      expect(got.iterations).toBe(r.iterations);
      expect(got.converged).toBe(r.converged);
      expect(got.maxShiftPerIteration.length).toBe(r.max_abs_shift_per_iteration.length);
      got.maxShiftPerIteration.forEach((s, i) => {
        const want = r.max_abs_shift_per_iteration[i];
        expect(Math.abs(s - want)).toBeLessThanOrEqual(1e-9 * Math.abs(want));
      });
      expect(got.centroids.shape).toEqual([r.k, r.a]);
      r.final_centroids.flat().forEach((c, i) => expect(Math.abs(got.centroids.data[i] - c)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(c))));
    });
    it(`${r.dataset}: labels after each iteration`, () => {
      r.labels_per_iteration.forEach((want, t) => expect(Array.from(kmeansManhattan(D, r.k, { maxIterations: t + 1 }).labels)).toEqual(want));
    });
    it(`${r.dataset}: uncapped (100 iterations)`, () => {
      const got = kmeansManhattan(D, r.k, { maxIterations: 100 });
      expect(Array.from(got.labels)).toEqual(r.uncapped_max_100.labels);
      expect(got.iterations).toBe(r.uncapped_max_100.iterations);
      expect(got.converged).toBe(r.uncapped_max_100.converged);
    });
  }

  it('an empty cluster gets an all-zero centroid', () => {
    // Seeds 0 and 1 are identical, so cluster 1 never wins a tie and stays empty.
    const D = matrix(Float64Array.from([1, 1, 1, 1, 9, 9, 8, 8]), [4, 2]);
    const r = kmeansManhattan(D, 3, { maxIterations: 1 });
    expect(Array.from(r.labels)).toEqual([0, 0, 2, 2]);
    expect(Array.from(r.centroids.data)).toEqual([1, 1, 0, 0, 8.5, 8.5]);
  });

  it('rejects bad arguments', () => {
    const D = csv('iris.csv');
    expect(() => kmeansManhattan(D, 0)).toThrow(AppError);
    expect(() => kmeansManhattan(D, 151)).toThrow(/k must be/);
    expect(() => kmeansManhattan(D, 3, { maxIterations: 0 })).toThrow(/maxIterations/);
    expect(() => kmeansManhattan(matrix(new Float64Array(8), [2, 2, 2]), 1)).toThrow(AppError);
    expect(() => kmeansManhattan(matrix(Float64Array.from([1, Number.NaN]), [1, 2]), 1)).toThrow(/non-finite/);
  });
});

// ------------------------------------------------------------------------------------------------
// Corrected secure protocols, simulated in process
// ------------------------------------------------------------------------------------------------

interface SecureRun {
  labels: Int32Array;
  iterations: number;
  converged: boolean;
}

/** Worker: Liu-encrypted centroids Σ E(x) · (1/|C|) (zero ciphertext for an empty cluster). */
function encryptedMeans(ED: Matrix, labels: Int32Array, k: number): Float64Array {
  const [n, a, m] = ED.shape;
  const row = a * m;
  const out = new Float64Array(k * row);
  const counts = new Array<number>(k).fill(0);
  for (let x = 0; x < n; x++) {
    const y = labels[x];
    counts[y]++;
    liu.add(out.subarray(y * row, (y + 1) * row), ED.data.subarray(x * row, (x + 1) * row), out.subarray(y * row, (y + 1) * row));
  }
  for (let y = 0; y < k; y++) if (counts[y] > 0) liu.mulScalar(1 / counts[y], out.subarray(y * row, (y + 1) * row), out.subarray(y * row, (y + 1) * row));
  return out;
}

/**
 * SKMeans (D1 protocol, D2 computation): the worker sees ED (Liu) and U (plaintext, or FDHOPE
 * for DBSKMeans via `encryptShift`); the client decrypts S each round and checks max|S| ≤ 1e-6.
 */
function secureKmeans(
  D: Matrix,
  k: number,
  sk: liu.LiuSecretKey,
  rb: RandomBytes,
  opts: { maxIterations?: number; prepareUdm?: (U: Matrix) => Matrix; encryptShift?: (S: Matrix) => Matrix } = {},
): SecureRun {
  const maxIterations = opts.maxIterations ?? 10;
  const [, a] = D.shape;
  const m = sk.m;
  // Client
  const ED = liu.encryptMatrix(sk, D, rb);
  let U = (opts.prepareUdm ?? ((u) => u))(udm(D));
  // Worker START: previous centroids are the first k encrypted records.
  let centPrev: Float64Array = ED.data.slice(0, k * a * m);
  let labels: Int32Array = new Int32Array(0);
  for (let round = 1; round <= maxIterations; round++) {
    // Worker step 1
    labels = assignFromUdm(U, undefined, k, round);
    const centNew = encryptedMeans(ED, labels, k);
    const shiftEnc = liu.sub(centPrev, centNew);
    // Client: decrypt S, convergence test
    const S = liu.decryptTensor(sk, matrix(shiftEnc, [k, a, m]));
    let maxAbs = 0;
    for (const v of S.data) maxAbs = Math.max(maxAbs, Math.abs(v));
    if (maxAbs <= 1e-6) return { labels, iterations: round, converged: true };
    const sent = opts.encryptShift ? opts.encryptShift(S) : S;
    // Worker step 2: U ← update(U, S); C1: next round starts from this round's new centroids.
    U = round === 1 ? firstRoundUpdate(U, sent, k) : laterRoundUpdate(U, sent);
    centPrev = centNew;
  }
  return { labels, iterations: maxIterations, converged: false };
}

describe('corrected secure SKMeans (Liu, plaintext UDM) reproduces the reference exactly', () => {
  for (const r of REF) {
    const D = csv(r.dataset);
    for (const level of [128, 192, 256] as const) {
      it(`${r.dataset}, level ${level}`, () => {
        const rb = seededRandomBytes(level * 31 + r.n);
        const sk = liu.keygen(level, rb);
        const got = secureKmeans(D, r.k, sk, rb);
        expect(Array.from(got.labels)).toEqual(r.labels);
        expect(got.iterations).toBe(r.iterations);
        expect(got.converged).toBe(r.converged);
      });
    }
    it(`${r.dataset}: uncapped run matches too`, () => {
      const rb = seededRandomBytes(5);
      const got = secureKmeans(D, r.k, liu.keygen(128, rb), rb, { maxIterations: 100 });
      expect(Array.from(got.labels)).toEqual(r.uncapped_max_100.labels);
      expect(got.iterations).toBe(r.uncapped_max_100.iterations);
    });
  }
});

describe('corrected DBSKMeans (FDHOPE UDM and shifts, C1–C3) on blobs', () => {
  const r = REF.find((x) => x.dataset === 'blobs-100x5-k2.csv') as Ref;
  const D = csv(r.dataset);
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`key seed ${seed}: ARI 1 against the reference`, () => {
      const rb = seededRandomBytes(seed);
      const sk = liu.keygen(128, rb);
      let key: fdhope.FdhopeKey | undefined;
      const got = secureKmeans(D, r.k, sk, rb, {
        prepareUdm: (U) => {
          key = fdhope.keygen(U, { rb });
          const out = new Float64Array(U.data.length);
          fdhope.encryptInto(key, U.data, out, 1e-8, rb); // UDM: client header Sens
          return matrix(out, U.shape);
        },
        encryptShift: (S) => {
          const out = new Float64Array(S.data.length);
          fdhope.encryptInto(key as fdhope.FdhopeKey, S.data, out, fdhope.FDHOPE_DEFAULT_SENS, rb); // shift: library default
          return matrix(out, S.shape);
        },
      });
      expect(adjustedRandIndex(got.labels, r.labels)).toBe(1);
    });
  }
});

describe('NNC / DBSNNC (spec/crypto.md §7.3)', () => {
  it('global-min joins the cluster holding the nearest earlier record; first-fit the first close cluster', () => {
    // Records on a line: 0, 10, 1.5, 9, 2.6 with threshold 2.
    const pts = [0, 10, 1.5, 9, 2.6];
    const n = pts.length;
    const m = matrix(Float64Array.from({ length: n * n }, (_, i) => Math.abs(pts[Math.floor(i / n)] - pts[i % n])), [n, n]);
    expect(Array.from(nncLabels(m, 2))).toEqual([0, 1, 0, 1, 0]);
    // 2.6 is 1.1 from record 2 (cluster 0): both rules agree here; a case where they differ:
    const q = [0, 3, 1.8, 2.9];
    const k = q.length;
    const m2 = matrix(Float64Array.from({ length: k * k }, (_, i) => Math.abs(q[Math.floor(i / k)] - q[i % k])), [k, k]);
    // r=2 (1.8): distances 1.8 to cluster 0, 1.2 to cluster 1 → both ≤ 2.
    expect(Array.from(nncLabels(m2, 2))).toEqual([0, 1, 1, 1]);
    expect(Array.from(nncLabels(m2, 2, { rule: 'first-fit' }))).toEqual([0, 1, 0, 0]);
    expect(Array.from(nncLabels(m2, 0.5))).toEqual([0, 1, 2, 1]);
  });

  for (const [name, theta, clusters] of [
    ['blobs-100x5-k2.csv', 0.3, 36],
    ['iris.csv', 0.5, 73],
    ['iris.csv', -1, 148], // Threshold −1: the smallest non-zero DM entry
  ] as const) {
    it(`DBSNNC on an FDHOPE-encrypted DM and threshold (sens 0) equals plaintext NNC: ${name}, θ = ${theta}`, () => {
      const plainDm = dm(csv(name));
      const t = theta === -1 ? defaultThreshold(plainDm) : theta;
      const plain = nncLabels(plainDm, t);
      expect(new Set(plain).size).toBe(clusters);
      for (const seed of [1, 2, 3]) {
        const key = fdhope.keygen(plainDm, { rb: seededRandomBytes(seed) });
        const enc = new Float64Array(plainDm.data.length);
        fdhope.encryptInto(key, plainDm.data, enc, 0);
        expect(nncLabels(matrix(enc, plainDm.shape), fdhope.encrypt(key, t, 0))).toEqual(plain);
        expect(nncLabels(matrix(enc, plainDm.shape), fdhope.encrypt(key, t, 0), { rule: 'first-fit' })).toEqual(nncLabels(plainDm, t, { rule: 'first-fit' }));
      }
    });
  }

  it('rejects a non-square DM and a NaN threshold', () => {
    expect(() => nncLabels(matrix(new Float64Array(6), [2, 3]), 1)).toThrow(/square/);
    expect(() => nncLabels(matrix(new Float64Array(4), [2, 2]), Number.NaN)).toThrow(/threshold/);
    expect(Array.from(nncLabels(matrix(new Float64Array(0), [0, 0]), 1))).toEqual([]);
  });
});

describe('1-NN Manhattan (spec/crypto.md §7.9, §7.12)', () => {
  it('picks the nearest model record, ties to the lowest index', () => {
    const model = matrix(Float64Array.from([0, 0, 10, 10, 0, 0]), [3, 2]);
    const test = matrix(Float64Array.from([1, 1, 9, 9, 5, 5]), [3, 2]);
    const r = nearestNeighbourManhattan(model, [5, 6, 7], test);
    expect(Array.from(r.indices)).toEqual([0, 1, 0]);
    expect(Array.from(r.labels)).toEqual([5, 6, 5]);
  });
  it('classifies the shared classification split well', () => {
    const r = nearestNeighbourManhattan(csv('classification-train.csv'), labelsFile('classification-train.labels.csv'), csv('classification-test.csv'));
    expect(accuracy(labelsFile('classification-test.labels.csv'), r.labels)).toBeGreaterThan(0.8);
  });
  it('rejects mismatched shapes', () => {
    const model = matrix(new Float64Array(6), [3, 2]);
    expect(() => nearestNeighbourManhattan(model, [1, 2], matrix(new Float64Array(2), [1, 2]))).toThrow(/modelLabels/);
    expect(() => nearestNeighbourManhattan(model, [1, 2, 3], matrix(new Float64Array(3), [1, 3]))).toThrow(/attributes/);
  });
});
