/**
 * ChaCha20 (RFC 8439 §2.3–2.4) as a deterministic random bit generator: the keystream of a
 * 256-bit key and a 96-bit nonce, from block counter 0. D5 allows "a standard DRBG seeded from the
 * platform CSPRNG": the key is 32 bytes from `crypto.getRandomValues`, held only for one job.
 *
 * Why a seeded generator at all: a streamed upload (lib/storage `putNdarrayStream`) needs the
 * SHA-256 of the whole object before its first chunk leaves, so the encrypted UDM is produced
 * twice (hashed, then uploaded) and must come out identical both times. Each UDM row gets its own
 * nonce, so the same bytes come out however rows are split over crypto workers.
 */
import type { RandomBytes } from './random';

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

/** One 64-byte ChaCha20 block of `state` (16 words, not modified) into `out` (16 words). */
function block(state: Uint32Array, out: Uint32Array): void {
  let x0 = state[0], x1 = state[1], x2 = state[2], x3 = state[3];
  let x4 = state[4], x5 = state[5], x6 = state[6], x7 = state[7];
  let x8 = state[8], x9 = state[9], x10 = state[10], x11 = state[11];
  let x12 = state[12], x13 = state[13], x14 = state[14], x15 = state[15];
  for (let i = 0; i < 10; i++) {
    // Column rounds.
    x0 = (x0 + x4) | 0; x12 = rotl(x12 ^ x0, 16); x8 = (x8 + x12) | 0; x4 = rotl(x4 ^ x8, 12);
    x0 = (x0 + x4) | 0; x12 = rotl(x12 ^ x0, 8); x8 = (x8 + x12) | 0; x4 = rotl(x4 ^ x8, 7);
    x1 = (x1 + x5) | 0; x13 = rotl(x13 ^ x1, 16); x9 = (x9 + x13) | 0; x5 = rotl(x5 ^ x9, 12);
    x1 = (x1 + x5) | 0; x13 = rotl(x13 ^ x1, 8); x9 = (x9 + x13) | 0; x5 = rotl(x5 ^ x9, 7);
    x2 = (x2 + x6) | 0; x14 = rotl(x14 ^ x2, 16); x10 = (x10 + x14) | 0; x6 = rotl(x6 ^ x10, 12);
    x2 = (x2 + x6) | 0; x14 = rotl(x14 ^ x2, 8); x10 = (x10 + x14) | 0; x6 = rotl(x6 ^ x10, 7);
    x3 = (x3 + x7) | 0; x15 = rotl(x15 ^ x3, 16); x11 = (x11 + x15) | 0; x7 = rotl(x7 ^ x11, 12);
    x3 = (x3 + x7) | 0; x15 = rotl(x15 ^ x3, 8); x11 = (x11 + x15) | 0; x7 = rotl(x7 ^ x11, 7);
    // Diagonal rounds.
    x0 = (x0 + x5) | 0; x15 = rotl(x15 ^ x0, 16); x10 = (x10 + x15) | 0; x5 = rotl(x5 ^ x10, 12);
    x0 = (x0 + x5) | 0; x15 = rotl(x15 ^ x0, 8); x10 = (x10 + x15) | 0; x5 = rotl(x5 ^ x10, 7);
    x1 = (x1 + x6) | 0; x12 = rotl(x12 ^ x1, 16); x11 = (x11 + x12) | 0; x6 = rotl(x6 ^ x11, 12);
    x1 = (x1 + x6) | 0; x12 = rotl(x12 ^ x1, 8); x11 = (x11 + x12) | 0; x6 = rotl(x6 ^ x11, 7);
    x2 = (x2 + x7) | 0; x13 = rotl(x13 ^ x2, 16); x8 = (x8 + x13) | 0; x7 = rotl(x7 ^ x8, 12);
    x2 = (x2 + x7) | 0; x13 = rotl(x13 ^ x2, 8); x8 = (x8 + x13) | 0; x7 = rotl(x7 ^ x8, 7);
    x3 = (x3 + x4) | 0; x14 = rotl(x14 ^ x3, 16); x9 = (x9 + x14) | 0; x4 = rotl(x4 ^ x9, 12);
    x3 = (x3 + x4) | 0; x14 = rotl(x14 ^ x3, 8); x9 = (x9 + x14) | 0; x4 = rotl(x4 ^ x9, 7);
  }
  out[0] = x0 + state[0]; out[1] = x1 + state[1]; out[2] = x2 + state[2]; out[3] = x3 + state[3];
  out[4] = x4 + state[4]; out[5] = x5 + state[5]; out[6] = x6 + state[6]; out[7] = x7 + state[7];
  out[8] = x8 + state[8]; out[9] = x9 + state[9]; out[10] = x10 + state[10]; out[11] = x11 + state[11];
  out[12] = x12 + state[12]; out[13] = x13 + state[13]; out[14] = x14 + state[14]; out[15] = x15 + state[15];
}

function word(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

/**
 * The ChaCha20 keystream of (key, nonce) from block `counter` (default 0), as RandomBytes: each
 * call continues where the previous one stopped.
 * @throws RangeError on a key that is not 32 bytes or a nonce that is not 12.
 */
export function chacha20Stream(key: Uint8Array, nonce: Uint8Array, counter = 0): RandomBytes {
  if (key.length !== 32) throw new RangeError('a ChaCha20 key is 32 bytes');
  if (nonce.length !== 12) throw new RangeError('a ChaCha20 nonce is 12 bytes');
  const state = new Uint32Array(16);
  state.set(SIGMA);
  for (let i = 0; i < 8; i++) state[4 + i] = word(key, 4 * i);
  state[12] = counter >>> 0;
  for (let i = 0; i < 3; i++) state[13 + i] = word(nonce, 4 * i);
  const words = new Uint32Array(16);
  const bytes = new Uint8Array(words.buffer);
  let used = 64;
  const little = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  return (out) => {
    let o = 0;
    while (o < out.length) {
      if (used === 64) {
        block(state, words);
        if (!little) for (let i = 0; i < 16; i++) words[i] = ((words[i] & 0xff) << 24) | ((words[i] & 0xff00) << 8) | ((words[i] >>> 8) & 0xff00) | (words[i] >>> 24);
        state[12] = (state[12] + 1) >>> 0;
        used = 0;
      }
      const take = Math.min(64 - used, out.length - o);
      out.set(bytes.subarray(used, used + take), o);
      used += take;
      o += take;
    }
  };
}

/** The nonce of stream `index` (a row number, < 2^53) in domain `domain` (a 32-bit tag). */
export function streamNonce(domain: number, index: number): Uint8Array {
  const nonce = new Uint8Array(12);
  const v = new DataView(nonce.buffer);
  v.setUint32(0, domain >>> 0, true);
  v.setUint32(4, index % 2 ** 32, true);
  v.setUint32(8, Math.floor(index / 2 ** 32), true);
  return nonce;
}
