/**
 * @module storage/e1
 * E1, the chunked-ndarray encoding almost every Rory object uses (spec/protocol.md §7.1,
 * spec/mictlanx.md §5.2 convention 2): rows (axis 0) are split with Python's rule, each chunk is
 * the raw little-endian bytes of its row block and carries its own shape/dtype tags. The tags are
 * built in the exact order and spelling the MictlanX Python client POSTs them
 * (shared/vectors/encodings.json `E1.cases[*].wire_tags`), so objects written here are
 * byte-for-byte what rorycommon writes and reads.
 *
 * Encoding and decoding are pure; checksums of what is read are verified by the client.
 */
import { AppError, StorageError } from '../errors';
import { parsePythonShape, pythonShape } from '../data/matrix';
import { assertKeyId } from './key-id';
import { DTYPE_BYTES, assertNdArray, isDtype, ndarrayFromBytes, ndarrayToBytes, shapeSize } from './ndarray';
import { concatBytes, joinBytes, sha256Hex } from './sha256';
import type { ChunkSpec, Dtype, EncodedBall, NdArray, StoredChunk } from './types';

/** Rory's default `NUM_CHUNKS` (D6). */
export const DEFAULT_NUM_CHUNKS = 4;

/** Tags the encoders own; callers may not override them (upstream lets them, which breaks readers). */
export const RESERVED_TAGS: readonly string[] = Object.freeze([
  'index',
  'num_chunks',
  'full_checksum',
  'chunk_size',
  'group_id',
  'shape',
  'dtype',
  'records',
  'attributes',
]);

/**
 * Python's row-split rule (`Chunks.from_ndarray`): `per = rows / min(n, rows)` as a float; emit
 * `int(per)` rows per chunk while at least `per` rows remain; the remainder joins the last chunk.
 * The result can have more than `n` chunks (7 rows, n=4 → [1,1,1,1,1,2]).
 * @throws AppError INVALID_ARGUMENT for 0 rows (Python fails there too) or n < 1
 */
export function splitRows(rows: number, n: number): number[] {
  if (!Number.isSafeInteger(rows) || rows < 1) throw new AppError('INVALID_ARGUMENT', 'an object to split must have at least one row', { userMessage: 'An empty matrix cannot be stored: it has no rows.' });
  if (!Number.isSafeInteger(n) || n < 1) throw new AppError('INVALID_ARGUMENT', 'numChunks must be a positive integer', { userMessage: 'The number of chunks must be a whole number, 1 or more (Settings, NUM_CHUNKS).' });
  const per = rows / Math.min(n, rows);
  const step = Math.trunc(per);
  const out: number[] = [];
  let remaining = rows;
  while (remaining >= per) {
    out.push(step);
    remaining -= step;
  }
  if (remaining > 0) out[out.length - 1] += remaining;
  return out;
}

/** @throws AppError INVALID_ARGUMENT when caller tags are not strings or collide with reserved tags */
export function checkCallerTags(tags: Readonly<Record<string, string>> | undefined, reserved: readonly string[] = RESERVED_TAGS): Record<string, string> {
  const out: Record<string, string> = {};
  if (tags === undefined) return out;
  if (typeof tags !== 'object' || tags === null) throw new AppError('INVALID_ARGUMENT', 'tags must be an object of strings', { userMessage: 'Internal error: storage tags must be text values.' });
  for (const [k, v] of Object.entries(tags)) {
    if (typeof v !== 'string') throw new AppError('INVALID_ARGUMENT', `tag ${JSON.stringify(k)} must be a string (MictlanX rejects other types)`, { userMessage: 'Internal error: storage tags must be text values (MictlanX rejects other types).' });
    if (reserved.includes(k)) throw new AppError('INVALID_ARGUMENT', `tag ${JSON.stringify(k)} is set by the encoder and cannot be overridden`, { userMessage: 'Internal error: a storage tag that the encoder sets itself was given by the caller.' });
    out[k] = v;
  }
  return out;
}

