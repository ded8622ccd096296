/**
 * @module crypto/random
 * The only source of randomness in the app (D5): `crypto.getRandomValues`, injectable so
 * tests are deterministic. Every function that needs randomness takes a `RandomBytes`.
 * `seededRandomBytes` exists for tests and benchmarks only; it is never used for keys in the app.
 *
 * Throughput: getRandomValues is fast (GB/s in Chromium and Node) when it fills a buffer that is
 * already in memory; the batch helpers here and in liu/, fdhope/ therefore draw into small reused
 * scratch buffers instead of allocating one per call (docs/perf-crypto-browser.md). No DRBG is
 * needed: measured, it would be slower than the platform CSPRNG.
 */

/** Fills `out` with random bytes. */
export type RandomBytes = (out: Uint8Array) => void;

const MAX_GRV_BYTES = 65536;

/** WebCrypto CSPRNG (browsers, Web Workers, Node ≥ 19). */
export const secureRandomBytes: RandomBytes = (out) => {
  for (let off = 0; off < out.length; off += MAX_GRV_BYTES) {
    globalThis.crypto.getRandomValues(out.subarray(off, Math.min(out.length, off + MAX_GRV_BYTES)));
  }
};

/**
 * Uniforms per scratch batch: 8192 × 8 bytes = 64 KB, the largest single `getRandomValues`
 * request. Batch loops elsewhere (Liu, FDHOPE) size their own scratch by this constant.
 */
export const UNIFORM_BATCH = 8192;

/**
 * The byte scratch `fillUniform` draws into, reused across calls. Fresh ArrayBuffer memory is
 * expensive in browsers: Chromium hands every new buffer fresh pages, and first-touch page faults
 * cost more than getRandomValues itself (docs/perf-crypto-browser.md: a fresh 768 KB buffer per
 * call capped Liu at ~6 M/s in a worker; on a reused 64 KB buffer getRandomValues runs at GB/s).
 * Taken while in use, so a re-entrant call (an `rb` that itself draws uniforms) gets its own.
 */
let spareBytes: Uint8Array | null = null;

/**
 * Fills `out` with uniforms in [0, 1) with 53 bits of precision each (8 bytes per value, the
 * high 27 bits of the first 32-bit word and 26 of the second, in platform byte order as before). Bytes are drawn in 64 KB
 * pieces into a reused scratch buffer, so the call allocates nothing; the byte stream consumed
 * is the same as one `rb` call over `out.length · 8` bytes (pieces are multiples of 8 bytes).
 */
export function fillUniform(rb: RandomBytes, out: Float64Array): Float64Array {
  const bytes = spareBytes ?? new Uint8Array(UNIFORM_BATCH * 8);
  spareBytes = null;
  try {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, UNIFORM_BATCH * 2);
    for (let off = 0; off < out.length; off += UNIFORM_BATCH) {
      const count = Math.min(UNIFORM_BATCH, out.length - off);
      rb(count === UNIFORM_BATCH ? bytes : bytes.subarray(0, count * 8));
      for (let i = 0; i < count; i++) {
        const hi = words[2 * i] >>> 5; // 27 bits
        const lo = words[2 * i + 1] >>> 6; // 26 bits
        out[off + i] = (hi * 67108864 + lo) / 9007199254740992;
      }
    }
  } finally {
    spareBytes = bytes;
  }
  return out;
}

/** One uniform in [0, 1). */
export function uniform(rb: RandomBytes): number {
  return fillUniform(rb, new Float64Array(1))[0];
}

/** A uniform integer in [0, 2^nbits), nbits ≤ 32. */
export function randomBits(rb: RandomBytes, nbits: number): number {
  if (!Number.isInteger(nbits) || nbits < 1 || nbits > 32) throw new RangeError(`nbits must be in 1..32, got ${nbits}`);
  const b = new Uint8Array(4);
  rb(b);
  const w = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  return nbits === 32 ? w : w & ((1 << nbits) - 1) >>> 0;
}

/** A uniform integer in [lo, hi] (inclusive), by rejection sampling (no modulo bias). */
export function randomInt(rb: RandomBytes, lo: number, hi: number): number {
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) throw new RangeError(`bad range [${lo}, ${hi}]`);
  const span = hi - lo + 1;
  if (span > 2 ** 32) throw new RangeError('range too large');
  const bits = Math.max(1, Math.ceil(Math.log2(span)));
  for (;;) {
    const r = randomBits(rb, bits);
    if (r < span) return lo + r;
  }
}

/**
 * Deterministic RandomBytes (xoshiro128** seeded by splitmix32) for tests and benchmarks.
 * NOT cryptographically secure; never used by the app for keys or encryption.
 */
export function seededRandomBytes(seed: number): RandomBytes {
  let s = seed >>> 0;
  const sm = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  const st = new Uint32Array([sm(), sm(), sm(), sm()]);
  const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;
  const next = () => {
    const result = Math.imul(rotl(Math.imul(st[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (st[1] << 9) >>> 0;
    st[2] ^= st[0];
    st[3] ^= st[1];
    st[1] ^= st[2];
    st[0] ^= st[3];
    st[2] ^= t;
    st[3] = rotl(st[3], 11);
    return result;
  };
  return (out) => {
    let i = 0;
    for (; i + 4 <= out.length; i += 4) {
      const w = next();
      out[i] = w & 255;
      out[i + 1] = (w >>> 8) & 255;
      out[i + 2] = (w >>> 16) & 255;
      out[i + 3] = w >>> 24;
    }
    if (i < out.length) {
      const w = next();
      for (let j = 0; i < out.length; i++, j++) out[i] = (w >>> (8 * j)) & 255;
    }
  };
}
