/**
 * @module server/common/http
 * The one HTTP layer of the local Rory cloud and the static app server (spec/protocol.md §3,
 * §12.1, §12.5; spec/mictlanx.md §4, §6; issue 12 findings 2 and 6; issue 10 item 6). The
 * MictlanX-compatible router, the Manager, the Workers and server/static.ts all answer through
 * `listen(routes, port, host, opts)`, so they share, request by request, in this order:
 *
 * 1. **Host check** (DNS rebinding): the `Host` name must be one the `AccessPolicy` knows
 *    (127.0.0.1, localhost, ::1, the bound and public host, configured extras) → else 421.
 * 2. **Origin check** (D9): a request that carries an `Origin` must come from an allowed origin
 *    (the app's own origin plus explicitly configured ones) → else 403, with no CORS grant.
 *    Requests without an Origin (Node clients, upstream workers, curl) are not browser
 *    cross-origin requests and pass.
 * 3. **CORS** for allowed origins only: the origin is echoed (never `*`, never credentials),
 *    preflights answer 204 with the methods of the route table, `Allow-Headers: *` and, when
 *    asked, `Access-Control-Allow-Private-Network: true`; `Access-Control-Expose-Headers` names
 *    every Rory response header so JavaScript can read `Clustering-Status` and `Error-Message`.
 * 4. **Routing**: exact paths with `:param` segments and a trailing `*`; unknown path → 404,
 *    known path with another method → 405 with `Allow`.
 * 5. **Bounded bodies**: every route has a body limit (default 64 KiB; a `Content-Length` above
 *    it → 413 before the handler runs). Routes that do not read their body have it drained, up
 *    to the limit, so keep-alive connections stay usable.
 * 6. **Timeouts**: a request (headers + body) must arrive within `requestTimeoutMs` (headers
 *    within `headersTimeoutMs`), so slow-loris clients are cut; the *response* side is not
 *    limited, because a worker step may compute for minutes (§12.5).
 * 7. **Errors**: a thrown `HttpError` becomes its status, anything else a 500; every error
 *    carries a one-line `Error-Message` header and a body shaped by `errorBody`.
 * 8. **Defensive headers** on every answer: `X-Content-Type-Options: nosniff`, a sandboxing
 *    CSP, `Cross-Origin-Resource-Policy: same-origin`, `Referrer-Policy: no-referrer`,
 *    `Cache-Control: no-store` (the static server overrides CSP and caching).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { API_RESPONSE_CSP } from '../../lib/security/csp';
import { RORY_RESPONSE_HEADERS } from '@/lib/rory/protocol';

/** Every response header a Rory component may send (spec/protocol.md §12.1, plus the ones the worker adds). */
export const RORY_EXPOSED_HEADERS = RORY_RESPONSE_HEADERS;

/** Default body limit of a route: Rory parameters travel in headers, bodies are ignored (§3). */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
/** Whole request (headers + body) must arrive within this; the response may take longer. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_HEADERS_TIMEOUT_MS = 20_000;
const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '::1'];

/** A body that is streamed out; `close` runs once whatever happens (client gone, write error). */
export interface ReplyStream {
  readonly chunks: AsyncIterable<Uint8Array>;
  close?(): Promise<void>;
}

export interface Reply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** A string is sent as is; an object is JSON-encoded; undefined/null sends no body. */
  readonly body?: string | object | null;
  /** Streamed body (takes the place of `body`). */
  readonly stream?: ReplyStream;
}

