/**
 * A `fetch` that answers worker routes by calling the worker core in-process (no sockets), so
 * the real WorkerClient, machine and runner run a whole job in milliseconds in unit tests.
 */
import type { Reply } from '@/server/common/http';
import type { HeaderReader, WorkerCore } from '@/server/worker/core';

export type CoreRoute = (h: HeaderReader) => Promise<Reply> | Reply;

export function inProcessWorkerFetch(core: WorkerCore, overrides: Record<string, CoreRoute> = {}): typeof fetch {
  const routes: Record<string, CoreRoute> = {
    '/clustering/test': () => core.test(),
    '/clustering/skmeans': (h) => core.skmeans(h),
    '/clustering/dbskmeans': (h) => core.dbskmeans(h),
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
