/**
 * Liu properties (spec/crypto.md §2.3–§2.5) with fast-check: decryption inverts encryption,
 * decryption is the linear functional ⟨w,·⟩, and add / subtract / scalar multiply / ct×ct are
 * homomorphic — within 1e-12·max(1, |expected|) (shared/vectors/README.md tolerances).
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import * as liu from '@/lib/crypto/liu';
import { seededRandomBytes } from '@/lib/crypto/random';

const level = fc.constantFrom<liu.LiuLevel>(128, 192, 256);
const seed = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const plain = fc.double({ min: -1e15, max: 1e15, noNaN: true });
const small = fc.double({ min: -1e3, max: 1e3, noNaN: true });

function within(got: number, want: number, scale = Math.abs(want)): boolean {
  return Math.abs(got - want) <= 1e-12 * Math.max(1, scale);
}

describe('Liu properties', () => {
  it('Dec(Enc(v)) ≈ v, and ⟨w, Enc(v)⟩ ≈ v', () => {
    fc.assert(
      fc.property(level, seed, plain, (lv, s, v) => {
        const rb = seededRandomBytes(s);
        const sk = liu.keygen(lv, rb);
        const E = liu.encrypt(sk, v, rb);
        const w = liu.decryptWeights(sk);
        let viaW = 0;
        for (let i = 0; i < sk.m; i++) viaW += w[i] * E[i];
        return within(liu.decrypt(sk, E), v) && within(viaW, v);
      }),
      { numRuns: 300 },
    );
  });

  it('batch encryption of arrays round-trips element-wise', () => {
    fc.assert(
      fc.property(level, seed, fc.float64Array({ min: -1e9, max: 1e9, noNaN: true, maxLength: 64 }), (lv, s, values) => {
        const rb = seededRandomBytes(s);
        const sk = liu.keygen(lv, rb);
        const ct = new Float64Array(values.length * sk.m);
        liu.encryptInto(sk, values, ct, rb);
        const back = new Float64Array(values.length);
        liu.decryptInto(sk, ct, back);
        return values.every((v, i) => within(back[i], v));
      }),
      { numRuns: 100 },
    );
  });

  it('additive: Dec(E(a) + E(b)) ≈ a + b and Dec(E(a) − E(b)) ≈ a − b', () => {
    fc.assert(
      fc.property(level, seed, plain, plain, (lv, s, a, b) => {
        const rb = seededRandomBytes(s);
        const sk = liu.keygen(lv, rb);
        const Ea = liu.encrypt(sk, a, rb);
        const Eb = liu.encrypt(sk, b, rb);
        // Cancellation (a ≈ −b) makes the error relative to the operands, not to the result.
        const scale = Math.max(Math.abs(a), Math.abs(b));
        return within(liu.decrypt(sk, liu.add(Ea, Eb)), a + b, scale) && within(liu.decrypt(sk, liu.sub(Ea, Eb)), a - b, scale);
      }),
      { numRuns: 300 },
    );
  });

  it('scalar multiplication: Dec(c·E(a)) ≈ c·a; sums of many ciphertexts (encrypted means)', () => {
    fc.assert(
      fc.property(level, seed, small, fc.array(small, { minLength: 1, maxLength: 50 }), (lv, s, c, xs) => {
        const rb = seededRandomBytes(s);
        const sk = liu.keygen(lv, rb);
        const ok1 = within(liu.decrypt(sk, liu.mulScalar(c, liu.encrypt(sk, xs[0], rb))), c * xs[0], Math.max(Math.abs(c * xs[0]), Math.abs(xs[0])));
        let acc: Float64Array = new Float64Array(sk.m);
        for (const x of xs) acc = liu.add(acc, liu.encrypt(sk, x, rb));
        const mean = xs.reduce((p, q) => p + q, 0) / xs.length;
        const scale = Math.max(...xs.map(Math.abs));
        return ok1 && within(liu.decrypt(sk, liu.mulScalar(1 / xs.length, acc)), mean, scale);
      }),
      { numRuns: 200 },
    );
  });

  it('ciphertext × ciphertext: two-stage Dec(E(a) ⊗ E(b)) ≈ a·b', () => {
    fc.assert(
      fc.property(level, seed, small, small, (lv, s, a, b) => {
        const rb = seededRandomBytes(s);
        const sk = liu.keygen(lv, rb);
        return within(liu.decryptMul(sk, liu.mul(liu.encrypt(sk, a, rb), liu.encrypt(sk, b, rb))), a * b, Math.max(Math.abs(a * b), Math.abs(a), Math.abs(b)));
      }),
      { numRuns: 200 },
    );
  });

  it('decrypting with another key does not recover the plaintext (the key matters)', () => {
    fc.assert(
      fc.property(level, seed, seed, fc.double({ min: 1, max: 1e6, noNaN: true }), (lv, s1, s2, v) => {
        fc.pre(s1 !== s2);
        const sk1 = liu.keygen(lv, seededRandomBytes(s1));
        const sk2 = liu.keygen(lv, seededRandomBytes(s2));
        fc.pre(JSON.stringify(sk1.triples) !== JSON.stringify(sk2.triples));
        const E = liu.encrypt(sk1, v, seededRandomBytes(s1 ^ s2));
        return Math.abs(liu.decrypt(sk2, E) - v) > 1e-6 * v;
      }),
      { numRuns: 200 },
    );
  });

  it('the documented ciphertext-only leak exists: E_0 ≈ k_0·t_0·v (spec/crypto.md §2.8)', () => {
    fc.assert(
      fc.property(seed, fc.double({ min: 1, max: 1e6, noNaN: true }), fc.double({ min: 1, max: 1e6, noNaN: true }), (s, x, y) => {
        const rb = seededRandomBytes(s);
        const sk = liu.keygen(128, rb);
        // |noise| ≤ s_0 + k_0 < 2^16 per ciphertext, so a plaintext gap worth more than 2^17 in
        // component 0 always shows through.
        fc.pre(sk.triples[0][0] * sk.triples[0][2] * Math.abs(x - y) > 2 ** 17);
        const Ex = liu.encrypt(sk, x, rb);
        const Ey = liu.encrypt(sk, y, rb);
        return Math.sign(Ex[0] - Ey[0]) === Math.sign(x - y);
      }),
      { numRuns: 200 },
    );
  });
});
