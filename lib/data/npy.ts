/**
 * @module data/npy
 * NumPy `.npy` reader and writer (format versions 1.0, 2.0 and 3.0, as specified in
 * numpy/lib/format.py: magic `\x93NUMPY`, version bytes, a little-endian header length of 2
 * bytes (1.0) or 4 bytes (2.0, 3.0), a Python-literal dict header (latin-1, UTF-8 in 3.0) ending
 * in `\n`, then the raw array). The upstream client converts `.npy` datasets to float64
 * (spec/protocol.md §6); so do we.
 *
 * Reading accepts little- and big-endian f8/f4/f2, i8/i4/i2/i1, u8/u4/u2/u1 and b1, in C or
 * Fortran order, 1-D (→ n×1) or 2-D. Object arrays (which need pickle), structured, string,
 * complex and datetime dtypes, 0-D and ≥3-D arrays are refused with NPY_INVALID. The header is
 * parsed by a small literal parser, never evaluated. Values must be finite and within
 * `MAX_ABS_VALUE` (see `data/stats`), which also guarantees that 64-bit integers convert to
 * float64 exactly (1e15 < 2^53).
 *
 * Writing produces version 1.0, `'<f8'`, C order, header padded with spaces so the data starts
 * at a multiple of 64 bytes.
 */
import { AppError } from '@/lib/errors';
import { plainMatrix, type Matrix, type PlainMatrix } from '@/lib/data/matrix';
import { assertDatasetValues } from '@/lib/data/stats';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const HEADER_ALIGN = 64;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export type NpyVersion = '1.0' | '2.0' | '3.0';

export interface ParsedNpy {
  /** The data as an n×a float64 matrix in C order (a 1-D array becomes n×1). */
  readonly matrix: PlainMatrix;
  readonly rows: number;
  readonly cols: number;
  /** The file's dtype descriptor, e.g. `'<f8'`, `'>i4'`. */
  readonly dtype: string;
  /** The file's shape. */
  readonly shape: readonly number[];
  readonly fortranOrder: boolean;
  readonly version: NpyVersion;
}

function npyError(message: string, userMessage: string): AppError {
  return new AppError('NPY_INVALID', message, { userMessage });
}

// ---------------------------------------------------------------------------------------------
// Header literal parser (the subset of Python literals numpy writes: dict, tuple, list, str,
// int, True/False/None).

interface PyTuple {
  readonly tuple: PyValue[];
}
type PyValue = string | number | boolean | null | PyValue[] | PyTuple | Map<string, PyValue>;

function isTuple(v: PyValue): v is PyTuple {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map);
}

function parseLiteral(text: string): PyValue {
  let i = 0;
  const bad = (what: string): never => {
    throw npyError(`NPY header: ${what} at offset ${i}`, 'The .npy file has a malformed header. Save the array again with numpy.save.');
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const m = new Map<string, PyValue>();
      for (;;) {
        ws();
        if (text[i] === '}') {
          i++;
          return m;
        }
        const k = value();
        if (typeof k !== 'string') bad('dict key is not a string');
        ws();
        if (text[i] !== ':') bad('expected ":"');
        i++;
        m.set(k as string, value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') bad('expected "," or "}"');
      }
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const items: PyValue[] = [];
      let sawComma = false;
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          if (c === '[') return items;
          // `(x)` is just x in Python; `(x,)` and `()` are tuples.
          return items.length === 1 && !sawComma ? items[0] : { tuple: items };
        }
        items.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          sawComma = true;
        } else if (text[i] !== close) bad(`expected "," or "${close}"`);
      }
    }
    if (c === "'" || c === '"') {
      i++;
      let s = '';
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\') {
          i++;
          const e = text[i];
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
        } else s += text[i];
        i++;
      }
      if (i >= text.length) bad('unterminated string');
      i++;
      return s;
    }
    const m = /^(-?\d+)L?|^(True|False|None)\b/.exec(text.slice(i, i + 40));
    if (!m) return bad('unexpected token');
    i += m[0].length;
    if (m[1] !== undefined) return Number(m[1]);
    return m[2] === 'True' ? true : m[2] === 'False' ? false : null;
  };
  const v = value();
  ws();
  if (i !== text.length) bad('trailing characters');
  return v;
}

