/**
 * @module data/udm
 * The unidimensional distance matrix (UDM) and Manhattan distance matrix (DM) of a dataset, and
 * the worker-side UDM assignment and update rules of Rory's interactive k-means
 * (spec/crypto.md §4.1–§4.3, corrected per §0.1 C2):
 *
 *   U[x][y][z] = D[x][z] − D[y][z]   (n×n×a)        DM[x][y] = Σ_z |D[x][z] − D[y][z]|   (n×n)
 *
 * A UDM holds n²·a doubles (8·n²·a bytes: 160 MB for n = 2000, a = 5), so block generators are
 * provided that keep memory bounded. The same assignment/update code serves plaintext and FDHOPE
 * UDMs: it only takes |·|, sums, compares and adds.
 */
import { AppError } from '../errors';
import { matrix, type Matrix } from './matrix';

export interface RowBlock {
  /** First row (inclusive). */
  readonly from: number;
  /** Last row (exclusive). */
  readonly to: number;
  /** Rows [from, to) in C order: (to−from)×n×a for a UDM, (to−from)×n for a DM. Fresh per block. */
  readonly data: Float64Array;
}

function dims(D: Matrix, name = 'D'): [number, number] {
  if (typeof D !== 'object' || D === null || !(D.data instanceof Float64Array) || !Array.isArray(D.shape)) {
    throw new AppError('INVALID_ARGUMENT', `${name} must be a Matrix`);
  }
  if (D.shape.length !== 2) throw new AppError('SHAPE_MISMATCH', `${name} must be 2-D (n×a), got shape (${D.shape.join(', ')})`);
  const [n, a] = D.shape;
  if (n * a !== D.data.length) throw new AppError('SHAPE_MISMATCH', `${name}.data length does not match its shape`);
  return [n, a];
}

function magnitude(what: string): AppError {
  return new AppError('DATA_MAGNITUDE', `${what} has a non-finite entry (input too large or not finite)`, {
    userMessage: `The ${what} of this dataset overflows (values too large or not finite). Rescale the data and try again.`,
  });
}

function assertRowsPerBlock(r: unknown): asserts r is number {
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1) throw new AppError('INVALID_ARGUMENT', 'rowsPerBlock must be an integer ≥ 1');
}

/** Rows [0, n) in blocks of `rowsPerBlock`, each block's data computed by `rows` only when it is asked for. */
function* rowBlocks(n: number, rowsPerBlock: number, rows: (from: number, to: number) => Float64Array): Generator<RowBlock> {
  for (let from = 0; from < n; from += rowsPerBlock) {
    const to = Math.min(n, from + rowsPerBlock);
    yield { from, to, data: rows(from, to) };
  }
}

/** Per-column max − min, i.e. the largest |U[x][y][z]| for each z (exact: rounding is monotone). */
function columnRanges(D: Matrix): Float64Array {
  const [n, a] = dims(D);
  const d = D.data;
  const lo = new Float64Array(a).fill(Infinity);
  const hi = new Float64Array(a).fill(-Infinity);
  for (let x = 0; x < n; x++) {
    for (let z = 0; z < a; z++) {
      const v = d[x * a + z];
      if (!Number.isFinite(v)) throw magnitude('dataset');
      if (v < lo[z]) lo[z] = v;
      if (v > hi[z]) hi[z] = v;
    }
  }
  const r = new Float64Array(a);
  for (let z = 0; z < a; z++) r[z] = n === 0 ? 0 : hi[z] - lo[z];
  return r;
}

/**
 * max |U| over the whole UDM, from the column ranges, without building U. Equals the maximum of
 * the materialised UDM bitwise. Throws DATA_MAGNITUDE if the UDM would overflow.
 */
export function udmMaxAbs(D: Matrix): number {
  let m = 0;
  for (const r of columnRanges(D)) m = Math.max(m, r);
  if (!Number.isFinite(m)) throw magnitude('UDM');
  return m;
}