/** Thrown by handlers to answer with a specific status; the message goes into `Error-Message`. */
export class HttpError extends Error {
  readonly status: number;
  /** Body to send instead of the server's default error body. */
  readonly body?: string | object;
  readonly headers?: Readonly<Record<string, string>>;
  constructor(status: number, message: string, opts: { body?: string | object; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.body = opts.body;
    this.headers = opts.headers;
  }
}

export interface RequestContext {
  readonly method: string;
  /** Path without query, trailing slashes removed (except `/`); not percent-decoded. */
  readonly path: string;
  /** Path with query, as received. */
  readonly url: string;
  readonly query: URLSearchParams;
  /** Percent-decoded values of the route's `:name` segments; `*` holds the decoded rest. */
  readonly params: Readonly<Record<string, string>>;
  /** Case-insensitive header read; repeated headers are joined with ", " (as Werkzeug does). */
  header(name: string): string | undefined;
  readonly remoteAddress: string | undefined;
  /**
   * The request body, chunk by chunk, within the route's `maxBodyBytes` (throws HttpError 413
   * past it). Only for routes that declare `maxBodyBytes`; other routes have their body drained.
   */
  body(): AsyncIterable<Buffer>;
  /** The whole body (within the limit). */
  readBody(): Promise<Buffer>;
}

export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

export interface Route {
  readonly methods: readonly string[];
  readonly path: string;
  readonly handler: Handler;
  /** When set, the handler reads the body itself (ctx.body()) up to this many bytes. */
  readonly maxBodyBytes?: number;
}

export function route(methods: string | readonly string[], path: string, handler: Handler, opts: { maxBodyBytes?: number } = {}): Route {
  return { methods: typeof methods === 'string' ? [methods] : methods, path, handler, ...(opts.maxBodyBytes !== undefined ? { maxBodyBytes: opts.maxBodyBytes } : {}) };
}

/** A JSON reply (upstream sends JSON as text/html; clients must not branch on Content-Type). */
export function json(status: number, body: object, headers: Record<string, string> = {}): Reply {
  return { status, headers, body };
}

export function empty(status: number, headers: Record<string, string> = {}): Reply {
  return { status, headers, body: null };
}

/**
 * Makes a value safe for an HTTP header: one line of printable ASCII, at most `max` characters.
 * (Werkzeug refuses newlines in headers and answers an HTML 500 instead, spec/protocol.md §11.)
 */
export function headerSafe(value: string, max = 300): string {
  const oneLine = value.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e]/g, '?');
  return oneLine.length > max ? `${oneLine.slice(0, max - 3)}...` : oneLine;
}

// ---------------------------------------------------------------------------------------------
// Who may talk to a server: origins (CORS, D9) and Host names (DNS rebinding).

/** `scheme://host[:port]` of an origin, lower-cased, default ports dropped; throws on anything else. */
export function normalizeOrigin(origin: string): string {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    throw new Error(`not an origin: ${JSON.stringify(origin)} (expected e.g. http://127.0.0.1:3000)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`not an http(s) origin: ${JSON.stringify(origin)}`);
  if (u.pathname !== '/' || u.search || u.hash || u.username || u.password) throw new Error(`an origin has no path, query or credentials: ${JSON.stringify(origin)}`);
  return u.origin;
}

/** The host name of a `Host` header value (port and IPv6 brackets removed, lower case, no trailing dot). */
export function hostName(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  const name = h.startsWith('[') ? h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined) : h.replace(/:\d*$/, '');
  return name.replace(/\.$/, '');
}

export interface AccessPolicyOptions {
  /** Browser origins allowed to call (e.g. the app's own `http://127.0.0.1:3000`). */
  readonly origins?: readonly string[];
  /** Host names accepted besides 127.0.0.1, localhost, ::1 (and each server's own bound/public host). */
  readonly hosts?: readonly string[];
}

/**
 * The allowed origins and Host names of one cloud, shared by its router, manager and workers.
 * Both lists can grow after start (the app's origin is known only once the static server
 * listens, e.g. on port 0 in tests).
 */
export class AccessPolicy {
  private readonly origins = new Set<string>();
  private readonly hosts = new Set<string>(LOOPBACK_NAMES);

  constructor(opts: AccessPolicyOptions = {}) {
    this.allowOrigin(...(opts.origins ?? []));
    this.allowHost(...(opts.hosts ?? []));
  }

  allowOrigin(...origins: string[]): void {
    for (const o of origins) this.origins.add(normalizeOrigin(o));
  }

  /** Wildcard bind addresses (0.0.0.0, ::) are not names a client uses and are ignored. */
  allowHost(...names: string[]): void {
    for (const n of names) {
      const name = hostName(n);
      if (name && name !== '0.0.0.0' && name !== '::') this.hosts.add(name);
    }
  }

  isOriginAllowed(origin: string): boolean {
    try {
      return this.origins.has(normalizeOrigin(origin));
    } catch {
      return false; // "null", garbage: never allowed
    }
  }

  isHostAllowed(hostHeader: string): boolean {
    return this.hosts.has(hostName(hostHeader));
  }

  get allowedOrigins(): string[] {
    return [...this.origins];
  }

  get allowedHosts(): string[] {
    return [...this.hosts];
  }
}

// ---------------------------------------------------------------------------------------------

export interface ListenOptions {
  readonly onError?: (e: unknown, ctx: RequestContext) => void;
  /** Shared with the rest of the cloud; default: no browser origin, loopback names only. */
  readonly access?: AccessPolicy;
  /** Also allow an `Origin` equal to `http://<Host>` (the static app server's own pages). */
  readonly allowSameOrigin?: boolean;
  /** Shapes the body of every error answer (default `{"error": message}`). */
  readonly errorBody?: (status: number, message: string) => string | object;
  /** Headers on every answer (before the reply's own); replaces the defaults of the same name. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly requestTimeoutMs?: number;
  readonly headersTimeoutMs?: number;
  /** Default body limit of routes that do not read their body (default 64 KiB). */
  readonly maxBodyBytes?: number;
  /** Observes every request before anything else (diagnostics, tests). */
  readonly onRequest?: (info: { method: string; url: string; headers: Readonly<Record<string, string | string[] | undefined>> }) => void;
  /** One line per finished request. */
  readonly accessLog?: (line: string) => void;
}

/** Headers every answer carries unless the server or the reply says otherwise. */
export const DEFAULT_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': API_RESPONSE_CSP,
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
});

