/**
 * @module crypto/liu/scheme
 * Liu encryption and decryption of float64 scalars, vectors and tensors (spec/crypto.md §2.3,
 * §2.4, §2.6), in the exact evaluation order of shared/vectors/README.md so that ciphertexts and
 * decryptions are bitwise identical to Rory's Python core:
 *
 *   E[i]   = ((k_i·t_i)·v + s_i·R[m−1]) + k_i·(R[i] − R[prev]),  prev = m−2 for i = 0, else i−1
 *   E[m−1] = K·R[m−1]
 *   v      = (Σ_{i<m−1} (E[i] − (E[m−1]/K)·s_i)/k_i) / T           (accumulated from 0)
 *
 * A ciphertext is `m` consecutive doubles; an `n×a` matrix encrypts to an `n×a×m` tensor.
 */
import { AppError } from '../../errors';
import { matrix, size, type LiuCipherTensor, type Matrix } from '../../data/matrix';
import { UNIFORM_BATCH, fillUniform, secureRandomBytes, type RandomBytes } from '../random';
import { compileKey, type CompiledLiuKey, type LiuSecretKey } from './key';
import { pythonRound, roundingDecimals, type LiuRoundOptions } from './round';

/**
 * Largest plaintext magnitude accepted. Ciphertext components reach ≈ 2^32·|v|; this bound keeps
 * ciphertexts, sums and even ct×ct products far from float64 overflow.
 */
export const LIU_MAX_ABS_PLAINTEXT = 1e100;

/**
 * Uniform scratch of the batch path (64 KB), reused across calls: a fresh buffer per call costs
 * page faults that dominate the arithmetic in browsers (docs/perf-crypto-browser.md). Taken while
 * in use, so a re-entrant call (from inside `rb`) allocates its own.
 */
let spareR: Float64Array | null = null;

function magnitudeError(name: string, index?: number): AppError {
  const where = index === undefined ? '' : ` at index ${index}`;
  return new AppError('DATA_MAGNITUDE', `${name}${where} is not finite or exceeds ${LIU_MAX_ABS_PLAINTEXT} in magnitude`, {
    userMessage: `${name} contains a value that is too large (or not a number) for Liu encryption. Rescale the data and try again.`,
  });
}

function assertRandomBytes(rb: unknown): asserts rb is RandomBytes {
  if (typeof rb !== 'function') throw new AppError('INVALID_ARGUMENT', 'rb must be a RandomBytes function');
}

function assertPlaintext(v: unknown, name: string): asserts v is number {
  if (typeof v !== 'number') throw new AppError('INVALID_ARGUMENT', `${name} must be a number`);
  if (!(Math.abs(v) <= LIU_MAX_ABS_PLAINTEXT)) throw magnitudeError(name);
}

function assertCipherArray(x: unknown, name: string, m: number): asserts x is ArrayLike<number> {
  if (!(x instanceof Float64Array) && !Array.isArray(x)) throw new AppError('INVALID_ARGUMENT', `${name} must be a Float64Array or an array`);
  if (x.length !== m) throw new AppError('SHAPE_MISMATCH', `${name} must have length m = ${m}, got ${x.length}`);
}

/** One ciphertext from `v` and the `m` uniforms `R`, written to `out[o..o+m)`. */
function encryptAt(c: CompiledLiuKey, v: number, R: ArrayLike<number>, r: number, out: Float64Array, o: number): void {
  const { m, k, s, kt } = c;
  const rl = R[r + m - 1];
  out[o] = kt[0] * v + s[0] * rl + k[0] * (R[r] - R[r + m - 2]);
  for (let i = 1; i < m - 1; i++) out[o + i] = kt[i] * v + s[i] * rl + k[i] * (R[r + i] - R[r + i - 1]);
  out[o + m - 1] = c.K * rl;
}

/** Decryption of `E[o..o+m)` (the recipe of §2.4, same order as upstream). */
function decryptAt(c: CompiledLiuKey, E: ArrayLike<number>, o: number): number {
  const { m, k, s } = c;
  const r = E[o + m - 1] / c.K;
  let acc = 0;
  for (let i = 0; i < m - 1; i++) acc += (E[o + i] - r * s[i]) / k[i];
  return acc / c.T;
}

/**
 * Encrypts `v` with caller-supplied randomness `R` (length m, uniforms in [0, 1)). Deterministic;
 * for golden vectors and differential tests. No rounding is applied.
 *
 * @throws AppError INVALID_KEY, INVALID_ARGUMENT, SHAPE_MISMATCH (R), DATA_MAGNITUDE (v)
 */
export function encryptScalarWithR(key: LiuSecretKey, v: number, R: ArrayLike<number>): Float64Array {
  const c = compileKey(key);
  assertPlaintext(v, 'v');
  assertCipherArray(R, 'R', c.m);
  for (let i = 0; i < c.m; i++) {
    if (typeof R[i] !== 'number' || !Number.isFinite(R[i])) throw new AppError('INVALID_ARGUMENT', `R[${i}] must be a finite number`);
  }
  const out = new Float64Array(c.m);
  encryptAt(c, v, R, 0, out, 0);
  return out;
}

