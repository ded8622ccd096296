/**
 * @module crypto/fdhope/scheme
 * FDHOPE encryption of scalars and arrays (spec/crypto.md §3.2 `IntervalID`, §3.3):
 *
 *   i = IntervalID(|p|);  scale = (chi_i − clo_i)/(hi_i − lo_i);  δ ~ U[0, sens·scale)
 *   c = clo_i + scale·(|p| − lo_i) + δ;  Enc(p) = p < 0 ? −c : c
 *
 * evaluated in this order, so sens = 0 ciphertexts are bitwise those of Rory's core.
 */
import { AppError } from '../../errors';
import { UNIFORM_BATCH, fillUniform, secureRandomBytes, type RandomBytes } from '../random';
import { compileKey, type CompiledFdhopeKey, type FdhopeKey } from './key';

/**
 * Noise scratch for sens > 0 (8192 uniforms, 64 KB), reused across calls: fresh buffers cost page
 * faults that outweigh the arithmetic in browsers (docs/perf-crypto-browser.md). Taken while in
 * use, so a re-entrant call allocates its own.
 */
let spareU: Float64Array | null = null;

/** Index of the first range with `lo ≤ a < hi` (last range: `lo ≤ a`), else 0. `a` = |p|. */
export function rangeOf(c: CompiledFdhopeKey, a: number): number {
  const { n, lo, hi } = c;
  for (let i = 0; i < n - 1; i++) if (lo[i] <= a && a < hi[i]) return i;
  return lo[n - 1] <= a ? n - 1 : 0;
}

function assertSens(sens: unknown): asserts sens is number {
  if (typeof sens !== 'number' || !Number.isFinite(sens) || sens < 0) throw new AppError('INVALID_ARGUMENT', 'sens must be a finite number ≥ 0');
}

function valueError(name: string, index?: number): AppError {
  const where = index === undefined ? '' : ` at index ${index}`;
  return new AppError('DATA_MAGNITUDE', `${name}${where} is not a finite number`, {
    userMessage: `${name} contains a value that is not a finite number. Rescale or clean the data and try again.`,
  });
}

/**
 * Index of the message range that `|p|` falls in (upstream `getIntervalID`; `RANGE_<index>`).
 *
 * @throws AppError INVALID_KEY, INVALID_ARGUMENT
 */
export function intervalId(key: FdhopeKey, p: number): number {
  const c = compileKey(key);
  if (typeof p !== 'number' || Number.isNaN(p)) throw new AppError('INVALID_ARGUMENT', 'p must be a number');
  return rangeOf(c, Math.abs(p));
}

/**
 * Encrypts one value. `sens = 0` gives the deterministic ciphertext; `sens > 0` adds
 * `δ ~ U[0, sens·scale)`. Order is kept (on |p| within a range whenever the gap exceeds sens) and
 * so is the sign. There is no decryption.
 *
 * @example fdhope.encrypt(key, 2, 0) // 40 with the spec/crypto.md §3.3 key
 * @throws AppError INVALID_KEY, INVALID_ARGUMENT, DATA_MAGNITUDE (p not finite)
 */
export function encrypt(key: FdhopeKey, p: number, sens: number, rb: RandomBytes = secureRandomBytes): number {
  const c = compileKey(key);
  if (typeof p !== 'number') throw new AppError('INVALID_ARGUMENT', 'p must be a number');
  if (!Number.isFinite(p)) throw valueError('p');
  assertSens(sens);
  if (typeof rb !== 'function') throw new AppError('INVALID_ARGUMENT', 'rb must be a RandomBytes function');
  const a = Math.abs(p);
  const i = rangeOf(c, a);
  const scale = c.scale[i];
  let e = c.clo[i] + scale * (a - c.lo[i]);
  if (sens > 0) e = e + sens * scale * fillUniform(rb, new Float64Array(1))[0];
  return p < 0 ? -e : e;
}

/**
 * Batch encryption `out[j] = Enc(src[j])`; `out` may be `src`. Uniforms are drawn in batches, and
 * not at all when `sens = 0`.
 *
 * @throws AppError SHAPE_MISMATCH if lengths differ; DATA_MAGNITUDE on a non-finite value
 */
export function encryptInto(key: FdhopeKey, src: Float64Array, out: Float64Array, sens: number, rb: RandomBytes = secureRandomBytes): void {
  const c = compileKey(key);
  if (!(src instanceof Float64Array)) throw new AppError('INVALID_ARGUMENT', 'src must be a Float64Array');
  if (!(out instanceof Float64Array)) throw new AppError('INVALID_ARGUMENT', 'out must be a Float64Array');
  if (out.length !== src.length) throw new AppError('SHAPE_MISMATCH', `out must have length ${src.length}, got ${out.length}`);
  assertSens(sens);
  if (typeof rb !== 'function') throw new AppError('INVALID_ARGUMENT', 'rb must be a RandomBytes function');
  const n = src.length;
  for (let j = 0; j < n; j++) if (!(Math.abs(src[j]) <= Number.MAX_VALUE)) throw valueError('src', j);
  if (sens === 0) {
    encryptRange(c, src, out, 0, n, 0, null);
    return;
  }
  const u = spareU ?? new Float64Array(UNIFORM_BATCH);
  spareU = null;
  try {
    for (let start = 0; start < n; start += UNIFORM_BATCH) {
      const end = Math.min(n, start + UNIFORM_BATCH);
      fillUniform(rb, u.subarray(0, end - start));
      encryptRange(c, src, out, start, end, sens, u);
    }
  } finally {
    spareU = u;
  }
}

/** `out[j] = Enc(src[j])` for j in [start, end), noise `sens·scale·u[j − start]` when `u` is given. */
function encryptRange(c: CompiledFdhopeKey, src: Float64Array, out: Float64Array, start: number, end: number, sens: number, u: Float64Array | null): void {
  const { n: nr, lo, hi, clo, scale } = c;
  const last = nr - 1;
  const loLast = lo[last];
  for (let j = start; j < end; j++) {
    const p = src[j];
    const a = Math.abs(p);
    // Inlined rangeOf: first range with lo ≤ a < hi, the last one open-ended, else RANGE_0.
    let i = 0;
    while (i < last && !(lo[i] <= a && a < hi[i])) i++;
    if (i === last && !(loLast <= a)) i = 0;
    const sc = scale[i];
    let e = clo[i] + sc * (a - lo[i]);
    if (u) e = e + sens * sc * u[j - start];
    out[j] = p < 0 ? -e : e;
  }
}
