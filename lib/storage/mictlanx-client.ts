/**
 * @module storage/mictlanx-client
 * `ObjectStore` over the MictlanX router HTTP API v4 (spec/mictlanx.md §4–§7,
 * spec/protocol.md §7.1–§7.4, §12.9). Browser and Node 22: only `fetch`, `AbortSignal` and WebCrypto.
 *
 * Per chunk, a put is two requests (metadata, then the raw bytes to `/data/{task}/chunked`); a
 * task is single-use, so a failed pair is redone from the metadata step. MictlanX cannot
 * overwrite, so every put first deletes the ball (`DELETE /bid/{ball}` until `n_deletes` is 0), and
 * a 404 with `detail.code 666` on the metadata step deletes that chunk key and tries again.
 * Reads send `Force-Get: 1` (iteration objects are rewritten under the same keys and the router
 * caches) and verify every chunk's `checksum` and the ball's `full_checksum` — for E1 too, which
 * upstream does not check.
 *
 * Failures are retried with exponential backoff (1 → 2 → 4 s, capped at 5 s, jittered) up to
 * `maxRetries` times on network errors, timeouts and 5xx; a network error fails over to the next
 * router. Errors are `StorageError`s (codes STORAGE_*) whose `userMessage` says what to do.
 */
import { AppError } from '../errors';
import { DEFAULT_NUM_CHUNKS, checkCallerTags, decodeE1, encodeE1, integrityError, sortByIndex, splitRows } from './e1';
import { decodeE2, encodeE2 } from './e2';
import { KEY_ID_PATTERN, assertKeyId } from './key-id';
import { pickleBytesList, pickleBytesMatrix, unpickleBytesList, unpickleBytesMatrix } from './pickle';
import { concatBytes, sha256Hex } from './sha256';
import type {
  ChunkMetadata,
  ChunkSpec,
  EncodedBall,
  GetOptions,
  NdArray,
  ObjectStore,
  PutOptions,
  StoredChunk,
  TransferProgress,
} from './types';

/** One MictlanX router, as listed in MICTLANX_ROUTERS (`id:host:port`). */
export interface MictlanxRouter {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly protocol: 'http' | 'https';
  /** Overrides the URL derived from protocol/host/port (e.g. lib/config `RouterEndpoint.baseUrl`, or a proxy path). */
  readonly baseUrl?: string;
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

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
}

export const DEFAULT_BUCKET = 'rory';
export const DEFAULT_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_RETRIES = 10;
export const DEFAULT_MAX_PARALLEL = 4;
export const DEFAULT_PRODUCER_ID = 'rory-client-0';
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 5_000;
/** `DELETE /bid/{ball}` rounds before giving up on a ball that keeps reappearing. */
export const DELETE_MAX_ROUNDS = 10;
/** Sanity bound on a `num_chunks` tag read from the router. */
export const MAX_CHUNKS = 1_000_000;
const HEALTH_TIMEOUT_MS = 5_000;

/** An AppError from the storage layer, with the HTTP status and key involved when known. */
export class StorageError extends AppError {
  readonly status?: number;
  readonly key?: string;
  constructor(
    code: 'STORAGE_NOT_FOUND' | 'STORAGE_CONFLICT' | 'STORAGE_INTEGRITY' | 'STORAGE_UNREACHABLE' | 'STORAGE_FAILURE',
    message: string,
    opts: { userMessage: string; status?: number; key?: string; ballId?: string; routerUrl?: string; cause?: unknown },
  ) {
    const details: Record<string, string | number> = {};
    if (opts.ballId !== undefined) details.ballId = opts.ballId;
    if (opts.key !== undefined) details.key = opts.key;
    if (opts.status !== undefined) details.status = opts.status;
    if (opts.routerUrl !== undefined) details.router = opts.routerUrl;
    super(code, message, { userMessage: opts.userMessage, cause: opts.cause, details });
    this.name = 'StorageError';
    this.status = opts.status;
    this.key = opts.key;
  }
}

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
export function metadataBody(bucket: string, ballId: string, chunk: ChunkSpec, producerId: string, replicationFactor = 1): MetadataBody {
  return {
    bucket_id: bucket,
    key: chunk.key,
    ball_id: ballId,
    checksum: chunk.checksum,
    size: chunk.payload.byteLength,
    tags: chunk.tags,
    producer_id: producerId,
    content_type: 'application/octet-stream',
    is_disabled: false,
    replication_factor: replicationFactor,
  };
}

