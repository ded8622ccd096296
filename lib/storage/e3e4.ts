/**
 * @module storage/e3e4
 * E3 and E4, the pickled CKKS containers (spec/protocol.md §7.3; vectors `encodings.json` E3/E4):
 * items (E3, `list[bytes]`) or rows (E4, `list[list[bytes]]`) are split into groups with E1's row
 * rule, and each chunk is the pickle of its group, as mictlanx `Chunk.from_list` writes it. Chunk
 * tags: `index`, `num_chunks`, `chunk_size`, `group_id`, `full_checksum`, then the caller's.
 *
 * Decoding is bounded: the unpickler (lib/storage/pickle.ts) refuses shared lists and gets node
 * and output budgets, tightened when the caller knows how many items or rows to expect.
 */
import { AppError } from '../errors';
import { DEFAULT_NUM_CHUNKS, checkCallerTags, integrityError, sortByIndex, splitRows } from './e1';
import { assertKeyId } from './key-id';
import { pickleBytesList, pickleBytesMatrix, unpickleBytesList, unpickleBytesMatrix } from './pickle';
import { sha256Hex, sha256HexOfParts } from './sha256';
import type { ChunkSpec, EncodedBall, StoredChunk } from './types';

const E3_RESERVED_TAGS: readonly string[] = Object.freeze(['index', 'num_chunks', 'full_checksum', 'chunk_size', 'group_id']);

/**
 * Chunks for already-encoded payloads (E3/E4): tags `index`, `num_chunks`, `chunk_size`,
 * `group_id`, `full_checksum`, then the caller's. The full checksum is hashed over the payloads
 * in place (no concatenated copy of large balls).
 */
export async function encodePayloads(ballId: string, payloads: readonly Uint8Array[], tags?: Readonly<Record<string, string>>): Promise<EncodedBall> {
  assertKeyId(ballId, 'ball id');
  // E3/E4 chunks carry no per-chunk shape/dtype, so callers may set those (upstream tags
  // `{P}initsm` with shape and dtype, spec/protocol.md §7.3).
  const caller = checkCallerTags(tags, E3_RESERVED_TAGS);
  const fullChecksum = await sha256HexOfParts(payloads);
  const chunks: ChunkSpec[] = [];
  let total = 0;
  for (let i = 0; i < payloads.length; i++) {
    const payload = payloads[i];
    total += payload.byteLength;
    chunks.push({
      key: `${ballId}_${i}`,
      index: i,
      payload,
      checksum: await sha256Hex(payload),
      tags: {
        index: String(i),
        num_chunks: String(payloads.length),
        chunk_size: String(payload.byteLength),
        group_id: ballId,
        full_checksum: fullChecksum,
        ...caller,
      },
    });
  }
  return { ballId, chunks, fullChecksum, totalBytes: total };
}

export interface E3E4Options {
  readonly numChunks?: number;
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * E3: items split into row groups with E1's rule, each chunk the pickle (protocol 4, as
 * `Chunk.from_list`) of its group. No items gives one chunk holding an empty list.
 * @throws AppError INVALID_KEY_ID, INVALID_ARGUMENT
 */
export async function encodeBytesList(ballId: string, items: readonly Uint8Array[], opts: E3E4Options = {}): Promise<EncodedBall> {
  assertKeyId(ballId, 'ball id');
  if (!Array.isArray(items) || items.some((x) => !(x instanceof Uint8Array))) {
    throw new AppError('INVALID_ARGUMENT', 'items must be an array of Uint8Array', { userMessage: 'Ciphertexts to store must be byte arrays.' });
  }
  return encodePayloads(ballId, groups(items, opts.numChunks ?? DEFAULT_NUM_CHUNKS).map((g) => pickleBytesList(g)), opts.tags);
}

/**
 * E4: rows split into groups with E1's rule, each chunk the pickle of its `list[list[bytes]]`.
 * @throws AppError INVALID_KEY_ID, INVALID_ARGUMENT
 */
