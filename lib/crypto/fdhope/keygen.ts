/**
 * @module crypto/fdhope/keygen
 * FDHOPE key generation fitted to the data it will encrypt (spec/crypto.md §3.2, with the D2 fix
 * C3 of §0.1 and §3.6 on by default):
 *
 *   msMax = round_half_even(max|X|) + rangeLimit;  csMax = proportion·msMax
 *   n ~ U{3 … maxRange};  b = [minVal] ++ sort(n−1 draws of U(minVal+0.2, msMax)) ++ [msMax]
 *   messagespace RANGE_i = [b_i, b_{i+1}], the last [b_{n−1}, msMax+1]
 *   count_i = #{x ∈ X : IntervalID(|x|) = i}   (every entry of X)
 *   L_i = count_i = 0 ? defaultIntervalLength : csMax·(count_i / X.size)      (C3; upstream
 *         divides by shape[0]·shape[1], which for an n×n×a UDM makes the last width negative)
 *   cipherspace RANGE_i = [c_i, c_i + L_i] (running sum from 0), the last [c_{n−1}, csMax+1]
 *
 * X may be a large UDM (n²·a values), so it can be given as blocks, read in two passes.
 */
import { AppError } from '../../errors';
import type { Matrix } from '../../data/matrix';
import { fillUniform, randomInt, secureRandomBytes, type RandomBytes } from '../random';
import { FDHOPE_MAX_RANGES, compileKey, type FdhopeKey } from './key';
import { rangeOf } from './scheme';

export interface FdhopeKeygenOptions {
  readonly rb?: RandomBytes;
  /** Lower end of the message space (default 0). */
  readonly minVal?: number;
  /** Largest number of ranges drawn (default 8, at most 10). */
  readonly maxRange?: number;
  /** csMax / msMax (default 15). */
  readonly proportion?: number;
  /** msMax = round(max|X|) + rangeLimit (default 2). */
  readonly rangeLimit?: number;
  /** Cipher width of a range with no data (default 0.001). */
  readonly defaultIntervalLength?: number;
  /**
   * D2 C3 (default true): density denominator = X.size. `false` reproduces upstream's
   * shape[0]·shape[1] (needs `shape`, or a Matrix input) and throws if that gives a
   * non-positive cipher width, as it does for 3-D UDMs.
   */
  readonly fixDensity?: boolean;
  /** Shape of X, for `fixDensity: false` with array or block input. */
  readonly shape?: readonly number[];
  /** Inject the n−1 inner boundaries instead of drawing them (golden vectors, tests). */
  readonly bounds?: readonly number[];
  /** Inject the number of ranges instead of drawing it (3 … 10). */
  readonly nRanges?: number;
}

/** A block of X: a Float64Array, or anything with one in `data` (e.g. `udmBlocks` items). */
export type FdhopeBlock = Float64Array | { readonly data: Float64Array };

/**
 * What keygen reads: a flat array, a Matrix, a re-iterable collection of blocks (e.g. an array),
 * or a function returning a fresh iterable of blocks each time it is called (for generators such
 * as `() => udmBlocks(D, 64)`, which can only be iterated once).
 */
export type FdhopeKeygenInput = Float64Array | Matrix | Iterable<FdhopeBlock> | (() => Iterable<FdhopeBlock>);

export interface FdhopeKeygenResult {
  readonly key: FdhopeKey;
  readonly msMax: number;
  readonly csMax: number;
  /** Number of values of X per range. */
  readonly counts: readonly number[];
  /** Cipher lengths L_i (before the last range's upper bound is set to csMax + 1). */
  readonly lengths: readonly number[];
  /** X.size. */
  readonly size: number;
}

const DEFAULTS = { minVal: 0, maxRange: 8, proportion: 15, rangeLimit: 2, defaultIntervalLength: 0.001 } as const;

