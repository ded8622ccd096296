/**
 * FDHOPE properties (spec/crypto.md §3.2, §3.3, §3.6) with fast-check, on keys fitted to random
 * data (2-D and 3-D, the C3 case): order preservation (exact for sens = 0; for gaps > sens
 * within a range with noise), oddness, sign, noise bounds, keygen invariants, serialisation.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import * as fdhope from '@/lib/crypto/fdhope';
import { seededRandomBytes } from '@/lib/crypto/random';
import { matrix } from '@/lib/data/matrix';
import { udm } from '@/lib/data/udm';

const seed = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const data = fc.float64Array({ min: -50, max: 50, noNaN: true, noDefaultInfinity: true, minLength: 1, maxLength: 60 });
/** A key fitted to random data, as keygen would for a DM or UDM. */
const keyArb = fc.tuple(seed, data).map(([s, x]) => fdhope.keygen(x, { rb: seededRandomBytes(s) }));
const value = fc.double({ min: -200, max: 200, noNaN: true });

/** The noise-free ciphertext magnitude and the slope at |p|. */
function base(key: fdhope.FdhopeKey, p: number): { base: number; scale: number } {
  const i = fdhope.intervalId(key, p);
  const [lo, hi] = key.messagespace[i];
  const [clo, chi] = key.cipherspace[i];
  const scale = (chi - clo) / (hi - lo);
  return { base: clo + scale * (Math.abs(p) - lo), scale };
}

describe('FDHOPE properties', () => {
  it('sens = 0: order-preserving on all reals (up to one rounding at range boundaries)', () => {
    fc.assert(
      fc.property(keyArb, fc.array(value, { minLength: 2, maxLength: 40 }), (key, ps) => {
        const sorted = [...ps].sort((a, b) => a - b);
        const cs = sorted.map((p) => fdhope.encrypt(key, p, 0));
        for (let i = 1; i < cs.length; i++) {
          if (!(cs[i - 1] <= cs[i] + 1e-12 * Math.max(1, Math.abs(cs[i])))) return false;
          // Strictly increasing when the plaintexts are not extremely close.
          if (sorted[i] - sorted[i - 1] > 1e-9 && !(cs[i - 1] < cs[i])) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('with noise: order kept for two values in the same range whose gap exceeds sens', () => {
    fc.assert(
      fc.property(
        keyArb,
        seed,
        fc.constantFrom(1e-8, 1e-5, 1e-3),
        fc.double({ min: 0, max: 200, noNaN: true }),
        fc.double({ min: 1.01, max: 1e4, noNaN: true }),
        fc.boolean(),
        (key, s, sens, a, factor, negative) => {
          const b = a + sens * factor;
          fc.pre(fdhope.intervalId(key, a) === fdhope.intervalId(key, b));
          const rb = seededRandomBytes(s);
          const [p1, p2] = negative ? [-b, -a] : [a, b];
          return fdhope.encrypt(key, p1, sens, rb) < fdhope.encrypt(key, p2, sens, rb);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('odd and sign-preserving: Enc(−p) = −Enc(p), sign(Enc(p)) = sign(p)', () => {
    fc.assert(
      fc.property(keyArb, value, (key, p) => {
        const c = fdhope.encrypt(key, p, 0);
        // Subnormal |p| may underflow to ±0 (the slope can be < 1), so require strictness only above that.
        const strict = Math.abs(p) > 1e-300;
        const signOk = p > 0 ? (strict ? c > 0 : c >= 0) : p < 0 ? (strict ? c < 0 : c <= 0) : c === 0;
        return fdhope.encrypt(key, -p, 0) === -c && signOk;
      }),
      { numRuns: 300 },
    );
  });

  it('noise stays in [base, base + sens·scale] and batch equals the scalar definition', () => {
    fc.assert(
      fc.property(keyArb, seed, fc.constantFrom(1e-8, 1e-5, 1e-2), fc.array(value, { minLength: 1, maxLength: 30 }), (key, s, sens, ps) => {
        const out = new Float64Array(ps.length);
        fdhope.encryptInto(key, Float64Array.from(ps), out, sens, seededRandomBytes(s));
        const rb = seededRandomBytes(s);
        const scalar = ps.map((p) => fdhope.encrypt(key, p, sens, rb));
        if (!scalar.every((c, j) => Object.is(c, out[j]))) return false;
        return ps.every((p, j) => {
          const { base: b, scale } = base(key, p);
          const m = Math.abs(out[j]);
          return m >= b && m <= b + sens * scale && (p < 0 ? out[j] < 0 : out[j] >= 0);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('keygen on 3-D UDMs (C3): positive cipher widths, counts sum to X.size, order kept on the data itself', () => {
    fc.assert(
      fc.property(
        seed,
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 5 }),
        fc.float64Array({ min: -20, max: 20, noNaN: true, noDefaultInfinity: true, minLength: 30, maxLength: 30 }),
        (s, n, a, pool) => {
          const D = matrix(pool.subarray(0, n * a), [n, a]);
          const U = udm(D);
          const r = fdhope.keygenWithDetails(U, { rb: seededRandomBytes(s) });
          if (r.counts.reduce((p, q) => p + q, 0) !== U.data.length) return false;
          if (!r.key.cipherspace.every(([lo, hi]) => hi > lo)) return false;
          const sorted = Float64Array.from(U.data).sort();
          const enc = new Float64Array(sorted.length);
          fdhope.encryptInto(r.key, sorted, enc, 0);
          for (let i = 1; i < enc.length; i++) if (enc[i] < enc[i - 1] - 1e-12 * Math.max(1, Math.abs(enc[i]))) return false;
          return true;
        },
      ),
      { numRuns: 200 },
    );
  });

  it('serialize ∘ deserialize is the identity', () => {
    fc.assert(
      fc.property(keyArb, (key) => JSON.stringify(fdhope.deserialize(fdhope.serialize(key))) === JSON.stringify(key)),
      { numRuns: 100 },
    );
  });
});
