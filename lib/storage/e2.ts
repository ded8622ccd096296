/**
 * @module storage/e2
 * E2, the byte-blob encoding Rory uses for the KMEANS plaintext (spec/protocol.md §7.2,
 * spec/mictlanx.md §5.2 convention 1): `A.tobytes()` cut into 128 000-byte pieces (humanfriendly
 * "128kb", decimal), the remainder appended to the last piece, and the FULL shape/dtype on every
 * piece. Tags follow the Python client's order (shared/vectors/encodings.json `E2.cases[*].pieces[*].wire_tags`).
 * E1 and E2 are not interchangeable: the KMEANS worker reads only E2.
 */
import { AppError } from '../errors';
import { parsePythonShape, pythonShape } from '../data/matrix';
import { checkCallerTags, integrityError, sortByIndex, type DecodeOptions } from './e1';
import { assertKeyId } from './key-id';
import { DTYPE_BYTES, assertNdArray, isDtype, ndarrayFromBytes, ndarrayToBytes, shapeSize } from './ndarray';
import { concatBytes, joinBytes, sha256Hex } from './sha256';
import type { ChunkSpec, EncodedBall, NdArray, StoredChunk } from './types';

/** rorycommon `put_ndarray` chunk size: humanfriendly parse_size("128kb") = 128 000 bytes. */
export const E2_PIECE_BYTES = 128_000;

/**
 * Piece sizes of a blob: whole pieces while at least `pieceBytes` remain, the remainder appended to
 * the last piece (so it may be up to 2× long); a blob shorter than one piece is one piece.
 * @throws AppError INVALID_ARGUMENT for an empty blob
 */
export function splitBlob(byteLength: number, pieceBytes = E2_PIECE_BYTES): number[] {
  if (!Number.isSafeInteger(byteLength) || byteLength < 1) throw new AppError('INVALID_ARGUMENT', 'an empty blob cannot be stored', { userMessage: 'An empty matrix cannot be stored. Check that the dataset has rows and columns.' });
  if (!Number.isSafeInteger(pieceBytes) || pieceBytes < 1) throw new AppError('INVALID_ARGUMENT', 'pieceBytes must be a positive integer', { userMessage: 'Internal error: the E2 piece size must be a positive whole number.' });
  const whole = Math.floor(byteLength / pieceBytes);
  if (whole === 0) return [byteLength];
  const out = new Array<number>(whole).fill(pieceBytes);
  out[whole - 1] += byteLength - whole * pieceBytes;
  return out;
}

/**
 * Encodes an ndarray as E2 pieces (payloads are views of the array's bytes).
 * @throws AppError INVALID_KEY_ID, INVALID_ARGUMENT
 */
export async function encodeE2(
  ballId: string,
  arr: NdArray,
  opts: { readonly tags?: Readonly<Record<string, string>>; readonly pieceBytes?: number } = {},
): Promise<EncodedBall> {
  assertKeyId(ballId, 'ball id');
  assertNdArray(arr);
  const caller = checkCallerTags(opts.tags);
  const bytes = ndarrayToBytes(arr);
  const sizes = splitBlob(bytes.byteLength, opts.pieceBytes);
  const fullChecksum = await sha256Hex(bytes);
  const shape = pythonShape(arr.shape);
  const chunks: ChunkSpec[] = [];
  let offset = 0;
  for (let i = 0; i < sizes.length; i++) {
    const payload = bytes.subarray(offset, offset + sizes[i]);
    offset += sizes[i];
    const tags: Record<string, string> = {
      index: String(i),
      num_chunks: String(sizes.length),
      chunk_size: String(payload.byteLength),
      group_id: ballId,
      full_checksum: fullChecksum,
      shape,
      dtype: arr.dtype,
      ...caller,
    };
    chunks.push({ key: `${ballId}_${i}`, index: i, payload, tags, checksum: await sha256Hex(payload) });
  }
  return { ballId, chunks, fullChecksum, totalBytes: bytes.byteLength };
}

/**
 * Decodes E2 pieces (any order): concatenated by `index`, interpreted with the first piece's
 * dtype and (full) shape tags, as `get_matrix_or_error` does.
 * @throws AppError STORAGE_INTEGRITY
 */
export function decodeE2(ballId: string, chunks: readonly StoredChunk[], opts: DecodeOptions = {}): NdArray {
  const sorted = sortByIndex(ballId, chunks);
  const first = sorted[0].tags;
  const dtype = first.dtype ?? 'float64';
  if (!isDtype(dtype)) throw integrityError(ballId, `unsupported dtype tag ${JSON.stringify(dtype.slice(0, 20))}`);
  let shape: number[];
  try {
    shape = parsePythonShape(first.shape ?? '');
  } catch {
    throw integrityError(ballId, 'the shape tag is missing or not a shape literal');
  }
  if (shape.length === 0) throw integrityError(ballId, 'the shape tag is empty');
  // Adopting payloads that lie back to back in one buffer the caller hands over avoids a copy.
  const bytes = opts.adopt ? joinBytes(sorted.map((c) => c.payload)) : concatBytes(sorted.map((c) => c.payload));
  if (bytes.byteLength !== shapeSize(shape) * DTYPE_BYTES[dtype]) {
    throw integrityError(ballId, `${bytes.byteLength} bytes do not match the shape and dtype tags`);
  }
  return ndarrayFromBytes(dtype, shape, bytes, { adopt: true });
}