/** Python's `round(x)` for a float: nearest integer, ties to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // ties toward +∞
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function bad(message: string): AppError {
  return new AppError('INVALID_ARGUMENT', message);
}

function num(x: unknown, name: string, min: number, max = Infinity, integer = false): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < min || x > max || (integer && !Number.isInteger(x))) {
    throw bad(`${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`);
  }
  return x;
}

/** Normalises the input to a function that yields a fresh sequence of Float64Array blocks. */
function blockSource(values: FdhopeKeygenInput): { blocks: () => Iterable<Float64Array>; shape?: readonly number[] } {
  const toArrays = function* (it: Iterable<FdhopeBlock>): Generator<Float64Array> {
    for (const b of it) {
      const data = b instanceof Float64Array ? b : (b as { data?: unknown } | null)?.data;
      if (!(data instanceof Float64Array)) throw bad('values blocks must be Float64Arrays (or objects with a Float64Array `data`)');
      yield data;
    }
  };
  if (values instanceof Float64Array) return { blocks: () => [values] };
  if (typeof values === 'function') {
    return {
      blocks: () => {
        const it = values();
        if (it === null || typeof it !== 'object' || typeof (it as Iterable<FdhopeBlock>)[Symbol.iterator] !== 'function') {
          throw bad('values() must return an iterable of blocks');
        }
        return toArrays(it);
      },
    };
  }
  if (typeof values === 'object' && values !== null) {
    const mx = values as Partial<Matrix>;
    if (mx.data instanceof Float64Array && Array.isArray(mx.shape)) return { blocks: () => [mx.data as Float64Array], shape: mx.shape };
    const it = values as Iterable<FdhopeBlock>;
    if (typeof it[Symbol.iterator] === 'function') {
      const iter = it[Symbol.iterator]();
      // A generator object is its own iterator and cannot be read twice.
      if ((iter as unknown) === it) throw bad('values is a one-shot iterator; pass a function that returns a fresh iterable (e.g. () => udmBlocks(D, 64))');
      return { blocks: () => toArrays(it) };
    }
  }
  throw bad('values must be a Float64Array, a Matrix, an iterable of blocks, or a function returning one');
}

/**
 * Generates a key for the values X (an UDM, a DM, a shift matrix…) and reports the counts and
 * lengths behind it.
 *
 * @throws AppError INVALID_ARGUMENT (bad options or input), DATA_MAGNITUDE (non-finite value)
 */
