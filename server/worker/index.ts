/**
 * @module server/worker
 * The local Rory worker over HTTP (spec/protocol.md §5.0, §4.3): `GET|POST /clustering/test`,
 * `GET|POST /classification/test`, and one route per algorithm from `algorithms/registry.ts`
 * (each algorithm's folder under `algorithms/` holds its computation and route).
 *
 * At start the worker registers with the manager (`POST /workers/started` with `Worker-Id`,
 * `Worker-Port`, our `Worker-Host` — the address a browser can reach it at — and
 * `Authorization: Bearer <registration token>`), retrying until it succeeds or the worker is
 * closed. `registered` resolves on success and rejects when the manager refuses the token.
 * HTTP (CORS for allowed origins only, Host check, limits) is server/common/http.ts.
 */
import { AppError } from '@/lib/errors';
import { MictlanxClient } from '@/lib/storage/mictlanx-client';
import type { ObjectStore } from '@/lib/storage/types';
import { H } from '@/lib/rory/protocol';
import { AccessPolicy, baseUrl, listen, route, type RequestContext } from '../common/http';
import { createAlgorithmRoutes, WORKER_ROUTES } from './algorithms/registry';
import { createCkksServices } from './ckks';
import { testReply } from './kit';

/** Enough to build a MictlanX client for the worker's storage. */
export interface WorkerStoreConfig {
  readonly routers: readonly { readonly id: string; readonly host: string; readonly port: number; readonly protocol?: 'http' | 'https' }[];
  readonly bucket?: string;
  readonly timeoutMs?: number;
  readonly maxRetries?: number;
  readonly producerId?: string;
}

export interface WorkerOptions {
  readonly port?: number;
  readonly host?: string;
  /** Manager base URL; without it the worker does not register. */
  readonly managerUrl?: string;
  readonly store: ObjectStore | WorkerStoreConfig;
  /** `Worker-Id` (upstream `NODE_ID`), e.g. `rory-worker-0`. */
  readonly nodeId?: string;
  /** Host announced to the manager as reachable (default 127.0.0.1, or `host` when it is not a wildcard). */
  readonly publicHost?: string;
  readonly log?: (line: string) => void;
  /** Delay between registration attempts (default 500 ms, growing to 5 s). */
  readonly registerRetryMs?: number;
  /** The manager's registration token (required to register; see server/manager). */
  readonly registrationToken?: string;
  /** Origins and Host names allowed (shared with the rest of the cloud). */
  readonly access?: AccessPolicy;
}

export interface Worker {
  readonly url: string;
  readonly port: number;
  readonly nodeId: string;
  /** Resolves once the manager accepted the registration (immediately without a manager). */
  readonly registered: Promise<void>;
  close(): Promise<void>;
}

function isObjectStore(s: ObjectStore | WorkerStoreConfig): s is ObjectStore {
  return typeof (s as ObjectStore).getNdarray === 'function' && typeof (s as ObjectStore).putNdarray === 'function';
}

export async function createWorker(opts: WorkerOptions): Promise<Worker> {
  const host = opts.host ?? '127.0.0.1';
  const nodeId = opts.nodeId ?? 'rory-worker-0';
  const publicHost = opts.publicHost ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  const log = opts.log ?? (() => {});
  const store: ObjectStore = isObjectStore(opts.store)
    ? opts.store
    : new MictlanxClient({
        routers: opts.store.routers.map((r) => ({ ...r, protocol: r.protocol ?? 'http' })),
        bucket: opts.store.bucket ?? 'rory',
        timeoutMs: opts.store.timeoutMs ?? 120_000,
        maxRetries: opts.store.maxRetries ?? 10,
        producerId: opts.store.producerId ?? nodeId,
      });
  const ckks = createCkksServices(store);
  const handlers = createAlgorithmRoutes({ store, log, ckks });
  const headers = (ctx: RequestContext) => (name: string) => ctx.header(name);
  const access = opts.access ?? new AccessPolicy();
  access.allowHost(publicHost);

  const server = await listen(
    [
      route(['GET', 'POST'], '/clustering/test', testReply),
      route(['GET', 'POST'], '/classification/test', testReply),
      ...WORKER_ROUTES.map((r) => {
        const handler = handlers.get(r.path)!;
        return route('POST', r.path, (ctx) => handler(headers(ctx)));
      }),
    ],
    opts.port ?? 0,
    host,
    { access, onError: (e, ctx) => log(`${ctx.method} ${ctx.path} failed: ${e instanceof Error ? e.message : String(e)}`) },
  );

  let closed = false;
  const stop = new AbortController();
  const registered = opts.managerUrl ? register(opts.managerUrl.replace(/\/+$/, '')) : Promise.resolve();
  // Never leave an unhandled rejection behind when closed before registering.
  registered.catch(() => {});

  async function register(managerUrl: string): Promise<void> {
    let delay = opts.registerRetryMs ?? 500;
    for (;;) {
      if (closed) throw new AppError('ABORTED', 'worker closed before it could register', { userMessage: 'The worker was stopped before the Manager accepted it.' });
      let refused: number | undefined;
      try {
        const res = await fetch(`${managerUrl}/workers/started`, {
          method: 'POST',
          headers: {
            [H.WORKER_ID]: nodeId,
            [H.WORKER_PORT]: String(server.port),
            [H.WORKER_HOST]: publicHost,
            ...(opts.registrationToken ? { Authorization: `Bearer ${opts.registrationToken}` } : {}),
          },
          signal: AbortSignal.any([stop.signal, AbortSignal.timeout(10_000)]),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          log(`registered with ${managerUrl} as ${nodeId} at ${publicHost}:${server.port}`);
          return;
        }
        log(`registration refused: HTTP ${res.status}`);
        if (res.status === 401 || res.status === 403) refused = res.status;
      } catch {
        /* manager not up yet: retry */
      }
      // A wrong or missing token does not get better by retrying.
      if (refused !== undefined) {
        throw new AppError('WORKER_ERROR', `the manager at ${managerUrl} refused the registration (HTTP ${refused}): start the worker with the cloud's registration token`, { userMessage: 'The Manager refused this worker: it was started without the cloud\'s registration token.' });
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        stop.signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
      delay = Math.min(5_000, delay * 2);
    }
  }

  return {
    url: baseUrl(publicHost, server.port),
    port: server.port,
    nodeId,
    registered,
    async close() {
      closed = true;
      stop.abort();
      await server.close();
      ckks.dispose();
    },
  };
}
