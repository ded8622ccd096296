/**
 * Liu scheme against shared/vectors/liu.json (spec/crypto.md §2.1–§2.6): bitwise ciphertexts,
 * weights and decryptions in the documented evaluation order, homomorphic operations, ct×ct,
 * the 4×3 matrix, key generation and validation, rounding, and negative tests.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as liu from '@/lib/crypto/liu';
import { seededRandomBytes } from '@/lib/crypto/random';
import { matrix } from '@/lib/data/matrix';
import { expectAppError } from '../helpers/errors';

type Triple = [number, number, number];
interface Case {
  id: string;
  level: liu.LiuLevel | null;
  m: number;
  key: Triple[];
  R: number[];
  v: number;
  ciphertext: number[];
  ciphertext_float64?: number[];
  decrypt_weights?: number[];
  decrypt_weights_computed?: number[];
  decrypted: number;
  decrypted_via_weights: number;
}
interface HomCase {
  level: liu.LiuLevel;
  key: Triple[];
  a: number;
  b: number;
  c: number;
  R_a: number[];
  R_b: number[];
  E_a: number[];
  E_b: number[];
  sum: number[];
  difference: number[];
  product: number[];
  stage1: number[];
  values: number[];
  R: number[][];
  ciphertexts: number[][];
  scale: number;
  mean_ciphertext: number[];
  decrypted: number;
  expected: number;
}
interface MatrixCase {
  level: liu.LiuLevel;
  key: Triple[];
  plaintext: number[][];
  shape: number[];
  R: number[][][];
  ciphertext: number[][][];
  ciphertext_shape: number[];
  decrypted: number[][];
  decrypt_weights: number[];
}

const V = JSON.parse(readFileSync(fileURLToPath(new URL('../../../shared/vectors/liu.json', import.meta.url)), 'utf8'));
const LEVEL_OF_M: Record<number, liu.LiuLevel> = { 3: 128, 4: 192, 6: 256 };

function keyOf(triples: Triple[], level?: liu.LiuLevel | null): liu.LiuSecretKey {
  const lv = level ?? LEVEL_OF_M[triples.length];
  return liu.validateKey({ level: lv, m: liu.LIU_LEVELS[lv].m, nbits: liu.LIU_LEVELS[lv].nbits, triples });
}

/** |got − want| ≤ tol · max(1, |want|) */
function near(got: number, want: number, tol = 1e-12): void {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want)));
}


describe('liu.json spec_vectors (spec/crypto.md §2.5)', () => {
  for (const c of V.spec_vectors as Case[]) {
    it(c.id, () => {
      const sk = keyOf(c.key);
      const E = liu.encryptScalarWithR(sk, c.v, c.R);
      expect(Array.from(E)).toEqual(c.ciphertext_float64);
      // Both the verbatim (rounded-display) and the float64 ciphertext decrypt to exactly v.
      expect(liu.decrypt(sk, c.ciphertext)).toBe(c.v);
      expect(liu.decrypt(sk, E)).toBe(c.decrypted);
      const w = c.decrypt_weights ?? c.decrypt_weights_computed;
      expect(Array.from(liu.decryptWeights(sk))).toEqual(w);
    });
  }
});

describe('liu.json cases: bitwise encryption, weights and decryption', () => {
  const cases = V.cases as Case[];
  it('has 30 cases, 10 per level', () => {
    expect(cases.length).toBe(30);
    for (const lv of [128, 192, 256]) expect(cases.filter((c) => c.level === lv).length).toBe(10);
  });
  for (const c of cases) {
    it(`${c.id} (level ${c.level}, v = ${c.v})`, () => {
      const sk = keyOf(c.key, c.level);
      expect(sk.m).toBe(c.m);
      const E = liu.encryptScalarWithR(sk, c.v, c.R);
      expect(Array.from(E)).toEqual(c.ciphertext);
      expect(Array.from(liu.decryptWeights(sk))).toEqual(c.decrypt_weights);
      const d = liu.decrypt(sk, E);
      expect(d).toBe(c.decrypted);
      near(d, c.v);
      const w = liu.decryptWeights(sk);
      let viaW = 0;
      for (let i = 0; i < c.m; i++) viaW += E[i] * w[i];
      expect(viaW).toBe(c.decrypted_via_weights);
      near(viaW, c.v);
      // decryptInto on the same ciphertext agrees with decrypt bitwise.
      const out = new Float64Array(1);
      liu.decryptInto(sk, E, out);
      expect(out[0]).toBe(c.decrypted);
    });
  }
});