/** A STORAGE_INTEGRITY error naming the ball, with a user message saying what to do. */
export function integrityError(ballId: string, detail: string, extra: { key?: string; routerUrl?: string; cause?: unknown } = {}): StorageError {
  return new StorageError('STORAGE_INTEGRITY', `ball ${ballId}: ${detail}`, {
    ...extra,
    ballId,
    userMessage: `The stored object "${ballId}" is damaged, incomplete or not in the expected format (${detail}). Upload or recompute it again.`,
  });
}

/**
 * Parses and checks the `index` tags: they must be exactly 0..n-1, and any `num_chunks` tag must
 * equal n. Returns the chunks in index order.
 * @throws AppError STORAGE_INTEGRITY
 */
export function sortByIndex<C extends { readonly tags: Readonly<Record<string, string>> }>(ballId: string, chunks: readonly C[]): C[] {
  if (chunks.length === 0) throw integrityError(ballId, 'no chunks');
  const slots: (C | undefined)[] = new Array(chunks.length);
  for (const c of chunks) {
    const t = c.tags?.index;
    if (typeof t !== 'string' || !/^\d+$/.test(t)) throw integrityError(ballId, 'a chunk has no valid index tag');
    const i = Number(t);
    if (i >= chunks.length) throw integrityError(ballId, `chunk index ${i} is outside 0..${chunks.length - 1}`);
    if (slots[i] !== undefined) throw integrityError(ballId, `chunk index ${i} appears twice`);
    slots[i] = c;
    const n = c.tags.num_chunks;
    if (n !== undefined && n !== String(chunks.length)) throw integrityError(ballId, `num_chunks says ${n.slice(0, 12)} chunks but ${chunks.length} were read`);
  }
  return slots as C[];
}

export interface DecodeOptions {
  /**
   * The payloads' memory is handed over: when they are adjacent views covering one whole buffer
   * (how MictlanxClient reads a ball), the result views that buffer instead of copying it.
   * Default false: the result never aliases the input.
   */
  readonly adopt?: boolean;
}

