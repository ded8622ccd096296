/**
 * @module crypto/liu/homomorphic
 * Keyless operations on Liu ciphertexts (spec/crypto.md §2.5). Decryption is linear, so add,
 * subtract and plaintext-scalar multiply act component-wise and work on a single ciphertext
 * (length m) or on whole tensors (any length) alike:
 *
 *   add(E(a), E(b)) → E(a+b)   sub(E(a), E(b)) → E(a−b)   mulScalar(c, E(a)) → E(c·a)
 *
 * `mul` is the ciphertext×ciphertext outer product (m² values), decrypted in two stages by
 * `decryptMul`. Rory's algorithms never use it. Subtraction is `a + (−1)·b` upstream, which is
 * bitwise `a − b` in IEEE arithmetic.
 */
import { AppError } from '../../errors';
import { compileKey, type LiuSecretKey } from './key';
import { decrypt } from './scheme';

function assertF64(x: unknown, name: string): asserts x is Float64Array {
  if (!(x instanceof Float64Array)) throw new AppError('INVALID_ARGUMENT', `${name} must be a Float64Array`);
}

function assertSameLength(a: Float64Array, b: Float64Array): void {
  if (a.length !== b.length) throw new AppError('SHAPE_MISMATCH', `a and b must have the same length (${a.length} vs ${b.length})`);
}

function target(out: Float64Array | undefined, length: number): Float64Array {
  if (out === undefined) return new Float64Array(length);
  assertF64(out, 'out');
  if (out.length !== length) throw new AppError('SHAPE_MISMATCH', `out must have length ${length}, got ${out.length}`);
  return out;
}

/** Checked operands and the output array of a component-wise binary operation. */
function operands(a: Float64Array, b: Float64Array, out: Float64Array | undefined): Float64Array {
  assertF64(a, 'a');
  assertF64(b, 'b');
  assertSameLength(a, b);
  return target(out, a.length);
}

/** Component-wise `a + b`. `out` may alias `a` or `b`. */
export function add(a: Float64Array, b: Float64Array, out?: Float64Array): Float64Array {
  const o = operands(a, b, out);
  for (let i = 0; i < a.length; i++) o[i] = a[i] + b[i];
  return o;
}

/** Component-wise `a − b`. `out` may alias `a` or `b`. */
export function sub(a: Float64Array, b: Float64Array, out?: Float64Array): Float64Array {
  const o = operands(a, b, out);
  for (let i = 0; i < a.length; i++) o[i] = a[i] - b[i];
  return o;
}

/** Component-wise `c · E`, an encryption of `c · a`. `out` may alias `E`. */
export function mulScalar(c: number, E: Float64Array, out?: Float64Array): Float64Array {
  if (typeof c !== 'number' || !Number.isFinite(c)) throw new AppError('INVALID_ARGUMENT', 'c must be a finite number');
  assertF64(E, 'E');
  const o = target(out, E.length);
  for (let i = 0; i < E.length; i++) o[i] = c * E[i];
  return o;
}

/** Ciphertext × ciphertext: the row-major outer product `prod[i·m + j] = a[i]·b[j]` (m² values). */
export function mul(a: Float64Array, b: Float64Array): Float64Array {
  assertF64(a, 'a');
  assertF64(b, 'b');
  assertSameLength(a, b);
  const m = a.length;
  const prod = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) prod[i * m + j] = a[i] * b[j];
  return prod;
}

/**
 * Two-stage decryption of `mul(E(a), E(b))`: decrypting each group of m gives `E_i(a)·b`;
 * decrypting those m values gives `a·b`.
 *
 * @throws AppError SHAPE_MISMATCH if `prod` does not have m² values
 */
export function decryptMul(key: LiuSecretKey, prod: Float64Array): number {
  const { m } = compileKey(key);
  assertF64(prod, 'prod');
  if (prod.length !== m * m) throw new AppError('SHAPE_MISMATCH', `prod must have length m² = ${m * m}, got ${prod.length}`);
  const stage1 = new Float64Array(m);
  for (let i = 0; i < m; i++) stage1[i] = decrypt(key, prod.subarray(i * m, (i + 1) * m));
  return decrypt(key, stage1);
}
