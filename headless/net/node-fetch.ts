/**
 * @module headless/net/node-fetch
 * A `fetch` for the headless Data Owner's clients (manager, workers, MictlanX router), over
 * node:http(s) with keep-alive. Why not Node's built-in fetch: it enforces the browsers' "bad
 * ports" list, and upstream's Manager listens on 6000, one of them (spec/protocol.md §2, §4;
 * lib/config.ts BROWSER_BLOCKED_PORTS). A Node process has no reason to refuse that port.
 *
 * Supports what lib/'s clients use: method, headers (object or Headers), a string / Uint8Array /
 * ArrayBuffer body or a Blob (streamed part by part, as lib/storage/streamed.ts sends chunks), an AbortSignal (abort destroys the socket and rejects with the signal's
 * reason), and a streamed `Response` (status, headers, body reader, text, arrayBuffer, json).
 * Network errors reject like undici's: `TypeError('fetch failed')` with the socket error as
 * `cause` (so `cause.code` is e.g. ECONNREFUSED).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 16 });

/** Statuses whose Response must not carry a body (Fetch spec "null body status"). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

function headerRecord(h: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  new Headers(h).forEach((v, k) => (out[k] = v));
  return out;
}

function requestBody(body: unknown): Uint8Array | string | Blob | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof Blob) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('node-fetch: only string, Blob, ArrayBuffer and typed-array bodies are supported');
}

function bodyLength(body: Uint8Array | string | Blob): number {
  return typeof body === 'string' ? Buffer.byteLength(body) : body instanceof Blob ? body.size : body.byteLength;
}

function responseHeaders(res: IncomingMessage): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(res.headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
  }
  return h;
}

/** `fetch(url, init)` over node:http(s); see the module doc for what it supports. */
export const nodeFetch: typeof fetch = (input, init = {}) =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return reject(signal.reason);
    const body = requestBody(init.body);
    const headers = headerRecord(init.headers);
    if (body !== undefined) headers['content-length'] = String(bodyLength(body));
    if (body instanceof Blob && body.type && headers['content-type'] === undefined) headers['content-type'] = body.type;
    const https = url.protocol === 'https:';
    const req = (https ? httpsRequest : httpRequest)(url, { method: init.method ?? 'GET', headers, agent: https ? httpsAgent : httpAgent });
    const onAbort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => signal?.removeEventListener('abort', onAbort);
    req.on('error', (e) => {
      cleanup();
      reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: e }));
    });
    req.on('response', (res) => {
      res.on('close', cleanup);
      res.on('error', () => undefined);
      const status = res.statusCode ?? 0;
      const nullBody = NULL_BODY.has(status) || init.method === 'HEAD';
      if (nullBody) res.resume();
      const stream = nullBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
      resolve(new Response(stream, { status, statusText: res.statusMessage, headers: responseHeaders(res) }));
    });
    if (body instanceof Blob) {
      // Streamed part by part, as fetch sends a Blob: no second copy of the whole payload.
      const source = Readable.fromWeb(body.stream() as NodeReadableStream<Uint8Array>);
      source.on('error', (e) => req.destroy(e));
      source.pipe(req);
    } else req.end(body);
  });
