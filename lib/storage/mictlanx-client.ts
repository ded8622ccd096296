/**
 * @module storage/mictlanx-client
 * `ObjectStore` over the MictlanX router HTTP API v4 (spec/mictlanx.md §4–§7, spec/protocol.md
 * §7.1–§7.4, §12.9). Browser and Node 22: only `fetch`, `AbortSignal` and WebCrypto. A thin layer
 * over three parts:
 * - lib/storage/transport.ts: HTTP with timeouts, bounded reads, retries with backoff, router
 *   fail-over, the concurrency limiter;
 * - the codecs: e1.ts (E1 ndarray chunks), e2.ts (E2 blobs), e3e4.ts + pickle.ts (E3/E4 pickled
 *   ciphertext lists);
 * - lib/storage/ball.ts: the ball convention (metadata body, chunk metadata) and read limits.
 *
 * Per chunk, a put is two requests (metadata, then the raw bytes to `/data/{task}/chunked`); a
 * task is single-use, so a failed pair is redone from the metadata step. MictlanX cannot
 * overwrite, so every put first deletes the ball (`DELETE /bid/{ball}` until `n_deletes` is 0), and
 * a 404 with `detail.code 666` on the metadata step deletes that chunk key and tries again.
 * Reads send `Force-Get: 1` (iteration objects are rewritten under the same keys and the router
 * caches) and verify every chunk's `checksum` and the ball's `full_checksum` — for E1 too, which
 * upstream does not check.
 *
 * Reads are bounded (issue #12 finding 5): `num_chunks` is capped (MAX_CHUNKS, and by the
 * expected shape when the caller gives `expect`), the chunks' declared sizes together are capped
 * before any data is fetched, each chunk body is streamed into its place in one buffer and cut off
 * past its declared size, and metadata answers have a size limit. The chunks of a ball land back
 * to back in that buffer, so `full_checksum` is one WebCrypto hash and E1/E2 arrays view the
 * buffer without another copy.
 */
import { pythonShape } from '../data/matrix';
import { AppError, StorageError } from '../errors';
import {
  DEFAULT_MAX_BALL_BYTES,
  MAX_CHUNKS,
  MAX_CHUNK_LIST_JSON_BYTES,
  MAX_LISTING_JSON_BYTES,
  MAX_METADATA_JSON_BYTES,
  ballLimits,
  dedupeAndSort,
  isChunkMetadata,
  metadataBody,
  type BallEncoding,
  type BallLimits,
} from './ball';
import { DEFAULT_NUM_CHUNKS, decodeE1, encodeE1, integrityError } from './e1';
import { decodeE2, encodeE2 } from './e2';
import { decodeBytesList, decodeBytesMatrix, encodeBytesList, encodeBytesMatrix } from './e3e4';
import { assertKeyId } from './key-id';
import { parseRouterList, routerUrl, type MictlanxRouter } from './routers';
import { sha256Hex } from './sha256';
import { putNdarrayStreamed } from './streamed';
import { MictlanxTransport, Retryable, detailText, isAlreadyStored, isNotFound, mapLimit, type OpContext, type Sleep } from './transport';
import type { ChunkMetadata, ChunkSpec, EncodedBall, ExpectedObject, GetOptions, NdArray, NdarraySource, ObjectStore, ProducedBody, PutOptions, StoredChunk, TransferProgress } from './types';

// Public names of the storage layer stay importable from here (runners, the server and tests use them).
export { StorageError } from '../errors';
export { DEFAULT_MAX_BALL_BYTES, MAX_CHUNKS, metadataBody, type MetadataBody } from './ball';
export { encodeBytesList, encodeBytesMatrix, encodePayloads } from './e3e4';
export type { MictlanxRouter } from './routers';
export { BACKOFF_BASE_MS, BACKOFF_CAP_MS, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS, isAlreadyStored, isNotFound, type Sleep } from './transport';

