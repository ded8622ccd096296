/**
 * FDHOPE against shared/vectors/fdhope.json (spec/crypto.md §3.1–§3.3, §3.6, §0.1 C3): the spec
 * table, fixed-key ciphertexts (bitwise), noise bounds, keygen from injected boundaries (counts,
 * lengths, both spaces bitwise), msMax rounding, the DM encryption, serialisation and negatives.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as fdhope from '@/lib/crypto/fdhope';
import { seededRandomBytes } from '@/lib/crypto/random';
import { matrix } from '@/lib/data/matrix';
import { dm, dmBlocks, udm, udmBlocks } from '@/lib/data/udm';
import { expectAppError } from '../helpers/errors';

type Space = Record<string, [number, number]>;
interface FixedCase {
  p: number;
  interval: string;
  scale?: number;
  ciphertext: number;
}
interface KeyVec {
  messagespace: Space;
  cipherspace: Space;
  sens: number;
  cases: FixedCase[];
}
interface Example {
  dataset: 'DM' | 'UDM';
  drawn_n_ranges: number;
  drawn_lower_bounds: number[];
  msMax: number;
  csMax: number;
  X_size: number;
  counts: Record<string, number>;
  lengths_fixed: Record<string, number>;
  messagespace: Space;
  cipherspace_fixed: Space;
  cipherspace_upstream_shape0xshape1: Space;
}

const V = JSON.parse(readFileSync(fileURLToPath(new URL('../../../shared/vectors/fdhope.json', import.meta.url)), 'utf8'));

const pairs = (s: Space) => Object.keys(s).map((_, i) => s[`RANGE_${i}`]);
const keyOf = (v: { messagespace: Space; cipherspace: Space }) =>
  fdhope.validateKey({ messagespace: pairs(v.messagespace), cipherspace: pairs(v.cipherspace) });
const values = (r: Record<string, number>) => Object.keys(r).map((_, i) => r[`RANGE_${i}`]);

const D = matrix(Float64Array.from(V.udm_dm.D.flat()), [3, 2]);


describe('spec_vector (spec/crypto.md §3.3)', () => {
  const key = keyOf(V.spec_vector);
  for (const c of V.spec_vector.cases as FixedCase[]) {
    it(`Enc(${c.p}) = ${c.ciphertext}`, () => {
      expect(fdhope.encrypt(key, c.p, 0)).toBe(c.ciphertext);
      expect(`RANGE_${fdhope.intervalId(key, c.p)}`).toBe(c.interval);
    });
  }
});

describe('fixed_key_cases (sens 0, bitwise)', () => {
  for (const kc of V.fixed_key_cases as (KeyVec & { from_keygen_example: string })[]) {
    it(`${kc.from_keygen_example}: ${kc.cases.length} values`, () => {
      const key = keyOf(kc);
      const src = Float64Array.from(kc.cases.map((c) => c.p));
      const out = new Float64Array(src.length);
      fdhope.encryptInto(key, src, out, 0, () => {
        throw new Error('sens 0 must not draw randomness');
      });
      kc.cases.forEach((c, j) => {
        expect(`RANGE_${fdhope.intervalId(key, c.p)}`).toBe(c.interval);
        const i = fdhope.intervalId(key, c.p);
        const [lo, hi] = key.messagespace[i];
        const [clo, chi] = key.cipherspace[i];
        expect((chi - clo) / (hi - lo)).toBe(c.scale);
        expect(fdhope.encrypt(key, c.p, 0)).toBe(c.ciphertext);
        expect(out[j]).toBe(c.ciphertext);
      });
    });
  }
});

describe('noise_cases (sens > 0)', () => {
  const key = keyOf(V.fixed_key_cases[0]);
  for (const c of V.noise_cases as { p: number; sens: number; interval: string; abs_ciphertext_min: number; abs_ciphertext_max: number; sign: number }[]) {
    it(`p = ${c.p}, sens = ${c.sens}`, () => {
      expect(`RANGE_${fdhope.intervalId(key, c.p)}`).toBe(c.interval);
      const rb = seededRandomBytes(Math.round(c.p * 100) + 7);
      const src = new Float64Array(500).fill(c.p);
      const out = new Float64Array(500);
      fdhope.encryptInto(key, src, out, c.sens, rb);
      const scalars = Array.from({ length: 200 }, () => fdhope.encrypt(key, c.p, c.sens, rb));
      const all = [...out, ...scalars];
      for (const e of all) {
        expect(Math.abs(e)).toBeGreaterThanOrEqual(c.abs_ciphertext_min);
        expect(Math.abs(e)).toBeLessThanOrEqual(c.abs_ciphertext_max);
        expect(e < 0 ? -1 : 1).toBe(c.sign);
      }
      // The noise is actually there: the draws are not all equal.
      expect(new Set(all).size).toBeGreaterThan(100);
    });
  }
});

describe('keygen (spec/crypto.md §3.2, C3 fixed density)', () => {
  const X = { DM: dm(D), UDM: udm(D) };
  const examples = V.keygen.examples as Example[];
  it('has 8 worked examples', () => expect(examples.length).toBe(8));
  for (const [i, e] of examples.entries()) {
    it(`example ${i}: ${e.dataset}, ${e.drawn_n_ranges} ranges, from injected boundaries`, () => {
      const x = X[e.dataset];
      expect(x.data.length).toBe(e.X_size);
      const r = fdhope.keygenWithDetails(x.data, { bounds: e.drawn_lower_bounds.slice(1) });
      expect(r.msMax).toBe(e.msMax);
      expect(r.csMax).toBe(e.csMax);
      expect(r.size).toBe(e.X_size);
      expect(r.counts).toEqual(values(e.counts));
      expect(r.lengths).toEqual(values(e.lengths_fixed));
      expect(r.key.messagespace).toEqual(pairs(e.messagespace));
      expect(r.key.cipherspace).toEqual(pairs(e.cipherspace_fixed));
      // Streaming input (blocks regenerated per pass) gives the same key.
      const blocks = e.dataset === 'DM' ? () => dmBlocks(D, 2) : () => udmBlocks(D, 2);
      expect(fdhope.keygen(blocks, { bounds: e.drawn_lower_bounds.slice(1) })).toEqual(r.key);
      // Unsorted injected bounds are sorted, as upstream sorts its draws.
      expect(fdhope.keygen(x.data, { bounds: e.drawn_lower_bounds.slice(1).reverse() })).toEqual(r.key);
    });
    it(`example ${i}: upstream density (fixDensity false) ${e.dataset === 'DM' ? 'equals the fixed one' : 'is refused (negative width, C3)'}`, () => {
      const x = X[e.dataset];
      const up = pairs(e.cipherspace_upstream_shape0xshape1);
      if (e.dataset === 'DM') {
        expect(fdhope.keygen(x, { bounds: e.drawn_lower_bounds.slice(1), fixDensity: false }).cipherspace).toEqual(up);
      } else {
        const last = up[up.length - 1];
        expect(last[1] - last[0]).toBeLessThan(0); // the vector documents the bug
        expectAppError(() => fdhope.keygen(x, { bounds: e.drawn_lower_bounds.slice(1), fixDensity: false }), 'CRYPTO_FAILURE');
      }
    });
  }

  it('random keys satisfy every listed invariant', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const x = seed % 2 ? X.DM : X.UDM;
      const r = fdhope.keygenWithDetails(x, { rb: seededRandomBytes(seed) });
      const { messagespace: ms, cipherspace: cs } = r.key;
      const n = ms.length;
      expect(n).toBeGreaterThanOrEqual(3);
      expect(n).toBeLessThanOrEqual(8);
      expect(ms[0][0]).toBe(0);
      expect(cs[0][0]).toBe(0);
      for (let i = 0; i + 1 < n; i++) {
        expect(ms[i][1]).toBe(ms[i + 1][0]);
        expect(cs[i][1]).toBe(cs[i + 1][0]);
        expect(cs[i][1]).toBe(cs[i][0] + r.lengths[i]);
      }
      for (let i = 1; i < n; i++) {
        expect(ms[i][0]).toBeGreaterThanOrEqual(0.2);
        expect(ms[i][0]).toBeLessThan(r.msMax);
        expect(ms[i][0]).toBeGreaterThanOrEqual(ms[i - 1][0]);
      }
      expect(ms[n - 1][1]).toBe(r.msMax + 1);
      expect(cs[n - 1][1]).toBe(r.csMax + 1);
      expect(r.csMax).toBe(15 * r.msMax);
      expect(r.counts.reduce((a, b) => a + b, 0)).toBe(x.data.length);
      r.counts.forEach((c, i) => expect(r.lengths[i]).toBe(c === 0 ? 0.001 : r.csMax * (c / x.data.length)));
      for (const [clo, chi] of cs) expect(chi - clo).toBeGreaterThan(0);
    }
  });

  it('the number of ranges is drawn uniformly from 3…8', () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 200; seed++) seen.add(fdhope.keygen(X.DM, { rb: seededRandomBytes(seed) }).messagespace.length);
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7, 8]);
    expect(fdhope.keygen(X.DM, { rb: seededRandomBytes(1), nRanges: 5 }).messagespace.length).toBe(5);
  });

  it('msmax_rounding: Python round half to even', () => {
    for (const c of V.keygen.msmax_rounding.cases as { max_abs: number; msMax: number; csMax: number; last_message_hi: number; last_cipher_hi: number }[]) {
      const x = Float64Array.from([0, c.max_abs / 2, -c.max_abs]);
      const r = fdhope.keygenWithDetails(x, { rb: seededRandomBytes(3) });
      expect(r.msMax).toBe(c.msMax);
      expect(r.csMax).toBe(c.csMax);
      expect(r.key.messagespace.at(-1)?.[1]).toBe(c.last_message_hi);
      expect(r.key.cipherspace.at(-1)?.[1]).toBe(c.last_cipher_hi);
    }
    expect([0.5, 1.5, 2.5, 3.5, -2.5, 2.4999999999999996, 7].map(fdhope.roundHalfEven)).toEqual([0, 2, 2, 4, -2, 2, 7]);
  });

  it('one-shot generators are refused (two passes are needed); mismatching passes are detected', () => {
    expectAppError(() => fdhope.keygen(udmBlocks(D, 1)), 'INVALID_ARGUMENT', 'one-shot');
    let calls = 0;
    const shrinking = () => (calls++ === 0 ? [new Float64Array([1, 2, 3])] : [new Float64Array([1, 2])]);
    expectAppError(() => fdhope.keygen(shrinking), 'INVALID_ARGUMENT', 'second pass');
    expect(fdhope.keygen([new Float64Array([1, -2]), { data: new Float64Array([3]) }], { rb: seededRandomBytes(1) }).messagespace.length).toBeGreaterThanOrEqual(3);
  });
});

describe('udm_dm: the DM encrypted with the DM key (sens 0)', () => {
  it('ciphertexts and threshold, bitwise', () => {
    const v = V.udm_dm.DM_encrypted;
    const key = keyOf(v);
    const m = dm(D);
    const out = new Float64Array(9);
    fdhope.encryptInto(key, m.data, out, 0);
    expect(Array.from(out)).toEqual(v.ciphertext.flat());
    expect(fdhope.encrypt(key, V.udm_dm.default_threshold, 0)).toBe(v.threshold_ciphertext);
    // encryptInto may work in place.
    const inPlace = m.data.slice();
    fdhope.encryptInto(key, inPlace, inPlace, 0);
    expect(Array.from(inPlace)).toEqual(v.ciphertext.flat());
  });
});

describe('serialize / deserialize', () => {
  it('round-trips exactly in the upstream-like JSON layout', () => {
    const key = fdhope.keygen(udm(D), { rb: seededRandomBytes(9) });
    const json = fdhope.serialize(key);
    const parsed = JSON.parse(json);
    expect(Object.keys(parsed)).toEqual(['messagespace', 'cipherspace']);
    expect(Object.keys(parsed.messagespace)).toEqual(key.messagespace.map((_, i) => `RANGE_${i}`));
    expect(parsed.messagespace.RANGE_0).toEqual(key.messagespace[0]);
    expect(fdhope.deserialize(json)).toEqual(key);
    const back = fdhope.deserialize(json);
    expect(fdhope.encrypt(back, 3.3, 0)).toBe(fdhope.encrypt(key, 3.3, 0));
  });

  it('reads the spec key written upstream-style', () => {
    const json = JSON.stringify({ messagespace: V.spec_vector.messagespace, cipherspace: V.spec_vector.cipherspace });
    expect(fdhope.encrypt(fdhope.deserialize(json), 4.5, 0)).toBe(80.5);
  });

  it('rejects malformed keys with INVALID_KEY', () => {
    const ok = { messagespace: { RANGE_0: [0, 1], RANGE_1: [1, 3] }, cipherspace: { RANGE_0: [0, 10], RANGE_1: [10, 70] } };
    expect(fdhope.deserialize(JSON.stringify(ok)).messagespace.length).toBe(2);
    const bad = [
      'not json',
      '[]',
      JSON.stringify({ messagespace: ok.messagespace }),
      JSON.stringify({ ...ok, messagespace: { RANGE_0: [0, 1], RANGE_2: [1, 3] } }), // gap in names
      JSON.stringify({ ...ok, messagespace: { RANGE_0: [0, 1], RANGE_1: [2, 3] } }), // not contiguous
      JSON.stringify({ ...ok, cipherspace: { RANGE_0: [0, 10], RANGE_1: [10, 5] } }), // negative width (C3)
      JSON.stringify({ ...ok, messagespace: { RANGE_0: [0, 1], RANGE_1: [1, 'x'] } }),
      JSON.stringify({ ...ok, cipherspace: { RANGE_0: [-1, 10], RANGE_1: [10, 70] } }),
      JSON.stringify({ ...ok, messagespace: { RANGE_0: [0, 1] } }),
    ];
    for (const b of bad) expectAppError(() => fdhope.deserialize(b), 'INVALID_KEY');
    expectAppError(() => fdhope.encrypt({ messagespace: [], cipherspace: [] }, 1, 0), 'INVALID_KEY');
  });
});

describe('negative tests', () => {
  const key = keyOf(V.spec_vector);
  it('bad arguments are named', () => {
    expectAppError(() => fdhope.encrypt(key, Number.NaN, 0), 'DATA_MAGNITUDE', 'p');
    expectAppError(() => fdhope.encrypt(key, Infinity, 0), 'DATA_MAGNITUDE', 'p');
    expectAppError(() => fdhope.encrypt(key, '1' as unknown as number, 0), 'INVALID_ARGUMENT', 'p');
    expectAppError(() => fdhope.encrypt(key, 1, -1), 'INVALID_ARGUMENT', 'sens');
    expectAppError(() => fdhope.encryptInto(key, new Float64Array(3), new Float64Array(2), 0), 'SHAPE_MISMATCH', 'out');
    expectAppError(() => fdhope.encryptInto(key, [1] as unknown as Float64Array, new Float64Array(1), 0), 'INVALID_ARGUMENT', 'src');
    expectAppError(() => fdhope.encryptInto(key, Float64Array.from([1, Number.NaN]), new Float64Array(2), 0), 'DATA_MAGNITUDE', 'index 1');
    expectAppError(() => fdhope.keygen(new Float64Array(0)), 'INVALID_ARGUMENT', 'values');
    expectAppError(() => fdhope.keygen(Float64Array.from([1, Infinity])), 'DATA_MAGNITUDE');
    expectAppError(() => fdhope.keygen('abc' as unknown as Float64Array), 'INVALID_ARGUMENT', 'values');
    expectAppError(() => fdhope.keygen(Float64Array.from([1]), { maxRange: 11 }), 'INVALID_ARGUMENT', 'maxRange');
    expectAppError(() => fdhope.keygen(Float64Array.from([1]), { bounds: [1, 99] }), 'INVALID_ARGUMENT', 'bounds[1]');
    expectAppError(() => fdhope.keygen(Float64Array.from([1]), { fixDensity: false }), 'INVALID_ARGUMENT', 'shape');
  });
});
