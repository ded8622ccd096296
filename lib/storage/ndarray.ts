/**
 * @module storage/ndarray
 * numpy dtypes ↔ typed arrays, and ndarrays ↔ raw bytes as numpy's `tobytes()` writes them:
 * C order, little-endian, no header (spec/protocol.md §7.1, spec/mictlanx.md §5.3). int64 and
 * uint64 use BigInt64Array / BigUint64Array so values beyond 2^53 survive.
 *
 * On little-endian hosts (every browser and Node platform in practice) encoding is a zero-copy
 * view and decoding is one copy into a fresh, aligned buffer; a big-endian host goes through a
 * DataView so the wire stays little-endian either way.
 */
import { AppError } from '../errors';
import type { Matrix } from '../data/matrix';
import type { Dtype, NdArray, TypedArrayFor } from './types';

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<Dtype, number>> = Object.freeze({
  float64: 8,
  float32: 4,
  int64: 8,
  uint64: 8,
  int32: 4,
  uint32: 4,
  int16: 2,
  uint16: 2,
  int8: 1,
  uint8: 1,
});

/** True on little-endian hosts. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function isDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

/** Number of elements of a shape (1 for `()`). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

type AnyTypedArray = TypedArrayFor<Dtype>;

/** A dtype's typed-array constructor, as this module calls it. */
type TypedArrayConstructorOf = { new (length: number): AnyTypedArray; new (buffer: ArrayBuffer): AnyTypedArray };

/** The typed array holding each dtype. */
const ARRAY_OF: Readonly<Record<Dtype, TypedArrayConstructorOf>> = {
  float64: Float64Array,
  float32: Float32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
};

/** Allocates a typed array of the dtype over `buffer` (or of `length` zeroed elements). */
function allocate(dtype: Dtype, length: number): AnyTypedArray;
function allocate(dtype: Dtype, buffer: ArrayBuffer): AnyTypedArray;
function allocate(dtype: Dtype, arg: number | ArrayBuffer): AnyTypedArray {
  const TypedArray = ARRAY_OF[dtype];
  return typeof arg === 'number' ? new TypedArray(arg) : new TypedArray(arg);
}

function constructorMatches(dtype: Dtype, data: unknown): boolean {
  return data instanceof ARRAY_OF[dtype];
}

function assertShape(shape: readonly number[], name: string): void {
  if (!Array.isArray(shape) || shape.length === 0) {
    throw new AppError('SHAPE_MISMATCH', `${name} must have at least one dimension`, { userMessage: 'A matrix to store or read has no dimensions.' });
  }
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new AppError('SHAPE_MISMATCH', `${name} has an invalid dimension`, { userMessage: 'A matrix to store or read has an invalid dimension (negative or not a whole number).' });
  }
}

/**
 * Builds a validated, frozen-shape NdArray.
 * @throws AppError INVALID_ARGUMENT (wrong typed array for the dtype), SHAPE_MISMATCH
 * @example ndarray('float64', [2, 2], new Float64Array([1, 2, 3, 4]))
 */
export function ndarray<D extends Dtype>(dtype: D, shape: readonly number[], data: TypedArrayFor<D>): NdArray<D> {
  if (!isDtype(dtype)) throw new AppError('INVALID_ARGUMENT', 'dtype is not a supported numpy dtype', { userMessage: 'A matrix has a number type that Rory storage does not support.' });
  if (!constructorMatches(dtype, data)) {
    throw new AppError('INVALID_ARGUMENT', `data must be the typed array for dtype ${dtype}`, { userMessage: 'Internal error: a matrix holds values of another type than it declares.' });
  }
  assertShape(shape, 'shape');
  if (shapeSize(shape) !== data.length) {
    throw new AppError('SHAPE_MISMATCH', `data length ${data.length} does not match shape (${shape.join(', ')})`, { userMessage: 'Internal error: a matrix does not hold as many values as its shape says.' });
  }
  return { dtype, shape: Object.freeze([...shape]), data };
}

/** Checks an NdArray handed to a public function (dtype, typed array kind, shape). */
export function assertNdArray(arr: NdArray, name = 'array'): void {
  if (typeof arr !== 'object' || arr === null) throw new AppError('INVALID_ARGUMENT', `${name} must be an NdArray`, { userMessage: 'Internal error: something other than a matrix was given to storage.' });
  if (!isDtype(arr.dtype)) throw new AppError('INVALID_ARGUMENT', `${name}.dtype is not a supported numpy dtype`, { userMessage: 'A matrix has a number type that Rory storage does not support.' });
  if (!constructorMatches(arr.dtype, arr.data)) {
    throw new AppError('INVALID_ARGUMENT', `${name}.data must be the typed array for dtype ${arr.dtype}`, { userMessage: 'Internal error: a matrix holds values of another type than it declares.' });
  }
  assertShape(arr.shape, `${name}.shape`);
  if (shapeSize(arr.shape) !== arr.data.length) {
    throw new AppError('SHAPE_MISMATCH', `${name}.data length does not match ${name}.shape`, { userMessage: 'Internal error: a matrix does not hold as many values as its shape says.' });
  }
}

/** One element of a dtype's typed array: a number, or a bigint for int64 / uint64. */
type ElementOf<D extends Dtype> = TypedArrayFor<D>[number];