/**
 * Encrypts one scalar with fresh randomness from `rb`.
 *
 * @example const E = liu.encrypt(sk, 3.25); liu.decrypt(sk, E) // ≈ 3.25
 * @throws AppError INVALID_KEY, INVALID_ARGUMENT, DATA_MAGNITUDE
 */
export function encrypt(key: LiuSecretKey, v: number, rb: RandomBytes = secureRandomBytes, opts?: LiuRoundOptions): Float64Array {
  const c = compileKey(key);
  assertRandomBytes(rb);
  const d = roundingDecimals(opts);
  assertPlaintext(v, 'v');
  const R = fillUniform(rb, new Float64Array(c.m));
  const out = new Float64Array(c.m);
  encryptAt(c, d < 0 ? v : pythonRound(v, d), R, 0, out, 0);
  return out;
}

/**
 * Batch encryption: `out[j·m .. j·m+m) = Enc(values[j])`. Randomness is drawn in batches of
 * 8192 uniforms into a reused 64 KB scratch (no allocation per call or per scalar). With a seeded
 * stream the result equals calling `encrypt` on each value in order.
 *
 * @throws AppError INVALID_KEY, INVALID_ARGUMENT, SHAPE_MISMATCH (out), DATA_MAGNITUDE (values)
 */
export function encryptInto(
  key: LiuSecretKey,
  values: Float64Array,
  out: Float64Array,
  rb: RandomBytes = secureRandomBytes,
  opts?: LiuRoundOptions,
): void {
  const c = compileKey(key);
  const m = c.m;
  if (!(values instanceof Float64Array)) throw new AppError('INVALID_ARGUMENT', 'values must be a Float64Array');
  if (!(out instanceof Float64Array)) throw new AppError('INVALID_ARGUMENT', 'out must be a Float64Array');
  if (out.length !== values.length * m) {
    throw new AppError('SHAPE_MISMATCH', `out must have length values.length × m = ${values.length * m}, got ${out.length}`);
  }
  assertRandomBytes(rb);
  const d = roundingDecimals(opts);
  const n = values.length;
  // Check every value before writing anything, so a bad input leaves `out` untouched.
  for (let j = 0; j < n; j++) if (!(Math.abs(values[j]) <= LIU_MAX_ABS_PLAINTEXT)) throw magnitudeError('values', j);
  // Scalars per batch: as many whole ciphertexts' worth of uniforms as fit in the scratch.
  const batch = Math.floor(UNIFORM_BATCH / m);
  const R = spareR ?? new Float64Array(UNIFORM_BATCH);
  spareR = null;
  try {
    encryptBatches(c, values, out, rb, d, R, batch);
  } finally {
    spareR = R;
  }
}

function encryptBatches(c: CompiledLiuKey, values: Float64Array, out: Float64Array, rb: RandomBytes, d: number, R: Float64Array, batch: number): void {
  const { m, k, s, kt, K } = c;
  const n = values.length;
  for (let start = 0; start < n; start += batch) {
    const count = Math.min(batch, n - start);
    fillUniform(rb, R.subarray(0, count * m));
    if (m === 3 && d < 0) {
      // Hot path for the default level; same expressions as encryptAt with m = 3.
      const k0 = k[0], k1 = k[1], s0 = s[0], s1 = s[1], kt0 = kt[0], kt1 = kt[1];
      for (let j = 0, o = start * 3; j < count; j++, o += 3) {
        const v = values[start + j];
        const r = j * 3;
        const r0 = R[r], r1 = R[r + 1], r2 = R[r + 2];
        out[o] = kt0 * v + s0 * r2 + k0 * (r0 - r1);
        out[o + 1] = kt1 * v + s1 * r2 + k1 * (r1 - r0);
        out[o + 2] = K * r2;
      }
    } else if (d < 0) {
      // Any m, no rounding: encryptAt inlined (same expressions) to keep the loop monomorphic.
      const K0 = k[0], S0 = s[0], KT0 = kt[0];
      for (let j = 0, r = 0, o = start * m; j < count; j++, r += m, o += m) {
        const v = values[start + j];
        const rl = R[r + m - 1];
        out[o] = KT0 * v + S0 * rl + K0 * (R[r] - R[r + m - 2]);
        for (let i = 1; i < m - 1; i++) out[o + i] = kt[i] * v + s[i] * rl + k[i] * (R[r + i] - R[r + i - 1]);
        out[o + m - 1] = K * rl;
      }
    } else {
      for (let j = 0; j < count; j++) encryptAt(c, pythonRound(values[start + j], d), R, j * m, out, (start + j) * m);
    }
  }
}

