/**
 * @module storage/transport
 * HTTP to MictlanX routers (spec/mictlanx.md §4, §7): one request with a timeout and bounded body
 * reads (lib/net/read-limited.ts), failure classification, retries with exponential backoff and
 * jitter (1 → 2 → 4 s, capped at 5 s), fail-over to the next router on network errors, and the
 * concurrency limiter used for chunk transfers. It knows MictlanX's status conventions ("not
 * found" may be a 500 whose detail starts with `404:`; the 666-404 means "already stored") but
 * nothing about balls or encodings (lib/storage/ball.ts, e1/e2/e3e4.ts).
 *
 * Errors leave as `StorageError` (codes STORAGE_*, lib/errors.ts) whose `userMessage` says what to
 * check, or as AppError ABORTED when the caller's signal fires.
 */
import { AppError, StorageError } from '../errors';
import { BodyLimitError, formatBytes, readBodyInto, readBodyLimited, readBodyPrefix } from '../net/read-limited';
import { MAX_REPLY_JSON_BYTES } from './ball';
import { routerUrl, type MictlanxRouter } from './routers';
import type { ProducedBody } from './types';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const DEFAULT_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_RETRIES = 10;
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 5_000;
/** Error bodies are only quoted in messages: read at most this much of them. */
export const MAX_ERROR_BODY_BYTES = 16 * 1024;

export interface TransportOptions {
  /** Routers in order of preference; later ones are fail-overs. */
  readonly routers: readonly MictlanxRouter[];
  /** Timeout of one HTTP request, body included (default 120 000 ms, MICTLANX_TIMEOUT). */
  readonly timeoutMs?: number;
  /** Retries after a failed attempt (default 10, MICTLANX_MAX_RETRIES). */
  readonly maxRetries?: number;
  readonly fetch?: typeof fetch;
  /** Waits between retries; injectable for tests. Must reject when `signal` aborts. */
  readonly sleep?: Sleep;
  /** Source of jitter in [0, 1); injectable for tests (not security relevant). */
  readonly random?: () => number;
  /** Bucket named in failure messages. */
  readonly bucket?: string;
}

/** What we were doing, for messages. */
export interface OpContext {
  /** A verb phrase: "upload", "read", "delete". */
  readonly op: string;
  readonly ballId?: string;
  readonly key?: string;
}

/** How to read a successful answer's body. */
export type BodyRead =
  /** JSON of at most this many bytes; a body that is not JSON gives `json: undefined`. */
  | { readonly json: number }
  /** Raw bytes, at most this many. */
  | { readonly bytes: number }
  /** Raw bytes, exactly `into.byteLength` of them, written into `into`. */
  | { readonly into: Uint8Array };

export interface HttpResult {
  readonly status: number;
  readonly ok: boolean;
  /** Parsed JSON body (errors and JSON reads); undefined when not JSON. */
  readonly json: unknown;
  /** Raw body (`bytes` reads, 2xx only). */
  readonly bytes?: Uint8Array;
}

export interface RequestInit {
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array | Blob | ProducedBody;
  /** Overrides the client timeout for this request. */
  readonly timeoutMs?: number;
  /** Body of a 2xx answer (default: JSON of at most MAX_REPLY_JSON_BYTES). */
  readonly read?: BodyRead;
  /** What is read, for size errors ("metadata of P0_1"). */
  readonly what?: string;
  /** The ball the request belongs to, named in size errors. */
  readonly ballId?: string;
}

type FailureKind = 'network' | 'timeout' | 'server' | 'conflict';

/** A failure worth another attempt; turned into a StorageError when attempts run out. */
export class Retryable extends Error {
  constructor(
    readonly kind: FailureKind,
    readonly detail: string,
    readonly status?: number,
  ) {
    super(detail);
    this.name = 'Retryable';
  }
}

export function abortedError(): AppError {
  return new AppError('ABORTED', 'storage operation aborted', { userMessage: 'The operation was cancelled.' });
}

export const defaultSleep: Sleep = (ms, signal) =>
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

