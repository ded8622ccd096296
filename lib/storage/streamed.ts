/**
 * Streamed E1 upload (issue #13 item 2): an ndarray too large to hold whole (a UDM of n²·a values)
 * is produced in row ranges on demand and sent chunk by chunk, wire-identical to `putNdarray`.
 *
 * Every chunk's metadata carries `full_checksum`, the SHA-256 of the whole object, so the object is
 * produced twice: pass 1 hashes it range by range (incremental SHA-256, nothing kept), pass 2
 * produces one chunk at a time into a Blob, checksums and uploads it. The source must therefore
 * give the same values both times (the encrypted UDM does: its noise comes from a per-job seed).
 * Peak memory: the largest chunk plus one range (≤ 1/RANGES_PER_CHUNK of a chunk) in flight.
 */
import { AppError } from '../errors';
import { checkCallerTags, e1ChunkTags, splitRows } from './e1';
import { Sha256 } from './sha256';
import { assertKeyId } from './key-id';
import type { ChunkSpec, NdArray, NdarraySource, ObjectStore, PutOptions } from './types';

export type { NdarraySource };

/** What a streamed put needs from a client: delete the old ball, upload one chunk (with retries). */
export interface ChunkSink {
  deleteBall(ballId: string, opts: { signal?: AbortSignal }): Promise<number>;
  putChunk(ballId: string, chunk: ChunkSpec<Blob>, signal: AbortSignal | undefined): Promise<void>;
}

/** Ranges a chunk is produced in: bounds what is in flight beside the chunk buffer. */
const RANGES_PER_CHUNK = 8;

function ranges(from: number, to: number): { from: number; to: number }[] {
  const step = Math.max(1, Math.ceil((to - from) / RANGES_PER_CHUNK));
  const out: { from: number; to: number }[] = [];
  for (let r = from; r < to; r += step) out.push({ from: r, to: Math.min(to, r + step) });
  return out;
}

const bytesOf = (a: Float64Array) => new Uint8Array(a.buffer as ArrayBuffer, a.byteOffset, a.byteLength);

/** Uploads `source` as ball `ballId` (E1, `numChunks` row chunks) through `sink`, in two passes. */
export async function putNdarrayStreamed(sink: ChunkSink, ballId: string, source: NdarraySource, opts: PutOptions = {}): Promise<void> {
  assertKeyId(ballId, 'ball id');
  const caller = checkCallerTags(opts.tags);
  const [n, ...trailing] = source.shape;
  const rowValues = trailing.reduce((p, d) => p * d, 1);
  if (!(n >= 1) || !(rowValues >= 1)) throw new AppError('INVALID_ARGUMENT', `a streamed array of shape (${source.shape.join(', ')})`, { userMessage: 'An empty matrix cannot be stored.' });
  const rowCounts = splitRows(n, opts.numChunks ?? 4);
  const starts: number[] = [];
  rowCounts.reduce((r, c) => (starts.push(r), r + c), 0);
  const produce = async (from: number, to: number): Promise<Float64Array> => {
    const part = await source.rows(from, to, opts.signal);
    if (part.length !== (to - from) * rowValues) {
      throw new AppError('INTERNAL', `rows [${from}, ${to}) of ${ballId} have ${part.length} values, expected ${(to - from) * rowValues}`);
    }
    return part;
  };

  // Pass 1: the whole object's SHA-256.
  const whole = new Sha256();
  for (const r of ranges(0, n)) whole.update(bytesOf(await produce(r.from, r.to)));
  const fullChecksum = whole.hex();

  // Pass 2: chunk by chunk. Each range is hashed and moved into a Blob (browsers keep large
  // Blobs out of the page's memory), so what is live is one chunk's Blob and one range; fetch
  // sends the Blob as it is.
  await sink.deleteBall(ballId, { signal: opts.signal });
  const totalBytes = n * rowValues * 8;
  let doneBytes = 0;
  const report = (doneChunks: number) => opts.onProgress?.({ ballId, doneBytes, totalBytes, doneChunks, totalChunks: rowCounts.length });
  report(0);
  for (let i = 0; i < rowCounts.length; i++) {
    const from = starts[i];
    const to = from + rowCounts[i];
    const hash = new Sha256();
    const parts: Blob[] = [];
    for (const r of ranges(from, to)) {
      const bytes = bytesOf(await produce(r.from, r.to));
      hash.update(bytes);
      parts.push(new Blob([bytes]));
    }
    const payload = new Blob(parts);
    const tags = e1ChunkTags(ballId, { index: i, numChunks: rowCounts.length, rows: rowCounts[i], trailing, dtype: 'float64', bytes: payload.size, fullChecksum }, caller);
    await sink.putChunk(ballId, { key: `${ballId}_${i}`, index: i, payload, tags, checksum: hash.hex() }, opts.signal);
    doneBytes += payload.size;
    report(i + 1);
  }
}

/**
 * Stores `source` through any ObjectStore: streamed when the store can (MictlanxClient), otherwise
 * produced whole and put as one ndarray (in-memory test stores).
 */
export async function putNdarrayFrom(store: ObjectStore, ballId: string, source: NdarraySource, opts: PutOptions = {}): Promise<void> {
  if (store.putNdarrayStream) return store.putNdarrayStream(ballId, source, opts);
  const data = await source.rows(0, source.shape[0], opts.signal);
  const arr: NdArray = { dtype: 'float64', shape: [...source.shape], data };
  return store.putNdarray(ballId, arr, opts);
}