export interface MictlanxClientOptions {
  /** Routers in order of preference; later ones are fail-overs. */
  readonly routers: readonly MictlanxRouter[];
  /** Bucket holding every object (default `rory`). */
  readonly bucket?: string;
  /** Timeout of one HTTP request, body included (default 120 000 ms, MICTLANX_TIMEOUT). */
  readonly timeoutMs?: number;
  /** Retries after a failed attempt (default 10, MICTLANX_MAX_RETRIES). */
  readonly maxRetries?: number;
  /** Chunk transfers in flight at once (default 4). */
  readonly maxParallel?: number;
  /** `producer_id` written into chunk metadata (default `rory-client-0`, NODE_ID's default). */
  readonly producerId?: string;
  /** MictlanX `replication_factor` of each chunk (default 1). */
  readonly replicationFactor?: number;
  readonly fetch?: typeof fetch;
  /** Waits between retries; injectable for tests. Must reject when `signal` aborts. */
  readonly sleep?: Sleep;
  /** Source of jitter in [0, 1); injectable for tests (not security relevant). */
  readonly random?: () => number;
  /** Most bytes one ball read may hold (default 1 GiB); `GetOptions.expect` can only lower it. */
  readonly maxBallBytes?: number;
  /** Most chunks one ball may claim (default and maximum MAX_CHUNKS = 4096). */
  readonly maxChunks?: number;
}

export const DEFAULT_BUCKET = 'rory';
export const DEFAULT_MAX_PARALLEL = 4;
export const DEFAULT_PRODUCER_ID = 'rory-client-0';
/** `DELETE /bid/{ball}` rounds before giving up on a ball that keeps reappearing. */
export const DELETE_MAX_ROUNDS = 10;
const HEALTH_TIMEOUT_MS = 5_000;

/** A ball as listed by `listBucket()`: its chunks (deduplicated, by index) and total size. */
export interface BallListing {
  readonly ballId: string;
  readonly chunks: readonly ChunkMetadata[];
  readonly sizeBytes: number;
  /** The `num_chunks` tag of the first chunk, when present. */
  readonly numChunks?: number;
}

export interface RouterHealth {
  readonly id: string;
  readonly url: string;
  readonly ok: boolean;
  readonly latencyMs: number;
  /** Storage peers reported by `/api/v4/peers/stats`. */
  readonly peers?: number;
  readonly error?: string;
}

function nowMs(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function limitOption(v: number | undefined, fallback: number, max: number, name: string): number {
  const n = v ?? fallback;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new AppError('INVALID_ARGUMENT', `${name} must be an integer from 1 to ${max}`, { userMessage: `The storage limit ${name} must be a whole number from 1 to ${max}.` });
  }
  return n;
}

/** Refuses a decoded array whose shape is not the one the caller expects. */
function checkShape(ballId: string, arr: NdArray, expect: ExpectedObject | undefined): NdArray {
  const want = expect?.shape;
  if (want && (want.length !== arr.shape.length || want.some((d, i) => d !== arr.shape[i]))) {
    throw integrityError(ballId, `it has shape ${pythonShape(arr.shape)}, ${pythonShape(want)} was expected`);
  }
  return arr;
}

export class MictlanxClient implements ObjectStore {
  readonly bucket: string;
  readonly routers: readonly MictlanxRouter[];
  private readonly transport: MictlanxTransport;
  private readonly maxParallel: number;
  private readonly producerId: string;
  private readonly replicationFactor: number;
  private readonly maxBallBytes: number;
  private readonly maxChunks: number;

  constructor(opts: MictlanxClientOptions) {
    const bucket = opts?.bucket ?? DEFAULT_BUCKET;
    this.transport = new MictlanxTransport({ ...opts, bucket });
    this.routers = this.transport.routers;
    this.bucket = bucket;
    assertKeyId(this.bucket, 'bucket id');
    this.maxParallel = limitOption(opts.maxParallel, DEFAULT_MAX_PARALLEL, 64, 'maxParallel');
    this.producerId = opts.producerId ?? DEFAULT_PRODUCER_ID;
    this.replicationFactor = limitOption(opts.replicationFactor, 1, 16, 'replicationFactor');
    this.maxBallBytes = limitOption(opts.maxBallBytes, DEFAULT_MAX_BALL_BYTES, Number.MAX_SAFE_INTEGER, 'maxBallBytes');
    this.maxChunks = limitOption(opts.maxChunks, MAX_CHUNKS, MAX_CHUNKS, 'maxChunks');
  }

  /**
   * Parses MICTLANX_ROUTERS (lib/storage/routers.ts, the one parser of the list).
   * @throws AppError CONFIG_INVALID naming the bad entry
   * @example MictlanxClient.parseRouters('mictlanx-router-0:127.0.0.1:63666', 'http')
   */
  static parseRouters(text: string, protocol: 'http' | 'https' = 'http'): MictlanxRouter[] {
    return parseRouterList(text, protocol);
  }