/** How one element of each dtype is read and written at byte `at`, little-endian (the portable path). */
const ELEMENT_IO: { readonly [D in Dtype]: { read(v: DataView, at: number): ElementOf<D>; write(v: DataView, at: number, x: ElementOf<D>): void } } = {
  float64: { read: (v, at) => v.getFloat64(at, true), write: (v, at, x) => v.setFloat64(at, x, true) },
  float32: { read: (v, at) => v.getFloat32(at, true), write: (v, at, x) => v.setFloat32(at, x, true) },
  int64: { read: (v, at) => v.getBigInt64(at, true), write: (v, at, x) => v.setBigInt64(at, x, true) },
  uint64: { read: (v, at) => v.getBigUint64(at, true), write: (v, at, x) => v.setBigUint64(at, x, true) },
  int32: { read: (v, at) => v.getInt32(at, true), write: (v, at, x) => v.setInt32(at, x, true) },
  uint32: { read: (v, at) => v.getUint32(at, true), write: (v, at, x) => v.setUint32(at, x, true) },
  int16: { read: (v, at) => v.getInt16(at, true), write: (v, at, x) => v.setInt16(at, x, true) },
  uint16: { read: (v, at) => v.getUint16(at, true), write: (v, at, x) => v.setUint16(at, x, true) },
  int8: { read: (v, at) => v.getInt8(at), write: (v, at, x) => v.setInt8(at, x) },
  uint8: { read: (v, at) => v.getUint8(at), write: (v, at, x) => v.setUint8(at, x) },
};

/** The elements of any dtype's typed array, as the portable paths read and write them. */
type Elements = { readonly length: number; [i: number]: number | bigint };

/** Writes elements into a DataView little-endian (the portable path). */
function encodeWithDataView(arr: NdArray): Uint8Array {
  const size = DTYPE_BYTES[arr.dtype];
  const out = new Uint8Array(arr.data.length * size);
  const dv = new DataView(out.buffer);
  const d: Elements = arr.data;
  // The writer matches the data's element type: assertNdArray / ndarray() tie data to dtype.
  const write = ELEMENT_IO[arr.dtype].write as (v: DataView, at: number, x: number | bigint) => void;
  for (let i = 0; i < d.length; i++) write(dv, i * size, d[i]);
  return out;
}

/** Reads little-endian elements through a DataView (the portable path). */
function decodeWithDataView(dtype: Dtype, bytes: Uint8Array): AnyTypedArray {
  const size = DTYPE_BYTES[dtype];
  const n = bytes.byteLength / size;
  const out = allocate(dtype, n);
  const slots: Elements = out;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read: (v: DataView, at: number) => number | bigint = ELEMENT_IO[dtype].read;
  for (let i = 0; i < n; i++) slots[i] = read(dv, i * size);
  return out;
}

/**
 * The array's bytes as numpy `tobytes()` gives them (C order, little-endian). On little-endian
 * hosts this is a view of `arr.data` (no copy): do not mutate the array while the bytes are in use.
 */
export function ndarrayToBytes(arr: NdArray, opts: { portable?: boolean } = {}): Uint8Array {
  if (HOST_LITTLE_ENDIAN && !opts.portable) return new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  return encodeWithDataView(arr);
}

/**
 * Interprets little-endian bytes as an array of `dtype` with `shape`. Copies, so the result owns an
 * aligned buffer whatever the offset of `bytes` — unless `adopt` is set and `bytes` is a whole,
 * unshared ArrayBuffer the caller hands over (then it is viewed in place).
 * @throws AppError SHAPE_MISMATCH when the byte length does not match the shape
 */
export function ndarrayFromBytes<D extends Dtype>(
  dtype: D,
  shape: readonly number[],
  bytes: Uint8Array,
  opts: { portable?: boolean; adopt?: boolean } = {},
): NdArray<D> {
  if (!isDtype(dtype)) throw new AppError('INVALID_ARGUMENT', 'dtype is not a supported numpy dtype', { userMessage: 'A matrix has a number type that Rory storage does not support.' });
  assertShape(shape, 'shape');
  const expected = shapeSize(shape) * DTYPE_BYTES[dtype];
  if (bytes.byteLength !== expected) {
    throw new AppError('SHAPE_MISMATCH', `${bytes.byteLength} bytes do not hold a ${dtype} array of shape (${shape.join(', ')})`, { userMessage: 'Stored bytes do not match the shape and number type they are tagged with. Upload or recompute the object again.' });
  }
  let data: AnyTypedArray;
  if (!HOST_LITTLE_ENDIAN || opts.portable) data = decodeWithDataView(dtype, bytes);
  else if (opts.adopt && bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) {
    data = allocate(dtype, bytes.buffer);
  } else data = allocate(dtype, bytes.slice().buffer as ArrayBuffer);
  return { dtype, shape: Object.freeze([...shape]), data: data as TypedArrayFor<D> };
}

/** A float64 Matrix (lib/data) as an NdArray; shares the buffer. */
export function fromMatrix(m: Matrix): NdArray<'float64'> {
  return ndarray('float64', m.shape, m.data);
}

/**
 * Any numeric NdArray as a float64 Matrix (float64 shares the buffer; others are converted).
 * @throws AppError DATA_MAGNITUDE when an int64/uint64 value is beyond ±2^53 (it would change)
 */
export function toMatrix(arr: NdArray): Matrix {
  assertNdArray(arr);
  if (arr.dtype === 'float64') return { data: arr.data as Float64Array, shape: arr.shape };
  const out = new Float64Array(arr.data.length);
  const d = arr.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (typeof v === 'bigint') {
      const n = Number(v);
      if (!Number.isSafeInteger(n)) {
        throw new AppError('DATA_MAGNITUDE', `element ${i} of a ${arr.dtype} array does not fit a float64 exactly`, {
          userMessage: 'The stored integer array holds values too large to convert to numbers exactly.',
        });
      }
      out[i] = n;
    } else {
      out[i] = v;
    }
  }
  return { data: out, shape: arr.shape };
}