export interface E1Options {
  /** Requested number of chunks (default 4); the real count follows Python's rule. */
  readonly numChunks?: number;
  /** Caller tags appended to every chunk, e.g. `full_shape`, `full_dtype`. */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * The metadata tags of E1 chunk `index`, in the order and spelling the Python client sends them:
 * segmenter tags, the real num_chunks, full_checksum, then the caller's (already checked).
 */
export function e1ChunkTags(
  ballId: string,
  c: { readonly index: number; readonly numChunks: number; readonly rows: number; readonly trailing: readonly number[]; readonly dtype: string; readonly bytes: number; readonly fullChecksum: string },
  caller: Readonly<Record<string, string>>,
): Record<string, string> {
  return {
    index: String(c.index),
    num_chunks: String(c.numChunks),
    shape: pythonShape([c.rows, ...c.trailing]),
    attributes: String(c.trailing.length > 0 && c.trailing[0] !== 0 ? c.trailing[0] : 1),
    records: String(c.rows),
    dtype: c.dtype,
    chunk_size: String(c.bytes),
    group_id: ballId,
    full_checksum: c.fullChecksum,
    ...caller,
  };
}

/**
 * Encodes an ndarray as E1 chunk specs. Payloads are views of the array's bytes (no copy).
 * @throws AppError INVALID_KEY_ID, INVALID_ARGUMENT (empty array, bad tags), SHAPE_MISMATCH
 * @example const ball = await encodeE1('encryptedP0', arr, { numChunks: 4, tags: { full_shape: '(5, 2, 3)' } });
 */
export async function encodeE1(ballId: string, arr: NdArray, opts: E1Options = {}): Promise<EncodedBall> {
  assertKeyId(ballId, 'ball id');
  assertNdArray(arr);
  const caller = checkCallerTags(opts.tags);
  if (arr.data.length === 0) throw new AppError('INVALID_ARGUMENT', 'an empty array cannot be stored', { userMessage: 'An empty matrix cannot be stored. Check that the dataset has rows and columns.' });
  const rowCounts = splitRows(arr.shape[0], opts.numChunks ?? DEFAULT_NUM_CHUNKS);
  const bytes = ndarrayToBytes(arr);
  const rowBytes = bytes.byteLength / arr.shape[0];
  const trailing = arr.shape.slice(1);
  const fullChecksum = await sha256Hex(bytes);
  const n = rowCounts.length;
  const chunks: ChunkSpec[] = [];
  let row = 0;
  for (let i = 0; i < n; i++) {
    const rows = rowCounts[i];
    const payload = bytes.subarray(row * rowBytes, (row + rows) * rowBytes);
    row += rows;
    const tags = e1ChunkTags(ballId, { index: i, numChunks: n, rows, trailing, dtype: arr.dtype, bytes: payload.byteLength, fullChecksum }, caller);
    chunks.push({ key: `${ballId}_${i}`, index: i, payload, tags, checksum: await sha256Hex(payload) });
  }
  return { ballId, chunks, fullChecksum, totalBytes: bytes.byteLength };
}

function chunkShape(ballId: string, tag: string | undefined): number[] {
  if (tag === undefined) throw integrityError(ballId, 'a chunk has no shape tag');
  try {
    const s = parsePythonShape(tag);
    if (s.length === 0 || s.some((d) => !Number.isSafeInteger(d))) throw new Error('bad');
    return s;
  } catch {
    throw integrityError(ballId, 'a chunk shape tag is not a shape literal');
  }
}

function chunkDtype(ballId: string, tag: string | undefined): Dtype {
  // rorycommon's reader defaults to float64 when the tag is missing.
  const d = tag ?? 'float64';
  if (!isDtype(d)) throw integrityError(ballId, `unsupported dtype tag ${JSON.stringify(d.slice(0, 20))}`);
  return d;
}

/**
 * Decodes E1 chunks (any order) into one ndarray, the way `get_and_merge` does: each chunk is
 * interpreted with its own dtype/shape tags, sorted by `index`, concatenated along axis 0.
 * Unlike numpy, mixed dtypes are refused rather than silently upcast.
 * @throws AppError STORAGE_INTEGRITY (missing/duplicate index, inconsistent shapes, wrong sizes)
 */
export function decodeE1(ballId: string, chunks: readonly StoredChunk[], opts: DecodeOptions = {}): NdArray {
  const sorted = sortByIndex(ballId, chunks);
  const dtype = chunkDtype(ballId, sorted[0].tags.dtype);
  let trailing: number[] | undefined;
  let rows = 0;
  for (const c of sorted) {
    if (chunkDtype(ballId, c.tags.dtype) !== dtype) throw integrityError(ballId, 'chunks have different dtypes');
    const shape = chunkShape(ballId, c.tags.shape);
    const rest = shape.slice(1);
    if (trailing === undefined) trailing = rest;
    else if (rest.length !== trailing.length || rest.some((d, k) => d !== trailing![k])) {
      throw integrityError(ballId, 'chunks have incompatible shapes');
    }
    if (c.payload.byteLength !== shapeSize(shape) * DTYPE_BYTES[dtype]) {
      throw integrityError(ballId, `chunk ${c.tags.index} has ${c.payload.byteLength} bytes, not what its shape tag says`);
    }
    rows += shape[0];
  }
  // Adopting payloads that lie back to back in one buffer the caller hands over avoids a copy.
  const bytes = opts.adopt ? joinBytes(sorted.map((c) => c.payload)) : concatBytes(sorted.map((c) => c.payload));
  return ndarrayFromBytes(dtype, [rows, ...(trailing ?? [])], bytes, { adopt: true });
}
