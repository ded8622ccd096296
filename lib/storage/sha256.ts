/**
 * @module storage/sha256
 * SHA-256 (FIPS 180-4) as lowercase hex, the form MictlanX uses for `checksum` and
 * `full_checksum` (spec/mictlanx.md §3, §5.3). Two implementations:
 * - `sha256Hex`: one-shot through WebCrypto (`crypto.subtle.digest`), the fastest where the bytes
 *   already sit in one buffer. Browsers (secure contexts, which include http://localhost and
 *   http://127.0.0.1), workers and Node 22 all expose it.
 * - `Sha256`: a small pure-TypeScript incremental hasher (`update` … `digest`). WebCrypto has no
 *   incremental API, so hashing several buffers as one stream (a ball's `full_checksum` over its
 *   chunk payloads) would otherwise need them copied into one buffer first, doubling peak memory.
 *   Verified against the NIST examples and, on random inputs split at random points, against
 *   WebCrypto (tests/unit/sha256.test.ts, tests/property/sha256.property.test.ts).
 * `sha256HexOfParts` picks between them: a copy is made only for small totals, where it is cheap
 * and WebCrypto's speed wins (measured in bench/sha256.ts).
 */
import { AppError } from '../errors';

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) {
    throw new AppError('INTERNAL', 'crypto.subtle is unavailable', {
      userMessage: 'This page is not a secure context, so checksums cannot be computed. Open the app over https or from localhost.',
    });
  }
  return s;
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += bytes[i].toString(16).padStart(2, '0');
  return s;
}

/**
 * Bytes of a hex string (whitespace not allowed).
 * @throws AppError INVALID_ARGUMENT on odd length or non-hex characters
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new AppError('INVALID_ARGUMENT', 'not a hex string', { userMessage: 'A value that should be hexadecimal is not.' });
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** SHA-256 of `bytes` as 64 lowercase hex characters (WebCrypto). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // WebCrypto wants an ArrayBuffer-backed view; copy only when the view sits on a SharedArrayBuffer.
  const input = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
  return toHex(new Uint8Array(await subtle().digest('SHA-256', input)));
}

/**
 * Below this total, `sha256HexOfParts` joins the parts and hashes them with WebCrypto (the copy
 * costs at most this much memory and WebCrypto is several times faster than `Sha256`); above it,
 * it streams them through `Sha256` without copying.
 */
export const SHA256_JOIN_MAX_BYTES = 4 * 1024 * 1024;

/** SHA-256 of the concatenation of `parts`, in order, without copying large inputs. */
export async function sha256HexOfParts(parts: readonly Uint8Array[]): Promise<string> {
  if (parts.length === 1) return sha256Hex(parts[0]);
  let total = 0;
  for (const p of parts) total += p.byteLength;
  if (total <= SHA256_JOIN_MAX_BYTES) return sha256Hex(concatBytes(parts));
  const h = new Sha256();
  for (const p of parts) h.update(p);
  return h.hex();
}

/** Concatenates byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/**
 * The parts as one array: a view when they are adjacent views of one buffer, in order (as the
 * client's reads lay out a ball), otherwise a new concatenated copy.
 */
export function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 0) return new Uint8Array(0);
  const first = parts[0];
  let end = first.byteOffset + first.byteLength;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i];
    if (p.buffer !== first.buffer || p.byteOffset !== end) return concatBytes(parts);
    end += p.byteLength;
  }
  return new Uint8Array(first.buffer, first.byteOffset, end - first.byteOffset);
}

// ---- pure incremental SHA-256 (FIPS 180-4 §6.2) ------------------------------------------------

// prettier-ignore
const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
].map((x) => x | 0));

