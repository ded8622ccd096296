/**
 * Streamed E1 upload (issue #13 item 2): an ndarray too large to hold whole (a UDM of n²·a values)
 * is produced in row ranges on demand and sent chunk by chunk, wire-identical to `putNdarray`.
 *
 * A chunk's metadata, sent before its data, carries its SHA-256 and `full_checksum`, the SHA-256 of
 * the whole object, so the object is produced twice: pass 1 hashes it range by range (the whole and
 * each chunk, incremental SHA-256, nothing kept); pass 2 uploads each chunk as a body produced range
 * by range while it is sent (lib/storage/transport.ts: streamed in Node, gathered into a Blob in
 * browsers). The source must give the same values both times (the encrypted UDM does: its noise
 * comes from a per-job seed); a source that does not leaves a ball whose chunks fail their
 * checksums on read. Peak memory: a range or two in Node (plus what fetch keeps of a request's body
 * until it is answered); in browsers the chunk's Blob, outside the page, plus one range.
 */
import { AppError } from '../errors';
import { checkCallerTags, e1ChunkTags, splitRows } from './e1';
import { Sha256 } from './sha256';
import { assertKeyId } from './key-id';
import type { ChunkSpec, NdArray, NdarraySource, ObjectStore, ProducedBody, PutOptions } from './types';

export type { NdarraySource };

/** What a streamed put needs from a client: delete the old ball, upload one chunk (with retries). */
export interface ChunkSink {
  deleteBall(ballId: string, opts: { signal?: AbortSignal }): Promise<number>;
  putChunk(ballId: string, chunk: ChunkSpec<ProducedBody>, signal: AbortSignal | undefined): Promise<void>;
}

/** Ranges a chunk is produced in: bounds what is in flight beside the chunk's body. */
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
  const produce = async (from: number, to: number): Promise<Uint8Array> => {
    const part = await source.rows(from, to, opts.signal);
    if (part.length !== (to - from) * rowValues) {
      throw new AppError('INTERNAL', `rows [${from}, ${to}) of ${ballId} have ${part.length} values, expected ${(to - from) * rowValues}`);
    }
    return bytesOf(part);
  };

  // Pass 1: the SHA-256 of the whole object and of each chunk.
  const whole = new Sha256();
  const checksums: string[] = [];
  for (let i = 0; i < rowCounts.length; i++) {
    const chunk = new Sha256();
    for (const r of ranges(starts[i], starts[i] + rowCounts[i])) {
      const bytes = await produce(r.from, r.to);
      whole.update(bytes);
      chunk.update(bytes);
    }
    checksums.push(chunk.hex());
  }
  const fullChecksum = whole.hex();

  // Pass 2: chunk by chunk, each produced range by range as it is sent (MictlanxTransport.settleBody).
  await sink.deleteBall(ballId, { signal: opts.signal });
  const totalBytes = n * rowValues * 8;
  let doneBytes = 0;
  const report = (doneChunks: number) => opts.onProgress?.({ ballId, doneBytes, totalBytes, doneChunks, totalChunks: rowCounts.length });
  report(0);
  for (let i = 0; i < rowCounts.length; i++) {
    const chunkRanges = ranges(starts[i], starts[i] + rowCounts[i]);
    const size = rowCounts[i] * rowValues * 8;
    const payload: ProducedBody = {
      size,
      open: () => {
        let next = 0;
        return new ReadableStream<Uint8Array>(
          {
            async pull(controller) {
              if (next === chunkRanges.length) return controller.close();
              const r = chunkRanges[next++];
              controller.enqueue(await produce(r.from, r.to));
            },
          },
          { highWaterMark: 0 },
        );
      },
    };
    const tags = e1ChunkTags(ballId, { index: i, numChunks: rowCounts.length, rows: rowCounts[i], trailing, dtype: 'float64', bytes: size, fullChecksum }, caller);
    await sink.putChunk(ballId, { key: `${ballId}_${i}`, index: i, payload, tags, checksum: checksums[i] }, opts.signal);
    doneBytes += size;
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
