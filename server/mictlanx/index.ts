/**
 * @module server/mictlanx
 * A local, single-peer MictlanX-compatible router on `node:http` (spec/mictlanx.md §4.1–§4.10,
 * §6, §8.1): enough of API v4 for Rory and for the browser client, persisted to a data directory
 * (see ./store.ts) so objects survive restarts.
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
 * CORS as Starlette 1.x with the router's defaults (§6): preflights answer 200 echoing the origin
 * and requested headers; every answer to a request with an Origin — errors included — carries
 * `access-control-allow-origin: <origin>` and `allow-credentials: true`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { open, statfs, unlink } from 'node:fs/promises';
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
}

export interface MictlanxRouterHandle {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Stops at once: open connections are cut, in-flight uploads are discarded, nothing half-written remains. */
  close(): Promise<void>;
}

const API_PREFIXES = ['/mictlanx/api/v4', '/api/v4'];
const MAX_JSON_BYTES = 1 << 20;
/** Peer compose PAYLOAD_LIMIT (spec/mictlanx.md §7). */
const MAX_CHUNK_BYTES = 1e9;
const TASK_TTL_MS = 60 * 60 * 1000;
const PREFLIGHT_METHODS = 'DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT';

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

const problem = (status: number, detail: unknown) => new HttpProblem(status, { detail });

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