export function keygenWithDetails(values: FdhopeKeygenInput, opts: FdhopeKeygenOptions = {}): FdhopeKeygenResult {
  if (typeof opts !== 'object' || opts === null) throw bad('opts must be an object');
  const rb = opts.rb ?? secureRandomBytes;
  if (typeof rb !== 'function') throw bad('opts.rb must be a RandomBytes function');
  const minVal = num(opts.minVal ?? DEFAULTS.minVal, 'opts.minVal', 0);
  const maxRange = num(opts.maxRange ?? DEFAULTS.maxRange, 'opts.maxRange', 3, FDHOPE_MAX_RANGES, true);
  const proportion = num(opts.proportion ?? DEFAULTS.proportion, 'opts.proportion', Number.MIN_VALUE);
  const rangeLimit = num(opts.rangeLimit ?? DEFAULTS.rangeLimit, 'opts.rangeLimit', 0);
  const defaultLength = num(opts.defaultIntervalLength ?? DEFAULTS.defaultIntervalLength, 'opts.defaultIntervalLength', Number.MIN_VALUE);
  const fixDensity = opts.fixDensity ?? true;
  if (typeof fixDensity !== 'boolean') throw bad('opts.fixDensity must be a boolean');
  const { blocks, shape: inputShape } = blockSource(values);

  // Pass 1: max |x| and the number of values.
  let maxAbs = 0;
  let size = 0;
  for (const b of blocks()) {
    for (let j = 0; j < b.length; j++) {
      const a = Math.abs(b[j]);
      if (!(a <= Number.MAX_VALUE)) {
        throw new AppError('DATA_MAGNITUDE', `values contain a non-finite number at index ${size + j}`, {
          userMessage: 'The data (or a matrix derived from it) contains a value that is not a finite number. Rescale the data and try again.',
        });
      }
      if (a > maxAbs) maxAbs = a;
    }
    size += b.length;
  }
  if (size === 0) throw bad('values must contain at least one number');

  const msMax = roundHalfEven(maxAbs) + rangeLimit;
  const csMax = msMax * proportion;
  const low = minVal + 0.2;
  if (!(low < msMax)) throw bad('opts.minVal + 0.2 must be below round(max|X|) + opts.rangeLimit');

  // Inner boundaries: injected, or n−1 draws of U(minVal + 0.2, msMax), sorted.
  let inner: number[];
  if (opts.bounds !== undefined) {
    if (!Array.isArray(opts.bounds)) throw bad('opts.bounds must be an array of numbers');
    inner = opts.bounds.map((b, i) => num(b, `opts.bounds[${i}]`, minVal, msMax));
    if (inner.length < 1 || inner.length + 1 > FDHOPE_MAX_RANGES) throw bad(`opts.bounds must hold 1 to ${FDHOPE_MAX_RANGES - 1} boundaries`);
    if (opts.nRanges !== undefined && opts.nRanges !== inner.length + 1) throw bad('opts.nRanges must equal opts.bounds.length + 1');
  } else {
    const nR = opts.nRanges !== undefined ? num(opts.nRanges, 'opts.nRanges', 3, FDHOPE_MAX_RANGES, true) : randomInt(rb, 3, maxRange);
    const u = fillUniform(rb, new Float64Array(nR - 1));
    inner = Array.from(u, (x) => low + (msMax - low) * x);
  }
  inner.sort((x, y) => x - y);
  const b = [minVal, ...inner, msMax];
  const nR = inner.length + 1;
  const messagespace: [number, number][] = [];
  for (let i = 0; i < nR - 1; i++) messagespace.push([b[i], b[i + 1]]);
  messagespace.push([b[nR - 1], msMax + 1]);

  // Pass 2: counts per range, with the encryption's own interval rule. The cipher bounds are
  // placeholders here; rangeOf only reads the message bounds.
  const probe = compileKey({ messagespace, cipherspace: messagespace.map((_, i) => [i, i + 1]) });
  const counts = new Array<number>(nR).fill(0);
  let seen = 0;
  for (const blk of blocks()) {
    for (let j = 0; j < blk.length; j++) counts[rangeOf(probe, Math.abs(blk[j]))]++;
    seen += blk.length;
  }
  if (seen !== size) throw bad('values yielded different data on the second pass; pass a function that regenerates the same blocks');

  let denominator = size;
  if (!fixDensity) {
    const shape = opts.shape ?? inputShape;
    if (!shape || shape.length < 2) throw bad('opts.fixDensity false needs the shape of X (opts.shape or a Matrix input)');
    denominator = shape[0] * shape[1];
  }
  const lengths = counts.map((c) => (c === 0 ? defaultLength : csMax * (c / denominator)));
  const cipherspace: [number, number][] = [];
  let c = 0;
  for (let i = 0; i < nR - 1; i++) {
    const next = c + lengths[i];
    cipherspace.push([c, next]);
    c = next;
  }
  cipherspace.push([c, csMax + 1]);
  if (!(c < csMax + 1)) {
    throw new AppError('CRYPTO_FAILURE', 'upstream density (fixDensity: false) gives a non-positive last cipher width for this input (spec/crypto.md §3.6, C3)', {
      userMessage: 'This FDHOPE key would not preserve order. Use the corrected key generation (the default).',
    });
  }
  const freeze = (pairs: [number, number][]) => Object.freeze(pairs.map((p) => Object.freeze([p[0], p[1]] as const)));
  const key: FdhopeKey = Object.freeze({ messagespace: freeze(messagespace), cipherspace: freeze(cipherspace) });
  compileKey(key); // validates (positive widths, contiguity) and caches
  return Object.freeze({ key, msMax, csMax, counts: Object.freeze(counts), lengths: Object.freeze(lengths), size });
}

/**
 * Generates an FDHOPE key for X. See `keygenWithDetails`.
 *
 * @example const key = fdhope.keygen(() => udmBlocks(D, 64)); // streams a large UDM twice
 */
export function keygen(values: FdhopeKeygenInput, opts: FdhopeKeygenOptions = {}): FdhopeKey {
  return keygenWithDetails(values, opts).key;
}