describe('liu.json homomorphic', () => {
  const H = V.homomorphic as Record<string, HomCase[]>;
  it('add: component-wise sum, bitwise; decrypts to a + b', () => {
    expect(H.add.length).toBe(3);
    for (const c of H.add) {
      const sk = keyOf(c.key, c.level);
      const Ea = liu.encryptScalarWithR(sk, c.a, c.R_a);
      const Eb = liu.encryptScalarWithR(sk, c.b, c.R_b);
      expect(Array.from(Ea)).toEqual(c.E_a);
      expect(Array.from(Eb)).toEqual(c.E_b);
      const s = liu.add(Ea, Eb);
      expect(Array.from(s)).toEqual(c.sum);
      expect(liu.decrypt(sk, s)).toBe(c.decrypted);
      near(liu.decrypt(sk, s), c.expected);
    }
  });
  it('subtract: E(a) + (−1)·E(b), bitwise; decrypts to a − b', () => {
    for (const c of H.subtract) {
      const sk = keyOf(c.key, c.level);
      const d = liu.sub(Float64Array.from(c.E_a), Float64Array.from(c.E_b));
      expect(Array.from(d)).toEqual(c.difference);
      expect(Array.from(liu.add(Float64Array.from(c.E_a), liu.mulScalar(-1, Float64Array.from(c.E_b))))).toEqual(c.difference);
      expect(liu.decrypt(sk, d)).toBe(c.decrypted);
      near(liu.decrypt(sk, d), c.expected);
    }
  });
  it('scalar multiply: c·E(a), bitwise; decrypts to c·a', () => {
    expect(H.scalar_multiply.length).toBe(6);
    for (const c of H.scalar_multiply) {
      const sk = keyOf(c.key, c.level);
      const p = liu.mulScalar(c.c, Float64Array.from(c.E_a));
      expect(Array.from(p)).toEqual((c as unknown as { product: number[] }).product);
      expect(liu.decrypt(sk, p)).toBe(c.decrypted);
      near(liu.decrypt(sk, p), c.expected);
    }
  });
  it('mean: Σ E(x_i) from zero, then × (1/n), as the worker forms centroids', () => {
    for (const c of H.mean) {
      const sk = keyOf(c.key, c.level);
      let acc: Float64Array = new Float64Array(sk.m);
      c.values.forEach((v, i) => {
        const E = liu.encryptScalarWithR(sk, v, c.R[i]);
        expect(Array.from(E)).toEqual(c.ciphertexts[i]);
        acc = liu.add(acc, E);
      });
      expect(Array.from(acc)).toEqual((c as unknown as { sum: number[] }).sum);
      expect(1 / c.values.length).toBe(c.scale);
      const mean = liu.mulScalar(c.scale, acc);
      expect(Array.from(mean)).toEqual(c.mean_ciphertext);
      expect(liu.decrypt(sk, mean)).toBe(c.decrypted);
      near(liu.decrypt(sk, mean), c.expected);
    }
  });
  it('multiply: ct×ct outer product and two-stage decryption', () => {
    for (const c of H.multiply) {
      const sk = keyOf(c.key, c.level);
      const prod = liu.mul(Float64Array.from(c.E_a), Float64Array.from(c.E_b));
      expect(Array.from(prod)).toEqual(c.product);
      const m = sk.m;
      const stage1 = Array.from({ length: m }, (_, i) => liu.decrypt(sk, prod.subarray(i * m, (i + 1) * m)));
      expect(stage1).toEqual(c.stage1);
      expect(liu.decryptMul(sk, prod)).toBe(c.decrypted);
      near(liu.decryptMul(sk, prod), c.expected);
    }
  });
});

