/**
 * @module storage/ball
 * The MictlanX ball convention (spec/mictlanx.md §3, §5; spec/protocol.md §7.4): the metadata body
 * of one chunk, the shape of chunk metadata the router returns, and the limits a reader applies
 * before it trusts what the router says about a ball (issue #12 finding 5): how many chunks, how
 * many bytes, how large a metadata answer. Pure: the HTTP side is lib/storage/transport.ts.
 */
import { AppError } from '../errors';
import { pythonShape } from '../data/matrix';
import { E2_PIECE_BYTES } from './e2';
import { shapeSize } from './ndarray';
import type { ChunkMetadata, ChunkSpec, ExpectedObject, ProducedBody } from './types';

/**
 * Most chunks a ball may claim. NUM_CHUNKS is at most 1024 (lib/config.ts) and E1/E3/E4 never
 * split into more chunks than rows; 4096 E2 pieces of 128 kB hold 524 MB. Upstream's reader would
 * follow any number (a `num_chunks` of 1e6 meant a million metadata requests).
 */
export const MAX_CHUNKS = 4096;
/** Default cap on the bytes of one ball read (its chunks together): 1 GiB. */
export const DEFAULT_MAX_BALL_BYTES = 2 ** 30;
/** Cap on one chunk-metadata answer (`GET …/metadata/{key}`); real ones are well under 2 kB. */
export const MAX_METADATA_JSON_BYTES = 64 * 1024;
/** Cap on small JSON answers (put replies, deletes). */
export const MAX_REPLY_JSON_BYTES = 64 * 1024;
/** Cap on the chunk list of one ball (`GET …/metadata/{ball}/chunks`): MAX_CHUNKS entries. */
export const MAX_CHUNK_LIST_JSON_BYTES = MAX_CHUNKS * 4 * 1024;
/** Cap on a bucket listing and on a health answer (which lists every ball of a peer). */
export const MAX_LISTING_JSON_BYTES = 64 * 1024 * 1024;

/** The JSON body of `POST /buckets/{bucket}/metadata`, fields in the Python client's order. */
export interface MetadataBody {
  readonly bucket_id: string;
  readonly key: string;
  readonly ball_id: string;
  readonly checksum: string;
  readonly size: number;
  readonly tags: Readonly<Record<string, string>>;
  readonly producer_id: string;
  readonly content_type: string;
  readonly is_disabled: boolean;
  readonly replication_factor: number;
}

/** Builds the metadata POST body of one chunk (spec/protocol.md §7.4; vectors `example_metadata_body`). */
export function metadataBody(bucket: string, ballId: string, chunk: ChunkSpec<Uint8Array | Blob | ProducedBody>, producerId: string, replicationFactor = 1): MetadataBody {
  return {
    bucket_id: bucket,
    key: chunk.key,
    ball_id: ballId,
    checksum: chunk.checksum,
    size: chunk.payload instanceof Uint8Array ? chunk.payload.byteLength : chunk.payload.size,
    tags: chunk.tags,
    producer_id: producerId,
    content_type: 'application/octet-stream',
    is_disabled: false,
    replication_factor: replicationFactor,
  };
}

/** Whether a value has the fields of router chunk metadata the client relies on. */
export function isChunkMetadata(x: unknown): x is ChunkMetadata {
  if (!x || typeof x !== 'object') return false;
  const m = x as Record<string, unknown>;
  return (
    typeof m.key === 'string' &&
    typeof m.size === 'number' &&
    typeof m.checksum === 'string' &&
    !!m.tags &&
    typeof m.tags === 'object' &&
    typeof m.ball_id === 'string'
  );
}

function indexOf(m: ChunkMetadata): number {
  const n = Number(m.tags.index);
  return Number.isFinite(n) ? n : Number.MAX_SAFE_INTEGER;
}

/** Metadata deduplicated by key (the router lists one entry per replica) and sorted by index, then key. */
export function dedupeAndSort(list: readonly ChunkMetadata[]): ChunkMetadata[] {
  const byKey = new Map<string, ChunkMetadata>();
  for (const m of list) if (!byKey.has(m.key)) byKey.set(m.key, m);
  return [...byKey.values()].sort((a, b) => indexOf(a) - indexOf(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The encodings a ball can be read as (spec/protocol.md §7.1–§7.3). */
export type BallEncoding = 'E1' | 'E2' | 'E3' | 'E4' | 'raw';

/** What a read of one ball may accept. */
export interface BallLimits {
  /** Most chunks `num_chunks` may claim. */
  readonly maxChunks: number;
  /** Most bytes the chunks may hold together. */
  readonly maxBytes: number;
  /** Why the limits are what they are, for messages ("the expected shape (3, 4)"). */
  readonly reason: string;
}

/**
 * Limits for reading a ball of `encoding`, from what the caller expects and the global caps.
 * With a shape: E1 and E4 have at most one chunk per row, E3 one per item, E2 one per 128 000
 * bytes; E1/E2 hold at most 8 bytes per element (the widest dtype).
 * @throws AppError INVALID_ARGUMENT for a malformed expectation
 */
export function ballLimits(encoding: BallEncoding, expect: ExpectedObject | undefined, caps: { maxChunks: number; maxBytes: number }): BallLimits {
  let maxChunks = caps.maxChunks;
  let maxBytes = caps.maxBytes;
  const reasons: string[] = [];
  if (expect?.maxBytes !== undefined) {
    if (!Number.isSafeInteger(expect.maxBytes) || expect.maxBytes < 0) throw badExpectation('expect.maxBytes must be a non-negative integer');
    maxBytes = Math.min(maxBytes, expect.maxBytes);
    reasons.push(`at most ${expect.maxBytes} bytes`);
  }
  const shape = expect?.shape;
  if (shape !== undefined) {
    if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw badExpectation('expect.shape must be a non-empty list of non-negative integers');
    }
    const rows = Math.max(1, shape[0]);
    if (encoding === 'E1' || encoding === 'E2') {
      const bytes = shapeSize(shape) * 8;
      maxBytes = Math.min(maxBytes, bytes);
      maxChunks = Math.min(maxChunks, encoding === 'E1' ? rows : Math.max(1, Math.floor(bytes / E2_PIECE_BYTES)));
    } else if (encoding === 'E3' || encoding === 'E4') {
      maxChunks = Math.min(maxChunks, rows);
    }
    reasons.push(`the expected shape ${pythonShape(shape)}`);
  }
  return { maxChunks, maxBytes, reason: reasons.length > 0 ? reasons.join(' and ') : 'the client limits' };
}

function badExpectation(message: string): AppError {
  return new AppError('INVALID_ARGUMENT', message, { userMessage: 'An internal storage request was malformed (invalid expected shape or size).' });
}