interface CompiledRoute extends Route {
  readonly segments: readonly string[];
}

function splitPath(path: string): string[] {
  return path.split('/').filter(Boolean);
}

function matchRoute(r: CompiledRoute, segs: readonly string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < r.segments.length; i++) {
    const p = r.segments[i];
    if (p === '*' && i === r.segments.length - 1) {
      params['*'] = segs.slice(i).join('/');
      return params;
    }
    if (i >= segs.length) return null;
    if (p.startsWith(':')) params[p.slice(1)] = segs[i];
    else if (p !== segs[i]) return null;
  }
  return segs.length === r.segments.length ? params : null;
}

function allowedMethods(routes: readonly Route[]): string {
  const all = new Set(routes.flatMap((r) => r.methods));
  return [...METHOD_ORDER.filter((m) => all.has(m) && m !== 'HEAD'), 'OPTIONS'].join(', ');
}

const sortMethods = (ms: Iterable<string>) => [...new Set(ms)].sort((a, b) => METHOD_ORDER.indexOf(a) - METHOD_ORDER.indexOf(b));

async function drained(res: ServerResponse): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Builds the request listener, plus a tracker of in-flight handlers (awaited on close).
 */
export function createRouter(routes: readonly Route[], opts: ListenOptions = {}) {
  const compiled: CompiledRoute[] = routes.map((r) => ({ ...r, segments: splitPath(r.path) }));
  const access = opts.access ?? new AccessPolicy();
  const methodsList = allowedMethods(routes);
  const defaultLimit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const errorBody = opts.errorBody ?? ((_status: number, message: string) => ({ error: message }));
  const baseHeaders = { ...DEFAULT_SECURITY_HEADERS, ...(opts.headers ?? {}) };
  const inflight = new Set<Promise<void>>();

  const problem = (status: number, message: string, headers: Record<string, string> = {}): Reply => ({
    status,
    headers: { 'Error-Message': headerSafe(message), ...headers },
    body: errorBody(status, message),
  });

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const t0 = performance.now();
    const p = handle(req, res, t0)
      .catch(() => {
        if (!res.headersSent) res.writeHead(500, baseHeaders).end();
        else res.destroy();
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };

  async function handle(req: IncomingMessage, res: ServerResponse, t0: number): Promise<void> {
    opts.onRequest?.({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') || '/' : url.pathname;
    const header = (name: string) => {
      const v = req.headers[name.toLowerCase()];
      if (v === undefined) return undefined;
      return Array.isArray(v) ? v.join(', ') : v;
    };
    let cors: Record<string, string> = {};
    let reply: Reply;
    let match: { route: CompiledRoute; params: Record<string, string> } | undefined;
    let bodyUsed = false;
    const finish = () => opts.accessLog?.(`${method} ${req.url} → ${res.statusCode} ${(performance.now() - t0).toFixed(1)} ms`);

    const limit = () => match?.route.maxBodyBytes ?? defaultLimit;
    async function* body(): AsyncIterable<Buffer> {
      if (bodyUsed) throw new HttpError(500, 'request body read twice');
      bodyUsed = true;
      let n = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        n += chunk.length;
        if (n > limit()) throw new HttpError(413, `request body larger than ${limit()} bytes`);
        yield chunk;
      }
    }
    const ctx: RequestContext = {
      method,
      path,
      url: req.url ?? '/',
      query: url.searchParams,
      get params() {
        return match?.params ?? {};
      },
      header,
      remoteAddress: req.socket.remoteAddress,
      body,
      async readBody() {
        const parts: Buffer[] = [];
        for await (const c of body()) parts.push(c);
        return Buffer.concat(parts);
      },
    };

    try {
      reply = await decide();
    } catch (e) {
      if (!(e instanceof HttpError)) opts.onError?.(e, ctx);
      const status = e instanceof HttpError ? e.status : 500;
      const message = e instanceof Error ? e.message : String(e);
      reply = e instanceof HttpError && e.body !== undefined ? { status, headers: { 'Error-Message': headerSafe(message), ...(e.headers ?? {}) }, body: e.body } : problem(status, message, e instanceof HttpError ? { ...(e.headers ?? {}) } : {});
    }
    if (!bodyUsed) drainBody(req, res, limit());
    await send(res, reply, cors, method === 'HEAD');
    finish();

    async function decide(): Promise<Reply> {
      const host = header('host');
      if (host !== undefined && !access.isHostAllowed(host)) {
        return problem(
          421,
          `Host "${headerSafe(host, 100)}" is not a name of this server (it answers to ${access.allowedHosts.join(', ')}). ` +
            'If you reach it under another name, add that name with --allow-host.',
        );
      }
      const origin = header('origin');
      if (origin !== undefined) {
        const same = opts.allowSameOrigin && host !== undefined && origin === `http://${host.toLowerCase()}`;
        if (!same && !access.isOriginAllowed(origin)) {
          return problem(
            403,
            `Origin ${headerSafe(origin, 100)} may not use this server: it answers only the Rory app's own origin and origins given with --allow-origin.`,
          );
        }
        cors = {
          'Access-Control-Allow-Origin': origin,
          'Access-Control-Expose-Headers': RORY_EXPOSED_HEADERS.join(', '),
          Vary: 'Origin',
        };
      }
      const segs = splitPath(path).map((s) => {
        try {
          return decodeURIComponent(s);
        } catch {
          throw new HttpError(400, 'malformed percent-encoding in the path');
        }
      });
      const onPath = compiled.map((r) => ({ route: r, params: matchRoute(r, segs) })).filter((m): m is { route: CompiledRoute; params: Record<string, string> } => m.params !== null);

      if (method === 'OPTIONS') {
        if (origin !== undefined && header('access-control-request-method') !== undefined) {
          const pre: Record<string, string> = {
            'Access-Control-Allow-Methods': methodsList,
            'Access-Control-Allow-Headers': '*',
            'Access-Control-Max-Age': '600',
          };
          // Chrome Private Network Access: granted only to origins that passed the check above.
          if (header('access-control-request-private-network') === 'true') pre['Access-Control-Allow-Private-Network'] = 'true';
          return empty(204, pre);
        }
        const ms = onPath.length ? onPath.flatMap((m) => m.route.methods) : compiled.flatMap((r) => r.methods);
        return empty(204, { Allow: [...sortMethods(ms), 'OPTIONS'].join(', ') });
      }
      match = onPath.find((m) => m.route.methods.includes(method) || (method === 'HEAD' && m.route.methods.includes('GET')));
      if (!match) {
        if (onPath.length === 0) return problem(404, `not found: ${path}`);
        const allow = sortMethods(onPath.flatMap((m) => m.route.methods)).join(', ');
        return problem(405, `method ${method} not allowed on ${path}`, { Allow: allow });
      }
      const declared = req.headers['content-length'];
      if (declared !== undefined && Number(declared) > limit()) {
        // Answer at once and close: the body is neither read nor drained.
        bodyUsed = true;
        res.shouldKeepAlive = false;
        return problem(413, `request body of ${declared} bytes is larger than the ${limit()} bytes this route accepts`);
      }
      if (match.route.maxBodyBytes === undefined) drainBody(req, res, limit());
      return match.route.handler(ctx);
    }
  }

  /** Reads and discards a body nobody reads; past `limit` bytes the connection is cut. */
  function drainBody(req: IncomingMessage, res: ServerResponse, limit: number): void {
    if (req.readableEnded || req.listenerCount('data') > 0) return;
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        res.shouldKeepAlive = false;
        req.destroy();
      }
    });
    req.on('error', () => {});
  }

  async function send(res: ServerResponse, reply: Reply, cors: Record<string, string>, head: boolean): Promise<void> {
    if (res.headersSent || res.destroyed) {
      await reply.stream?.close?.().catch(() => {});
      return;
    }
    const headers: Record<string, string> = { ...baseHeaders, ...cors, ...(reply.headers ?? {}) };
    let payload: string | undefined;
    if (!reply.stream && reply.body !== undefined && reply.body !== null && reply.status !== 204 && reply.status !== 304) {
      if (typeof reply.body === 'string') {
        payload = reply.body;
        headers['Content-Type'] ??= 'text/plain; charset=utf-8';
      } else {
        payload = JSON.stringify(reply.body);
        headers['Content-Type'] ??= 'application/json; charset=utf-8';
      }
    }
    for (const [k, v] of Object.entries(headers)) headers[k] = headerSafe(v, 8000);
    try {
      res.writeHead(reply.status, headers);
      if (!reply.stream) {
        res.end(head ? undefined : payload);
        return;
      }
      if (head) {
        res.end();
        return;
      }
      for await (const chunk of reply.stream.chunks) {
        if (res.destroyed) throw new Error('client went away');
        if (!res.write(chunk)) await drained(res);
      }
      res.end();
    } catch {
      // Headers could not be written (invalid value) or the stream failed mid-way: never leave
      // the client waiting on a half answer.
      if (!res.headersSent) res.writeHead(500, { ...baseHeaders, ...cors }).end();
      else res.destroy();
    } finally {
      await reply.stream?.close?.().catch(() => {});
    }
  }

  return Object.assign(listener, {
    /** Resolves when every request handled so far has been answered. */
    idle: () => Promise.allSettled([...inflight]).then(() => undefined),
  });
}

export interface Listening {
  readonly server: Server;
  readonly port: number;
  /**
   * Stops listening. By default in-flight requests get 2 s before their connections are cut;
   * `{ now: true }` cuts them at once. Resolves once every handler has settled.
   */
  close(opts?: { now?: boolean }): Promise<void>;
}

/** Starts a server for `routes` on host:port (0 = a free port) and resolves once it listens. */
export async function listen(routes: readonly Route[], port: number, host: string, opts: ListenOptions = {}): Promise<Listening> {
  const requestTimeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const headersTimeout = Math.min(opts.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, requestTimeout);
  opts.access?.allowHost(host);
  const router = createRouter(routes, opts);
  const server = createServer({ requestTimeout, headersTimeout, connectionsCheckingInterval: Math.min(1_000, headersTimeout), keepAliveTimeout: 5_000 }, router);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    server,
    port: actual,
    close(closeOpts = {}) {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (closeOpts.now) server.closeAllConnections();
        else setTimeout(() => server.closeAllConnections(), 2_000).unref();
        await router.idle();
        await stopped;
      })();
      return closing;
    },
  };
}

/** `http://host:port` with IPv6 hosts bracketed. */
export function baseUrl(host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}