  /** Base URL of a router. With https the port is dropped, as lib/config `routerEndpoints` (and the Python client) do. */
  static routerUrl(r: MictlanxRouter): string {
    return routerUrl(r);
  }

  /** Backoff before retry number `n` (0-based): 1, 2, 4 s… capped at 5 s, times a jitter in [0.5, 1). */
  backoffMs(n: number): number {
    return this.transport.backoffMs(n);
  }

  // -------------------------------------------------------------------------------------------
  // ObjectStore

  async putNdarray(ballId: string, arr: NdArray, opts: PutOptions = {}): Promise<void> {
    assertKeyId(ballId, 'ball id');
    await this.putBall(await encodeE1(ballId, arr, { numChunks: opts.numChunks ?? DEFAULT_NUM_CHUNKS, tags: opts.tags }), opts);
  }

  /** E1 produced in row ranges and sent chunk by chunk (lib/storage/streamed.ts): the source is read twice. */
  async putNdarrayStream(ballId: string, source: NdarraySource, opts: PutOptions = {}): Promise<void> {
    await putNdarrayStreamed(
      { deleteBall: (id, o) => this.deleteBall(id, o), putChunk: (id, chunk, signal) => this.putChunk(id, chunk, signal ?? new AbortController().signal) },
      ballId,
      source,
      { ...opts, numChunks: opts.numChunks ?? DEFAULT_NUM_CHUNKS },
    );
  }

  async getNdarray(ballId: string, opts: GetOptions = {}): Promise<NdArray> {
    const chunks = await this.readBall(ballId, opts, this.limits('E1', opts));
    return checkShape(ballId, decodeE1(ballId, chunks, { adopt: true }), opts.expect);
  }

  async putBlob(ballId: string, arr: NdArray, opts: PutOptions = {}): Promise<void> {
    assertKeyId(ballId, 'ball id');
    await this.putBall(await encodeE2(ballId, arr, { tags: opts.tags }), opts);
  }

  async getBlob(ballId: string, opts: GetOptions = {}): Promise<NdArray> {
    const chunks = await this.readBall(ballId, opts, this.limits('E2', opts));
    return checkShape(ballId, decodeE2(ballId, chunks, { adopt: true }), opts.expect);
  }

  async putBytesList(ballId: string, items: readonly Uint8Array[], opts: PutOptions = {}): Promise<void> {
    await this.putBall(await encodeBytesList(ballId, items, opts), opts);
  }

  async getBytesList(ballId: string, opts: GetOptions = {}): Promise<Uint8Array[]> {
    const limits = this.limits('E3', opts);
    const chunks = await this.readBall(ballId, opts, limits);
    return decodeBytesList(ballId, chunks, { shape: opts.expect?.shape, maxOutputBytes: limits.maxBytes });
  }

  async putBytesMatrix(ballId: string, rows: readonly (readonly Uint8Array[])[], opts: PutOptions = {}): Promise<void> {
    await this.putBall(await encodeBytesMatrix(ballId, rows, opts), opts);
  }

  async getBytesMatrix(ballId: string, opts: GetOptions = {}): Promise<Uint8Array[][]> {
    const limits = this.limits('E4', opts);
    const chunks = await this.readBall(ballId, opts, limits);
    return decodeBytesMatrix(ballId, chunks, { shape: opts.expect?.shape, maxOutputBytes: limits.maxBytes });
  }

  async deleteBall(ballId: string, opts: { signal?: AbortSignal } = {}): Promise<number> {
    assertKeyId(ballId, 'ball id');
    const ctx: OpContext = { op: 'delete', ballId };
    let total = 0;
    for (let round = 0; round < DELETE_MAX_ROUNDS; round++) {
      const n = await this.transport.withRetry(ctx, opts.signal, async (base, signal) => {
        const r = await this.transport.http('DELETE', `${base}/api/v4/buckets/${enc(this.bucket)}/bid/${enc(ballId)}`, signal, { headers: { Force: '1' } });
        if (isNotFound(r.status, r.json)) return 0;
        this.transport.throwUnlessOk(r, ctx, base);
        const count = Number((r.json as { n_deletes?: unknown } | undefined)?.n_deletes ?? 0);
        return Number.isFinite(count) && count > 0 ? count : 0;
      });
      if (n === 0) return total;
      total += n;
    }
    throw new StorageError('STORAGE_CONFLICT', `ball ${ballId}: still present after ${DELETE_MAX_ROUNDS} delete rounds`, {
      ballId,
      userMessage: `"${ballId}" could not be deleted: the MictlanX router keeps reporting chunks of it. Another program may be writing it; wait and try again.`,
    });
  }

