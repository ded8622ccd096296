/**
 * @module rory/worker-client
 * Client of a Rory worker (spec/protocol.md §5, §8, §11, §12.5). Parameters go as headers, the
 * answer is a small JSON body plus response headers. One call = one POST with a total timeout
 * (`WORKER_TIMEOUT`, default 300 s) through `AbortSignal`; no retries (step 2 mutates storage).
 *
 * Errors: WORKER_UNREACHABLE (network/CORS), WORKER_TIMEOUT, ABORTED (caller's signal),
 * WORKER_ERROR (5xx and other non-2xx; message from `Error-Message` or the body, status in
 * `details`), PROTOCOL_VIOLATION (400/404/405/422 — the worker rejects the request itself — or a
 * 2xx answer that does not follow the protocol).
 */
import { AppError } from '../errors';
import { BodyLimitError, readTextLimited } from '../net/read-limited';
import { H, TestReply, parseReply, parseResponseHeaders, type RoryResponseHeaders } from './protocol';

export const WORKER_TIMEOUT_MS = 300_000;
/**
 * Largest worker reply body read (issue #12 finding 5): replies are small JSON (labels are the
 * largest, ~8 bytes per record), so 32 MiB covers millions of records; anything larger is refused
 * without being read whole.
 */
export const MAX_WORKER_REPLY_BYTES = 32 * 1024 * 1024;

export interface WorkerReply {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  readonly rory: RoryResponseHeaders;
  readonly text: string;
  /** Wall time of the HTTP call in milliseconds. */
  readonly elapsedMs: number;
}

export interface WorkerClient {
  readonly url: string;
  post(path: string, headers: Record<string, string>, opts?: { signal?: AbortSignal; timeoutMs?: number }): Promise<WorkerReply>;
  /** `GET /clustering/test` → `{"component_type":"worker"}`. */
  test(opts?: { signal?: AbortSignal }): Promise<void>;
}

export interface WorkerClientOptions {
  readonly baseUrl: string;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** Makes server text safe to show: one line, printable, short. */
function clip(s: string, max = 300): string {
  const t = s.replace(/\s+/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim();
  return t.length > max ? `${t.slice(0, max - 3)}...` : t;
}

export function createWorkerClient(opts: WorkerClientOptions): WorkerClient {
  const url = opts.baseUrl.replace(/\/+$/, '');
  const f = opts.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
  const defaultTimeout = opts.timeoutMs ?? WORKER_TIMEOUT_MS;

  async function call(method: 'GET' | 'POST', path: string, headers: Record<string, string>, o: { signal?: AbortSignal; timeoutMs?: number }) {
    if (o.signal?.aborted) throw new AppError('ABORTED', 'worker call aborted', { userMessage: 'The operation was cancelled.' });
    const timeoutMs = o.timeoutMs ?? defaultTimeout;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
    const t0 = performance.now();
    let res: Response;
    let text: string;
    try {
      res = await f(`${url}${path}`, { method, headers, signal, cache: 'no-store' });
      text = await readTextLimited(res, MAX_WORKER_REPLY_BYTES, `the worker's answer to ${path}`);
    } catch (e) {
      if (e instanceof BodyLimitError) throw e;
      if (o.signal?.aborted) throw new AppError('ABORTED', 'worker call aborted', { userMessage: 'The operation was cancelled.', cause: e });
      if (timeout.aborted) {
        throw new AppError('WORKER_TIMEOUT', `worker ${url}${path} did not answer within ${Math.round(timeoutMs / 1000)} s`, {
          userMessage: `The Rory worker did not answer within ${Math.round(timeoutMs / 1000)} s (WORKER_TIMEOUT). It may still be working; try a smaller dataset or raise the timeout in Settings.`,
          cause: e,
        });
      }
      throw new AppError('WORKER_UNREACHABLE', `worker ${url}${path} unreachable`, {
        userMessage: `Cannot reach the Rory worker at ${url}. It may be down, or it does not allow this page's origin (CORS).`,
        cause: e,
      });
    }
    const elapsedMs = performance.now() - t0;
    if (res.status < 200 || res.status > 299) {
      const errorMessage = clip(res.headers.get(H.ERROR_MESSAGE) ?? text ?? '');
      const suffix = errorMessage ? `: ${errorMessage}` : '';
      const details = { status: res.status, path, errorMessage };
      // 400/404/405/422: the worker rejects the request itself — a protocol mismatch (a missing
      // header, or a worker of another generation, e.g. the FastAPI rewrite answering 422).
      if (res.status === 400 || res.status === 404 || res.status === 405 || res.status === 422) {
        throw new AppError('PROTOCOL_VIOLATION', `worker ${path} rejected the request with HTTP ${res.status}${suffix}`, {
          userMessage: `The Rory worker rejected the request (HTTP ${res.status})${suffix}. It may run a different Rory version.`,
          details,
        });
      }
      throw new AppError('WORKER_ERROR', `worker ${path} answered HTTP ${res.status}${suffix}`, {
        userMessage: `The Rory worker reported an error (HTTP ${res.status})${suffix}.`,
        details,
      });
    }
    let rory: RoryResponseHeaders;
    try {
      rory = parseResponseHeaders(res.headers);
    } catch (e) {
      throw new AppError('PROTOCOL_VIOLATION', `worker ${path} sent a malformed Rory header`, {
        userMessage: 'The Rory worker answered with malformed headers.',
        cause: e,
      });
    }
    return { status: res.status, headers: res.headers, rory, text, elapsedMs };
  }

  return {
    url,
    post: (path, headers, o = {}) => call('POST', path, headers, o),
    async test(o = {}) {
      const r = await call('GET', '/clustering/test', {}, { signal: o.signal, timeoutMs: 10_000 });
      let type: string | undefined;
      try {
        type = parseReply(TestReply, r.text, 'the health check').component_type;
      } catch {
        type = undefined;
      }
      if (type !== 'worker') {
        throw new AppError('PROTOCOL_VIOLATION', 'not a Rory worker', { userMessage: `The service at ${url} is not a Rory worker.` });
      }
    },
  };
}