const E3_RESERVED_TAGS: readonly string[] = Object.freeze(['index', 'num_chunks', 'full_checksum', 'chunk_size', 'group_id']);

/**
 * Chunks for already-encoded payloads (E3/E4): tags `index`, `num_chunks`, `chunk_size`,
 * `group_id`, `full_checksum`, then the caller's.
 */
export async function encodePayloads(ballId: string, payloads: readonly Uint8Array[], tags?: Readonly<Record<string, string>>): Promise<EncodedBall> {
  assertKeyId(ballId, 'ball id');
  // E3/E4 chunks carry no per-chunk shape/dtype, so callers may set those (upstream tags
  // `{P}initsm` with shape and dtype, spec/protocol.md §7.3).
  const caller = checkCallerTags(tags, E3_RESERVED_TAGS);
  const fullChecksum = await sha256Hex(concatBytes(payloads));
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

/**
 * E3: items split into row groups with E1's rule, each chunk the pickle (protocol 4, as
 * `Chunk.from_list`) of its group. No items gives one chunk holding an empty list.
 */
export async function encodeBytesList(ballId: string, items: readonly Uint8Array[], opts: { numChunks?: number; tags?: Readonly<Record<string, string>> } = {}): Promise<EncodedBall> {
  assertKeyId(ballId, 'ball id');
  if (!Array.isArray(items) || items.some((x) => !(x instanceof Uint8Array))) {
    throw new AppError('INVALID_ARGUMENT', 'items must be an array of Uint8Array');
  }
  return encodePayloads(ballId, groups(items, opts.numChunks ?? DEFAULT_NUM_CHUNKS).map((g) => pickleBytesList(g)), opts.tags);
}

/** E4: rows split into groups with E1's rule, each chunk the pickle of its `list[list[bytes]]`. */
export async function encodeBytesMatrix(
  ballId: string,
  rows: readonly (readonly Uint8Array[])[],
  opts: { numChunks?: number; tags?: Readonly<Record<string, string>> } = {},
): Promise<EncodedBall> {
  assertKeyId(ballId, 'ball id');
  if (!Array.isArray(rows) || rows.some((r) => !Array.isArray(r) || r.some((x) => !(x instanceof Uint8Array)))) {
    throw new AppError('INVALID_ARGUMENT', 'rows must be an array of arrays of Uint8Array');
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

// ---------------------------------------------------------------------------------------------
// Internals: one HTTP exchange, failure classification, retries.

type FailureKind = 'network' | 'timeout' | 'server' | 'conflict';

/** A failure worth another attempt; turned into a StorageError when attempts run out. */
class Retryable extends Error {
  constructor(
    readonly kind: FailureKind,
    readonly detail: string,
    readonly status?: number,
  ) {
    super(detail);
  }
}

interface HttpResult {
  readonly status: number;
  readonly ok: boolean;
  /** Parsed JSON body (errors and JSON routes); undefined when not JSON. */
  readonly json: unknown;
  /** Raw body (data routes, 2xx only). */
  readonly bytes?: Uint8Array;
}

interface OpContext {
  /** What we were doing, as a verb phrase for messages: "upload", "read", "delete". */
  readonly op: string;
  readonly ballId?: string;
  readonly key?: string;
}

function abortedError(): AppError {
  return new AppError('ABORTED', 'storage operation aborted', { userMessage: 'The operation was cancelled.' });
}

const defaultSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

function detailText(json: unknown, fallback: string): string {
  if (json && typeof json === 'object' && 'detail' in json) {
    const d = (json as { detail: unknown }).detail;
    if (typeof d === 'string') return d;
    if (d && typeof d === 'object' && typeof (d as { msg?: unknown }).msg === 'string') return (d as { msg: string }).msg;
    return JSON.stringify(d).slice(0, 300);
  }
  return fallback;
}

/** MictlanX "not found": a 404, or a 500 whose detail starts with "404:" (spec/mictlanx.md §4.4). */
export function isNotFound(status: number, json: unknown): boolean {
  if (status === 404) return true;
  return status === 500 && detailText(json, '').startsWith('404:');
}

/** The 666-404: the key already exists on every peer (spec/mictlanx.md §4.1). */
export function isAlreadyStored(status: number, json: unknown): boolean {
  if (status !== 404 || !json || typeof json !== 'object') return false;
  const d = (json as { detail?: unknown }).detail;
  return !!d && typeof d === 'object' && Number((d as { code?: unknown }).code) === 666;
}

function nowMs(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** Runs `fn` over `items` with at most `limit` in flight; the first failure aborts the rest. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal | undefined,
  fn: (item: T, index: number, signal: AbortSignal) => Promise<R>,
): Promise<R[]> {
  const ctrl = new AbortController();
  const onAbort = () => ctrl.abort(signal?.reason);
  if (signal?.aborted) throw abortedError();
  signal?.addEventListener('abort', onAbort, { once: true });
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  let failure: unknown;
  const lane = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i, ctrl.signal);
      } catch (e) {
        if (!failed) {
          failed = true;
          failure = e;
          ctrl.abort();
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (failed) throw signal?.aborted ? abortedError() : failure;
  return results;
}

function isChunkMetadata(x: unknown): x is ChunkMetadata {
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

function dedupeAndSort(list: readonly ChunkMetadata[]): ChunkMetadata[] {
  const byKey = new Map<string, ChunkMetadata>();
  for (const m of list) if (!byKey.has(m.key)) byKey.set(m.key, m);
  return [...byKey.values()].sort((a, b) => indexOf(a) - indexOf(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------

export class MictlanxClient implements ObjectStore {
  readonly bucket: string;
  readonly routers: readonly MictlanxRouter[];
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly maxParallel: number;
  private readonly producerId: string;
  private readonly replicationFactor: number;
  private readonly fetchFn: typeof fetch;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  /** Index of the router currently in use; advances on network errors. */
  private active = 0;

  constructor(opts: MictlanxClientOptions) {
    if (!opts || !Array.isArray(opts.routers) || opts.routers.length === 0) {
      throw new AppError('CONFIG_INVALID', 'at least one MictlanX router is required', {
        userMessage: 'No MictlanX router is configured. Add one in Settings as id:host:port (e.g. mictlanx-router-0:127.0.0.1:63666).',
      });
    }
    this.routers = Object.freeze(opts.routers.map((r) => Object.freeze({ ...r })));
    this.bucket = opts.bucket ?? DEFAULT_BUCKET;
    assertKeyId(this.bucket, 'bucket id');
    this.timeoutMs = positiveInt(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs');
    this.maxRetries = nonNegativeInt(opts.maxRetries ?? DEFAULT_MAX_RETRIES, 'maxRetries');
    this.maxParallel = positiveInt(opts.maxParallel ?? DEFAULT_MAX_PARALLEL, 'maxParallel');
    this.producerId = opts.producerId ?? DEFAULT_PRODUCER_ID;
    this.replicationFactor = positiveInt(opts.replicationFactor ?? 1, 'replicationFactor');
    // Bind: calling an unbound global fetch as a method throws "Illegal invocation" in browsers.
    this.fetchFn = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.sleep = opts.sleep ?? defaultSleep;
    this.random = opts.random ?? Math.random;
  }

  /**
   * Parses MICTLANX_ROUTERS: `id:host:port` entries separated by spaces or commas.
   * @throws AppError CONFIG_INVALID naming the bad entry
   * @example MictlanxClient.parseRouters('mictlanx-router-0:127.0.0.1:63666', 'http')
   */
  static parseRouters(text: string, protocol: 'http' | 'https' = 'http'): MictlanxRouter[] {
    const entries = String(text ?? '')
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    if (entries.length === 0) throw routersError('no router listed');
    if (protocol !== 'http' && protocol !== 'https') throw routersError('protocol must be http or https');
    return entries.map((entry) => {
      const parts = entry.split(':');
      if (parts.length !== 3) throw routersError(`"${entry.slice(0, 80)}" is not id:host:port`);
      const [id, host, portText] = parts;
      const port = Number(portText);
      if (!KEY_ID_PATTERN.test(id)) throw routersError(`router id "${id.slice(0, 40)}" must be letters and digits joined by - or _`);
      if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) throw routersError(`"${host.slice(0, 80)}" is not a host name or IPv4 address`);
      if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) throw routersError(`port "${portText.slice(0, 10)}" must be 1–65535`);
      return { id, host, port, protocol };
    });
  }

  /** Base URL of a router. With https the port is dropped, as lib/config `routerEndpoints` (and the Python client) do. */
  static routerUrl(r: MictlanxRouter): string {
    if (r.baseUrl) return r.baseUrl.replace(/\/+$/, '');
    return r.protocol === 'https' ? `https://${r.host}` : `http://${r.host}:${r.port}`;
  }

  // -------------------------------------------------------------------------------------------
  // ObjectStore

  async putNdarray(ballId: string, arr: NdArray, opts: PutOptions = {}): Promise<void> {
    assertKeyId(ballId, 'ball id');
    const ball = await encodeE1(ballId, arr, { numChunks: opts.numChunks ?? DEFAULT_NUM_CHUNKS, tags: opts.tags });
    await this.putBall(ball, opts);
  }

  async getNdarray(ballId: string, opts: GetOptions = {}): Promise<NdArray> {
    const chunks = await this.readBall(ballId, opts);
    return decodeE1(ballId, chunks);
  }

  async putBlob(ballId: string, arr: NdArray, opts: PutOptions = {}): Promise<void> {
    assertKeyId(ballId, 'ball id');
    const ball = await encodeE2(ballId, arr, { tags: opts.tags });
    await this.putBall(ball, opts);
  }

  async getBlob(ballId: string, opts: GetOptions = {}): Promise<NdArray> {
    const chunks = await this.readBall(ballId, opts);
    return decodeE2(ballId, chunks);
  }

  async putBytesList(ballId: string, items: readonly Uint8Array[], opts: PutOptions = {}): Promise<void> {
    await this.putBall(await encodeBytesList(ballId, items, opts), opts);
  }

  async getBytesList(ballId: string, opts: GetOptions = {}): Promise<Uint8Array[]> {
    const chunks = sortByIndex(ballId, await this.readBall(ballId, opts));
    const out: Uint8Array[] = [];
    for (const c of chunks) out.push(...unpickled(ballId, () => unpickleBytesList(c.payload)));
    return out;
  }

  async putBytesMatrix(ballId: string, rows: readonly (readonly Uint8Array[])[], opts: PutOptions = {}): Promise<void> {
    await this.putBall(await encodeBytesMatrix(ballId, rows, opts), opts);
  }

  async getBytesMatrix(ballId: string, opts: GetOptions = {}): Promise<Uint8Array[][]> {
    // Sorted by index: upstream's get_pyctxt_matrix stacks chunks in arrival order (a bug, protocol.md §13).
    const chunks = sortByIndex(ballId, await this.readBall(ballId, opts));
    const out: Uint8Array[][] = [];
    for (const c of chunks) out.push(...unpickled(ballId, () => unpickleBytesMatrix(c.payload)));
    return out;
  }

  async deleteBall(ballId: string, opts: { signal?: AbortSignal } = {}): Promise<number> {
    assertKeyId(ballId, 'ball id');
    const ctx: OpContext = { op: 'delete', ballId };
    let total = 0;
    for (let round = 0; round < DELETE_MAX_ROUNDS; round++) {
      const n = await this.withRetry(ctx, opts.signal, async (base, signal) => {
        const r = await this.http('DELETE', `${base}/api/v4/buckets/${enc(this.bucket)}/bid/${enc(ballId)}`, signal, { headers: { Force: '1' } });
        if (isNotFound(r.status, r.json)) return 0;
        this.throwUnlessOk(r, ctx, base);
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

  // -------------------------------------------------------------------------------------------
  // Extras

  /** Every ball in the bucket with its chunks (deduplicated by key, sorted by index). */
  async listBucket(opts: { signal?: AbortSignal } = {}): Promise<BallListing[]> {
    const ctx: OpContext = { op: 'list' };
    const list = await this.withRetry(ctx, opts.signal, async (base, signal) => {
      const r = await this.http('GET', `${base}/api/v4/buckets/${enc(this.bucket)}/metadata`, signal);
      if (isNotFound(r.status, r.json)) return [];
      this.throwUnlessOk(r, ctx, base);
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
    return this.withRetry(ctx, opts.signal, async (base, signal) => {
      const r = await this.http('GET', `${base}/api/v4/buckets/${enc(this.bucket)}/metadata/${enc(ballId)}/chunks`, signal);
      if (isNotFound(r.status, r.json)) throw this.notFound(ballId);
      this.throwUnlessOk(r, ctx, base);
      const chunks = (r.json as { chunks?: unknown } | undefined)?.chunks;
      return dedupeAndSort(Array.isArray(chunks) ? chunks.filter(isChunkMetadata) : []);
    });
  }

  /**
   * The whole ball in one request (`GET /{ball}/merge`), verified against `full_checksum`.
   * @throws StorageError STORAGE_NOT_FOUND, STORAGE_INTEGRITY
   */
  async getMerged(ballId: string, opts: GetOptions = {}): Promise<Uint8Array> {
    assertKeyId(ballId, 'ball id');
    const ctx: OpContext = { op: 'read', ballId };
    const md0 = await this.chunkMetadata(`${ballId}_0`, ctx, opts.signal);
    if (!md0) throw this.notFound(ballId);
    const full = md0.tags.full_checksum;
    if (typeof full !== 'string') throw integrityError(ballId, 'chunk 0 has no full_checksum tag');
    const bytes = await this.withRetry(ctx, opts.signal, async (base, signal) => {
      const r = await this.http('GET', `${base}/api/v4/buckets/${enc(this.bucket)}/${enc(ballId)}/merge`, signal, {
        headers: { 'Force-Get': opts.force === false ? '0' : '1' },
        binary: true,
      });
      if (isNotFound(r.status, r.json)) throw integrityError(ballId, 'the router could not merge its chunks (some are missing)');
      this.throwUnlessOk(r, ctx, base);
      return r.bytes ?? new Uint8Array(0);
    });
    if ((await sha256Hex(bytes)) !== full) throw integrityError(ballId, 'the merged bytes do not match full_checksum');
    opts.onProgress?.({ ballId, doneBytes: bytes.byteLength, totalBytes: bytes.byteLength, doneChunks: 1, totalChunks: 1 });
    return bytes;
  }

  /** Probes every router with `GET /api/v4/peers/stats`; never throws. */
  async health(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<RouterHealth[]> {
    const timeoutMs = opts.timeoutMs ?? Math.min(this.timeoutMs, HEALTH_TIMEOUT_MS);
    return Promise.all(
      this.routers.map(async (router): Promise<RouterHealth> => {
        const url = MictlanxClient.routerUrl(router);
        const t0 = nowMs();
        try {
          const r = await this.http('GET', `${url}/api/v4/peers/stats`, opts.signal, { timeoutMs });
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
   * Fetches and verifies every chunk of a ball: chunk 0's metadata gives `num_chunks`; each chunk's
   * size and sha256 must match its metadata and the concatenation must match `full_checksum`.
   * Returns the chunks in index order.
   * @throws StorageError STORAGE_NOT_FOUND (no chunk 0), AppError STORAGE_INTEGRITY naming the ball
   */
  async fullChecksum(ballId: string, opts: { signal?: AbortSignal } = {}): Promise<string | undefined> {
    assertKeyId(ballId, 'ball id');
    const md0 = await this.chunkMetadata(`${ballId}_0`, { op: 'read', ballId }, opts.signal);
    const sum = md0?.tags.full_checksum;
    return typeof sum === 'string' && sum !== '' ? sum : undefined;
  }

  async readBall(ballId: string, opts: GetOptions = {}): Promise<StoredChunk[]> {
    assertKeyId(ballId, 'ball id');
    const ctx: OpContext = { op: 'read', ballId };
    const md0 = await this.chunkMetadata(`${ballId}_0`, ctx, opts.signal);
    if (!md0) throw this.notFound(ballId);
    const nText = md0.tags.num_chunks;
    const n = Number(nText);
    if (typeof nText !== 'string' || !/^\d+$/.test(nText) || n < 1 || n > MAX_CHUNKS) {
      throw integrityError(ballId, 'chunk 0 has no valid num_chunks tag');
    }
    const fullChecksum = md0.tags.full_checksum;
    if (typeof fullChecksum !== 'string' || fullChecksum === '') throw integrityError(ballId, 'chunk 0 has no full_checksum tag');

    const indices = Array.from({ length: n }, (_, i) => i);
    const metas = await mapLimit(indices, this.maxParallel, opts.signal, async (i, _k, signal) => {
      const m = i === 0 ? md0 : await this.chunkMetadata(`${ballId}_${i}`, ctx, signal);
      if (!m) throw integrityError(ballId, `chunk ${i} of ${n} is missing (the upload was interrupted or the object was partly deleted)`);
      if (m.tags.index !== String(i)) throw integrityError(ballId, `chunk ${i} carries index tag ${JSON.stringify(String(m.tags.index).slice(0, 12))}`);
      if (m.tags.full_checksum !== fullChecksum) throw integrityError(ballId, `chunk ${i} belongs to a different upload (full_checksum differs)`);
      if (!Number.isSafeInteger(m.size) || m.size < 0) throw integrityError(ballId, `chunk ${i} has an invalid size`);
      return m;
    });

    const totalBytes = metas.reduce((s, m) => s + m.size, 0);
    let doneBytes = 0;
    let doneChunks = 0;
    const report = () => opts.onProgress?.({ ballId, doneBytes, totalBytes, doneChunks, totalChunks: n });
    report();
    const payloads = await mapLimit(metas, this.maxParallel, opts.signal, async (m, i, signal) => {
      const bytes = await this.chunkData(m.key, opts.force !== false, { op: 'read', ballId, key: m.key }, signal);
      if (!bytes) throw integrityError(ballId, `chunk ${i} has metadata but no data (the upload was interrupted)`);
      if (bytes.byteLength !== m.size) throw integrityError(ballId, `chunk ${i} has ${bytes.byteLength} bytes, its metadata says ${m.size}`);
      if ((await sha256Hex(bytes)) !== m.checksum) throw integrityError(ballId, `chunk ${i} does not match its checksum`);
      doneBytes += bytes.byteLength;
      doneChunks++;
      report();
      return bytes;
    });
    if ((await sha256Hex(concatBytes(payloads))) !== fullChecksum) {
      throw integrityError(ballId, 'the chunks together do not match full_checksum');
    }
    return metas.map((m, i) => ({ tags: m.tags, payload: payloads[i] }));
  }

  // -------------------------------------------------------------------------------------------
  // Per-chunk requests

  private async putChunk(ballId: string, chunk: ChunkSpec, signal: AbortSignal): Promise<void> {
    const ctx: OpContext = { op: 'upload', ballId, key: chunk.key };
    const body = JSON.stringify(metadataBody(this.bucket, ballId, chunk, this.producerId, this.replicationFactor));
    await this.withRetry(ctx, signal, async (base, sig) => {
      const postMetadata = () =>
        this.http('POST', `${base}/api/v4/buckets/${enc(this.bucket)}/metadata`, sig, {
          headers: { 'Content-Type': 'application/json' },
          body,
        });
      let r = await postMetadata();
      if (isAlreadyStored(r.status, r.json)) {
        // A leftover of an interrupted attempt (metadata without data) or a concurrent writer.
        await this.deleteKey(base, chunk.key, ctx, sig);
        r = await postMetadata();
        if (isAlreadyStored(r.status, r.json)) throw new Retryable('conflict', `${chunk.key} still exists after deleting it`, 404);
      }
      // A plain 404 "No available peers" is the replica manager failing: worth retrying.
      if (r.status >= 500 || r.status === 404) throw new Retryable('server', detailText(r.json, `HTTP ${r.status}`), r.status);
      this.throwUnlessOk(r, ctx, base);
      const taskId = (r.json as { tasks_ids?: unknown } | undefined)?.tasks_ids;
      if (!Array.isArray(taskId) || typeof taskId[0] !== 'string') {
        throw this.failure(ctx, base, r.status, 'the metadata answer has no tasks_ids');
      }
      const d = await this.http('POST', `${base}/api/v4/buckets/data/${enc(taskId[0])}/chunked`, sig, {
        headers: { 'Content-Type': 'application/octet-stream' },
        body: chunk.payload,
      });
      // Tasks are single-use: any failure here redoes both steps (the 666 path clears the leftover).
      if (d.status >= 500 || d.status === 404) throw new Retryable('server', detailText(d.json, `HTTP ${d.status}`), d.status);
      this.throwUnlessOk(d, ctx, base);
      const peers = (d.json as { peer_ids?: unknown } | undefined)?.peer_ids;
      if (!Array.isArray(peers) || peers.length === 0) throw new Retryable('server', 'no storage peer accepted the chunk (peer_ids is empty)', d.status);
    });
  }

  private async deleteKey(base: string, key: string, ctx: OpContext, signal: AbortSignal | undefined): Promise<void> {
    const r = await this.http('DELETE', `${base}/api/v4/buckets/${enc(this.bucket)}/${enc(key)}`, signal, { headers: { Force: '1' } });
    if (r.ok || isNotFound(r.status, r.json)) return;
    if (r.status >= 500) throw new Retryable('server', detailText(r.json, `HTTP ${r.status}`), r.status);
    throw this.failure(ctx, base, r.status, detailText(r.json, `HTTP ${r.status}`));
  }

  /** Metadata of one key, or null when MictlanX says not found. */
  private chunkMetadata(key: string, ctx: OpContext, signal: AbortSignal | undefined): Promise<ChunkMetadata | null> {
    return this.withRetry({ ...ctx, key }, signal, async (base, sig) => {
      const r = await this.http('GET', `${base}/api/v4/buckets/${enc(this.bucket)}/metadata/${enc(key)}`, sig);
      if (isNotFound(r.status, r.json)) return null;
      this.throwUnlessOk(r, { ...ctx, key }, base);
      const m = (r.json as { metadata?: unknown } | undefined)?.metadata;
      if (!isChunkMetadata(m)) throw integrityError(ctx.ballId ?? key, `the metadata of ${key} is malformed`);
      return m;
    });
  }

  /** Data of one key, or null when MictlanX says not found. */
  private chunkData(key: string, force: boolean, ctx: OpContext, signal: AbortSignal | undefined): Promise<Uint8Array | null> {
    return this.withRetry(ctx, signal, async (base, sig) => {
      const r = await this.http('GET', `${base}/api/v4/buckets/${enc(this.bucket)}/${enc(key)}`, sig, {
        headers: { 'Force-Get': force ? '1' : '0' },
        binary: true,
      });
      if (isNotFound(r.status, r.json)) return null;
      this.throwUnlessOk(r, ctx, base);
      return r.bytes ?? new Uint8Array(0);
    });
  }

  // -------------------------------------------------------------------------------------------
  // HTTP, retries, errors

  /**
   * One request with a timeout combined with the caller's signal. Network errors and timeouts
   * become `Retryable`; a caller abort becomes ABORTED. Successful binary answers are read as bytes,
   * everything else as JSON when possible.
   */
  private async http(
    method: string,
    url: string,
    signal: AbortSignal | undefined,
    init: { headers?: Record<string, string>; body?: string | Uint8Array; binary?: boolean; timeoutMs?: number } = {},
  ): Promise<HttpResult> {
    if (signal?.aborted) throw abortedError();
    const timeout = AbortSignal.timeout(init.timeoutMs ?? this.timeoutMs);
    const combined = signal ? anySignal(signal, timeout) : timeout;
    const classify = (e: unknown): Error => {
      if (signal?.aborted) return abortedError();
      if (timeout.aborted) return new Retryable('timeout', `no answer within ${Math.round((init.timeoutMs ?? this.timeoutMs) / 1000)} s`);
      const cause = (e as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
      const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : e instanceof Error ? e.message : String(e);
      return new Retryable('network', why);
    };
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method,
        headers: init.headers,
        body: init.body as BodyInit | undefined,
        signal: combined,
        cache: 'no-store',
      });
    } catch (e) {
      throw classify(e);
    }
    try {
      if (res.ok && init.binary) return { status: res.status, ok: true, json: undefined, bytes: new Uint8Array(await res.arrayBuffer()) };
      const text = await res.text();
      let json: unknown = undefined;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = { detail: text.slice(0, 300) };
      }
      return { status: res.status, ok: res.ok, json };
    } catch (e) {
      throw classify(e);
    }
  }

  /** Throws for a non-2xx answer: 5xx is retryable, anything else is a STORAGE_FAILURE. */
  private throwUnlessOk(r: HttpResult, ctx: OpContext, base: string): void {
    if (r.ok) return;
    if (r.status >= 500) throw new Retryable('server', detailText(r.json, `HTTP ${r.status}`), r.status);
    throw this.failure(ctx, base, r.status, detailText(r.json, `HTTP ${r.status}`));
  }

  /** Backoff before retry number `n` (0-based): 1, 2, 4 s… capped at 5 s, times a jitter in [0.5, 1). */
  backoffMs(n: number): number {
    const capped = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** n);
    return Math.round(capped * (0.5 + 0.5 * this.random()));
  }

  /**
   * Runs `fn` against the active router until it succeeds, throws a non-retryable error, or
   * `maxRetries` retries are spent. A network error switches to the next router (without waiting
   * while there are routers not yet tried in this round).
   */
  private async withRetry<T>(ctx: OpContext, signal: AbortSignal | undefined, fn: (base: string, signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    let last: Retryable | undefined;
    let lastUrl = MictlanxClient.routerUrl(this.routers[this.active]);
    let waits = 0;
    let hopsWithoutWait = 0;
    for (let attempt = 0; attempt <= this.maxRetries; attempt++) {
      if (signal?.aborted) throw abortedError();
      const router = this.routers[this.active];
      lastUrl = MictlanxClient.routerUrl(router);
      try {
        return await fn(lastUrl, signal);
      } catch (e) {
        if (!(e instanceof Retryable)) throw e;
        last = e;
      }
      if (attempt === this.maxRetries) break;
      if (last.kind === 'network' && this.routers.length > 1) {
        this.active = (this.active + 1) % this.routers.length;
        if (++hopsWithoutWait < this.routers.length) continue;
      }
      hopsWithoutWait = 0;
      await this.sleep(this.backoffMs(waits++), signal);
    }
    throw this.exhausted(ctx, last!, lastUrl, this.maxRetries + 1);
  }

  private exhausted(ctx: OpContext, e: Retryable, url: string, attempts: number): StorageError {
    const what = ctx.ballId ? `${ctx.op} "${ctx.ballId}"` : ctx.op;
    const base = { ballId: ctx.ballId, key: ctx.key, status: e.status, routerUrl: url, cause: e };
    if (e.kind === 'network' || e.kind === 'timeout') {
      const all = this.routers.map((r) => MictlanxClient.routerUrl(r));
      const where = all.length > 1 ? `${all.join(', ')}` : url;
      return new StorageError('STORAGE_UNREACHABLE', `${what}: router ${where} unreachable after ${attempts} attempts (${e.detail})`, {
        ...base,
        userMessage: `Could not ${what}: the MictlanX storage did not answer (${e.detail}). Check that the MictlanX router at ${where} is running and reachable from this machine, and that the router list in Settings is correct.`,
      });
    }
    if (e.kind === 'conflict') {
      return new StorageError('STORAGE_CONFLICT', `${what}: key ${ctx.key ?? ''} still stored after delete (${e.detail})`, {
        ...base,
        userMessage: `Could not ${what}: MictlanX keeps reporting that it is already stored, even after deleting it. Another program may be writing the same object; wait and try again.`,
      });
    }
    return new StorageError('STORAGE_FAILURE', `${what}: router ${url} failed ${attempts} times (HTTP ${e.status ?? '?'}: ${e.detail})`, {
      ...base,
      userMessage: `Could not ${what}: the MictlanX router at ${url} keeps failing (HTTP ${e.status ?? '?'}: ${e.detail}). Check the router and its storage peers (GET /api/v4/peers), then try again.`,
    });
  }

  private failure(ctx: OpContext, url: string, status: number, detail: string): StorageError {
    const what = ctx.ballId ? `${ctx.op} "${ctx.ballId}"` : ctx.op;
    return new StorageError('STORAGE_FAILURE', `${what}: router ${url} answered HTTP ${status}: ${detail}`, {
      ballId: ctx.ballId,
      key: ctx.key,
      status,
      routerUrl: url,
      userMessage: `Could not ${what}: the MictlanX router at ${url} refused the request (HTTP ${status}: ${detail}). Check that this is a MictlanX router (API v4) and that bucket "${this.bucket}" is right.`,
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

function unpickled<T>(ballId: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof AppError && e.code === 'STORAGE_INTEGRITY') throw e;
    throw integrityError(ballId, 'a chunk is not the expected pickled list of bytes');
  }
}

/** `AbortSignal.any([a, b])`, with a fallback for browsers that lack it (Safari < 17.4). */
function anySignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([a, b]);
  const ctrl = new AbortController();
  for (const s of [a, b]) {
    if (s.aborted) {
      ctrl.abort(s.reason);
      break;
    }
    s.addEventListener('abort', () => ctrl.abort(s.reason), { once: true });
  }
  return ctrl.signal;
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function positiveInt(v: number, name: string): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new AppError('INVALID_ARGUMENT', `${name} must be a positive integer`);
  return v;
}

function nonNegativeInt(v: number, name: string): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new AppError('INVALID_ARGUMENT', `${name} must be a non-negative integer`);
  return v;
}

function routersError(detail: string): AppError {
  return new AppError('CONFIG_INVALID', `MICTLANX_ROUTERS: ${detail}`, {
    userMessage: `The MictlanX router list is invalid: ${detail}. Write each router as id:host:port (e.g. mictlanx-router-0:127.0.0.1:63666), separated by spaces or commas.`,
  });
}
