/**
 * UDM / DM / threshold against shared/vectors/fdhope.json `udm_dm` (spec/crypto.md §4.1), block
 * generators, udmMaxAbs, and the worker-side assignment and update rules (§4.2, §4.3, §0.1 C2).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { seededRandomBytes, fillUniform } from '@/lib/crypto/random';
import { matrix, type Matrix } from '@/lib/data/matrix';
import {
  assignFromUdm,
  defaultThreshold,
  defaultThresholdFromData,
  dm,
  dmBlocks,
  firstRoundUpdate,
  laterRoundUpdate,
  udm,
  udmBlocks,
  udmMaxAbs,
} from '@/lib/data/udm';
import { expectAppError } from '../helpers/errors';

const V = JSON.parse(readFileSync(fileURLToPath(new URL('../../../shared/vectors/fdhope.json', import.meta.url)), 'utf8')).udm_dm;
const D = matrix(Float64Array.from(V.D.flat()), [3, 2]);

function random(n: number, a: number, seed: number): Matrix {
  const d = fillUniform(seededRandomBytes(seed), new Float64Array(n * a)).map((u) => (u - 0.5) * 20);
  return matrix(d, [n, a]);
}


describe('udm_dm vectors (bitwise)', () => {
  it('UDM 3×3×2', () => {
    const u = udm(D);
    expect(u.shape).toEqual(V.UDM_shape);
    expect(Array.from(u.data)).toEqual(V.UDM.flat(2));
  });
  it('DM 3×3 and the default threshold', () => {
    const m = dm(D);
    expect(m.shape).toEqual(V.DM_shape);
    expect(Array.from(m.data)).toEqual(V.DM.flat());
    expect(defaultThreshold(m)).toBe(V.default_threshold);
    expect(defaultThreshold(m.data)).toBe(V.default_threshold);
    expect(defaultThresholdFromData(D)).toBe(V.default_threshold);
  });
});

describe('blocks and max', () => {
  const X = random(23, 4, 1);
  it('udmBlocks / dmBlocks concatenate to udm / dm for any block size', () => {
    const full = udm(X);
    const fullDm = dm(X);
    for (const rows of [1, 5, 23, 100]) {
      const parts = [...udmBlocks(X, rows)];
      expect(parts[0].from).toBe(0);
      expect(parts.at(-1)?.to).toBe(23);
      parts.forEach((p) => expect(p.data.length).toBe((p.to - p.from) * 23 * 4));
      const joined = new Float64Array(full.data.length);
      let o = 0;
      for (const p of parts) {
        joined.set(p.data, o);
        o += p.data.length;
      }
      expect(joined).toEqual(full.data);
      const dparts = [...dmBlocks(X, rows)];
      const djoined = new Float64Array(23 * 23);
      for (const p of dparts) djoined.set(p.data, p.from * 23);
      expect(djoined).toEqual(fullDm.data);
    }
  });
  it('udmMaxAbs equals max|U| bitwise without building U', () => {
    for (let seed = 1; seed < 6; seed++) {
      const Y = random(17, 3, seed);
      let m = 0;
      for (const v of udm(Y).data) m = Math.max(m, Math.abs(v));
      expect(udmMaxAbs(Y)).toBe(m);
    }
  });
  it('DM is symmetric with a zero diagonal; threshold is the smallest positive entry', () => {
    const m = dm(X);
    let min = Infinity;
    for (let x = 0; x < 23; x++) {
      expect(m.data[x * 23 + x]).toBe(0);
      for (let y = 0; y < 23; y++) {
        expect(m.data[x * 23 + y]).toBe(m.data[y * 23 + x]);
        if (x !== y) min = Math.min(min, m.data[x * 23 + y]);
      }
    }
    expect(defaultThreshold(m)).toBe(min);
    expect(defaultThresholdFromData(X)).toBe(min);
    expect(defaultThreshold(dm(matrix(new Float64Array(6).fill(2), [3, 2])))).toBe(0);
  });
});

describe('assignment and update (spec/crypto.md §4.2, §4.3, C2)', () => {
  const X = random(30, 3, 7);
  const n = 30;
  const a = 3;
  const k = 4;

  function manhattanLabels(points: Float64Array, C: Float64Array): Int32Array {
    const labels = new Int32Array(n);
    for (let x = 0; x < n; x++) {
      let best = 0;
      let bestD = Infinity;
      for (let y = 0; y < k; y++) {
        let s = 0;
        for (let z = 0; z < a; z++) s += Math.abs(points[x * a + z] - C[y * a + z]);
        if (s < bestD) {
          bestD = s;
          best = y;
        }
      }
      labels[x] = best;
    }
    return labels;
  }

  it('round 1 on a plaintext UDM = Manhattan assignment to the first k records', () => {
    const labels = assignFromUdm(udm(X), undefined, k, 1);
    expect(labels).toEqual(manhattanLabels(X.data, X.data.slice(0, k * a)));
    expect(Array.from(labels.subarray(0, k))).toEqual([0, 1, 2, 3]);
  });

  it('round 1 reads only the lower triangle U[y][x] for y > x (upstream rule)', () => {
    const u = udm(X);
    const garbled = u.data.slice();
    // Overwrite the strict upper triangle (x < y) with huge values: labels must not change.
    for (let x = 0; x < n; x++) for (let y = x + 1; y < n; y++) for (let z = 0; z < a; z++) garbled[(x * n + y) * a + z] = 1e9;
    expect(assignFromUdm(garbled, [n, n, a], k, 1)).toEqual(assignFromUdm(u, undefined, k, 1));
    // ... while garbling the lower triangle does change them.
    const low = u.data.slice();
    for (let x = 0; x < n; x++) for (let y = 0; y < x; y++) for (let z = 0; z < a; z++) low[(x * n + y) * a + z] = 1e9;
    expect(assignFromUdm(low, [n, n, a], k, 1)).not.toEqual(assignFromUdm(u, undefined, k, 1));
  });

  it('firstRoundUpdate gives D[x] − C_new[y]; laterRoundUpdate adds S[y] to every row in place', () => {
    const u = udm(X);
    const C0 = X.data.slice(0, k * a);
    const C1 = C0.map((v, i) => v + 0.25 * ((i % 3) - 1));
    const S1 = C0.map((v, i) => v - C1[i]);
    const u1 = firstRoundUpdate(u, matrix(S1, [k, a]), k);
    expect(u1.shape).toEqual([n, k, a]);
    for (let x = 0; x < n; x++) {
      for (let y = 0; y < k; y++) {
        for (let z = 0; z < a; z++) {
          const want = X.data[x * a + z] - C1[y * a + z];
          expect(Math.abs(u1.data[(x * k + y) * a + z] - want)).toBeLessThan(1e-12);
        }
      }
    }
    // Upstream rule for x < y: −U[y][x] + S[y] (reads the lower triangle only).
    expect(u1.data[(0 * k + 2) * a + 1]).toBe(-u.data[(2 * n + 0) * a + 1] + S1[2 * a + 1]);
    expect(assignFromUdm(u1, undefined, k, 2)).toEqual(manhattanLabels(X.data, C1));
    const C2 = C1.map((v, i) => v - 0.1 * (i % 2));
    const S2 = C1.map((v, i) => v - C2[i]);
    const same = laterRoundUpdate(u1, S2);
    expect(same).toBe(u1);
    for (let x = 0; x < n; x++) for (let j = 0; j < k * a; j++) expect(Math.abs(u1.data[x * k * a + j] - (X.data[x * a + (j % a)] - C2[j]))).toBeLessThan(1e-12);
    expect(assignFromUdm(u1.data, u1.shape, k, 3)).toEqual(manhattanLabels(X.data, C2));
  });

  it('ties go to the lowest cluster index', () => {
    // Records 0 and 1 identical: record 1 is as close to seed 0 as to itself.
    const T = matrix(Float64Array.from([1, 1, 1, 1, 5, 5, 3, 3]), [4, 2]);
    expect(Array.from(assignFromUdm(udm(T), undefined, 3, 1))).toEqual([0, 0, 2, 0]);
  });

  it('negative tests: shapes that do not fit the round, bad k, bad S', () => {
    const u = udm(X);
    expectAppError(() => assignFromUdm(u, undefined, k, 2), 'SHAPE_MISMATCH', 'round 2');
    expectAppError(() => assignFromUdm(u, undefined, 0, 1), 'INVALID_ARGUMENT', 'k');
    expectAppError(() => assignFromUdm(u, undefined, k, 0), 'INVALID_ARGUMENT', 'round');
    expectAppError(() => assignFromUdm(u.data, [n, n], k, 1), 'SHAPE_MISMATCH', 'U');
    expectAppError(() => assignFromUdm(u.data, [n, n, a + 1], k, 1), 'SHAPE_MISMATCH', 'U');
    expectAppError(() => firstRoundUpdate(u, new Float64Array(k * a - 1), k), 'SHAPE_MISMATCH', 'S');
    expectAppError(() => firstRoundUpdate(u, matrix(new Float64Array(k * a), [a, k]), k), 'SHAPE_MISMATCH', 'S');
    const u1 = firstRoundUpdate(u, new Float64Array(k * a), k);
    expectAppError(() => firstRoundUpdate(u1, new Float64Array(k * a), k), 'SHAPE_MISMATCH', 'round 1');
    expectAppError(() => laterRoundUpdate(u1, new Float64Array(3)), 'SHAPE_MISMATCH', 'S');
  });
});

describe('negative tests', () => {
  it('rejects non-2-D input and bad block sizes', () => {
    expectAppError(() => udm(matrix(new Float64Array(8), [2, 2, 2])), 'SHAPE_MISMATCH', 'D');
    expectAppError(() => dm({ data: [1, 2] as unknown as Float64Array, shape: [1, 2] }), 'INVALID_ARGUMENT', 'D');
    expectAppError(() => udmBlocks(D, 0).next(), 'INVALID_ARGUMENT', 'rowsPerBlock');
    expectAppError(() => dmBlocks(D, 1.5).next(), 'INVALID_ARGUMENT', 'rowsPerBlock');
    expectAppError(() => defaultThreshold([1, 2] as unknown as Float64Array), 'INVALID_ARGUMENT', 'dm');
  });
  it('overflowing UDM / DM (shared/datasets/bad/huge-values.csv) is refused with DATA_MAGNITUDE', () => {
    const huge = matrix(Float64Array.from([1e308, -1e308, -1e308, 1e308, 0.5, -0.5]), [3, 2]);
    expectAppError(() => udm(huge), 'DATA_MAGNITUDE');
    expectAppError(() => udmMaxAbs(huge), 'DATA_MAGNITUDE');
    expectAppError(() => dm(huge), 'DATA_MAGNITUDE');
    expectAppError(() => udmBlocks(huge, 1).next(), 'DATA_MAGNITUDE');
    expectAppError(() => udm(matrix(Float64Array.from([1, Number.NaN]), [1, 2])), 'DATA_MAGNITUDE');
  });
});