// ---------------------------------------------------------------------------------------------
// Dtypes

type Kind = 'f' | 'i' | 'u' | 'b';
interface Dtype {
  readonly kind: Kind;
  readonly size: number;
  readonly little: boolean;
}

const SUPPORTED: Record<Kind, readonly number[]> = { f: [2, 4, 8], i: [1, 2, 4, 8], u: [1, 2, 4, 8], b: [1] };

function parseDtype(descr: PyValue): Dtype {
  if (Array.isArray(descr)) {
    throw npyError('structured dtype', 'This .npy file holds a structured (record) array. Save a plain numeric 2-D array instead (e.g. numpy.save(f, a.astype(float))).');
  }
  if (typeof descr !== 'string') throw npyError('descr is not a string', 'The .npy file has a malformed header. Save the array again with numpy.save.');
  const m = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(descr);
  const kind = m?.[2];
  if (kind === 'O') {
    throw npyError('object dtype', 'This .npy file holds Python objects (dtype=object), which would require running pickle. Save a numeric array instead (e.g. a.astype(float)).');
  }
  if (!m || !(kind! in SUPPORTED)) {
    const what = kind === 'U' || kind === 'S' || kind === 'a' ? 'text' : kind === 'c' ? 'complex numbers' : kind === 'M' || kind === 'm' ? 'dates or times' : kind === 'V' ? 'raw records' : 'an unsupported type';
    throw npyError(`unsupported dtype ${descr.slice(0, 16)}`, `This .npy file holds ${what}, not real numbers. Save a float or integer array instead.`);
  }
  const size = Number(m[3] || '0');
  if (!SUPPORTED[kind as Kind].includes(size)) {
    throw npyError(`unsupported dtype ${descr}`, `The .npy dtype ${descr} is not supported. Save the array as float64 (a.astype(float)).`);
  }
  const order = m[1];
  if (size > 1 && order === '|') throw npyError(`dtype ${descr} has no byte order`, 'The .npy file has a malformed header. Save the array again with numpy.save.');
  // numpy always writes an explicit order; '=' (native) is read as little-endian, the order of
  // every platform numpy ships for today.
  return { kind: kind as Kind, size, little: order !== '>' };
}

function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** How one value of each supported dtype (`${kind}${size}`, see SUPPORTED) is read at byte `at`. */
const READERS: Readonly<Record<string, (v: DataView, at: number, little: boolean) => number>> = {
  f8: (v, at, le) => v.getFloat64(at, le),
  f4: (v, at, le) => v.getFloat32(at, le),
  f2: (v, at, le) => halfToNumber(v.getUint16(at, le)),
  i8: (v, at, le) => Number(v.getBigInt64(at, le)),
  u8: (v, at, le) => Number(v.getBigUint64(at, le)),
  i4: (v, at, le) => v.getInt32(at, le),
  u4: (v, at, le) => v.getUint32(at, le),
  i2: (v, at, le) => v.getInt16(at, le),
  u2: (v, at, le) => v.getUint16(at, le),
  i1: (v, at) => v.getInt8(at),
  u1: (v, at) => v.getUint8(at),
  b1: (v, at) => (v.getUint8(at) === 0 ? 0 : 1),
};

/** Reads `count` values of `dt` starting at `off` into a float64 array (file order). */
function readValues(bytes: Uint8Array, off: number, count: number, dt: Dtype): Float64Array {
  const out = new Float64Array(count);
  if (dt.kind === 'f' && dt.size === 8 && dt.little === LITTLE_ENDIAN_HOST) {
    // Fast path: copy into a fresh (aligned) buffer.
    new Uint8Array(out.buffer).set(bytes.subarray(off, off + count * 8));
    return out;
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset + off, count * dt.size);
  const read = READERS[`${dt.kind}${dt.size}`];
  for (let i = 0; i < count; i++) out[i] = read(v, i * dt.size, dt.little);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reader

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}