/** Resolves when `res` can take more data or is closed; removes both listeners either way. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
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
  const store = new DiskStore(opts.dataDir);
  await store.open();
  const tasks = new Map<string, Task>();
  const inflight = new Set<Promise<void>>();
  let closed = false;
  let listenPort = 0;

  const cors = (req: IncomingMessage): Record<string, string> => {
    const origin = req.headers.origin;
    return origin ? { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' } : {};
  };

  const sendJson = (req: IncomingMessage, res: ServerResponse, status: number, body: unknown) => {
    if (res.headersSent || res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { ...cors(req), 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const readJson = async (req: IncomingMessage): Promise<unknown> => {
    const parts: Buffer[] = [];
    let n = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > MAX_JSON_BYTES) throw problem(413, 'Request body too large');
      parts.push(chunk);
    }
    const text = Buffer.concat(parts).toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      throw new HttpProblem(422, { detail: [{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {} }] });
    }
  };

  // --- handlers ------------------------------------------------------------------------------

  const putMetadata = async (req: IncomingMessage, res: ServerResponse, bucket: string) => {
    const t0 = performance.now();
    const parsed = validateMetadata(await readJson(req));
    if (!parsed.ok) throw new HttpProblem(422, { detail: parsed.errors });
    const { replication_factor: _rf, ...metadata } = parsed.value;
    if (metadata.bucket_id !== bucket) throw problem(400, `Bucket ID mismatch: ${bucket} != ${metadata.bucket_id}`);
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
    const now = Date.now();
    for (const [id, t] of tasks) if (now - t.created > TASK_TTL_MS) tasks.delete(id);
    tasks.set(taskId, { bucket, key: metadata.key, generation: taskId, size: metadata.size, created: now });
    sendJson(req, res, 200, {
      key: metadata.key,
      service_time: (performance.now() - t0) / 1000,
      tasks_ids: [taskId],
      bucket_id: bucket,
      replicas: [peerId],
      extra: {},
    });
  };

  const putData = async (req: IncomingMessage, res: ServerResponse, taskId: string) => {
    const task = tasks.get(taskId);
    // Single-use: consumed before the body is read, whatever happens next.
    tasks.delete(taskId);
    if (!task) throw problem(500, `Task not found: ${taskId}`);
    if (task.size > MAX_CHUNK_BYTES) throw problem(413, 'Payload too large');
    const { path, handle } = await store.tempFile(task.bucket);
    let received = 0;
    let ok = false;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
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
    sendJson(req, res, 200, { peer_ids: [peerId], combined_key: `${task.bucket}@${task.key}`, bucket_id: task.bucket, key: task.key, size: task.size });
  };

  const streamFiles = async (req: IncomingMessage, res: ServerResponse, paths: readonly string[], contentType: string, extra: Record<string, string>) => {
    // Open every file before answering, so a missing file is still a clean 404.
    const handles = [];
    try {
      for (const p of paths) handles.push(await open(p, 'r'));
    } catch {
      for (const h of handles) await h.close().catch(() => {});
      return false;
    }
    res.writeHead(200, { ...cors(req), 'content-type': contentType, ...extra });
    try {
      for (const h of handles) {
        for await (const chunk of h.createReadStream({ autoClose: false, highWaterMark: 1 << 20 })) {
          if (res.destroyed) throw new Error('client went away');
          if (!res.write(chunk)) await drained(res);
        }
      }
      res.end();
    } catch {
      res.destroy();
    } finally {
      for (const h of handles) await h.close().catch(() => {});
    }
    return true;
  };

  const getData = async (req: IncomingMessage, res: ServerResponse, bucket: string, key: string, query: URLSearchParams) => {
    const rec = store.get(bucket, key);
    if (!rec) throw problem(404, 'No found available replica peer or data, try again later.');
    const path = store.dataPath(bucket, rec);
    const extra: Record<string, string> = {};
    const filename = query.get('filename') ?? rec.metadata.tags.fullname ?? rec.metadata.tags.filename;
    if (query.get('attachment') === 'true' && filename) extra['content-disposition'] = `attachment; filename="${filename.replace(/["\r\n]/g, '')}"`;
    if (!path || !(await streamFiles(req, res, [path], query.get('content_type') ?? rec.metadata.content_type, extra))) {
      throw problem(404, `${bucket}@${key} not found`);
    }
  };

  const getMerged = async (req: IncomingMessage, res: ServerResponse, bucket: string, ball: string, query: URLSearchParams) => {
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
    if (!(await streamFiles(req, res, paths, query.get('content_type') ?? first.metadata.content_type, {}))) {
      throw problem(404, 'No available peer; try again later.');
    }
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

  // --- routing -------------------------------------------------------------------------------

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    if (method === 'OPTIONS' && req.headers.origin && req.headers['access-control-request-method']) {
      req.resume();
      const headers: Record<string, string> = {
        ...cors(req),
        'access-control-allow-methods': PREFLIGHT_METHODS,
        'access-control-max-age': '600',
        'content-type': 'text/plain; charset=utf-8',
      };
      const requested = req.headers['access-control-request-headers'];
      if (requested) headers['access-control-allow-headers'] = String(requested);
      // Chrome Private Network Access (a superset of the real router, which does not answer it).
      if (req.headers['access-control-request-private-network'] === 'true') headers['access-control-allow-private-network'] = 'true';
      res.writeHead(200, headers);
      res.end('OK');
      return;
    }
    if (url.pathname === '/health') {
      req.resume();
      if (method !== 'GET') throw problem(405, 'Method Not Allowed');
      sendJson(req, res, 200, { status: 'ok', component_type: 'mictlanx-router', peer_id: peerId });
      return;
    }
    const prefix = API_PREFIXES.find((p) => url.pathname === p || url.pathname.startsWith(`${p}/`));
    if (!prefix) throw problem(404, 'Not Found');
    let seg: string[];
    try {
      seg = url.pathname.slice(prefix.length).split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw problem(404, 'Not Found');
    }
    const q = url.searchParams;
    const is = (...pattern: (string | null)[]) => seg.length === pattern.length && pattern.every((p, i) => p === null || p === seg[i]);
    const only = (allowed: string) => {
      if (method !== allowed) throw problem(405, 'Method Not Allowed');
    };
    if (method !== 'POST') req.resume();

    if (is('buckets', 'data', null, 'chunked') && method === 'POST') return putData(req, res, seg[2]);
    if (is('buckets', 'data', null) && method === 'POST') {
      req.resume();
      throw problem(501, 'The multipart upload is not supported by this local router; use /buckets/data/{task_id}/chunked.');
    }
    if (is('buckets', null, 'metadata')) {
      if (method === 'POST') return putMetadata(req, res, seg[1]);
      only('GET');
      const balls = listed(seg[1]).map(publicMetadata);
      return sendJson(req, res, 200, { bucket_id: seg[1], peers_ids: [peerId], balls });
    }
    if (is('buckets', null, 'metadata', null, 'chunks')) {
      only('GET');
      const [bucket, ball] = [seg[1], seg[3]];
      const chunks = listed(bucket).filter((r) => r.metadata.ball_id === ball).sort(byIndex);
      if (chunks.length === 0) throw problem(404, `${bucket}@${ball} not found`);
      const size = chunks.reduce((s, r) => s + r.metadata.size, 0);
      return sendJson(req, res, 200, {
        bucket_id: bucket,
        ball_id: ball,
        size: formatSize(size),
        size_bytes: size,
        checksum: chunks[0].metadata.tags.full_checksum ?? '',
        chunks: chunks.map(publicMetadata),
      });
    }
    if (is('buckets', null, 'metadata', null)) {
      only('GET');
      const rec = store.get(seg[1], seg[3]);
      if (!rec) throw problem(500, '404: No available peers');
      return sendJson(req, res, 200, { service_time: 0, peer_id: peerId, local_peer_id: peerId, metadata: publicMetadata(rec) });
    }
    if (is('buckets', null, 'bid', null)) {
      only('DELETE');
      const [bucket, ball] = [seg[1], seg[3]];
      const keys = store.records(bucket).filter((r) => r.metadata.ball_id === ball).map((r) => r.metadata.key);
      const n = await store.deleteKeys(bucket, keys);
      return sendJson(req, res, 200, { n_deletes: n, ball_id: ball });
    }
    if (is('buckets', null, null, 'merge')) {
      only('GET');
      return getMerged(req, res, seg[1], seg[2], q);
    }
    if (is('buckets', null, null)) {
      if (method === 'DELETE') {
        const n = await store.deleteKeys(seg[1], [seg[2]]);
        if (n === 0) throw problem(404, `${seg[1]}@${seg[2]} not found`);
        return sendJson(req, res, 200, { n_deletes: n, key: seg[2] });
      }
      only('GET');
      return getData(req, res, seg[1], seg[2], q);
    }
    if (is('peers', 'stats')) {
      only('GET');
      return sendJson(req, res, 200, await peerStats(q));
    }
    if (is('peers')) {
      only('GET');
      return sendJson(req, res, 200, { available: [{ peer_id: peerId, ip_addr: host, port: listenPort, protocol: 'http', api_version: 4 }], unavailable: [] });
    }
    if (is('cache')) {
      only('GET');
      return sendJson(req, res, 200, { keys: [] });
    }
    throw problem(404, 'Not Found');
  };

  const server = createServer((req, res) => {
    const t0 = performance.now();
    opts.onRequest?.({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });
    const p = handle(req, res)
      .catch((e: unknown) => {
        if (e instanceof HttpProblem) {
          req.resume();
          sendJson(req, res, e.status, e.body);
        } else {
          log(`mictlanx: ${req.method} ${req.url} failed: ${e instanceof Error ? e.message : String(e)}`);
          sendJson(req, res, 500, { detail: closed ? 'router is shutting down' : 'Internal Server Error' });
        }
      })
      .finally(() => {
        inflight.delete(p);
        log(`mictlanx: ${req.method} ${req.url} → ${res.statusCode} ${(performance.now() - t0).toFixed(1)} ms`);
      });
    inflight.add(p);
  });
  // Uploads of several MB: never time a request out server-side.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  listenPort = (server.address() as AddressInfo).port;
  const h = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${h}:${listenPort}`,
    port: listenPort,
    dataDir: opts.dataDir,
    close() {
      closing ??= (async () => {
        closed = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await Promise.allSettled([...inflight]);
        await store.close();
        await stopped;
      })();
      return closing;
    },
  };
}
