/**
 * @module data/scaling
 * Per-column scaling of a dataset before encryption (issue #14 item 5): none, z-score
 * (`(x − mean) / std`, population std) or min-max (`(x − min) / (max − min)`). The parameters
 * are fitted once, when the dataset is saved, and stored with it, so every job on that dataset
 * encrypts the same matrix; the stored matrix stays in the file's units (for previews, cluster
 * profiles and downloads). A constant column is only shifted (its scale is 1). Pure.
 *
 * Why it matters for k-means: distances add up the columns' differences in their own units, so
 * a column measured in thousands (wine's proline) outweighs every column measured near 1.
 */
import { AppError } from '@/lib/errors';
import { plainMatrix, type PlainMatrix } from './matrix';
import { columnStats } from './stats';

export type ScalingMethod = 'none' | 'zscore' | 'minmax';
export const SCALING_METHODS: readonly ScalingMethod[] = ['none', 'zscore', 'minmax'];

export const SCALING_NAMES: Readonly<Record<ScalingMethod, string>> = {
  none: 'None (the file’s units)',
  zscore: 'z-score (mean 0, standard deviation 1)',
  minmax: 'min-max (0 to 1)',
};

/** A fitted scaling: `scaled = (x − offset[j]) / scale[j]`. */
export interface Scaling {
  readonly method: ScalingMethod;
  readonly offset: readonly number[];
  readonly scale: readonly number[];
}

/** Fits `method` to the columns of `m`. */
export function fitScaling(m: PlainMatrix, method: ScalingMethod): Scaling {
  const cols = m.shape[1];
  if (method === 'none') return { method, offset: new Array<number>(cols).fill(0), scale: new Array<number>(cols).fill(1) };
  const s = columnStats(m);
  const safe = (v: number) => (v > 0 && Number.isFinite(v) ? v : 1);
  if (method === 'zscore') return { method, offset: [...s.mean], scale: s.std.map(safe) };
  if (method === 'minmax') return { method, offset: [...s.min], scale: s.max.map((hi, j) => safe(hi - s.min[j])) };
  throw new AppError('INVALID_ARGUMENT', `unknown scaling ${String(method)}`);
}

/** True when the scaling changes nothing. */
export function isIdentity(s: Scaling | undefined): boolean {
  return !s || s.method === 'none' || (s.offset.every((o) => o === 0) && s.scale.every((c) => c === 1));
}

/** The scaled copy of `m` (or `m` itself for the identity). @throws AppError SHAPE_MISMATCH */
export function applyScaling(m: PlainMatrix, s: Scaling | undefined): PlainMatrix {
  if (isIdentity(s)) return m;
  const [rows, cols] = m.shape;
  if (s!.offset.length !== cols || s!.scale.length !== cols) {
    throw new AppError('SHAPE_MISMATCH', `scaling for ${s!.offset.length} columns, matrix has ${cols}`);
  }
  const out = new Float64Array(rows * cols);
  const { offset, scale } = s!;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[i * cols + j] = (m.data[i * cols + j] - offset[j]) / scale[j];
  }
  return plainMatrix(out, rows, cols);
}

/** Back to the file's units: `x = scaled · scale[j] + offset[j]` per column (k×a centroids, for instance). */
export function unscale(data: ArrayLike<number>, cols: number, s: Scaling | undefined): number[] {
  const out = Array.from(data);
  if (isIdentity(s)) return out;
  for (let i = 0; i < out.length; i++) out[i] = out[i] * s!.scale[i % cols] + s!.offset[i % cols];
  return out;
}

/**
 * A short note when the columns' spreads differ by more than 10× and no scaling is chosen: the
 * widest and narrowest columns by standard deviation (for wine: proline vs nonflavanoid_phenols).
 */
export function spreadWarning(m: PlainMatrix, names: readonly string[]): { wide: string; narrow: string; ratio: number } | undefined {
  if (m.shape[0] < 2 || m.shape[1] < 2) return undefined;
  const { std } = columnStats(m);
  let hi = -1;
  let lo = -1;
  std.forEach((s, j) => {
    if (!(s > 0)) return;
    if (hi < 0 || s > std[hi]) hi = j;
    if (lo < 0 || s < std[lo]) lo = j;
  });
  if (hi < 0 || lo < 0 || hi === lo) return undefined;
  const ratio = std[hi] / std[lo];
  return ratio > 10 ? { wide: names[hi], narrow: names[lo], ratio } : undefined;
}
