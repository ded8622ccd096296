/**
 * @module server/mictlanx
 * A local, single-peer MictlanX-compatible router (spec/mictlanx.md §4.1–§4.10, §6, §8.1):
 * enough of API v4 for Rory and for the browser client, persisted to a data directory (see
 * ./store.ts) so objects survive restarts. HTTP is the common layer (server/common/http.ts):
 * the same CORS, Host check, body limits, timeouts and error handling as the Manager and the
 * Workers.
 *
 * Routes (prefix `/api/v4`, also under `/mictlanx/api/v4` like the real `root_path`):
 * - `POST /buckets/{b}/metadata` → `{key, service_time, tasks_ids:[task], bucket_id, replicas, extra}`;
 *   422 (pydantic-style list) when a field has the wrong type, e.g. a non-string tag value; 400
 *   `Bucket ID mismatch: {path} != {body}`; 404 with `detail.code 666` when the key exists.
 * - `POST /buckets/data/{task}/chunked` (raw body) → `{peer_ids, combined_key, bucket_id, key, size}`;
 *   tasks are single-use (unknown/consumed → 500). Deviation: a body whose length differs from
 *   the metadata size is refused with 400 (the real router accepts it; only its multipart route
 *   checks), so a truncated upload can never become a valid chunk.
 * - `GET /buckets/{b}/metadata` (list), `GET /buckets/{b}/metadata/{key}` (missing → 500
 *   `404: No available peers`), `GET /buckets/{b}/metadata/{ball}/chunks`,
 *   `GET /buckets/{b}/{key}` (streamed, chunked encoding; a key without data → 404),
 *   `GET /buckets/{b}/{ball}/merge`, `DELETE /buckets/{b}/{key}`, `DELETE /buckets/{b}/bid/{ball}`.
 * - `GET /peers`, `GET /peers/stats`, `GET /cache` (always empty: this router has no cache),
 *   and `GET /health` at the root.
 * Not implemented: the multipart put (`POST /buckets/data/{task}`, answers 501), `/size`,
 * `/disable`, `/u/...`, peer management.
 *
 * Deviations for safety (D9, issue 12 findings 2 and 6):
 * - CORS is not Starlette's `*` with credentials (§6): only allowed origins get a grant (the
 *   origin echoed, no `allow-credentials`), any other Origin gets 403; errors as `{"detail"}`.
 * - Object bytes are inert: their `Content-Type` is the stored or requested type only when it
 *   is on a short list of passive types (else `application/octet-stream`), and every answer has
 *   `X-Content-Type-Options: nosniff`, `Content-Disposition: attachment` and a sandboxing CSP,
 *   so stored HTML can never run on the router's origin.
 * - Unfinished uploads (metadata whose data never came) are dropped after `pendingTtlMs`, and
 *   at most `maxPending` may exist at once (more → 503), so metadata posts cannot pile up.
 * - Bodies are bounded (metadata 1 MiB, a chunk `maxChunkBytes`, anything else 64 KiB), and a
 *   request must arrive within `requestTimeoutMs` (slow-loris).
 */
