/**
 * @module server/common/http
 * A tiny `node:http` router for the local Rory cloud (spec/protocol.md §3, §12.1). Every answer,
 * including the CORS preflight, carries the CORS headers a browser Data Owner needs: origin
 * echo (or `*`), `Allow-Headers: *`, `Allow-Methods: GET, POST, OPTIONS` and an
 * `Access-Control-Expose-Headers` list naming every Rory response header, so JavaScript can read
 * `Clustering-Status` on a 204 and `Error-Message` on a 500.
 *
 * Rory parameters travel in request headers; request bodies are ignored (drained). Handlers
 * return a plain `Reply`; a thrown `HttpError` becomes its status with an `Error-Message`
 * header, anything else becomes a 500.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Every response header a Rory component may send (spec/protocol.md §12.1, plus the ones the worker adds). */
export const RORY_EXPOSED_HEADERS = [
  'Clustering-Status',
  'Service-Time',
  'Total-Service-Time',
  'End-Time',
  'Start-Time',
  'Iterations',
  'Encrypted-Udm-Shape',
  'Encrypted-Udm-Dtype',
  'Encrypted-Shift-Matrix-Id',
  'Error-Message',
  'Component-Type',
  'Encrypted-Matrix-Shape',
  'Encrypted-Matrix-Dtype',
  'Udm-Matrix-Shape',
  'Udm-Matrix-Dtype',
] as const;

export interface Reply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** A string is sent as is; an object is JSON-encoded; undefined/null sends no body. */
  readonly body?: string | object | null;
}

/** Thrown by handlers to answer with a specific status; the message goes into `Error-Message`. */
export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
  }
}

export interface RequestContext {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Case-insensitive header read; repeated headers are joined with ", " (as Werkzeug does). */
  header(name: string): string | undefined;
  readonly remoteAddress: string | undefined;
}

export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

export interface Route {
  readonly methods: readonly string[];
  readonly path: string;
  readonly handler: Handler;
}

export function route(methods: string | readonly string[], path: string, handler: Handler): Route {
  return { methods: typeof methods === 'string' ? [methods] : methods, path, handler };
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

export function corsHeaders(origin: string | undefined): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': origin && origin !== 'null' ? origin : '*',
    'Access-Control-Allow-Headers': '*',
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Expose-Headers': RORY_EXPOSED_HEADERS.join(', '),
    Vary: 'Origin',
  };
}

function contextOf(req: IncomingMessage): RequestContext {
  const url = new URL(req.url ?? '/', 'http://localhost');
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname,
    query: url.searchParams,
    header(name: string) {
      const v = req.headers[name.toLowerCase()];
      if (v === undefined) return undefined;
      return Array.isArray(v) ? v.join(', ') : v;
    },
    remoteAddress: req.socket.remoteAddress,
  };
}

function send(res: ServerResponse, reply: Reply, cors: Record<string, string>): void {
  const headers: Record<string, string> = { ...cors, 'Cache-Control': 'no-store', ...(reply.headers ?? {}) };
  let payload: string | undefined;
  if (reply.body !== undefined && reply.body !== null && reply.status !== 204 && reply.status !== 304) {
    if (typeof reply.body === 'string') {
      payload = reply.body;
      headers['Content-Type'] ??= 'text/plain; charset=utf-8';
    } else {
      payload = JSON.stringify(reply.body);
      headers['Content-Type'] ??= 'application/json; charset=utf-8';
    }
  }
  for (const [k, v] of Object.entries(headers)) headers[k] = headerSafe(v, 2000);
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/**
 * Builds the request listener. Unknown paths answer 404 JSON; a known path with another method
 * answers 405 (routes that need another status, like the manager's POST → 403, declare it).
 */
export function createRouter(routes: readonly Route[], opts: { onError?: (e: unknown, ctx: RequestContext) => void } = {}) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    // Bodies carry nothing in the Rory protocol: drain them so keep-alive connections stay usable.
    req.resume();
    const ctx = contextOf(req);
    const cors = corsHeaders(ctx.header('origin'));
    if (ctx.method === 'OPTIONS') {
      const pre: Record<string, string> = { 'Access-Control-Max-Age': '600' };
      if (ctx.header('access-control-request-private-network') === 'true') pre['Access-Control-Allow-Private-Network'] = 'true';
      send(res, empty(204, pre), cors);
      return;
    }
    const onPath = routes.filter((r) => r.path === ctx.path);
    const match = onPath.find((r) => r.methods.includes(ctx.method) || (ctx.method === 'HEAD' && r.methods.includes('GET')));
    if (!match) {
      if (onPath.length === 0) send(res, json(404, { error: 'not found', path: ctx.path }), cors);
      else send(res, json(405, { error: 'method not allowed' }, { Allow: [...new Set(onPath.flatMap((r) => r.methods))].join(', ') }), cors);
      return;
    }
    Promise.resolve()
      .then(() => match.handler(ctx))
      .then(
        (reply) => send(res, reply, cors),
        (e: unknown) => {
          opts.onError?.(e, ctx);
          const status = e instanceof HttpError ? e.status : 500;
          const message = e instanceof Error ? e.message : String(e);
          send(res, { status, headers: { 'Error-Message': headerSafe(message) }, body: headerSafe(message, 2000) }, cors);
        },
      )
      .catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
  };
}

export interface Listening {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts a server for `routes` on host:port (0 = a free port) and resolves once it listens. */
export async function listen(
  routes: readonly Route[],
  port: number,
  host: string,
  opts: { onError?: (e: unknown, ctx: RequestContext) => void } = {},
): Promise<Listening> {
  const server = createServer(createRouter(routes, opts));
  // Long synchronous worker steps (spec/protocol.md §12.5): never time a request out server-side.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
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
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Give in-flight requests a moment, then cut what is left.
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      });
      return closing;
    },
  };
}

/** `http://host:port` with IPv6 hosts bracketed. */
export function baseUrl(host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}