describe('liu.json matrix: n×a → n×a×m tensor', () => {
  for (const c of V.matrix as MatrixCase[]) {
    it(`level ${c.level}`, () => {
      const sk = keyOf(c.key, c.level);
      const [n, a] = c.shape;
      const m = sk.m;
      const cipher = new Float64Array(n * a * m);
      for (let x = 0; x < n; x++) {
        for (let z = 0; z < a; z++) cipher.set(liu.encryptScalarWithR(sk, c.plaintext[x][z], c.R[x][z]), (x * a + z) * m);
      }
      expect(Array.from(cipher)).toEqual(c.ciphertext.flat(2));
      expect([n, a, m]).toEqual(c.ciphertext_shape);
      const plain = liu.decryptTensor(sk, matrix(cipher, [n, a, m]));
      expect(plain.shape).toEqual([n, a]);
      expect(Array.from(plain.data)).toEqual(c.decrypted.flat());
      expect(Array.from(liu.decryptWeights(sk))).toEqual(c.decrypt_weights);
    });
  }
});

describe('keygen and validateKey (spec/crypto.md §2.2)', () => {
  it('draws keys of the right shape for each level, deterministic for a seeded stream', () => {
    for (const level of [128, 192, 256] as const) {
      const sk = liu.keygen(level, seededRandomBytes(level));
      expect(sk.level).toBe(level);
      expect(sk.m).toBe(liu.LIU_LEVELS[level].m);
      expect(sk.nbits).toBe(liu.LIU_LEVELS[level].nbits);
      expect(sk.triples.length).toBe(sk.m);
      for (const t of sk.triples) for (const c of t) expect(Number.isInteger(c) && c >= 0 && c < 2 ** sk.nbits).toBe(true);
      expect(liu.keygen(level, seededRandomBytes(level))).toEqual(sk);
      expect(Object.isFrozen(sk) && Object.isFrozen(sk.triples)).toBe(true);
    }
    expect(liu.keygen().level).toBe(128);
  });

  it('re-draws until the key can decrypt (k_i ≠ 0, T ≠ 0, K ≠ 0)', () => {
    // A stream whose first 9 words are zero: the first key (all zeros) is invalid and is re-drawn.
    const inner = seededRandomBytes(7);
    let served = 0;
    const rb = (out: Uint8Array) => {
      if (served < 9 * 4) {
        out.fill(0);
        served += out.length;
      } else inner(out);
    };
    const sk = liu.keygen(128, rb);
    expect(sk.triples[0][0]).not.toBe(0);
    expect(liu.decrypt(sk, liu.encrypt(sk, 2.5, seededRandomBytes(1)))).toBeCloseTo(2.5, 12);
  });

  it('rejects malformed and undecryptable keys with INVALID_KEY, without echoing key material', () => {
    const good = { level: 128, m: 3, nbits: 15, triples: [[1, 2, 3], [4, 5, 6], [7, 8, 9]] };
    expect(liu.validateKey(good).triples).toEqual(good.triples);
    const bad: unknown[] = [
      null,
      42,
      { ...good, level: 100 },
      { ...good, m: 4 },
      { ...good, nbits: 16 },
      { ...good, triples: [[1, 2, 3], [4, 5, 6]] },
      { ...good, triples: [[1, 2, 3], [4, 5, 6], [7, 8]] },
      { ...good, triples: [[1, 2, 3], [4, 5, 6], [7, 8, 32768]] },
      { ...good, triples: [[1, 2, 3], [4, 5, 6], [7, 8, -1]] },
      { ...good, triples: [[1, 2, 3], [4, 5.5, 6], [7, 8, 9]] },
      { ...good, triples: [[0, 2, 3], [4, 5, 6], [7, 8, 9]] }, // k_0 = 0
      { ...good, triples: [[1, 2, 0], [4, 5, 0], [7, 8, 9]] }, // T = 0
      { ...good, triples: [[1, 2, 3], [4, 5, 6], [0, 0, 0]] }, // K = 0
    ];
    for (const k of bad) {
      expectAppError(() => liu.validateKey(k), 'INVALID_KEY');
      expectAppError(() => liu.encrypt(k as liu.LiuSecretKey, 1), 'INVALID_KEY');
    }
    try {
      liu.validateKey({ ...good, triples: [[12345, 2, 3], [4, 5, 6], [0, 0, 0]] });
    } catch (e) {
      expect((e as Error).message).not.toContain('12345');
    }
  });
});

