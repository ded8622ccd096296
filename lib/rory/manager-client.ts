/**
 * @module rory/manager-client
 * Client of the Rory Manager (spec/protocol.md §4.1, §4.2, §8 "Client timeouts and retries").
 * `getWorker(algorithm)` calls `GET /clustering/secure` with the `Algorithm` header, retrying on
 * network errors only (like core `RoryManager.getWorker`), never on HTTP statuses. It sends no
 * `Get-Worker-Start-Time` header (upstream crashes on it, §12.11).
 *
 * Worker addresses: upstream answers a Docker host name (`rory-worker-0`); the local manager
 * adds `worker_url`. The URL used is, in order: `resolveWorkerUrl(...)` if given, then
 * `workerUrlTemplate` with `{worker_id}` and `{worker_port}` filled in (a proxied deployment,
 * e.g. `https://app.example/rory/workers/{worker_id}/{worker_port}`: deploy/README.md), then
 * `worker_url`, then `http://{workerHostOverride ?? worker_id}:{worker_port}` (the override
 * plays the role of the Python client's TESTING mode, which replaces the id by `localhost`).
 *
 * Errors: NO_WORKERS (503, or upstream's 500 SERVER_ERROR), MANAGER_UNREACHABLE (network,
 * timeout, other statuses), PROTOCOL_VIOLATION (unparsable answer), ABORTED.
 */
import { AppError } from '../errors';
import { readTextLimited } from '../net/read-limited';
import { H, TestReply, WorkerAssignmentReply, parseReply, type Algorithm } from './protocol';

export interface WorkerAssignment {
  readonly workerId: string;
  readonly workerPort: number;
  /** Base URL to call the worker at, without a trailing slash. */
  readonly url: string;
  /** Manager service time in seconds. */
  readonly serviceTime?: number;
}

export interface ManagerClient {
  getWorker(algorithm: Algorithm, opts?: { signal?: AbortSignal; matrixId?: string }): Promise<WorkerAssignment>;
  /** `GET /clustering/test`; resolves when the manager answers `{"component_type":"manager"}`. */
  health(opts?: { signal?: AbortSignal }): Promise<{ latencyMs: number }>;
}

export interface ManagerClientOptions {
  /** e.g. `http://127.0.0.1:6000` */
  readonly baseUrl: string;
  readonly fetch?: typeof fetch;
  /** Attempts after the first on network errors (default 10). */
  readonly maxRetries?: number;
  /** First retry delay; doubles up to `maxDelayMs` (defaults 250 ms and 3 s). */
  readonly retryDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Per-request timeout (default 30 s; upstream has none). */
  readonly timeoutMs?: number;
  readonly workerHostOverride?: string;
  /** e.g. `https://app.example/rory/workers/{worker_id}/{worker_port}` (settings RORY_WORKER_URL_TEMPLATE). */
  readonly workerUrlTemplate?: string;
  readonly resolveWorkerUrl?: (a: { workerId: string; workerPort: number; workerUrl?: string }) => string;
}

/** Manager replies are a few hundred bytes; a larger body is refused without being read whole. */
const MAX_MANAGER_REPLY_BYTES = 64 * 1024;

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$/;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(aborted());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const aborted = () => new AppError('ABORTED', 'manager request aborted', { userMessage: 'The operation was cancelled.' });

function trimSlash(u: string): string {
  return u.replace(/\/+$/, '');
}

/**
 * The URL of a worker under a template: `{worker_id}` and `{worker_port}` replaced by the
 * Manager's answer (already checked to be a host name and a port, so nothing else can be
 * injected into the URL).
 * @example fillWorkerUrlTemplate('/rory/workers/{worker_id}/{worker_port}', 'rory-worker-0', 9000) // '/rory/workers/rory-worker-0/9000'
 */
export function fillWorkerUrlTemplate(template: string, workerId: string, workerPort: number): string {
  return template.replaceAll('{worker_id}', encodeURIComponent(workerId)).replaceAll('{worker_port}', String(workerPort));
}