/**
 * Encrypts a plaintext matrix (any shape, usually n×a) element-wise into a tensor of shape
 * `[...shape, m]` (spec/crypto.md §2.6).
 */
export function encryptMatrix(key: LiuSecretKey, plain: Matrix, rb: RandomBytes = secureRandomBytes, opts?: LiuRoundOptions): LiuCipherTensor {
  const c = compileKey(key);
  assertMatrix(plain, 'plain');
  const out = new Float64Array(plain.data.length * c.m);
  encryptInto(key, plain.data, out, rb, opts);
  return matrix(out, [...plain.shape, c.m]) as LiuCipherTensor;
}

/**
 * Decrypts one ciphertext (length m).
 *
 * @throws AppError INVALID_KEY, INVALID_ARGUMENT, SHAPE_MISMATCH
 */
export function decrypt(key: LiuSecretKey, E: ArrayLike<number>, opts?: LiuRoundOptions): number {
  const c = compileKey(key);
  const d = roundingDecimals(opts);
  assertCipherArray(E, 'E', c.m);
  const v = decryptAt(c, E, 0);
  return d < 0 ? v : pythonRound(v, d);
}

/**
 * Batch decryption: `out[j] = Dec(cipher[j·m .. j·m+m))`.
 *
 * @throws AppError SHAPE_MISMATCH if `cipher.length ≠ out.length × m`
 */
export function decryptInto(key: LiuSecretKey, cipher: Float64Array, out: Float64Array, opts?: LiuRoundOptions): void {
  const c = compileKey(key);
  const d = roundingDecimals(opts);
  if (!(cipher instanceof Float64Array)) throw new AppError('INVALID_ARGUMENT', 'cipher must be a Float64Array');
  if (!(out instanceof Float64Array)) throw new AppError('INVALID_ARGUMENT', 'out must be a Float64Array');
  const m = c.m;
  if (cipher.length !== out.length * m) {
    throw new AppError('SHAPE_MISMATCH', `cipher must have length out.length × m = ${out.length * m}, got ${cipher.length}`);
  }
  const n = out.length;
  if (m === 3) {
    const k0 = c.k[0], k1 = c.k[1], s0 = c.s[0], s1 = c.s[1], K = c.K, T = c.T;
    for (let j = 0, o = 0; j < n; j++, o += 3) {
      const r = cipher[o + 2] / K;
      let acc = 0;
      acc += (cipher[o] - r * s0) / k0;
      acc += (cipher[o + 1] - r * s1) / k1;
      out[j] = acc / T;
    }
  } else {
    for (let j = 0; j < n; j++) out[j] = decryptAt(c, cipher, j * m);
  }
  if (d >= 0) for (let j = 0; j < n; j++) out[j] = pythonRound(out[j], d);
}

/**
 * Decrypts a tensor `[..., m]` into a matrix with the last axis dropped (e.g. n×a×m → n×a).
 *
 * @throws AppError SHAPE_MISMATCH if the last axis is not m
 */
export function decryptTensor(key: LiuSecretKey, t: Matrix, opts?: LiuRoundOptions): Matrix {
  const c = compileKey(key);
  assertMatrix(t, 't');
  const shape = t.shape;
  if (shape.length < 1 || shape[shape.length - 1] !== c.m) {
    throw new AppError('SHAPE_MISMATCH', `t must have last axis m = ${c.m}, got shape (${shape.join(', ')})`);
  }
  const outShape = shape.slice(0, -1);
  const out = new Float64Array(size(outShape));
  decryptInto(key, t.data, out, opts);
  return matrix(out, outShape);
}

/**
 * The decryption functional: `Dec(E) = Σ_i w_i·E_i` (spec/crypto.md §2.4), with
 * `w_i = 1/(k_i·T)` for i < m−1 and `w_{m−1} = −(Σ_{i<m−1} s_i/k_i)/(K·T)`. This vector *is* the
 * secret key in effect (§2.8): treat it like the key.
 */
export function decryptWeights(key: LiuSecretKey): Float64Array {
  const c = compileKey(key);
  const { m, k, s, K, T } = c;
  const w = new Float64Array(m);
  let acc = 0;
  for (let i = 0; i < m - 1; i++) {
    w[i] = 1 / (k[i] * T);
    acc += s[i] / k[i];
  }
  w[m - 1] = -acc / (K * T);
  return w;
}

function assertMatrix(x: unknown, name: string): asserts x is Matrix {
  if (typeof x !== 'object' || x === null || !((x as Matrix).data instanceof Float64Array) || !Array.isArray((x as Matrix).shape)) {
    throw new AppError('INVALID_ARGUMENT', `${name} must be a Matrix (Float64Array data and a shape)`);
  }
  if (size((x as Matrix).shape) !== (x as Matrix).data.length) {
    throw new AppError('SHAPE_MISMATCH', `${name}.data length does not match its shape`);
  }
}
