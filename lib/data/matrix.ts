/**
 * @module data/matrix
 * A dense float64 array with a shape (C order). Used for plaintext datasets, Liu tensors
 * (n×a×m), UDMs (n×n×a), DMs and decrypted results. Liu and FDHOPE values are IEEE doubles:
 * never Float32Array, never bigint.
 */
import { AppError } from '../errors';

export interface Matrix {
  readonly data: Float64Array;
  readonly shape: readonly number[];
}

declare const plainBrand: unique symbol;
declare const liuBrand: unique symbol;
declare const fdhopeBrand: unique symbol;

/** A plaintext matrix (n×a). Plaintext must never be passed where a ciphertext is expected. */
export type PlainMatrix = Matrix & { readonly [plainBrand]: true };
/** A Liu ciphertext tensor (…×m). */
export type LiuCipherTensor = Matrix & { readonly [liuBrand]: true };
/** FDHOPE ciphertexts (same shape as the plaintext). */
export type FdhopeCipherMatrix = Matrix & { readonly [fdhopeBrand]: true };

export function size(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

export function matrix(data: Float64Array, shape: readonly number[]): Matrix {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new AppError('SHAPE_MISMATCH', `invalid dimension ${d} in shape (${shape.join(', ')})`);
  }
  if (size(shape) !== data.length) {
    throw new AppError('SHAPE_MISMATCH', `data length ${data.length} does not match shape (${shape.join(', ')})`);
  }
  return { data, shape: Object.freeze([...shape]) };
}

export function plainMatrix(data: Float64Array, rows: number, cols: number): PlainMatrix {
  return matrix(data, [rows, cols]) as PlainMatrix;
}

export function zeros(shape: readonly number[]): Matrix {
  return matrix(new Float64Array(size(shape)), shape);
}

/** Row `i` (a view, not a copy) of a matrix whose first axis is rows. */
export function row(m: Matrix, i: number): Float64Array {
  const stride = m.data.length / m.shape[0];
  return m.data.subarray(i * stride, (i + 1) * stride);
}

/** Rows [from, to) as a new matrix that shares the buffer. */
export function rows(m: Matrix, from: number, to: number): Matrix {
  const stride = m.shape[0] === 0 ? 0 : m.data.length / m.shape[0];
  return { data: m.data.subarray(from * stride, to * stride), shape: Object.freeze([to - from, ...m.shape.slice(1)]) };
}

/** Python `str(tuple)` of a shape: `(10, 5, 3)`, `(7,)`, `()`. */
export function pythonShape(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** Parses `(a, b, c)`, `(a,)`, `[a, b]` into a shape. Throws on anything else (never eval). */
export function parsePythonShape(text: string): number[] {
  const t = text.trim();
  if (!/^[([]\s*(\d+\s*(,\s*\d+\s*)*,?\s*)?[)\]]$/.test(t)) {
    throw new AppError('PROTOCOL_VIOLATION', `not a shape literal: ${t.slice(0, 40)}`);
  }
  const inner = t.slice(1, -1).trim();
  if (inner === '') return [];
  return inner
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => Number(s));
}