/** Throws DATA_MAGNITUDE unless every DM entry is finite (Σ of column ranges bounds them). */
function assertDmFinite(D: Matrix): void {
  let s = 0;
  for (const r of columnRanges(D)) s += r;
  if (!Number.isFinite(s)) throw magnitude('distance matrix');
}

function udmRows(d: Float64Array, n: number, a: number, from: number, to: number): Float64Array {
  const out = new Float64Array((to - from) * n * a);
  let o = 0;
  for (let x = from; x < to; x++) {
    const xb = x * a;
    for (let y = 0; y < n; y++) {
      const yb = y * a;
      for (let z = 0; z < a; z++) out[o++] = d[xb + z] - d[yb + z];
    }
  }
  return out;
}

/**
 * Rows x ∈ [from, to) of the UDM, (to−from)×n×a values (the caller checked magnitudes with
 * `udmMaxAbs` once).
 * @throws AppError SHAPE_MISMATCH (D not 2-D or rows out of range)
 */
export function udmRowsOf(D: Matrix, from: number, to: number): Float64Array {
  const [n, a] = dims(D);
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > n || from >= to) {
    throw new AppError('SHAPE_MISMATCH', `UDM rows [${from}, ${to}) of ${n}`, { userMessage: 'The requested part of the difference matrix does not exist.' });
  }
  return udmRows(D.data, n, a, from, to);
}

/**
 * The full UDM, n×n×a.
 *
 * @throws AppError SHAPE_MISMATCH (D not 2-D), DATA_MAGNITUDE (entries would overflow)
 */
export function udm(D: Matrix): Matrix {
  const [n, a] = dims(D);
  udmMaxAbs(D);
  return matrix(udmRows(D.data, n, a, 0, n), [n, n, a]);
}

/**
 * The UDM in row blocks: each item holds rows x ∈ [from, to) of U, (to−from)×n×a values, so at
 * most `rowsPerBlock·n·a` doubles are live per block. Concatenated, the blocks equal `udm(D)`.
 *
 * @example fdhope.keygen(() => udmBlocks(D, 64))
 */
export function* udmBlocks(D: Matrix, rowsPerBlock: number): Generator<RowBlock> {
  const [n, a] = dims(D);
  assertRowsPerBlock(rowsPerBlock);
  udmMaxAbs(D);
  yield* rowBlocks(n, rowsPerBlock, (from, to) => udmRows(D.data, n, a, from, to));
}

function dmRows(d: Float64Array, n: number, a: number, from: number, to: number): Float64Array {
  const out = new Float64Array((to - from) * n);
  for (let x = from; x < to; x++) {
    const xb = x * a;
    const o = (x - from) * n;
    for (let y = 0; y < n; y++) {
      const yb = y * a;
      let acc = 0;
      for (let z = 0; z < a; z++) acc += Math.abs(d[xb + z] - d[yb + z]);
      out[o + y] = acc;
    }
  }
  return out;
}

/**
 * The Manhattan distance matrix, n×n (sums left to right, as upstream).
 *
 * @throws AppError SHAPE_MISMATCH, DATA_MAGNITUDE
 */
export function dm(D: Matrix): Matrix {
  const [n, a] = dims(D);
  assertDmFinite(D);
  const d = D.data;
  const out = new Float64Array(n * n);
  // |u − v| = |v − u| exactly, so the lower triangle is a copy of the upper one.
  for (let x = 0; x < n; x++) {
    const xb = x * a;
    for (let y = x + 1; y < n; y++) {
      const yb = y * a;
      let acc = 0;
      for (let z = 0; z < a; z++) acc += Math.abs(d[xb + z] - d[yb + z]);
      out[x * n + y] = acc;
      out[y * n + x] = acc;
    }
  }
  return matrix(out, [n, n]);
}