export async function encodeBytesMatrix(ballId: string, rows: readonly (readonly Uint8Array[])[], opts: E3E4Options = {}): Promise<EncodedBall> {
  assertKeyId(ballId, 'ball id');
  if (!Array.isArray(rows) || rows.some((r) => !Array.isArray(r) || r.some((x) => !(x instanceof Uint8Array)))) {
    throw new AppError('INVALID_ARGUMENT', 'rows must be an array of arrays of Uint8Array', { userMessage: 'Ciphertext rows to store must be lists of byte arrays.' });
  }
  return encodePayloads(ballId, groups(rows, opts.numChunks ?? DEFAULT_NUM_CHUNKS).map((g) => pickleBytesMatrix(g)), opts.tags);
}

/** Items split into row groups with E1's rule; no items gives one empty group. */
function groups<T>(items: readonly T[], numChunks: number): T[][] {
  if (items.length === 0) return [[]];
  const out: T[][] = [];
  let at = 0;
  for (const n of splitRows(items.length, numChunks)) {
    out.push(items.slice(at, at + n));
    at += n;
  }
  return out;
}

export interface E3E4DecodeOptions {
  /** E3: the number of items expected; E4: `[rows]` or `[rows, cols]`. Checked exactly. */
  readonly shape?: readonly number[];
  /** Most bytes the items may hold together (each shared reference counted again). */
  readonly maxOutputBytes?: number;
}

function unpickled<T>(ballId: string, index: number, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof AppError && e.code === 'STORAGE_INTEGRITY') throw e;
    // The unpickler's message names the reason and the offset, never the payload.
    const why = e instanceof AppError ? e.message.replace(/^unpickle: /, '') : 'unreadable';
    throw integrityError(ballId, `chunk ${index} is not the expected pickled list of bytes (${why})`, { cause: e });
  }
}

/** Sum of byte lengths. */
function byteSum(items: readonly Uint8Array[]): number {
  let n = 0;
  for (const b of items) n += b.byteLength;
  return n;
}

/**
 * Decodes E3 chunks (any order) into the items, in index order.
 * @throws StorageError STORAGE_INTEGRITY for a bad pickle, a budget exceeded, or another item count
 */
export function decodeBytesList(ballId: string, chunks: readonly StoredChunk[], opts: E3E4DecodeOptions = {}): Uint8Array[] {
  const sorted = sortByIndex(ballId, chunks);
  const want = opts.shape?.[0];
  let budget = opts.maxOutputBytes;
  const out: Uint8Array[] = [];
  sorted.forEach((c, i) => {
    // A chunk holds one list node plus at most the items still missing.
    const maxNodes = want === undefined ? undefined : want - out.length + 1;
    const items = unpickled(ballId, i, () => unpickleBytesList(c.payload, { maxNodes, maxOutputBytes: budget }));
    if (budget !== undefined) budget -= byteSum(items);
    for (const x of items) out.push(x);
  });
  if (want !== undefined && out.length !== want) throw integrityError(ballId, `it holds ${out.length} ciphertexts, ${want} were expected`);
  return out;
}

/**
 * Decodes E4 chunks (any order) into the rows, in index order (upstream's get_pyctxt_matrix
 * stacks them in arrival order, a bug: spec/protocol.md §13).
 * @throws StorageError STORAGE_INTEGRITY for a bad pickle, a budget exceeded, or another shape
 */
export function decodeBytesMatrix(ballId: string, chunks: readonly StoredChunk[], opts: E3E4DecodeOptions = {}): Uint8Array[][] {
  const sorted = sortByIndex(ballId, chunks);
  const wantRows = opts.shape?.[0];
  const wantCols = opts.shape?.[1];
  let budget = opts.maxOutputBytes;
  const out: Uint8Array[][] = [];
  sorted.forEach((c, i) => {
    const maxNodes = wantRows === undefined || wantCols === undefined ? undefined : (wantRows - out.length) * (wantCols + 1) + 1;
    const rows = unpickled(ballId, i, () => unpickleBytesMatrix(c.payload, { maxNodes, maxOutputBytes: budget }));
    for (const r of rows) {
      if (budget !== undefined) budget -= byteSum(r);
      out.push(r);
    }
  });
  if (wantRows !== undefined && out.length !== wantRows) throw integrityError(ballId, `it holds ${out.length} rows of ciphertexts, ${wantRows} were expected`);
  if (wantCols !== undefined && out.some((r) => r.length !== wantCols)) throw integrityError(ballId, `a row does not hold the ${wantCols} ciphertexts expected`);
  return out;
}