export function createManagerClient(opts: ManagerClientOptions): ManagerClient {
  const base = trimSlash(opts.baseUrl);
  const f = opts.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
  const maxRetries = opts.maxRetries ?? 10;
  const firstDelay = opts.retryDelayMs ?? 250;
  const maxDelay = opts.maxDelayMs ?? 3000;
  const timeoutMs = opts.timeoutMs ?? 30_000;

  const unreachable = (detail: string, cause?: unknown) =>
    new AppError('MANAGER_UNREACHABLE', `manager at ${base} unreachable: ${detail}`, {
      userMessage: `Cannot reach the Rory Manager at ${base}. Check that it is running and that the address in Settings is right.`,
      cause,
    });

  /** One GET with retries on network errors (never on HTTP statuses). */
  async function get(path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    let delay = firstDelay;
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw aborted();
      const timeout = AbortSignal.timeout(timeoutMs);
      const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
      try {
        return await f(`${base}${path}`, { method: 'GET', headers, signal: combined, cache: 'no-store' });
      } catch (e) {
        if (signal?.aborted) throw aborted();
        if (attempt >= maxRetries) {
          const what = timeout.aborted ? `no answer within ${Math.round(timeoutMs / 1000)} s` : 'connection failed';
          throw unreachable(`${what} after ${attempt + 1} attempts`, e);
        }
        await sleep(delay, signal);
        delay = Math.min(maxDelay, delay * 2);
      }
    }
  }

  return {
    async getWorker(algorithm, o = {}) {
      const headers: Record<string, string> = { [H.ALGORITHM]: algorithm, [H.START_REQUEST_TIME]: String(Date.now() / 1000) };
      if (o.matrixId !== undefined) headers[H.MATRIX_ID] = o.matrixId;
      const res = await get('/clustering/secure', headers, o.signal);
      const text = await readTextLimited(res, MAX_MANAGER_REPLY_BYTES, 'the Manager\'s answer');
      if (res.status === 503 || (res.status === 500 && text.includes('SERVER_ERROR'))) {
        throw new AppError('NO_WORKERS', `manager has no worker to assign (HTTP ${res.status})`, {
          userMessage: 'The Rory Manager has no worker available. Start a worker (it registers itself) and try again.',
          details: { status: res.status },
        });
      }
      if (!res.ok) throw unreachable(`HTTP ${res.status}`);
      let body: ReturnType<typeof WorkerAssignmentReply.parse>;
      try {
        body = parseReply(WorkerAssignmentReply, text, 'the worker request');
      } catch {
        throw new AppError('PROTOCOL_VIOLATION', 'manager answer lacks a valid worker_id/worker_port', {
          userMessage: 'The Rory Manager answered something unexpected (no valid worker address). Is the manager address right?',
        });
      }
      const workerId = body.worker_id;
      const workerPort = body.worker_port;
      if (!HOSTNAME.test(workerId) || !Number.isInteger(workerPort) || workerPort < 1 || workerPort > 65535) {
        throw new AppError('PROTOCOL_VIOLATION', 'manager answer lacks a valid worker_id/worker_port', {
          userMessage: 'The Rory Manager answered with an invalid worker address.',
        });
      }
      const workerUrl = body.worker_url !== undefined && /^https?:\/\/[^\s/]+$/.test(body.worker_url) ? body.worker_url : undefined;
      let url: string;
      if (opts.resolveWorkerUrl) url = opts.resolveWorkerUrl({ workerId, workerPort, workerUrl });
      else if (opts.workerUrlTemplate) url = fillWorkerUrlTemplate(opts.workerUrlTemplate, workerId, workerPort);
      else if (workerUrl && opts.workerHostOverride === undefined) url = workerUrl;
      else url = `http://${opts.workerHostOverride ?? workerId}:${workerPort}`;
      return {
        workerId,
        workerPort,
        url: trimSlash(url),
        serviceTime: body.service_time,
      };
    },

    async health(o = {}) {
      const t0 = performance.now();
      const res = await get('/clustering/test', {}, o.signal);
      const text = await readTextLimited(res, MAX_MANAGER_REPLY_BYTES, 'the Manager\'s answer').catch(() => '');
      let type: string | undefined;
      try {
        type = parseReply(TestReply, text, 'the health check').component_type;
      } catch {
        type = undefined;
      }
      if (!res.ok || type !== 'manager') {
        throw new AppError('PROTOCOL_VIOLATION', `not a Rory manager (HTTP ${res.status})`, {
          userMessage: `The service at ${base} is not a Rory Manager. Check the address in Settings.`,
        });
      }
      return { latencyMs: performance.now() - t0 };
    },
  };
}
