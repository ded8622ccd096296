/**
 * workers/pool.ts with fake Workers (tests/helpers/fake-worker.ts: a comlink endpoint served
 * in-process over a real MessageChannel): lazy start up to size(), queueing, terminate on abort,
 * crash isolation (one worker's death fails only its task; the next task gets a fresh worker),
 * task errors that keep the worker, idle shutdown (fake timers), shrinking, terminateAll.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Remote } from 'comlink';
import { AppError } from '@/lib/errors';
import { WorkerPool, type PooledWorker } from '@/workers/pool';
import { rejection } from '../helpers/errors';
import { fakeWorkers } from '../helpers/fake-worker';

/** Tasks that each worker serves: `hold(name)` settles when the test releases `name`. */
function harness(size = 2, idleMs = 60_000) {
  const calls: string[] = [];
  const held = new Map<string, () => void>();
  const makeApi = () => {
    const workerId = workers.made.length + 1;
    return {
      hold: (name: string) =>
        new Promise<string>((resolve) => {
          calls.push(name);
          held.set(name, () => resolve(`${name}@${workerId}`));
        }),
      fail: async () => {
        throw new AppError('INVALID_ARGUMENT', 'bad chunk', { userMessage: 'The chunk was malformed.' }).toJSON();
      },
    };
  };
  type Api = ReturnType<typeof makeApi>;
  const workers = fakeWorkers(makeApi);
  let currentSize = size;
  const pool = new WorkerPool<Api>({ create: workers.create, size: () => currentSize, idleMs });
  return {
    pool,
    workers,
    calls,
    setSize: (n: number) => (currentSize = n),
    hold: (name: string, opts?: { signal?: AbortSignal; cancelled?: () => boolean }) =>
      pool.run((w: PooledWorker<Api>) => (w.remote as Remote<Api>).hold(name), opts),
    fail: () => pool.run((w: PooledWorker<Api>) => (w.remote as Remote<Api>).fail()),
    release: async (name: string) => {
      await until(() => held.has(name));
      held.get(name)!();
      held.delete(name);
    },
    started: (name: string) => until(() => calls.includes(name)),
  };
}

