/**
 * lib/crypto/random.ts and the batch loops built on it (spec/crypto.md §2.3 Liu `R`, §3.3 FDHOPE
 * noise; D5): uniforms drawn through the reused 64 KB scratch are exactly those of one draw over
 * the whole stream, whatever the batch boundaries; a re-entrant RandomBytes cannot corrupt them;
 * batch encryption equals per-value encryption on the same stream across batch boundaries; and a
 * statistical sanity check of the uniforms from the platform CSPRNG.
 */
import { describe, expect, it } from 'vitest';
import * as fdhope from '@/lib/crypto/fdhope';
import * as liu from '@/lib/crypto/liu';
import { UNIFORM_BATCH, fillUniform, secureRandomBytes, seededRandomBytes, uniform, type RandomBytes } from '@/lib/crypto/random';

/** Independent reference: all bytes in one draw, little-endian words, 27 + 26 bits. */
function referenceUniforms(rb: RandomBytes, n: number): number[] {
  const bytes = new Uint8Array(n * 8);
  rb(bytes);
  const dv = new DataView(bytes.buffer);
  return Array.from({ length: n }, (_, i) => {
    const hi = dv.getUint32(8 * i, true) >>> 5;
    const lo = dv.getUint32(8 * i + 4, true) >>> 6;
    return (hi * 2 ** 26 + lo) / 2 ** 53;
  });
}

describe('fillUniform', () => {
  it('equals one draw over the whole stream, across scratch batches', () => {
    for (const n of [1, 3, UNIFORM_BATCH - 1, UNIFORM_BATCH, UNIFORM_BATCH + 1, 3 * UNIFORM_BATCH + 17]) {
      const got = fillUniform(seededRandomBytes(n), new Float64Array(n));
      expect(Array.from(got)).toEqual(referenceUniforms(seededRandomBytes(n), n));
    }
  });

  it('continues the stream across calls: two halves equal one whole', () => {
    const whole = fillUniform(seededRandomBytes(5), new Float64Array(20_000));
    const rb = seededRandomBytes(5);
    const a = fillUniform(rb, new Float64Array(12_345));
    const b = fillUniform(rb, new Float64Array(20_000 - 12_345));
    expect([...a, ...b]).toEqual(Array.from(whole));
  });

  it('is not corrupted by a RandomBytes that itself draws uniforms (re-entrant use of the scratch)', () => {
    const base = seededRandomBytes(11);
    const nested: RandomBytes = (out) => {
      base(out);
      fillUniform(seededRandomBytes(99), new Float64Array(UNIFORM_BATCH)); // after filling `out`
    };
    const got = fillUniform(nested, new Float64Array(2 * UNIFORM_BATCH + 5));
    expect(Array.from(got)).toEqual(referenceUniforms(seededRandomBytes(11), 2 * UNIFORM_BATCH + 5));
  });

  it('gives values in [0, 1) on the 2^-53 grid, including both ends of the byte range', () => {
    const zeros: RandomBytes = (out) => out.fill(0);
    const ones: RandomBytes = (out) => out.fill(255);
    expect(uniform(zeros)).toBe(0);
    expect(uniform(ones)).toBe(1 - 2 ** -53);
    for (const u of fillUniform(secureRandomBytes, new Float64Array(10_000))) {
      expect(u >= 0 && u < 1).toBe(true);
      expect(Number.isInteger(u * 2 ** 53)).toBe(true);
    }
  });

  it('statistical sanity of the CSPRNG uniforms: mean, variance, 64-bin chi-square, serial correlation', () => {
    const n = 1 << 20;
    const u = fillUniform(secureRandomBytes, new Float64Array(n));
    let sum = 0;
    let sq = 0;
    let lag = 0;
    const bins = new Array<number>(64).fill(0);
    for (let i = 0; i < n; i++) {
      sum += u[i];
      sq += u[i] * u[i];
      if (i > 0) lag += (u[i] - 0.5) * (u[i - 1] - 0.5);
      bins[Math.floor(u[i] * 64)]++;
    }
    const mean = sum / n;
    const variance = sq / n - mean * mean;
    // Standard errors: mean 0.29/√n ≈ 2.8e-4, variance ≈ 0.3/√n·(1/12)… bounds are > 6σ.
    expect(Math.abs(mean - 0.5)).toBeLessThan(2e-3);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(1e-3);
    const e = n / 64;
    const chi2 = bins.reduce((acc, o) => acc + (o - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(130); // 63 degrees of freedom: P(χ² > 130) < 1e-6
    expect(Math.abs(lag / (n - 1) / (1 / 12))).toBeLessThan(6 / Math.sqrt(n));
  });
});

describe('batch encryption equals per-value encryption across scratch batches', () => {
  it('Liu encryptInto at every level, for more scalars than one batch of uniforms', () => {
    for (const level of [128, 192, 256] as const) {
      const key = liu.keygen(level, seededRandomBytes(level));
      const n = Math.ceil((2.5 * UNIFORM_BATCH) / key.m);
      const values = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 1000);
      const out = new Float64Array(n * key.m);
      liu.encryptInto(key, values, out, seededRandomBytes(7));
      const rb = seededRandomBytes(7);
      for (let j = 0; j < n; j++) {
        const one = liu.encrypt(key, values[j], rb);
        for (let i = 0; i < key.m; i++) if (out[j * key.m + i] !== one[i]) throw new Error(`level ${level}: scalar ${j} differs`);
      }
    }
  });

  it('Liu encryptInto with rounding on, across batches', () => {
    const key = liu.keygen(128, seededRandomBytes(3));
    const values = Float64Array.from({ length: 6000 }, (_, i) => i / 7);
    const out = new Float64Array(values.length * 3);
    liu.encryptInto(key, values, out, seededRandomBytes(8), { round: true, decimals: 2 });
    const rb = seededRandomBytes(8);
    values.forEach((v, j) => expect(Array.from(out.subarray(3 * j, 3 * j + 3))).toEqual(Array.from(liu.encrypt(key, v, rb, { round: true, decimals: 2 }))));
  });

  it('FDHOPE encryptInto with noise, for more values than one batch', () => {
    const key = fdhope.keygen(Float64Array.from({ length: 500 }, (_, i) => (i % 50) - 20), { rb: seededRandomBytes(1) });
    const src = Float64Array.from({ length: 2 * UNIFORM_BATCH + 3 }, (_, i) => ((i * 37) % 101) / 3 - 15);
    const out = new Float64Array(src.length);
    fdhope.encryptInto(key, src, out, 1e-3, seededRandomBytes(4));
    const rb = seededRandomBytes(4);
    for (let j = 0; j < src.length; j++) if (out[j] !== fdhope.encrypt(key, src[j], 1e-3, rb)) throw new Error(`value ${j} differs`);
    // In place (out = src) gives the same ciphertexts.
    const inPlace = src.slice();
    fdhope.encryptInto(key, inPlace, inPlace, 1e-3, seededRandomBytes(4));
    expect(Array.from(inPlace)).toEqual(Array.from(out));
  });
});