import { open, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { AccessPolicy, HttpError, json, listen, route, type Handler, type Reply, type Route } from '../common/http';
import { DiskStore, newId, type KeyRecord, type StoredMetadata } from './store';

export interface MictlanxRouterOptions {
  /** Directory holding the objects; created when missing. */
  readonly dataDir: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Name of the single storage peer reported in answers (default `mictlanx-peer-0`). */
  readonly peerId?: string;
  readonly log?: (line: string) => void;
  /** Observes every request (method, path with query, lower-cased headers); for diagnostics and tests. */
  readonly onRequest?: (info: { method: string; url: string; headers: Readonly<Record<string, string | string[] | undefined>> }) => void;
  /** Origins and Host names allowed (shared with the rest of the cloud); default: no browser origin, loopback names. */
  readonly access?: AccessPolicy;
  /** Largest chunk accepted (default 1e9 bytes, the peer's PAYLOAD_LIMIT, spec/mictlanx.md §7). */
  readonly maxChunkBytes?: number;
  /** How long an unfinished upload (metadata without data) is kept (default 1 h). */
  readonly pendingTtlMs?: number;
  /** How many unfinished uploads may exist at once (default 10 000); more metadata posts → 503. */
  readonly maxPending?: number;
  /** A whole request (headers + body) must arrive within this (default 10 min: chunks can be large). */
  readonly requestTimeoutMs?: number;
  readonly headersTimeoutMs?: number;
}

export interface MictlanxRouterHandle {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Unfinished uploads currently kept. */
  pendingCount(): number;
  /** Stops at once: open connections are cut, in-flight uploads are discarded, nothing half-written remains. */
  close(): Promise<void>;
}

const API_PREFIXES = ['/mictlanx/api/v4', '/api/v4'];
const MAX_JSON_BYTES = 1 << 20;
/** Peer compose PAYLOAD_LIMIT (spec/mictlanx.md §7). */
const MAX_CHUNK_BYTES = 1e9;
const PENDING_TTL_MS = 60 * 60 * 1000;
const MAX_PENDING = 10_000;
const REQUEST_TIMEOUT_MS = 10 * 60 * 1000;
/**
 * Content types object bytes may be served as: none of them is rendered as active content by
 * a browser (and nosniff + attachment + CSP sandbox hold anyway). Anything else, including
 * malformed values, is served as application/octet-stream.
 */
export const PASSIVE_CONTENT_TYPES: ReadonlySet<string> = new Set([
  'application/octet-stream',
  'application/json',
  'text/plain',
  'text/csv',
  'application/x-npy',
  'application/python-pickle',
]);

/** The content type object bytes are served with (see PASSIVE_CONTENT_TYPES). */
export function servedContentType(requested: string | null | undefined): string {
  const essence = (requested ?? '').split(';')[0].trim().toLowerCase();
  return PASSIVE_CONTENT_TYPES.has(essence) ? essence : 'application/octet-stream';
}

/** `attachment` with an ASCII-only file name (non-ASCII, quotes and separators replaced). */
function attachment(filename: string | undefined): string {
  const safe = (filename ?? '').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120);
  return safe ? `attachment; filename="${safe}"` : 'attachment';
}

const problem = (status: number, detail: unknown) => new HttpError(status, typeof detail === 'string' ? detail : JSON.stringify(detail), { body: { detail } });

interface Task {
  readonly bucket: string;
  readonly key: string;
  readonly generation: string;
  readonly size: number;
  readonly created: number;
}

// ---------------------------------------------------------------------------------------------
// Validation of the metadata body, with pydantic v2-like 422 answers.

interface FieldError {
  type: string;
  loc: (string | number)[];
  msg: string;
  input?: unknown;
}