/** Polls (without timers, so fake timers do not interfere) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (cond()) return;
    await new Promise<void>((r) => setImmediate(r));
  }
  throw new Error('condition not reached');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('WorkerPool: dispatch', () => {
  it('starts workers lazily up to size() and queues the rest onto freed workers', async () => {
    const h = harness(2);
    expect(h.pool.liveWorkers).toBe(0);
    const a = h.hold('a');
    const b = h.hold('b');
    const c = h.hold('c');
    await h.started('a');
    await h.started('b');
    expect(h.workers.made.length).toBe(2);
    expect(h.calls).toEqual(['a', 'b']); // c waits for a free worker
    await h.release('a');
    expect(await a).toBe('a@1');
    await h.started('c');
    expect(h.workers.made.length).toBe(2); // c reused worker 1
    await h.release('b');
    await h.release('c');
    expect(await b).toBe('b@2');
    expect(await c).toBe('c@1');
    expect(h.pool.liveWorkers).toBe(2);
    h.pool.terminateAll();
  });
});

describe('WorkerPool: abort terminates the worker', () => {
  it('aborting a running task rejects it with ABORTED and terminates its worker; the next task gets a fresh one', async () => {
    const h = harness(1);
    const ctrl = new AbortController();
    const a = h.hold('a', { signal: ctrl.signal });
    await h.started('a');
    ctrl.abort();
    const err = await rejection(a);
    expect(err.code).toBe('ABORTED');
    expect(err.userMessage).toMatch(/cancelled/);
    expect(h.workers.made[0].terminated).toBe(true);
    expect(h.pool.liveWorkers).toBe(0);

    const b = h.hold('b');
    await h.release('b');
    expect(await b).toBe('b@2');
    expect(h.workers.made.length).toBe(2);
    h.pool.terminateAll();
  });

  it('aborting a queued task removes it without touching the running worker', async () => {
    const h = harness(1);
    const a = h.hold('a');
    await h.started('a');
    const ctrl = new AbortController();
    const b = h.hold('b', { signal: ctrl.signal });
    ctrl.abort();
    expect((await rejection(b)).code).toBe('ABORTED');
    expect(h.workers.made[0].terminated).toBe(false);
    await h.release('a');
    expect(await a).toBe('a@1');
    expect(h.calls).toEqual(['a']);
    h.pool.terminateAll();
  });

  it('an already aborted signal rejects at once and starts no worker', async () => {
    const h = harness(1);
    const ctrl = new AbortController();
    ctrl.abort();
    expect((await rejection(h.hold('a', { signal: ctrl.signal }))).code).toBe('ABORTED');
    expect(h.workers.made.length).toBe(0);
  });

  it('a queued task whose cancelled() turns true is skipped with ABORTED', async () => {
    const h = harness(1);
    const a = h.hold('a');
    await h.started('a');
    let stop = false;
    const b = h.hold('b', { cancelled: () => stop });
    stop = true;
    await h.release('a');
    await a;
    expect((await rejection(b)).code).toBe('ABORTED');
    expect(h.calls).toEqual(['a']);
    h.pool.terminateAll();
  });

  it('terminateAll fails running tasks with ABORTED and later tasks start on fresh workers', async () => {
    const h = harness(2);
    const a = h.hold('a');
    const b = h.hold('b');
    await h.started('b');
    h.pool.terminateAll();
    expect((await rejection(a)).code).toBe('ABORTED');
    expect((await rejection(b)).code).toBe('ABORTED');
    expect(h.workers.live()).toEqual([]);
    const c = h.hold('c');
    await h.release('c');
    expect(await c).toBe('c@3');
    h.pool.terminateAll();
  });
});

describe('WorkerPool: crash isolation', () => {
  it("one worker's crash fails only its own task; the other finishes and the next task gets a fresh worker", async () => {
    const h = harness(2);
    const a = h.hold('a');
    const b = h.hold('b');
    await h.started('a');
    await h.started('b');
    const ev = h.workers.made[0].crash('out of memory');
    expect(ev.defaultPrevented).toBe(true); // handled: not reported as an uncaught page error
    const err = await rejection(a);
    expect(err.code).toBe('CRYPTO_FAILURE');
    expect(err.message).toContain('out of memory');
    expect(err.userMessage).toMatch(/stopped unexpectedly/);
    expect(h.workers.made[0].terminated).toBe(true);
    expect(h.pool.liveWorkers).toBe(1);

    await h.release('b');
    expect(await b).toBe('b@2');

    // Worker 2 is free, so c runs there; d needs a second worker: a fresh one (worker 3).
    const c = h.hold('c');
    const d = h.hold('d');
    await h.release('c');
    await h.release('d');
    expect(await c).toBe('c@2');
    expect(await d).toBe('d@3');
    expect(h.workers.made.length).toBe(3);
    h.pool.terminateAll();
  });

  it('a crash while idle removes the worker; queued work continues on a fresh worker', async () => {
    const h = harness(1);
    const a = h.hold('a');
    await h.release('a');
    await a;
    h.workers.made[0].crash('script error');
    expect(h.pool.liveWorkers).toBe(0);
    const b = h.hold('b');
    await h.release('b');
    expect(await b).toBe('b@2');
    h.pool.terminateAll();
  });

  it('a task that rejects fails only itself, with its own error; the worker stays and is reused', async () => {
    const h = harness(1);
    const err = await rejection(h.fail());
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.userMessage).toBe('The chunk was malformed.');
    expect(h.workers.made[0].terminated).toBe(false);
    const b = h.hold('b');
    await h.release('b');
    expect(await b).toBe('b@1');
    expect(h.workers.made.length).toBe(1);
    h.pool.terminateAll();
  });
});

describe('WorkerPool: idle shutdown and size changes', () => {
  it('terminates a worker idle for idleMs, and a task before then restarts the clock', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const h = harness(1, 1000);
    const a = h.hold('a');
    await h.release('a');
    await a;
    vi.advanceTimersByTime(999);
    expect(h.pool.liveWorkers).toBe(1);

    const b = h.hold('b'); // reuses the worker and cancels its idle timer
    await h.release('b');
    expect(await b).toBe('b@1');
    vi.advanceTimersByTime(999);
    expect(h.pool.liveWorkers).toBe(1);
    expect(h.workers.made[0].terminated).toBe(false);
    vi.advanceTimersByTime(1);
    expect(h.pool.liveWorkers).toBe(0);
    expect(h.workers.made[0].terminated).toBe(true);

    const c = h.hold('c'); // lazily started again
    await h.release('c');
    expect(await c).toBe('c@2');
    h.pool.terminateAll();
  });

  it('a busy worker is never shut down for idleness', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const h = harness(1, 1000);
    const a = h.hold('a');
    await h.started('a');
    vi.advanceTimersByTime(10_000);
    expect(h.workers.made[0].terminated).toBe(false);
    await h.release('a');
    expect(await a).toBe('a@1');
    h.pool.terminateAll();
  });

  it('shrinking size() retires the extra worker after its task', async () => {
    const h = harness(2);
    const a = h.hold('a');
    const b = h.hold('b');
    await h.started('b');
    h.setSize(1);
    await h.release('a');
    await a;
    expect(h.workers.made[0].terminated).toBe(true);
    expect(h.pool.liveWorkers).toBe(1);
    await h.release('b');
    await b;
    expect(h.pool.liveWorkers).toBe(1);
    h.pool.terminateAll();
  });
});
