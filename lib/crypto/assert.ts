/**
 * @module crypto/assert
 * Tiny input validators for public functions. Each names the bad argument and never
 * echoes its value (values may be plaintext or key material).
 */
import { AppError } from '../errors';

export function assertFiniteNumber(x: unknown, name: string): asserts x is number {
  if (typeof x !== 'number' || !Number.isFinite(x)) {
    throw new AppError('INVALID_ARGUMENT', `${name} must be a finite number`);
  }
}

export function assertInteger(x: unknown, name: string, min = -Infinity, max = Infinity): asserts x is number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) {
    throw new AppError('INVALID_ARGUMENT', `${name} must be an integer in [${min}, ${max}]`);
  }
}

export function assertFloat64Array(x: unknown, name: string, length?: number): asserts x is Float64Array {
  if (!(x instanceof Float64Array)) throw new AppError('INVALID_ARGUMENT', `${name} must be a Float64Array`);
  if (length !== undefined && x.length !== length) {
    throw new AppError('SHAPE_MISMATCH', `${name} must have length ${length}, got ${x.length}`);
  }
}

export function assertAllFinite(x: ArrayLike<number>, name: string): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new AppError('DATA_MAGNITUDE', `${name} contains a non-finite value at index ${i}`, {
        userMessage: `${name} contains a value that is not a finite number (it overflowed or is NaN). Rescale the data and try again.`,
      });
    }
  }
}