function validateMetadata(body: unknown): { ok: true; value: StoredMetadata & { replication_factor: number } } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, errors: [{ type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: body }] };
  }
  const b = body as Record<string, unknown>;
  const str = (name: string, required: boolean, dflt?: string): string => {
    const v = b[name];
    if (v === undefined) {
      if (required) errors.push({ type: 'missing', loc: ['body', name], msg: 'Field required' });
      return dflt ?? '';
    }
    if (typeof v !== 'string') {
      errors.push({ type: 'string_type', loc: ['body', name], msg: 'Input should be a valid string', input: v });
      return '';
    }
    return v;
  };
  const int = (name: string, required: boolean, dflt: number): number => {
    const v = b[name];
    if (v === undefined) {
      if (required) errors.push({ type: 'missing', loc: ['body', name], msg: 'Field required' });
      return dflt;
    }
    const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
      errors.push({ type: 'int_parsing', loc: ['body', name], msg: 'Input should be a valid integer', input: v });
      return dflt;
    }
    return n;
  };
  const bool = (name: string, dflt: boolean): boolean => {
    const v = b[name];
    if (v === undefined) return dflt;
    if (typeof v === 'boolean') return v;
    if (v === 0 || v === 1) return v === 1;
    if (typeof v === 'string' && ['true', 'false', '0', '1', 'yes', 'no', 'on', 'off'].includes(v.toLowerCase())) return ['true', '1', 'yes', 'on'].includes(v.toLowerCase());
    errors.push({ type: 'bool_parsing', loc: ['body', name], msg: 'Input should be a valid boolean', input: v });
    return dflt;
  };
  const bucket_id = str('bucket_id', true);
  const key = str('key', true);
  const ball_id = str('ball_id', true);
  const checksum = str('checksum', true);
  const size = int('size', true, 0);
  const producer_id = str('producer_id', true);
  const content_type = str('content_type', false, 'application/octet-stream');
  const is_disabled = bool('is_disabled', false);
  const replication_factor = int('replication_factor', false, 1);
  const tags: Record<string, string> = {};
  if (b.tags !== undefined) {
    if (!b.tags || typeof b.tags !== 'object' || Array.isArray(b.tags)) {
      errors.push({ type: 'dict_type', loc: ['body', 'tags'], msg: 'Input should be a valid dictionary', input: b.tags });
    } else {
      for (const [k, v] of Object.entries(b.tags as Record<string, unknown>)) {
        if (typeof v !== 'string') errors.push({ type: 'string_type', loc: ['body', 'tags', k], msg: 'Input should be a valid string', input: v });
        else tags[k] = v;
      }
    }
  }
  if (size < 0) errors.push({ type: 'greater_than_equal', loc: ['body', 'size'], msg: 'Input should be greater than or equal to 0', input: size });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { key, size, checksum, tags, content_type, producer_id, ball_id, bucket_id, is_disabled, replication_factor } };
}

/** humanfriendly.format_size (decimal units), as the real router formats `/chunks` sizes. */
export function formatSize(bytes: number): string {
  if (bytes === 1) return '1 byte';
  if (bytes < 1000) return `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${Number(v.toFixed(2))} ${units[u]}`;
}

function publicMetadata(r: KeyRecord): StoredMetadata {
  return r.metadata;
}

function byIndex(a: KeyRecord, b: KeyRecord): number {
  const ia = Number(a.metadata.tags.index);
  const ib = Number(b.metadata.tags.index);
  return (Number.isFinite(ia) ? ia : Infinity) - (Number.isFinite(ib) ? ib : Infinity) || (a.metadata.key < b.metadata.key ? -1 : 1);
}

// ---------------------------------------------------------------------------------------------

/**
 * Starts the router and resolves once it listens.
 * @example const r = await createMictlanxRouter({ dataDir: '.data/mictlanx' }); // r.url
 */