interface Header {
  readonly version: NpyVersion;
  readonly dtype: Dtype;
  readonly descr: string;
  readonly fortranOrder: boolean;
  readonly shape: number[];
  readonly dataOffset: number;
}

function readHeader(bytes: Uint8Array): Header {
  const notNpy = (why: string) =>
    npyError(`not an NPY file: ${why}`, 'This is not a NumPy .npy file. Choose a file written by numpy.save (or a CSV file).');
  if (bytes.length >= 2 && bytes[0] === 0x50 && bytes[1] === 0x4b) {
    throw npyError('npz archive', 'This is a .npz archive (several arrays). Save a single array with numpy.save and upload the .npy file.');
  }
  if (bytes.length < 10) throw notNpy('too short');
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw notNpy('bad magic');
  const major = bytes[6];
  const minor = bytes[7];
  if (minor !== 0 || major < 1 || major > 3) {
    throw npyError(`unsupported NPY version ${major}.${minor}`, `This .npy file uses format version ${major}.${minor}; versions 1.0, 2.0 and 3.0 are supported.`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw notNpy('truncated header');
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = 8 + lenBytes;
  const dataOffset = start + headerLen;
  if (dataOffset > bytes.length) {
    throw npyError('truncated header', 'The .npy file is truncated (its header is incomplete). Upload the complete file.');
  }
  const raw = bytes.subarray(start, dataOffset);
  const text = major === 3 ? new TextDecoder('utf-8').decode(raw) : latin1(raw);
  const dict = parseLiteral(text);
  if (!(dict instanceof Map) || dict.size !== 3 || !dict.has('descr') || !dict.has('fortran_order') || !dict.has('shape')) {
    throw npyError('header keys', 'The .npy header must hold exactly descr, fortran_order and shape. Save the array again with numpy.save.');
  }
  const descr = dict.get('descr')!;
  const dtype = parseDtype(descr);
  const fortran = dict.get('fortran_order');
  if (typeof fortran !== 'boolean') throw npyError('fortran_order is not a bool', 'The .npy file has a malformed header. Save the array again with numpy.save.');
  const shapeV = dict.get('shape')!;
  if (!isTuple(shapeV) || !shapeV.tuple.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw npyError('shape is not a tuple of non-negative ints', 'The .npy file has a malformed shape. Save the array again with numpy.save.');
  }
  return {
    version: `${major}.0` as NpyVersion,
    dtype,
    descr: descr as string,
    fortranOrder: fortran,
    shape: shapeV.tuple as number[],
    dataOffset,
  };
}

/**
 * Parses an `.npy` file into an n×a float64 matrix.
 *
 * @throws AppError NPY_INVALID (not NPY, bad header, unsupported dtype or rank, wrong data
 *   length, NaN/Infinity with `details: {row, column}`), DATA_MAGNITUDE (|x| > 1e15).
 */
export function parseNpy(input: Uint8Array | ArrayBuffer): ParsedNpy {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const h = readHeader(bytes);
  const shape = h.shape;
  if (shape.length === 0 || shape.length > 2) {
    const what = shape.length === 0 ? 'a single number (0-D)' : `a ${shape.length}-D array of shape (${shape.join(', ')})`;
    throw npyError(`unsupported rank ${shape.length}`, `This .npy file holds ${what}. A dataset must be a 1-D or 2-D array (records × attributes).`);
  }
  const rows = shape[0];
  const cols = shape.length === 2 ? shape[1] : 1;
  const count = rows * cols;
  if (count === 0) throw npyError('empty array', `The .npy array has no values (shape (${shape.join(', ')})). Upload a non-empty array.`);
  const dataBytes = bytes.length - h.dataOffset;
  const expected = count * h.dtype.size;
  if (dataBytes !== expected) {
    throw npyError(
      `data length ${dataBytes} != ${expected}`,
      dataBytes < expected
        ? 'The .npy file is truncated (it holds fewer values than its shape says). Upload the complete file.'
        : 'The .npy file has extra bytes after the array data. Save the array again with numpy.save.',
    );
  }
  let data = readValues(bytes, h.dataOffset, count, h.dtype);
  if (h.fortranOrder && cols > 1 && rows > 1) {
    // Column-major in the file: element (i, j) is at j·rows + i.
    const c = new Float64Array(count);
    for (let j = 0; j < cols; j++) {
      const src = j * rows;
      for (let i = 0; i < rows; i++) c[i * cols + j] = data[src + i];
    }
    data = c;
  }
  assertDatasetValues(data, cols, 'NPY_INVALID');
  return { matrix: plainMatrix(data, rows, cols), rows, cols, dtype: h.descr, shape: Object.freeze([...shape]), fortranOrder: h.fortranOrder, version: h.version };
}

/** True when a Blob starts with the NPY magic (`\x93NUMPY`). */
export async function isNpyBlob(file: Blob): Promise<boolean> {
  if (file.size < 6) return false;
  const head = new Uint8Array(await file.slice(0, 6).arrayBuffer());
  return head[0] === 0x93 && String.fromCharCode(...head.subarray(1)) === 'NUMPY';
}

/**
 * An uploaded file parsed as NPY when it starts with the NPY magic (whatever its name), or
 * `undefined` when it does not (the caller then reads it as CSV). Reports progress 1 once parsed.
 * @throws AppError ABORTED (`signal` fired before reading), NPY_INVALID / DATA_MAGNITUDE as `parseNpy`
 */
export async function parseNpyBlob(file: Blob, opts: { readonly signal?: AbortSignal; readonly onProgress?: (fraction: number) => void } = {}): Promise<ParsedNpy | undefined> {
  if (!(await isNpyBlob(file))) return undefined;
  if (opts.signal?.aborted) throw new AppError('ABORTED', 'aborted', { userMessage: 'Reading the file was cancelled.' });
  const p = parseNpy(new Uint8Array(await file.arrayBuffer()));
  opts.onProgress?.(1);
  return p;
}

/**
 * Parses an `.npy` array of class labels (1-D, or n×1 / 1×n) into an Int32Array.
 * @throws AppError NPY_INVALID when a value is not an integer in int32 range.
 */
export function parseNpyLabels(input: Uint8Array | ArrayBuffer): Int32Array {
  const p = parseNpy(input);
  if (p.rows !== 1 && p.cols !== 1) {
    throw npyError(`labels shape (${p.shape.join(', ')})`, 'A labels .npy file must be a 1-D array with one label per record.');
  }
  const out = new Int32Array(p.matrix.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = p.matrix.data[i];
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
      throw new AppError('NPY_INVALID', `label ${i + 1} is not an int32`, {
        userMessage: `Label ${i + 1} is not a whole number. Class labels must be integers such as 0, 1, 2.`,
        details: { row: i + 1 },
      });
    }
    out[i] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writer

/**
 * Serialises a float64 matrix (any rank) as an `.npy` file: version 1.0, `'<f8'`, C order,
 * header padded with spaces and a final `\n` so the data starts at a multiple of 64 bytes.
 */
export function writeNpy(m: Matrix): Uint8Array {
  const shape = m.shape;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '<f8', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const preamble = 10; // magic (6) + version (2) + header length (2)
  const total = Math.ceil((preamble + dict.length + 1) / HEADER_ALIGN) * HEADER_ALIGN;
  const headerLen = total - preamble;
  if (headerLen > 0xffff) throw new AppError('INVALID_ARGUMENT', 'shape too long for an NPY 1.0 header');
  const out = new Uint8Array(total + m.data.length * 8);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = headerLen & 0xff;
  out[9] = headerLen >> 8;
  const header = dict.padEnd(headerLen - 1, ' ') + '\n';
  for (let i = 0; i < header.length; i++) out[preamble + i] = header.charCodeAt(i);
  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.length * 8), total);
  } else {
    const dv = new DataView(out.buffer, total);
    for (let i = 0; i < m.data.length; i++) dv.setFloat64(i * 8, m.data[i], true);
  }
  return out;
}
