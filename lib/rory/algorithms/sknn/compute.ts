/**
 * @module rory/algorithms/sknn/compute
 * The SKNN worker's computation on Liu ciphertexts (spec/crypto.md §7.9), shared by the local
 * worker (server/worker/algorithms/sknn) and the Data Owner, who recomputes it from the
 * ciphertexts it uploaded to verify the worker's answer before decrypting anything (D8).
 * Pure: no key, no I/O.
 */

/** Relative tolerance of the SKNN check: float summation order may differ between workers (numpy, JS). */
export const SKNN_LIU_TOLERANCE = 1e-9;

/**
 * What the SKNN worker computes (spec/crypto.md §7.9): for each test record i and model record j,
 * Σ_z |E(x_i)[z] − E(m_j)[z]| component-wise on Liu ciphertexts (t×n×m).
 */
export function liuManhattanTensor(encTest: Float64Array, encModel: Float64Array, t: number, n: number, a: number, m: number): Float64Array {
  const out = new Float64Array(t * n * m);
  for (let i = 0; i < t; i++) {
    for (let j = 0; j < n; j++) {
      const o = (i * n + j) * m;
      for (let z = 0; z < a; z++) {
        const ti = (i * a + z) * m;
        const mj = (j * a + z) * m;
        for (let c = 0; c < m; c++) out[o + c] += Math.abs(encTest[ti + c] - encModel[mj + c]);
      }
    }
  }
  return out;
}

/** max |got − expected| / max(1, |expected|) (NaN counts as infinite). */
export function relativeDeviation(got: Float64Array, expected: Float64Array): number {
  if (got.length !== expected.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    if (!(d <= m)) m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return m;
}