/** The DM in row blocks ((to−from)×n each), like `udmBlocks`. */
export function* dmBlocks(D: Matrix, rowsPerBlock: number): Generator<RowBlock> {
  const [n, a] = dims(D);
  assertRowsPerBlock(rowsPerBlock);
  assertDmFinite(D);
  yield* rowBlocks(n, rowsPerBlock, (from, to) => dmRows(D.data, n, a, from, to));
}

/**
 * Default DBSNNC/NNC threshold (`Threshold` = −1): the smallest non-zero DM entry
 * (spec/crypto.md §4.1, §7.3). Returns 0 when every entry is 0 (all records identical).
 */
export function defaultThreshold(dmMatrix: Matrix | Float64Array): number {
  const data = dmMatrix instanceof Float64Array ? dmMatrix : dmMatrix?.data;
  if (!(data instanceof Float64Array)) throw new AppError('INVALID_ARGUMENT', 'dm must be a Matrix or a Float64Array');
  let best = Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v !== 0 && v < best) best = v;
  }
  return best === Infinity ? 0 : best;
}

/** `defaultThreshold(dm(D))` without materialising the DM (O(n²·a) time, O(1) memory). */
export function defaultThresholdFromData(D: Matrix): number {
  const [n, a] = dims(D);
  assertDmFinite(D);
  const d = D.data;
  let best = Infinity;
  for (let x = 0; x < n; x++) {
    for (let y = x + 1; y < n; y++) {
      let acc = 0;
      for (let z = 0; z < a; z++) acc += Math.abs(d[x * a + z] - d[y * a + z]);
      if (acc !== 0 && acc < best) best = acc;
    }
  }
  return best === Infinity ? 0 : best;
}

// ---------------------------------------------------------------------------------------------
// Interactive k-means on a UDM (worker side; spec/crypto.md §4.2, §4.3, §0.1 C2)
// ---------------------------------------------------------------------------------------------

function udmDims(U: Float64Array | Matrix, shape: readonly number[] | undefined, name: string): { u: Float64Array; n: number; c: number; a: number } {
  const u = U instanceof Float64Array ? U : U?.data;
  const sh = shape ?? (U instanceof Float64Array ? undefined : U?.shape);
  if (!(u instanceof Float64Array)) throw new AppError('INVALID_ARGUMENT', `${name} must be a Float64Array or a Matrix`);
  if (!Array.isArray(sh) || sh.length !== 3 || !sh.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new AppError('SHAPE_MISMATCH', `${name} must have a 3-D shape (n, c, a)`);
  }
  const [n, c, a] = sh;
  if (n * c * a !== u.length) throw new AppError('SHAPE_MISMATCH', `${name} length ${u.length} does not match shape (${sh.join(', ')})`);
  if (!(U instanceof Float64Array) && shape !== undefined && U.shape.join() !== shape.join()) {
    throw new AppError('SHAPE_MISMATCH', `${name}.shape (${U.shape.join(', ')}) differs from shape (${shape.join(', ')})`);
  }
  return { u, n, c, a };
}

function assertK(k: unknown, max: number): asserts k is number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > max) throw new AppError('INVALID_ARGUMENT', `k must be an integer in [1, ${max}]`);
}

function shiftData(S: Matrix | Float64Array, k: number, a: number): Float64Array {
  const s = S instanceof Float64Array ? S : S?.data;
  if (!(s instanceof Float64Array)) throw new AppError('INVALID_ARGUMENT', 'S must be a Matrix or a Float64Array');
  if (s.length !== k * a) throw new AppError('SHAPE_MISMATCH', `S must be k×a = ${k}×${a}, got ${s.length} values`);
  if (!(S instanceof Float64Array) && (S.shape.length !== 2 || S.shape[0] !== k || S.shape[1] !== a)) {
    throw new AppError('SHAPE_MISMATCH', `S must have shape (${k}, ${a}), got (${S.shape.join(', ')})`);
  }
  return s;
}