// prettier-ignore
const H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** Processes 64-byte blocks of `p` from `off` while at least 64 bytes remain; returns the new offset. */
function compressBlocks(H: Int32Array, W: Int32Array, p: Uint8Array, off: number, end: number): number {
  let h0 = H[0], h1 = H[1], h2 = H[2], h3 = H[3], h4 = H[4], h5 = H[5], h6 = H[6], h7 = H[7];
  while (end - off >= 64) {
    for (let t = 0; t < 16; t++, off += 4) W[t] = (p[off] << 24) | (p[off + 1] << 16) | (p[off + 2] << 8) | p[off + 3];
    for (let t = 16; t < 64; t++) {
      const x = W[t - 15];
      const y = W[t - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      W[t] = (s1 + W[t - 7] + s0 + W[t - 16]) | 0;
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[t] + W[t]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
    h5 = (h5 + f) | 0;
    h6 = (h6 + g) | 0;
    h7 = (h7 + h) | 0;
  }
  H[0] = h0; H[1] = h1; H[2] = h2; H[3] = h3; H[4] = h4; H[5] = h5; H[6] = h6; H[7] = h7;
  return off;
}

/**
 * Incremental SHA-256: `new Sha256().update(a).update(b).hex()` equals the hash of `a ‖ b`.
 * Inputs are read, never copied (except for the < 64-byte tail kept between updates).
 * @throws AppError INVALID_ARGUMENT when used after `digest()`, or given something other than bytes
 */
export class Sha256 {
  readonly #h = Int32Array.from(H0.map((x) => x | 0));
  readonly #w = new Int32Array(64);
  readonly #block = new Uint8Array(64);
  #blockLen = 0;
  /** Total bytes hashed (exact up to 2^53). */
  #length = 0;
  #done = false;

  update(bytes: Uint8Array): this {
    if (this.#done) throw new AppError('INVALID_ARGUMENT', 'Sha256: update after digest', { userMessage: 'An internal checksum was misused.' });
    if (!(bytes instanceof Uint8Array)) throw new AppError('INVALID_ARGUMENT', 'Sha256: update needs a Uint8Array', { userMessage: 'An internal checksum was given data of the wrong type.' });
    const n = bytes.length;
    this.#length += n;
    let off = 0;
    if (this.#blockLen > 0) {
      const take = Math.min(64 - this.#blockLen, n);
      this.#block.set(bytes.subarray(0, take), this.#blockLen);
      this.#blockLen += take;
      off = take;
      if (this.#blockLen < 64) return this;
      compressBlocks(this.#h, this.#w, this.#block, 0, 64);
      this.#blockLen = 0;
    }
    off = compressBlocks(this.#h, this.#w, bytes, off, n);
    if (off < n) {
      this.#block.set(bytes.subarray(off), 0);
      this.#blockLen = n - off;
    }
    return this;
  }

  /** The 32-byte digest; the hasher cannot be used afterwards. */
  digest(): Uint8Array {
    if (this.#done) throw new AppError('INVALID_ARGUMENT', 'Sha256: digest called twice', { userMessage: 'An internal checksum was misused.' });
    const bitsHi = Math.floor(this.#length / 2 ** 29);
    const bitsLo = (this.#length % 2 ** 29) * 8;
    const tail = new Uint8Array(this.#blockLen < 56 ? 64 : 128);
    tail.set(this.#block.subarray(0, this.#blockLen));
    tail[this.#blockLen] = 0x80;
    const dv = new DataView(tail.buffer);
    dv.setUint32(tail.length - 8, bitsHi, false);
    dv.setUint32(tail.length - 4, bitsLo, false);
    compressBlocks(this.#h, this.#w, tail, 0, tail.length);
    this.#done = true;
    const out = new Uint8Array(32);
    const ov = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) ov.setInt32(4 * i, this.#h[i], false);
    return out;
  }

  /** The digest as 64 lowercase hex characters. */
  hex(): string {
    return toHex(this.digest());
  }
}

/** One-shot pure SHA-256 (synchronous), mostly for tests and small inputs. */
export function sha256Bytes(bytes: Uint8Array): Uint8Array {
  return new Sha256().update(bytes).digest();
}