describe('encrypt / encryptInto / encryptMatrix', () => {
  const sk = liu.keygen(192, seededRandomBytes(3));

  it('encryptInto equals per-scalar encrypt on the same random stream, at every level', () => {
    for (const level of [128, 192, 256] as const) {
      const key = liu.keygen(level, seededRandomBytes(level + 1));
      const values = Float64Array.from([0, 1, -2.75, Math.PI, 1e-6, -98765.4321, 5.1]);
      const out = new Float64Array(values.length * key.m);
      liu.encryptInto(key, values, out, seededRandomBytes(99));
      const rb = seededRandomBytes(99);
      values.forEach((v, j) => expect(Array.from(out.subarray(j * key.m, (j + 1) * key.m))).toEqual(Array.from(liu.encrypt(key, v, rb))));
      const back = new Float64Array(values.length);
      liu.decryptInto(key, out, back);
      values.forEach((v, j) => near(back[j], v));
    }
  });

  it('encryptInto spans several randomness batches (> 32 768 scalars)', () => {
    const n = 70_000;
    const values = new Float64Array(n).map((_, i) => Math.sin(i) * 1000);
    const out = new Float64Array(n * sk.m);
    liu.encryptInto(sk, values, out, seededRandomBytes(5));
    const back = new Float64Array(n);
    liu.decryptInto(sk, out, back);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(back[i] - values[i]) / Math.max(1, Math.abs(values[i])));
    expect(worst).toBeLessThan(1e-12);
    // The last component is K·R[m−1] with fresh R per scalar: no two scalars share randomness.
    const lasts = new Set<number>();
    for (let j = 0; j < n; j++) lasts.add(out[j * sk.m + sk.m - 1]);
    expect(lasts.size).toBe(n);
  });

  it('encryptMatrix gives an n×a×m tensor that decryptTensor maps back', () => {
    const D = matrix(Float64Array.from([1.5, -2, 0.25, 4, -3, 0.5]), [3, 2]);
    const t = liu.encryptMatrix(sk, D, seededRandomBytes(8));
    expect(t.shape).toEqual([3, 2, sk.m]);
    const back = liu.decryptTensor(sk, t);
    expect(back.shape).toEqual([3, 2]);
    back.data.forEach((v, i) => near(v, D.data[i]));
  });

  it('two encryptions of the same value differ (randomised)', () => {
    const a = liu.encrypt(sk, 7, seededRandomBytes(1));
    const b = liu.encrypt(sk, 7, seededRandomBytes(2));
    expect(Array.from(a)).not.toEqual(Array.from(b));
    near(liu.decrypt(sk, a), 7);
    near(liu.decrypt(sk, b), 7);
  });
});

describe('rounding options (LIU_ROUND / LIU_DECIMALS)', () => {
  const sk = liu.keygen(128, seededRandomBytes(11));
  it('off by default; on, rounds the plaintext before and the result after', () => {
    const E = liu.encrypt(sk, 1.23456789, seededRandomBytes(1));
    expect(liu.decrypt(sk, E)).not.toBe(1.234568);
    expect(liu.decrypt(sk, E, { round: true })).toBe(1.234568);
    expect(liu.decrypt(sk, E, { round: true, decimals: 2 })).toBe(1.23);
    const E2 = liu.encrypt(sk, 1.23456789, seededRandomBytes(1), { round: true, decimals: 3 });
    near(liu.decrypt(sk, E2), 1.235);
    const out = new Float64Array(2);
    const ct = new Float64Array(6);
    liu.encryptInto(sk, Float64Array.from([0.1234, -9.8765]), ct, seededRandomBytes(2));
    liu.decryptInto(sk, ct, out, { round: true, decimals: 2 });
    expect(Array.from(out)).toEqual([0.12, -9.88]);
    liu.encryptInto(sk, Float64Array.from([0.125, 2.675]), ct, seededRandomBytes(2), { round: true, decimals: 2 });
    liu.decryptInto(sk, ct, out);
    near(out[0], 0.12); // Python: round(0.125, 2) = 0.12 (tie to even)
    near(out[1], 2.67); // round(2.675, 2) = 2.67 (2.675 is 2.67499… in binary)
  });

  it('pythonRound matches Python round(x, n): ties to even on the exact binary value', () => {
    const cases: [number, number, number][] = [
      [0.5, 0, 0],
      [1.5, 0, 2],
      [2.5, 0, 2],
      [-2.5, 0, -2],
      [0.125, 2, 0.12],
      [0.375, 2, 0.38],
      [2.675, 2, 2.67], // 2.675 is 2.67499999… in binary
      [1.0000005, 6, 1.000001], // 1.00000050000000003… in binary: not a tie, rounds up
      [123.456, 1, 123.5],
      [-0.0001, 2, -0],
      [1e22, 2, 1e22],
    ];
    for (const [x, d, want] of cases) expect(Object.is(liu.pythonRound(x, d), want) || liu.pythonRound(x, d) === want).toBe(true);
  });
});

