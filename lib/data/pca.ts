/**
 * @module data/pca
 * Projection of a dataset onto its first two principal components, for the result scatter plot.
 * Centred data, covariance a×a, top eigenvectors by power iteration with deflation (deterministic
 * start vector, so the same data always gives the same picture). Pure.
 */
import type { Matrix } from './matrix';

export interface Projection {
  /** n×2, row-major. */
  readonly points: Float64Array;
  /** Fraction of the total variance explained by each of the two components. */
  readonly explained: readonly [number, number];
}

export function pca2(m: Matrix): Projection {
  const [n, a] = [m.shape[0], m.shape[1] ?? 1];
  const x = m.data;
  const mean = new Float64Array(a);
  for (let i = 0; i < n; i++) for (let j = 0; j < a; j++) mean[j] += x[i * a + j] / n;
  const cov = new Float64Array(a * a);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < a; p++) {
      const dp = x[i * a + p] - mean[p];
      for (let q = p; q < a; q++) cov[p * a + q] += (dp * (x[i * a + q] - mean[q])) / Math.max(1, n - 1);
    }
  }
  for (let p = 0; p < a; p++) for (let q = 0; q < p; q++) cov[p * a + q] = cov[q * a + p];
  let trace = 0;
  for (let p = 0; p < a; p++) trace += cov[p * a + p];

  const comps: Float64Array[] = [];
  const values: number[] = [];
  const work = Float64Array.from(cov);
  for (let c = 0; c < Math.min(2, a); c++) {
    let v = new Float64Array(a).map((_, i) => 1 / Math.sqrt(a) + i * 1e-3);
    let lambda = 0;
    for (let it = 0; it < 500; it++) {
      const w = new Float64Array(a);
      for (let p = 0; p < a; p++) for (let q = 0; q < a; q++) w[p] += work[p * a + q] * v[q];
      const norm = Math.hypot(...w);
      if (norm < 1e-300) break;
      const next = w.map((t) => t / norm);
      const delta = next.reduce((s, t, i) => s + Math.abs(t - v[i]), 0);
      v = next;
      lambda = norm;
      if (delta < 1e-12) break;
    }
    comps.push(v);
    values.push(lambda);
    for (let p = 0; p < a; p++) for (let q = 0; q < a; q++) work[p * a + q] -= lambda * v[p] * v[q];
  }
  const points = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < comps.length; c++) {
      let s = 0;
      for (let j = 0; j < a; j++) s += (x[i * a + j] - mean[j]) * comps[c][j];
      points[i * 2 + c] = s;
    }
  }
  const ex = (k: number) => (trace > 0 && values[k] !== undefined ? values[k] / trace : 0);
  return { points, explained: [ex(0), ex(1)] };
}
