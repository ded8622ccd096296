/**
 * A `fetch` that answers worker routes by calling the worker's route handlers in-process (no
 * sockets), so the real WorkerClient, machine and runner run a whole job in milliseconds in unit
 * tests.
 */
import type { Reply } from '@/server/common/http';
import type { ObjectStore } from '@/lib/storage/types';
import { createAlgorithmRoutes } from '@/server/worker/algorithms/registry';
import { createCkksServices } from '@/server/worker/ckks';
import { testReply, type HeaderReader } from '@/server/worker/kit';

export type CoreRoute = (h: HeaderReader) => Promise<Reply>;

/** The local worker's algorithm routes over `store`, by path. */
export function workerRoutes(store: ObjectStore): Map<string, CoreRoute> {
  return createAlgorithmRoutes({ store, log: () => {}, ckks: createCkksServices(store) });
}

export function inProcessWorkerFetch(store: ObjectStore, overrides: Record<string, CoreRoute> = {}): typeof fetch {
  const routes: Record<string, CoreRoute> = {
    ...Object.fromEntries(workerRoutes(store)),
    '/clustering/test': async () => testReply(),
    ...overrides,
  };
  return (async (input: string | URL | Request, init?: RequestInit) => {
    if (init?.signal?.aborted) throw init.signal.reason;
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const handler = routes[url.pathname];
    if (!handler) return new Response(JSON.stringify({ error: 'not found' }), { status: 404 });
    const h = new Headers(init?.headers);
    const reply = await handler((name) => h.get(name) ?? undefined);
    const body =
      reply.status === 204 || reply.body === undefined || reply.body === null
        ? null
        : typeof reply.body === 'string'
          ? reply.body
          : JSON.stringify(reply.body);
    return new Response(body, { status: reply.status, headers: reply.headers });
  }) as typeof fetch;
}