describe('negative tests', () => {
  const sk = liu.keygen(128, seededRandomBytes(4));
  it('wrong types and lengths name the argument', () => {
    expectAppError(() => liu.encrypt(sk, '1' as unknown as number), 'INVALID_ARGUMENT', 'v');
    expectAppError(() => liu.encrypt(sk, 1, 'rng' as unknown as () => void), 'INVALID_ARGUMENT', 'rb');
    expectAppError(() => liu.encryptScalarWithR(sk, 1, [0.1, 0.2]), 'SHAPE_MISMATCH', 'R');
    expectAppError(() => liu.decrypt(sk, [1, 2]), 'SHAPE_MISMATCH', 'E');
    expectAppError(() => liu.decrypt(sk, 'abc' as unknown as number[]), 'INVALID_ARGUMENT', 'E');
    expectAppError(() => liu.encryptInto(sk, [1, 2] as unknown as Float64Array, new Float64Array(6)), 'INVALID_ARGUMENT', 'values');
    expectAppError(() => liu.encryptInto(sk, new Float64Array(2), new Float64Array(5)), 'SHAPE_MISMATCH', 'out');
    expectAppError(() => liu.encryptInto(sk, new Float64Array(2), new Float32Array(6) as unknown as Float64Array), 'INVALID_ARGUMENT', 'out');
    expectAppError(() => liu.decryptInto(sk, new Float64Array(7), new Float64Array(2)), 'SHAPE_MISMATCH', 'cipher');
    expectAppError(() => liu.decryptTensor(sk, matrix(new Float64Array(8), [2, 4])), 'SHAPE_MISMATCH', 't');
    expectAppError(() => liu.add(new Float64Array(3), new Float64Array(6)), 'SHAPE_MISMATCH');
    expectAppError(() => liu.mulScalar(Number.NaN, new Float64Array(3)), 'INVALID_ARGUMENT', 'c');
    expectAppError(() => liu.decryptMul(sk, new Float64Array(6)), 'SHAPE_MISMATCH', 'prod');
    expectAppError(() => liu.keygen(512 as liu.LiuLevel), 'INVALID_ARGUMENT', 'level');
    expectAppError(() => liu.encrypt(sk, 1, undefined, { round: true, decimals: -1 }), 'INVALID_ARGUMENT', 'decimals');
  });

  it('non-finite or huge plaintexts are refused (DATA_MAGNITUDE) and out is left untouched', () => {
    expectAppError(() => liu.encrypt(sk, Number.NaN), 'DATA_MAGNITUDE');
    expectAppError(() => liu.encrypt(sk, 1e308), 'DATA_MAGNITUDE');
    const out = new Float64Array(9);
    expectAppError(() => liu.encryptInto(sk, Float64Array.from([1, Infinity, 2]), out), 'DATA_MAGNITUDE', 'index 1');
    expect(out.every((v) => v === 0)).toBe(true);
  });

  it('error messages never contain the plaintext', () => {
    try {
      liu.encrypt(sk, 1.2345e250);
    } catch (e) {
      expect((e as Error).message).not.toContain('1.2345');
    }
  });
});
