/**
 * @module data/stats
 * Value-range rules shared by the CSV and NPY readers, per-column statistics and a preview.
 * Implements the "huge values" rule of `shared/datasets/README.md` (bad fixtures) and the
 * magnitude requirements that follow from spec/crypto.md §2.3–2.6 (Liu), §3.2 (FDHOPE keygen)
 * and §4.1 (UDM/DM).
 *
 * ## The magnitude bound `MAX_ABS_VALUE` = 1e15
 * Every input value must satisfy |x| ≤ 1e15. The bound is the largest power of ten for which
 * every quantity derived from the data stays finite *and* exact enough to be meaningful:
 *
 * - **UDM / DM** (§4.1): `x − y` reaches 2·1e15 = 2e15 < 2^53 ≈ 9.007e15, the range in which
 *   float64 still represents every integer, so differences never round to a different integer
 *   and never overflow. DM entries `Σ_z |x_z − y_z|` stay finite for any realistic width.
 * - **FDHOPE keygen** (§3.2): `msMax = round(max|UDM|) + range_limit` stays below 2^53, so the
 *   `+2` and the interval bounds are exact; `csMax = 15·msMax` ≈ 3e16 is finite.
 * - **Liu** (§2.3): each component is at most `k·t·|v| + s + 2k` < 2^32·|v| + 2^18 (16-bit key
 *   components at the 192-bit level), i.e. about 4.3e24 at the bound, and sums over millions
 *   of records or squares of components (SKNN, §7.9) stay far below 1.8e308.
 * - `1e308` (the `bad/huge-values.csv` fixture) fails all three: `1e308 − (−1e308)` = Infinity,
 *   and `2^30·1e308` = Infinity.
 *
 * CKKS (scale 2^40, 60-bit data primes) has a much narrower range (≈ 2^20); that limit is
 * specific to the scheme and is checked where CKKS encodes, not here.
 */
import { AppError } from '@/lib/errors';
import type { Matrix, PlainMatrix } from '@/lib/data/matrix';

/** Largest accepted |x| for any dataset value (see the module doc for the derivation). */
export const MAX_ABS_VALUE = 1e15;
// Messages below spell the bound as "1e15"; keep them in step if it ever changes.

/** Where a value sits, for error messages (1-based, as people count). */
export interface CellLocation {
  /** Physical line of a text file, or row of an array. */
  readonly line?: number;
  readonly row?: number;
  readonly column: number;
}

function where(loc: CellLocation): string {
  return loc.line !== undefined ? `line ${loc.line}, column ${loc.column}` : `row ${loc.row}, column ${loc.column}`;
}

function capitalised(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function locDetails(loc: CellLocation): Record<string, number> {
  return loc.line !== undefined ? { line: loc.line, column: loc.column } : { row: loc.row ?? 0, column: loc.column };
}

/**
 * The error for a finite value beyond `MAX_ABS_VALUE` (or a decimal literal that overflows to
 * ±Infinity). The value itself is never included: it is plaintext.
 */
export function magnitudeError(loc: CellLocation): AppError {
  const w = where(loc);
  return new AppError('DATA_MAGNITUDE', `${w}: value exceeds the magnitude bound |x| <= 1e15`, {
    userMessage:
      `${capitalised(w)}: the value is too large in magnitude (every value must lie between -1e15 and 1e15). ` +
      'Differences between records (UDM) and Liu ciphertexts (about 2^32 times the value) would overflow or lose precision. ' +
      'Rescale or standardise that column and upload again.',
    details: locDetails(loc),
  });
}

/** The error for NaN / ±Infinity found in binary data (NPY). */
export function nonFiniteError(loc: CellLocation, code: 'CSV_INVALID' | 'NPY_INVALID'): AppError {
  const w = where(loc);
  return new AppError(code, `${w}: value is not finite (NaN or Infinity)`, {
    userMessage:
      `${capitalised(w)}: the value is missing or not finite (NaN or Infinity). ` +
      'Liu, UDM and FDHOPE need finite real numbers: fill in or remove incomplete records and upload again.',
    details: locDetails(loc),
  });
}

/**
 * Throws DATA_MAGNITUDE / NPY_INVALID for the first value of a C-order n×a matrix that is
 * not finite or exceeds `MAX_ABS_VALUE`. Locations are 1-based rows and columns.
 */
export function assertDatasetValues(data: Float64Array, cols: number, code: 'CSV_INVALID' | 'NPY_INVALID' = 'NPY_INVALID'): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // One comparison for the common case; NaN fails it too.
    if (v <= MAX_ABS_VALUE && v >= -MAX_ABS_VALUE) continue;
    const loc = { row: Math.floor(i / cols) + 1, column: (i % cols) + 1 };
    throw Number.isFinite(v) ? magnitudeError(loc) : nonFiniteError(loc, code);
  }
}

/** Per-column statistics of an n×a matrix. `std` is the population standard deviation (ddof = 0, numpy's default). */
export interface DatasetStats {
  readonly rows: number;
  readonly cols: number;
  readonly min: readonly number[];
  readonly max: readonly number[];
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

function shape2(m: Matrix): [number, number] {
  if (m.shape.length !== 2) {
    throw new AppError('SHAPE_MISMATCH', `expected a 2-D matrix, got shape (${m.shape.join(', ')})`);
  }
  return [m.shape[0], m.shape[1]];
}

/** Column-wise min, max, mean and population std (two passes, for accuracy). Empty columns give NaN. */
export function columnStats(m: PlainMatrix | Matrix): DatasetStats {
  const [rows, cols] = shape2(m);
  const d = m.data;
  const min = new Array<number>(cols).fill(Infinity);
  const max = new Array<number>(cols).fill(-Infinity);
  const sum = new Array<number>(cols).fill(0);
  for (let i = 0; i < rows; i++) {
    const off = i * cols;
    for (let j = 0; j < cols; j++) {
      const v = d[off + j];
      if (v < min[j]) min[j] = v;
      if (v > max[j]) max[j] = v;
      sum[j] += v;
    }
  }
  const mean = sum.map((s) => (rows === 0 ? NaN : s / rows));
  const ss = new Array<number>(cols).fill(0);
  for (let i = 0; i < rows; i++) {
    const off = i * cols;
    for (let j = 0; j < cols; j++) {
      const dv = d[off + j] - mean[j];
      ss[j] += dv * dv;
    }
  }
  const std = ss.map((s) => (rows === 0 ? NaN : Math.sqrt(s / rows)));
  return {
    rows,
    cols,
    min: rows === 0 ? min.map(() => NaN) : min,
    max: rows === 0 ? max.map(() => NaN) : max,
    mean,
    std,
  };
}

/** The first `rows` rows (default 10) as plain arrays, for display. */
export function preview(m: PlainMatrix | Matrix, rows = 10): number[][] {
  const [n, cols] = shape2(m);
  const take = Math.max(0, Math.min(n, Math.floor(rows)));
  const out: number[][] = [];
  for (let i = 0; i < take; i++) out.push(Array.from(m.data.subarray(i * cols, (i + 1) * cols)));
  return out;
}