export async function createMictlanxRouter(opts: MictlanxRouterOptions): Promise<MictlanxRouterHandle> {
  const host = opts.host ?? '127.0.0.1';
  const peerId = opts.peerId ?? 'mictlanx-peer-0';
  const log = opts.log ?? (() => {});
  const maxChunk = opts.maxChunkBytes ?? MAX_CHUNK_BYTES;
  const pendingTtl = opts.pendingTtlMs ?? PENDING_TTL_MS;
  const maxPending = opts.maxPending ?? MAX_PENDING;
  const store = new DiskStore(opts.dataDir);
  await store.open();
  const tasks = new Map<string, Task>();
  let closed = false;
  let listenPort = 0;

  /** Drops unfinished uploads older than the TTL and tasks that can no longer complete. */
  const prune = async () => {
    const cutoff = Date.now() - pendingTtl;
    const dropped = await store.deletePendingBefore(cutoff);
    for (const [id, t] of tasks) {
      const rec = store.get(t.bucket, t.key);
      if (t.created < cutoff || !rec || rec.complete || rec.generation !== t.generation) tasks.delete(id);
    }
    if (dropped > 0) log(`mictlanx: dropped ${dropped} unfinished upload(s) older than ${Math.round(pendingTtl / 1000)} s`);
  };
  const pruneTimer = setInterval(() => void prune().catch(() => {}), Math.max(1_000, Math.min(60_000, pendingTtl / 4)));
  pruneTimer.unref();
  await prune();

  // --- handlers ------------------------------------------------------------------------------

  const putMetadata: Handler = async (ctx) => {
    const t0 = performance.now();
    const bucket = ctx.params.bucket;
    let body: unknown;
    try {
      body = JSON.parse((await ctx.readBody()).toString('utf8'));
    } catch (e) {
      if (e instanceof HttpError) throw e;
      throw new HttpError(422, 'JSON decode error', { body: { detail: [{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {} }] } });
    }
    const parsed = validateMetadata(body);
    if (!parsed.ok) throw new HttpError(422, 'invalid metadata', { body: { detail: parsed.errors } });
    const { replication_factor: _rf, ...metadata } = parsed.value;
    if (metadata.bucket_id !== bucket) throw problem(400, `Bucket ID mismatch: ${bucket} != ${metadata.bucket_id}`);
    if (store.pendingCount() >= maxPending) await prune();
    if (store.pendingCount() >= maxPending) {
      throw problem(503, `Too many unfinished uploads (${store.pendingCount()}): send their data, delete them, or retry after they expire.`);
    }
    const taskId = newId();
    const r = store.reserve(metadata, taskId);
    if (!r.created) {
      throw problem(404, {
        msg: 'No available peers.',
        suggestion: 'Add more peers or delete replicas.',
        bucket_id: bucket,
        key: metadata.key,
        replicas: [peerId],
        code: 666,
      });
    }
    await r.persisted;
    tasks.set(taskId, { bucket, key: metadata.key, generation: taskId, size: metadata.size, created: Date.now() });
    return json(200, {
      key: metadata.key,
      service_time: (performance.now() - t0) / 1000,
      tasks_ids: [taskId],
      bucket_id: bucket,
      replicas: [peerId],
      extra: {},
    });
  };

  const putData: Handler = async (ctx) => {
    const taskId = ctx.params.task;
    const task = tasks.get(taskId);
    // Single-use: consumed before the body is read, whatever happens next.
    tasks.delete(taskId);
    if (!task) throw problem(500, `Task not found: ${taskId}`);
    if (task.size > maxChunk) throw problem(413, 'Payload too large');
    const { path, handle } = await store.tempFile(task.bucket);
    let received = 0;
    let ok = false;
    try {
      for await (const chunk of ctx.body()) {
        received += chunk.length;
        // Past the announced size: keep draining (so the 400 can be delivered) but stop writing.
        if (received <= task.size) await handle.write(chunk);
      }
      if (received !== task.size) throw problem(400, `Data size mistmatch ${received} != ${task.size}`);
      await handle.sync();
      await handle.close();
      if (closed) throw problem(503, 'router is shutting down');
      const committed = await store.commitData(task.bucket, task.key, task.generation, path);
      ok = true;
      if (!committed) throw problem(500, `404: No metadata found for ${task.bucket}@${task.key}`);
    } finally {
      if (!ok) {
        await handle.close().catch(() => {});
        await unlink(path).catch(() => {});
      }
    }
    return json(200, { peer_ids: [peerId], combined_key: `${task.bucket}@${task.key}`, bucket_id: task.bucket, key: task.key, size: task.size });
  };

  /** Opens every file before answering (a missing file is still a clean 404); the layer closes them. */
  const streamFiles = async (paths: readonly string[], contentType: string | null | undefined, filename: string | undefined): Promise<Reply | null> => {
    const handles: FileHandle[] = [];
    try {
      for (const p of paths) handles.push(await open(p, 'r'));
    } catch {
      for (const h of handles) await h.close().catch(() => {});
      return null;
    }
    async function* chunks(): AsyncIterable<Uint8Array> {
      for (const h of handles) yield* h.createReadStream({ autoClose: false, highWaterMark: 1 << 20 });
    }
    return {
      status: 200,
      headers: { 'Content-Type': servedContentType(contentType), 'Content-Disposition': attachment(filename) },
      stream: {
        chunks: chunks(),
        close: async () => {
          for (const h of handles) await h.close().catch(() => {});
        },
      },
    };
  };

  const getData: Handler = async (ctx) => {
    const { bucket, key } = ctx.params;
    const rec = store.get(bucket, key);
    if (!rec) throw problem(404, 'No found available replica peer or data, try again later.');
    const path = store.dataPath(bucket, rec);
    const filename = ctx.query.get('filename') ?? rec.metadata.tags.fullname ?? rec.metadata.tags.filename ?? key;
    const reply = path ? await streamFiles([path], ctx.query.get('content_type') ?? rec.metadata.content_type, filename) : null;
    if (!reply) throw problem(404, `${bucket}@${key} not found`);
    return reply;
  };

  const getMerged: Handler = async (ctx) => {
    const { bucket, ball } = ctx.params;
    const first = store.get(bucket, `${ball}_0`);
    if (!first) throw problem(404, 'Could not fetch metadata.');
    const n = Number(first.metadata.tags.num_chunks);
    if (!Number.isSafeInteger(n) || n < 1) throw problem(404, 'Invalid number of chunks.');
    const paths: string[] = [];
    for (let i = 0; i < n; i++) {
      const rec = store.get(bucket, `${ball}_${i}`);
      const p = rec && store.dataPath(bucket, rec);
      if (!p) throw problem(404, 'No available peer; try again later.');
      paths.push(p);
    }
    const reply = await streamFiles(paths, ctx.query.get('content_type') ?? first.metadata.content_type, ball);
    if (!reply) throw problem(404, 'No available peer; try again later.');
    return reply;
  };

  const listed = (bucket: string) => store.records(bucket).filter((r) => r.complete && r.metadata.size > 0);

  const peerStats = async (query: URLSearchParams) => {
    const all = store.allRecords().filter((r) => r.complete);
    const used = all.reduce((s, r) => s + r.metadata.size, 0);
    let total = 0;
    let available = 0;
    try {
      const fs = await statfs(opts.dataDir);
      total = fs.blocks * fs.bsize;
      available = fs.bavail * fs.bsize;
    } catch {
      /* statfs unsupported: report zeros */
    }
    const start = Number(query.get('start') ?? 0) || 0;
    const end = query.get('end') === null ? undefined : Number(query.get('end'));
    return {
      [peerId]: {
        peer_id: peerId,
        used_disk: used,
        total_disk: total,
        available_disk: available,
        disk_uf: total > 0 ? used / total : 0,
        balls: all.map(publicMetadata).slice(start, end),
        peers: [],
      },
    };
  };

  const chunkList: Handler = (ctx) => {
    const { bucket, ball } = ctx.params;
    const chunks = listed(bucket).filter((r) => r.metadata.ball_id === ball).sort(byIndex);
    if (chunks.length === 0) throw problem(404, `${bucket}@${ball} not found`);
    const size = chunks.reduce((s, r) => s + r.metadata.size, 0);
    return json(200, {
      bucket_id: bucket,
      ball_id: ball,
      size: formatSize(size),
      size_bytes: size,
      checksum: chunks[0].metadata.tags.full_checksum ?? '',
      chunks: chunks.map(publicMetadata),
    });
  };

  const deleteBall: Handler = async (ctx) => {
    const { bucket, ball } = ctx.params;
    const keys = store.records(bucket).filter((r) => r.metadata.ball_id === ball).map((r) => r.metadata.key);
    const n = await store.deleteKeys(bucket, keys);
    return json(200, { n_deletes: n, ball_id: ball });
  };

  const deleteKey: Handler = async (ctx) => {
    const { bucket, key } = ctx.params;
    const n = await store.deleteKeys(bucket, [key]);
    if (n === 0) throw problem(404, `${bucket}@${key} not found`);
    return json(200, { n_deletes: n, key });
  };

  // --- routing -------------------------------------------------------------------------------

  /** Unexpected failures are logged and answered without internals (paths, errno). */
  const guard =
    (h: Handler): Handler =>
    async (ctx) => {
      try {
        return await h(ctx);
      } catch (e) {
        if (e instanceof HttpError) throw e;
        log(`mictlanx: ${ctx.method} ${ctx.url} failed: ${e instanceof Error ? e.message : String(e)}`);
        throw problem(500, closed ? 'router is shutting down' : 'Internal Server Error');
      }
    };

  // Order matters where two patterns match one path: the first route with the method wins.
  const api = (prefix: string): Route[] => [
    route('POST', `${prefix}/buckets/data/:task/chunked`, guard(putData), { maxBodyBytes: maxChunk }),
    route('POST', `${prefix}/buckets/data/:task`, () => {
      throw problem(501, 'The multipart upload is not supported by this local router; use /buckets/data/{task_id}/chunked.');
    }),
    route('POST', `${prefix}/buckets/:bucket/metadata`, guard(putMetadata), { maxBodyBytes: MAX_JSON_BYTES }),
    route('GET', `${prefix}/buckets/:bucket/metadata`, (ctx) => json(200, { bucket_id: ctx.params.bucket, peers_ids: [peerId], balls: listed(ctx.params.bucket).map(publicMetadata) })),
    route('GET', `${prefix}/buckets/:bucket/metadata/:ball/chunks`, chunkList),
    route('GET', `${prefix}/buckets/:bucket/metadata/:key`, (ctx) => {
      const rec = store.get(ctx.params.bucket, ctx.params.key);
      if (!rec) throw problem(500, '404: No available peers');
      return json(200, { service_time: 0, peer_id: peerId, local_peer_id: peerId, metadata: publicMetadata(rec) });
    }),
    route('DELETE', `${prefix}/buckets/:bucket/bid/:ball`, guard(deleteBall)),
    route('GET', `${prefix}/buckets/:bucket/:ball/merge`, guard(getMerged)),
    route('GET', `${prefix}/buckets/:bucket/:key`, guard(getData)),
    route('DELETE', `${prefix}/buckets/:bucket/:key`, guard(deleteKey)),
    route('GET', `${prefix}/peers/stats`, guard(async (ctx) => json(200, await peerStats(ctx.query)))),
    route('GET', `${prefix}/peers`, () =>
      json(200, { available: [{ peer_id: peerId, ip_addr: host, port: listenPort, protocol: 'http', api_version: 4 }], unavailable: [] }),
    ),
    route('GET', `${prefix}/cache`, () => json(200, { keys: [] })),
  ];

  const server = await listen(
    [route('GET', '/health', () => json(200, { status: 'ok', component_type: 'mictlanx-router', peer_id: peerId })), ...API_PREFIXES.flatMap(api)],
    opts.port ?? 0,
    host,
    {
      access: opts.access,
      errorBody: (_status, message) => ({ detail: message }),
      requestTimeoutMs: opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
      headersTimeoutMs: opts.headersTimeoutMs,
      onRequest: opts.onRequest,
      accessLog: (line) => log(`mictlanx: ${line}`),
    },
  );
  listenPort = server.port;
  const h = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${h}:${listenPort}`,
    port: listenPort,
    dataDir: opts.dataDir,
    pendingCount: () => store.pendingCount(),
    close() {
      closing ??= (async () => {
        closed = true;
        clearInterval(pruneTimer);
        await server.close({ now: true });
        await store.close();
      })();
      return closing;
    },
  };
}