  async exists(ballId: string, opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    assertKeyId(ballId, 'ball id');
    return (await this.chunkMetadata(`${ballId}_0`, { op: 'check', ballId }, opts.signal)) !== null;
  }

  /** The `full_checksum` tag of the ball from one metadata request, or undefined when it does not exist. */
  async fullChecksum(ballId: string, opts: { signal?: AbortSignal } = {}): Promise<string | undefined> {
    assertKeyId(ballId, 'ball id');
    const md0 = await this.chunkMetadata(`${ballId}_0`, { op: 'read', ballId }, opts.signal);
    const sum = md0?.tags.full_checksum;
    return typeof sum === 'string' && sum !== '' ? sum : undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Extras

  /** Every ball in the bucket with its chunks (deduplicated by key, sorted by index). */
  async listBucket(opts: { signal?: AbortSignal } = {}): Promise<BallListing[]> {
    const ctx: OpContext = { op: 'list' };
    const list = await this.transport.withRetry(ctx, opts.signal, async (base, signal) => {
      const r = await this.transport.http('GET', `${base}/api/v4/buckets/${enc(this.bucket)}/metadata`, signal, {
        read: { json: MAX_LISTING_JSON_BYTES },
        what: `the listing of bucket "${this.bucket}"`,
      });
      if (isNotFound(r.status, r.json)) return [];
      this.transport.throwUnlessOk(r, ctx, base);
      const balls = (r.json as { balls?: unknown } | undefined)?.balls;
      return Array.isArray(balls) ? balls.filter(isChunkMetadata) : [];
    });
    const byBall = new Map<string, ChunkMetadata[]>();
    for (const m of list) {
      const arr = byBall.get(m.ball_id) ?? [];
      arr.push(m);
      byBall.set(m.ball_id, arr);
    }
    return [...byBall.entries()]
      .map(([ballId, ms]) => {
        const chunks = dedupeAndSort(ms);
        const n = Number(chunks[0]?.tags.num_chunks);
        return {
          ballId,
          chunks,
          sizeBytes: chunks.reduce((s, c) => s + c.size, 0),
          ...(Number.isSafeInteger(n) && n > 0 ? { numChunks: n } : {}),
        };
      })
      .sort((a, b) => (a.ballId < b.ballId ? -1 : a.ballId > b.ballId ? 1 : 0));
  }

  /**
   * Metadata of every chunk of a ball (`/metadata/{ball}/chunks`), sorted by index.
   * @throws StorageError STORAGE_NOT_FOUND
   */
  async ballChunks(ballId: string, opts: { signal?: AbortSignal } = {}): Promise<ChunkMetadata[]> {
    assertKeyId(ballId, 'ball id');
    const ctx: OpContext = { op: 'list the chunks of', ballId };
    return this.transport.withRetry(ctx, opts.signal, async (base, signal) => {
      const r = await this.transport.http('GET', `${base}/api/v4/buckets/${enc(this.bucket)}/metadata/${enc(ballId)}/chunks`, signal, {
        read: { json: MAX_CHUNK_LIST_JSON_BYTES },
        what: `the chunk list of "${ballId}"`,
      });
      if (isNotFound(r.status, r.json)) throw this.notFound(ballId);
      this.transport.throwUnlessOk(r, ctx, base);
      const chunks = (r.json as { chunks?: unknown } | undefined)?.chunks;
      return dedupeAndSort(Array.isArray(chunks) ? chunks.filter(isChunkMetadata) : []);
    });
  }

  /**
   * The whole ball in one request (`GET /{ball}/merge`), verified against `full_checksum`; at most
   * `expect.maxBytes` (or the client's `maxBallBytes`) are read.
   * @throws StorageError STORAGE_NOT_FOUND, STORAGE_INTEGRITY
   */
  async getMerged(ballId: string, opts: GetOptions = {}): Promise<Uint8Array> {
    assertKeyId(ballId, 'ball id');
    const limits = this.limits('raw', opts);
    const ctx: OpContext = { op: 'read', ballId };
    const md0 = await this.chunkMetadata(`${ballId}_0`, ctx, opts.signal);
    if (!md0) throw this.notFound(ballId);
    const full = md0.tags.full_checksum;
    if (typeof full !== 'string') throw integrityError(ballId, 'chunk 0 has no full_checksum tag');
    const bytes = await this.transport.withRetry(ctx, opts.signal, async (base, signal) => {
      const r = await this.transport.http('GET', `${base}/api/v4/buckets/${enc(this.bucket)}/${enc(ballId)}/merge`, signal, {
        headers: { 'Force-Get': opts.force === false ? '0' : '1' },
        read: { bytes: limits.maxBytes },
        what: `the merged data of "${ballId}"`,
        ballId,
      });
      if (isNotFound(r.status, r.json)) throw integrityError(ballId, 'the router could not merge its chunks (some are missing)');
      this.transport.throwUnlessOk(r, ctx, base);
      return r.bytes ?? new Uint8Array(0);
    });
    if ((await sha256Hex(bytes)) !== full) throw integrityError(ballId, 'the merged bytes do not match full_checksum');
    opts.onProgress?.({ ballId, doneBytes: bytes.byteLength, totalBytes: bytes.byteLength, doneChunks: 1, totalChunks: 1 });
    return bytes;
  }

  /** Probes every router with `GET /api/v4/peers/stats`; never throws. */
  async health(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<RouterHealth[]> {
    const timeoutMs = opts.timeoutMs ?? Math.min(this.transport.timeoutMs, HEALTH_TIMEOUT_MS);
    return Promise.all(
      this.routers.map(async (router): Promise<RouterHealth> => {
        const url = routerUrl(router);
        const t0 = nowMs();
        try {
          const r = await this.transport.http('GET', `${url}/api/v4/peers/stats`, opts.signal, { timeoutMs, read: { json: MAX_LISTING_JSON_BYTES }, what: 'the peer statistics' });
          const latencyMs = nowMs() - t0;
          if (!r.ok) return { id: router.id, url, ok: false, latencyMs, error: `HTTP ${r.status}: ${detailText(r.json, '')}`.trim() };
          const peers = r.json && typeof r.json === 'object' && !Array.isArray(r.json) ? Object.keys(r.json).length : undefined;
          return { id: router.id, url, ok: true, latencyMs, ...(peers === undefined ? {} : { peers }) };
        } catch (e) {
          const latencyMs = nowMs() - t0;
          const error = e instanceof Retryable ? (e.kind === 'timeout' ? `no answer within ${Math.round(timeoutMs / 1000)} s` : e.detail) : e instanceof Error ? e.message : String(e);
          return { id: router.id, url, ok: false, latencyMs, error };
        }
      }),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Put and read of whole balls

  /** Deletes the ball, then uploads every chunk (bounded parallel), reporting progress. */
  async putBall(ball: EncodedBall, opts: { signal?: AbortSignal; onProgress?: (p: TransferProgress) => void } = {}): Promise<void> {
    assertKeyId(ball.ballId, 'ball id');
    await this.deleteBall(ball.ballId, { signal: opts.signal });
    const totalChunks = ball.chunks.length;
    let doneBytes = 0;
    let doneChunks = 0;
    const report = () => opts.onProgress?.({ ballId: ball.ballId, doneBytes, totalBytes: ball.totalBytes, doneChunks, totalChunks });
    report();
    await mapLimit(ball.chunks, this.maxParallel, opts.signal, async (chunk, _i, signal) => {
      await this.putChunk(ball.ballId, chunk, signal);
      doneBytes += chunk.payload.byteLength;
      doneChunks++;
      report();
    });
  }

  /**
   * Fetches and verifies every chunk of a ball: chunk 0's metadata gives `num_chunks` (at most
   * `limits.maxChunks`); the chunks' sizes together may not pass `limits.maxBytes`; each chunk is
   * streamed into its place in one buffer and must match its size and sha256, and the buffer must
   * match `full_checksum`. Returns the chunks in index order, back to back in that buffer.
   * @throws StorageError STORAGE_NOT_FOUND (no chunk 0), STORAGE_INTEGRITY naming the ball
   */
  async readBall(ballId: string, opts: GetOptions = {}, limits: BallLimits = this.limits('raw', opts)): Promise<StoredChunk[]> {
    assertKeyId(ballId, 'ball id');
    const ctx: OpContext = { op: 'read', ballId };
    const md0 = await this.chunkMetadata(`${ballId}_0`, ctx, opts.signal);
    if (!md0) throw this.notFound(ballId);
    const nText = md0.tags.num_chunks;
    if (typeof nText !== 'string' || !/^\d{1,16}$/.test(nText) || Number(nText) < 1) throw integrityError(ballId, 'chunk 0 has no valid num_chunks tag');
    const n = Number(nText);
    if (n > limits.maxChunks) {
      throw integrityError(ballId, `chunk 0 claims ${n} chunks, more than the ${limits.maxChunks} allowed by ${limits.reason}`);
    }
    const fullChecksum = md0.tags.full_checksum;
    if (typeof fullChecksum !== 'string' || fullChecksum === '') throw integrityError(ballId, 'chunk 0 has no full_checksum tag');

    let claimed = 0;
    const indices = Array.from({ length: n }, (_, i) => i);
    const metas = await mapLimit(indices, this.maxParallel, opts.signal, async (i, _k, signal) => {
      const m = i === 0 ? md0 : await this.chunkMetadata(`${ballId}_${i}`, ctx, signal);
      if (!m) throw integrityError(ballId, `chunk ${i} of ${n} is missing (the upload was interrupted or the object was partly deleted)`);
      if (m.tags.index !== String(i)) throw integrityError(ballId, `chunk ${i} carries index tag ${JSON.stringify(String(m.tags.index).slice(0, 12))}`);
      if (m.tags.full_checksum !== fullChecksum) throw integrityError(ballId, `chunk ${i} belongs to a different upload (full_checksum differs)`);
      if (!Number.isSafeInteger(m.size) || m.size < 0) throw integrityError(ballId, `chunk ${i} has an invalid size`);
      claimed += m.size;
      if (claimed > limits.maxBytes) throw integrityError(ballId, `its chunks claim more than ${limits.maxBytes} bytes, the most allowed by ${limits.reason}`);
      return m;
    });

    const offsets: number[] = [];
    let totalBytes = 0;
    for (const m of metas) {
      offsets.push(totalBytes);
      totalBytes += m.size;
    }
    const buffer = new Uint8Array(totalBytes);
    const slot = (i: number) => buffer.subarray(offsets[i], offsets[i] + metas[i].size);
    let doneBytes = 0;
    let doneChunks = 0;
    const report = () => opts.onProgress?.({ ballId, doneBytes, totalBytes, doneChunks, totalChunks: n });
    report();
    await mapLimit(metas, this.maxParallel, opts.signal, async (m, i, signal) => {
      const target = slot(i);
      const found = await this.chunkData(m.key, opts.force !== false, target, { op: 'read', ballId, key: m.key }, signal);
      if (!found) throw integrityError(ballId, `chunk ${i} has metadata but no data (the upload was interrupted)`);
      if ((await sha256Hex(target)) !== m.checksum) throw integrityError(ballId, `chunk ${i} does not match its checksum`);
      doneBytes += m.size;
      doneChunks++;
      report();
    });
    if ((await sha256Hex(buffer)) !== fullChecksum) throw integrityError(ballId, 'the chunks together do not match full_checksum');
    return metas.map((m, i) => ({ tags: m.tags, payload: slot(i) }));
  }

  /** Read limits for `encoding` from the caller's expectation and this client's caps. */
  private limits(encoding: BallEncoding, opts: GetOptions): BallLimits {
    return ballLimits(encoding, opts.expect, { maxChunks: this.maxChunks, maxBytes: this.maxBallBytes });
  }

  // -------------------------------------------------------------------------------------------
  // Per-chunk requests

  private async putChunk(ballId: string, chunk: ChunkSpec<Uint8Array | Blob | ProducedBody>, signal: AbortSignal): Promise<void> {
    const ctx: OpContext = { op: 'upload', ballId, key: chunk.key };
    const t = this.transport;
    const body = JSON.stringify(metadataBody(this.bucket, ballId, chunk, this.producerId, this.replicationFactor));
    const payload = await t.settleBody(chunk.payload);
    await t.withRetry(ctx, signal, async (base, sig) => {
      const postMetadata = () => t.http('POST', `${base}/api/v4/buckets/${enc(this.bucket)}/metadata`, sig, { headers: { 'Content-Type': 'application/json' }, body });
      let r = await postMetadata();
      if (isAlreadyStored(r.status, r.json)) {
        // A leftover of an interrupted attempt (metadata without data) or a concurrent writer.
        await this.deleteKey(base, chunk.key, ctx, sig);
        r = await postMetadata();
        if (isAlreadyStored(r.status, r.json)) throw new Retryable('conflict', `${chunk.key} still exists after deleting it`, 404);
      }
      // A plain 404 "No available peers" is the replica manager failing: worth retrying.
      if (r.status >= 500 || r.status === 404) throw new Retryable('server', detailText(r.json, `HTTP ${r.status}`), r.status);
      t.throwUnlessOk(r, ctx, base);
      const taskId = (r.json as { tasks_ids?: unknown } | undefined)?.tasks_ids;
      if (!Array.isArray(taskId) || typeof taskId[0] !== 'string') throw t.failure(ctx, base, r.status, 'the metadata answer has no tasks_ids');
      const d = await t.http('POST', `${base}/api/v4/buckets/data/${enc(taskId[0])}/chunked`, sig, {
        headers: { 'Content-Type': 'application/octet-stream' },
        body: payload,
      });
      // Tasks are single-use: any failure here redoes both steps (the 666 path clears the leftover).
      if (d.status >= 500 || d.status === 404) throw new Retryable('server', detailText(d.json, `HTTP ${d.status}`), d.status);
      t.throwUnlessOk(d, ctx, base);
      const peers = (d.json as { peer_ids?: unknown } | undefined)?.peer_ids;
      if (!Array.isArray(peers) || peers.length === 0) throw new Retryable('server', 'no storage peer accepted the chunk (peer_ids is empty)', d.status);
    });
  }

  private async deleteKey(base: string, key: string, ctx: OpContext, signal: AbortSignal | undefined): Promise<void> {
    const r = await this.transport.http('DELETE', `${base}/api/v4/buckets/${enc(this.bucket)}/${enc(key)}`, signal, { headers: { Force: '1' } });
    if (r.ok || isNotFound(r.status, r.json)) return;
    if (r.status >= 500) throw new Retryable('server', detailText(r.json, `HTTP ${r.status}`), r.status);
    throw this.transport.failure(ctx, base, r.status, detailText(r.json, `HTTP ${r.status}`));
  }

  /** Metadata of one key (an answer of at most MAX_METADATA_JSON_BYTES), or null when MictlanX says not found. */
  private chunkMetadata(key: string, ctx: OpContext, signal: AbortSignal | undefined): Promise<ChunkMetadata | null> {
    return this.transport.withRetry({ ...ctx, key }, signal, async (base, sig) => {
      const r = await this.transport.http('GET', `${base}/api/v4/buckets/${enc(this.bucket)}/metadata/${enc(key)}`, sig, {
        read: { json: MAX_METADATA_JSON_BYTES },
        what: `the metadata of ${key}`,
        ballId: ctx.ballId,
      });
      if (isNotFound(r.status, r.json)) return null;
      this.transport.throwUnlessOk(r, { ...ctx, key }, base);
      const m = (r.json as { metadata?: unknown } | undefined)?.metadata;
      if (!isChunkMetadata(m)) throw integrityError(ctx.ballId ?? key, `the metadata of ${key} is malformed`, { key, routerUrl: base });
      return m;
    });
  }

  /** Data of one key streamed into `target` (exactly its size), or false when MictlanX says not found. */
  private chunkData(key: string, force: boolean, target: Uint8Array, ctx: OpContext, signal: AbortSignal | undefined): Promise<boolean> {
    return this.transport.withRetry(ctx, signal, async (base, sig) => {
      const r = await this.transport.http('GET', `${base}/api/v4/buckets/${enc(this.bucket)}/${enc(key)}`, sig, {
        headers: { 'Force-Get': force ? '1' : '0' },
        read: { into: target },
        what: `the data of ${key}`,
        ballId: ctx.ballId,
      });
      if (isNotFound(r.status, r.json)) return false;
      this.transport.throwUnlessOk(r, ctx, base);
      return true;
    });
  }

  private notFound(ballId: string): StorageError {
    return new StorageError('STORAGE_NOT_FOUND', `ball ${ballId} not found in bucket ${this.bucket}`, {
      ballId,
      status: 404,
      userMessage: `"${ballId}" does not exist in bucket "${this.bucket}" on the MictlanX router. It has not been uploaded yet, or it was deleted.`,
    });
  }
}