/** The `detail` of a FastAPI error body, as short text. */
export function detailText(json: unknown, fallback: string): string {
  if (json && typeof json === 'object' && 'detail' in json) {
    const d = (json as { detail: unknown }).detail;
    if (typeof d === 'string') return d.slice(0, 300);
    if (d && typeof d === 'object' && typeof (d as { msg?: unknown }).msg === 'string') return (d as { msg: string }).msg.slice(0, 300);
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

/**
 * Runs `fn` over `items` with at most `limit` in flight; the first failure aborts the rest (their
 * signal fires) and is rethrown once every lane has stopped.
 */
export async function mapLimit<T, R>(
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

function positiveInt(v: number, name: string): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new AppError('INVALID_ARGUMENT', `${name} must be a positive integer`, { userMessage: `The storage setting ${name} must be a positive whole number.` });
  return v;
}

function nonNegativeInt(v: number, name: string): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new AppError('INVALID_ARGUMENT', `${name} must be a non-negative integer`, { userMessage: `The storage setting ${name} must be a whole number, 0 or more.` });
  return v;
}

function parseJson(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

/** Requests to a list of MictlanX routers with timeouts, bounded reads, retries and fail-over. */
export class MictlanxTransport {
  readonly routers: readonly MictlanxRouter[];
  readonly timeoutMs: number;
  readonly maxRetries: number;
  private readonly bucket: string;
  private readonly fetchFn: typeof fetch;
  /** Whether requests go through the platform's fetch (not an injected one). */
  private readonly platformFetch: boolean;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  /** Index of the router currently in use; advances on network errors. */
  private active = 0;

  constructor(opts: TransportOptions) {
    if (!opts || !Array.isArray(opts.routers) || opts.routers.length === 0) {
      throw new AppError('CONFIG_INVALID', 'at least one MictlanX router is required', {
        userMessage: 'No MictlanX router is configured. Add one in Settings as id:host:port (e.g. mictlanx-router-0:127.0.0.1:63666).',
      });
    }
    this.routers = Object.freeze(opts.routers.map((r) => Object.freeze({ ...r })));
    this.timeoutMs = positiveInt(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs');
    this.maxRetries = nonNegativeInt(opts.maxRetries ?? DEFAULT_MAX_RETRIES, 'maxRetries');
    this.bucket = opts.bucket ?? 'rory';
    // Bind: calling an unbound global fetch as a method throws "Illegal invocation" in browsers.
    this.fetchFn = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.platformFetch = opts.fetch === undefined;
    this.sleep = opts.sleep ?? defaultSleep;
    this.random = opts.random ?? Math.random;
  }

  /** Backoff before retry number `n` (0-based): 1, 2, 4 s… capped at 5 s, times a jitter in [0.5, 1). */
  backoffMs(n: number): number {
    const capped = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** n);
    return Math.round(capped * (0.5 + 0.5 * this.random()));
  }

  /**
   * A body ready to be sent, once, before any attempt: a produced body (a streamed chunk) stays as
   * it is where fetch streams request bodies (Node's own fetch) and is produced again per attempt;
   * elsewhere (browsers stream request bodies only over HTTP/2; an injected fetch) it is gathered
   * into a Blob piece by piece, each piece leaving the page's memory as it is added, and every
   * attempt resends that Blob. Either way no request timeout runs while a Blob is gathered.
   * In a browser a byte body is put in the blob store once as well, so every chunk leaves the same
   * way: the request then refers to the blob instead of carrying the bytes, which DevTools' network
   * instrumentation would otherwise copy into its events (with an automation client attached,
   * about 1.7 s of the browser process's CPU per 16 MB chunk, taking a core from the page).
   */
  async settleBody<B extends Uint8Array | Blob>(body: B | ProducedBody): Promise<B | Blob | ProducedBody> {
    if (isProducedBody(body)) return this.platformFetch && IN_NODE ? body : gatherBlob(body);
    return this.platformFetch && !IN_NODE && body instanceof Uint8Array ? new Blob([body as Uint8Array<ArrayBuffer>]) : body;
  }

  /**
   * One request with a timeout combined with the caller's signal; the timeout covers the body, so
   * a server that trickles bytes is cut off too. Network errors and timeouts become `Retryable`; a
   * caller abort becomes ABORTED; a body past its limit becomes STORAGE_INTEGRITY (not retried:
   * a lying server lies again). Error bodies are read up to MAX_ERROR_BODY_BYTES.
   */
  async http(method: string, url: string, signal: AbortSignal | undefined, init: RequestInit = {}): Promise<HttpResult> {
    if (signal?.aborted) throw abortedError();
    const timeoutMs = init.timeoutMs ?? this.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? anySignal(signal, timeout) : timeout;
    const classify = (e: unknown): Error => {
      if (signal?.aborted) return abortedError();
      if (timeout.aborted) return new Retryable('timeout', `no answer within ${Math.round(timeoutMs / 1000)} s`);
      // Producing a streamed body failed (fetch wraps the stream's error): not the network's fault.
      if (e instanceof AppError) return e;
      const cause = (e as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
      if (cause instanceof AppError) return cause;
      const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : e instanceof Error ? e.message : String(e);
      return new Retryable('network', why);
    };
    let res: Response;
    try {
      res = await this.fetchFn(url, { method, ...requestBody(init, this.platformFetch), signal: combined, cache: 'no-store' });
    } catch (e) {
      throw classify(e);
    }
    const what = init.what ?? `the answer to ${method} ${new URL(url).pathname}`;
    try {
      if (!res.ok) {
        const { bytes, truncated } = await readBodyPrefix(res, MAX_ERROR_BODY_BYTES);
        const text = new TextDecoder().decode(bytes);
        const json = truncated ? { detail: `${text.slice(0, 299)}…` } : (parseJson(bytes) ?? (text === '' ? undefined : { detail: text.slice(0, 300) }));
        return { status: res.status, ok: false, json };
      }
      const read = init.read ?? { json: MAX_REPLY_JSON_BYTES };
      if ('into' in read) {
        await readBodyInto(res, read.into, what, { code: 'STORAGE_INTEGRITY' });
        return { status: res.status, ok: true, json: undefined, bytes: read.into };
      }
      if ('bytes' in read) return { status: res.status, ok: true, json: undefined, bytes: await readBodyLimited(res, read.bytes, what, { code: 'STORAGE_INTEGRITY' }) };
      return { status: res.status, ok: true, json: parseJson(await readBodyLimited(res, read.json, what, { code: 'STORAGE_INTEGRITY' })) };
    } catch (e) {
      if (e instanceof BodyLimitError) throw this.sizeError(e, url, init.ballId);
      throw classify(e);
    }
  }

  /** Throws for a non-2xx answer: 5xx is retryable, anything else is a STORAGE_FAILURE. */
  throwUnlessOk(r: HttpResult, ctx: OpContext, base: string): void {
    if (r.ok) return;
    if (r.status >= 500) throw new Retryable('server', detailText(r.json, `HTTP ${r.status}`), r.status);
    throw this.failure(ctx, base, r.status, detailText(r.json, `HTTP ${r.status}`));
  }

  /**
   * Runs `fn` against the active router until it succeeds, throws a non-retryable error, or
   * `maxRetries` retries are spent. A network error switches to the next router (without waiting
   * while there are routers not yet tried in this round).
   */
  async withRetry<T>(ctx: OpContext, signal: AbortSignal | undefined, fn: (base: string, signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    let last: Retryable | undefined;
    let lastUrl = routerUrl(this.routers[this.active]);
    let waits = 0;
    let hopsWithoutWait = 0;
    for (let attempt = 0; attempt <= this.maxRetries; attempt++) {
      if (signal?.aborted) throw abortedError();
      lastUrl = routerUrl(this.routers[this.active]);
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
      const all = this.routers.map(routerUrl);
      const where = all.length > 1 ? all.join(', ') : url;
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

  /** A non-retryable refusal by the router. */
  failure(ctx: OpContext, url: string, status: number, detail: string): StorageError {
    const what = ctx.ballId ? `${ctx.op} "${ctx.ballId}"` : ctx.op;
    return new StorageError('STORAGE_FAILURE', `${what}: router ${url} answered HTTP ${status}: ${detail}`, {
      ballId: ctx.ballId,
      key: ctx.key,
      status,
      routerUrl: url,
      userMessage: `Could not ${what}: the MictlanX router at ${url} refused the request (HTTP ${status}: ${detail}). Check that this is a MictlanX router (API v4) and that bucket "${this.bucket}" is right.`,
    });
  }

  private sizeError(e: BodyLimitError, url: string, ballId: string | undefined): StorageError {
    const base = url.replace(/\/api\/v4\/.*$/, '');
    return new StorageError('STORAGE_INTEGRITY', e.message, {
      ballId,
      routerUrl: base,
      cause: e,
      userMessage:
        e.reason === 'too-short'
        ? `The MictlanX router at ${base} sent less data than the object's metadata announces (${e.what}). The stored object is incomplete: upload or recompute it again.`
        : `The MictlanX router at ${base} sent more data than expected for ${e.what} (more than ${formatBytes(e.limitBytes)}), so it was refused. The object is damaged or the router is not behaving like MictlanX: check the router address in Settings, then upload or recompute the object.`,
    });
  }
}

const IN_NODE = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

const isProducedBody = (b: unknown): b is ProducedBody => typeof b === 'object' && b !== null && typeof (b as ProducedBody).open === 'function';

/**
 * Headers and body for fetch. A Blob body goes as it is in browsers, which send Blobs from their
 * blob store; Node's own fetch would first copy a Blob whole into a Buffer (and keep it until the
 * answer is read), so there it is streamed with its length instead. A produced body reaches here
 * only where fetch streams it (`settleBody`) and is streamed straight from its source.
 */
function requestBody(init: RequestInit, platformFetch: boolean): { headers?: Record<string, string>; body?: BodyInit; duplex?: 'half' } {
  const body = init.body;
  const streamInNode = platformFetch && IN_NODE;
  if (isProducedBody(body)) {
    if (!streamInNode) throw new AppError('INTERNAL', 'a produced body was sent without settleBody on a fetch that cannot stream it');
    return { headers: { ...init.headers, 'Content-Length': String(body.size) }, body: body.open() as unknown as BodyInit, duplex: 'half' };
  }
  if (streamInNode && typeof Blob !== 'undefined' && body instanceof Blob) {
    return { headers: { ...init.headers, 'Content-Length': String(body.size) }, body: body.stream() as unknown as BodyInit, duplex: 'half' };
  }
  return { headers: init.headers, body: body as BodyInit | undefined };
}

async function gatherBlob(body: ProducedBody): Promise<Blob> {
  const parts: Blob[] = [];
  const reader = body.open().getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(new Blob([r.value as Uint8Array<ArrayBuffer>]));
  const blob = new Blob(parts);
  if (blob.size !== body.size) throw new AppError('INTERNAL', `a produced body gave ${blob.size} bytes, announced ${body.size}`);
  return blob;
}
