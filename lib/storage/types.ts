/**
 * @module storage/types
 * Shared types of the storage layer (spec/protocol.md §7, spec/mictlanx.md). The MictlanX
 * client in `mictlanx-client.ts` implements `ObjectStore`; the local cloud's worker and the
 * browser runners use only this interface, so tests can swap in the real local router.
 */

export type Dtype = 'float64' | 'float32' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'uint16' | 'uint32' | 'uint64';

export type TypedArrayFor<D extends Dtype> = D extends 'float64'
  ? Float64Array
  : D extends 'float32'
    ? Float32Array
    : D extends 'int64'
      ? BigInt64Array
      : D extends 'uint64'
        ? BigUint64Array
        : D extends 'int32'
          ? Int32Array
          : D extends 'int16'
            ? Int16Array
            : D extends 'int8'
              ? Int8Array
              : D extends 'uint8'
                ? Uint8Array
                : D extends 'uint16'
                  ? Uint16Array
                  : Uint32Array;

/** A numpy-like array: C order, little-endian on the wire. */
export interface NdArray<D extends Dtype = Dtype> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: TypedArrayFor<D>;
}

/** A float64 ndarray produced in row ranges on demand, the same values every time (see lib/storage/streamed.ts). */
export interface NdarraySource {
  readonly shape: readonly number[];
  /** Rows [from, to) (each shape[1]·shape[2]… values), freshly produced. */
  rows(from: number, to: number, signal?: AbortSignal): Promise<Float64Array>;
}

/** Progress of a multi-chunk transfer. */
export interface TransferProgress {
  readonly ballId: string;
  readonly doneBytes: number;
  readonly totalBytes: number;
  readonly doneChunks: number;
  readonly totalChunks: number;
}

export interface PutOptions {
  /** Requested number of row chunks (E1/E3/E4). The real count may differ (Python's split rule). */
  readonly numChunks?: number;
  /** Extra string tags added to every chunk, e.g. full_shape / full_dtype. */
  readonly tags?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: TransferProgress) => void;
}

/**
 * What a reader expects of a ball, when it knows (issue #12 finding 5). Reads refuse metadata that
 * claims more chunks or bytes than this allows, before fetching them, and results of another shape.
 */
export interface ExpectedObject {
  /**
   * The shape of the result: E1/E2 the array's shape; E3 `[items]`; E4 `[rows]` or `[rows, cols]`.
   * Bounds the chunk count (a chunk holds at least one row or item; an E2 piece 128 000 bytes).
   */
  readonly shape?: readonly number[];
  /** Most bytes the ball may hold (and, for E3/E4, the unpickled items together). */
  readonly maxBytes?: number;
}

export interface GetOptions {
  /** Send `Force-Get: 1` (bypass the router cache). Default true: iteration objects are rewritten under the same key. */
  readonly force?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: TransferProgress) => void;
  /** Expected shape / size; without it the client's global caps apply. */
  readonly expect?: ExpectedObject;
}

/** Chunk metadata as the router returns it (spec/mictlanx.md §3). */
export interface ChunkMetadata {
  readonly key: string;
  readonly size: number;
  readonly checksum: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly content_type: string;
  readonly producer_id: string;
  readonly ball_id: string;
  readonly bucket_id: string;
  readonly is_disabled?: boolean;
}

/**
 * Everything the Rory protocol stores, addressed by ball id in the configured bucket.
 * Every put deletes the ball first (no overwrite in MictlanX); every read verifies integrity.
 */
export interface ObjectStore {
  /** E1 chunked ndarray (spec/protocol.md §7.1). */
  putNdarray(ballId: string, arr: NdArray, opts?: PutOptions): Promise<void>;
  getNdarray(ballId: string, opts?: GetOptions): Promise<NdArray>;
  /**
   * E1 too, produced in row ranges and sent chunk by chunk (never whole in memory); the source is
   * read twice. Optional: `putNdarrayFrom` (lib/storage/streamed.ts) falls back to `putNdarray`.
   */
  putNdarrayStream?(ballId: string, source: NdarraySource, opts?: PutOptions): Promise<void>;
  /** E2 byte blob, 128 000-byte pieces, full shape on every chunk (§7.2). */
  putBlob(ballId: string, arr: NdArray, opts?: PutOptions): Promise<void>;
  getBlob(ballId: string, opts?: GetOptions): Promise<NdArray>;
  /** E3: pickled list[bytes] per chunk, items split into row groups (§7.3). */
  putBytesList(ballId: string, items: readonly Uint8Array[], opts?: PutOptions): Promise<void>;
  getBytesList(ballId: string, opts?: GetOptions): Promise<Uint8Array[]>;
  /** E4: pickled list[list[bytes]] per chunk (§7.3). */
  putBytesMatrix(ballId: string, rows: readonly (readonly Uint8Array[])[], opts?: PutOptions): Promise<void>;
  getBytesMatrix(ballId: string, opts?: GetOptions): Promise<Uint8Array[][]>;
  /** Deletes every chunk of a ball; returns the number of deleted chunks (0 when absent). */
  deleteBall(ballId: string, opts?: { signal?: AbortSignal }): Promise<number>;
  /** Whether chunk 0 of the ball exists. */
  exists(ballId: string, opts?: { signal?: AbortSignal }): Promise<boolean>;
  /**
   * The `full_checksum` tag of the ball (SHA-256 of all its payloads; reads verify data against
   * it), from one metadata request, or undefined when the ball does not exist. Optional: lets a
   * reader reuse what it already read and verified.
   */
  fullChecksum?(ballId: string, opts?: { signal?: AbortSignal }): Promise<string | undefined>;
}

/**
 * A request body produced again each time it is sent (a streamed E1 chunk, lib/storage/streamed.ts):
 * its size in bytes and a fresh stream of exactly that many bytes per `open()`. The transport
 * streams it where fetch can stream a request body (Node) and gathers it into a Blob elsewhere
 * (browsers send Blobs from their blob store, outside the page's memory).
 */
export interface ProducedBody {
  readonly size: number;
  open(): ReadableStream<Uint8Array>;
}

/**
 * One chunk as an encoder produces it and the client uploads it: key `{ballId}_{index}`, the raw
 * payload, the exact string tags of the metadata body and the payload's sha256 hex (`checksum`).
 * A streamed upload hands over its payload as a `ProducedBody`.
 */
export interface ChunkSpec<P extends Uint8Array | Blob | ProducedBody = Uint8Array> {
  readonly key: string;
  readonly index: number;
  readonly payload: P;
  readonly tags: Readonly<Record<string, string>>;
  readonly checksum: string;
}

/** A whole ball ready for upload: its chunks in index order and the sha256 of all payloads. */
export interface EncodedBall {
  readonly ballId: string;
  readonly chunks: readonly ChunkSpec[];
  readonly fullChecksum: string;
  readonly totalBytes: number;
}

/** A chunk as read back: its tags (from the metadata) and payload. Decoders take these in any order. */
export interface StoredChunk {
  readonly tags: Readonly<Record<string, string>>;
  readonly payload: Uint8Array;
}