/**
 * Labels from a UDM (spec/crypto.md §4.2): `label(x) = argmin_{y<k} Σ_z |U'[x][y][z]|`, summed
 * left to right, first minimum on ties.
 * - round 1 (START, U is n×n×a): `U' [x][y] = y > x ? U[y][x] : U[x][y]` (upstream's rule; it reads
 *   only the lower triangle, which is all that upstream's in-memory FDHOPE path fills correctly).
 *   Every record is assigned, seeds included, as plaintext Lloyd does; distinct seeds get their
 *   own index (upstream forces labels 0…k−1 on them, which only differs for duplicate seeds).
 * - later rounds (U is n×k×a): `U'[x][y] = U[x][y]` for every x (corrected, C2).
 *
 * @param U the UDM data (or a Matrix); `shape` is its (n, c, a) shape (taken from a Matrix if omitted)
 * @param round 1 for the first round, ≥ 2 afterwards
 * @throws AppError SHAPE_MISMATCH if the shape does not fit the round
 */
export function assignFromUdm(U: Float64Array | Matrix, shape: readonly number[] | undefined, k: number, round: number): Int32Array {
  const { u, n, c, a } = udmDims(U, shape, 'U');
  if (typeof round !== 'number' || !Number.isInteger(round) || round < 1) throw new AppError('INVALID_ARGUMENT', 'round must be an integer ≥ 1');
  assertK(k, Math.max(1, n));
  const first = round === 1;
  if (first ? c !== n : c !== k) {
    throw new AppError('SHAPE_MISMATCH', `round ${round} needs a UDM of shape (${n}, ${first ? n : k}, ${a}), got (${n}, ${c}, ${a})`);
  }
  const labels = new Int32Array(n);
  for (let x = 0; x < n; x++) {
    let best = 0;
    let bestD = Infinity;
    for (let y = 0; y < k; y++) {
      const base = first && y > x ? (y * c + x) * a : (x * c + y) * a;
      let d = 0;
      for (let z = 0; z < a; z++) d += Math.abs(u[base + z]);
      if (d < bestD) {
        bestD = d;
        best = y;
      }
    }
    labels[x] = best;
  }
  return labels;
}

/**
 * Round-1 update (spec/crypto.md §4.3): from the full n×n×a UDM to the n×k×a matrix of
 * record-minus-new-centroid differences, `Unew[x][y] = (x ≥ y ? U[x][y] : −U[y][x]) + S[y]`
 * (= D[x] − C_new[y] for a plaintext UDM). Returns a new Matrix.
 */
export function firstRoundUpdate(U: Matrix, S: Matrix | Float64Array, k: number): Matrix {
  const { u, n, c, a } = udmDims(U, undefined, 'U');
  if (c !== n) throw new AppError('SHAPE_MISMATCH', `U must be n×n×a in round 1, got (${n}, ${c}, ${a})`);
  assertK(k, n);
  const s = shiftData(S, k, a);
  const out = new Float64Array(n * k * a);
  for (let x = 0; x < n; x++) {
    for (let y = 0; y < k; y++) {
      const o = (x * k + y) * a;
      const sb = y * a;
      if (x >= y) {
        const ib = (x * n + y) * a;
        for (let z = 0; z < a; z++) out[o + z] = u[ib + z] + s[sb + z];
      } else {
        const ib = (y * n + x) * a;
        for (let z = 0; z < a; z++) out[o + z] = -u[ib + z] + s[sb + z];
      }
    }
  }
  return matrix(out, [n, k, a]);
}

/** Later-round update (C2): `U[x][y] += S[y]` for every record x, in place on the n×k×a UDM. Returns U. */
export function laterRoundUpdate(U: Matrix, S: Matrix | Float64Array): Matrix {
  const { u, n, c: k, a } = udmDims(U, undefined, 'U');
  const s = shiftData(S, k, a);
  const row = k * a;
  for (let x = 0; x < n; x++) {
    const base = x * row;
    for (let j = 0; j < row; j++) u[base + j] += s[j];
  }
  return U;
}
