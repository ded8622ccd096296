/**
 * @module workers/pool
 * A small pool of comlink-wrapped Web Workers (style.md: squoosh's bridge, grown to a pool):
 * workers start lazily up to `size()`, each runs one task at a time, a task whose AbortSignal
 * fires TERMINATES its worker (synchronous WASM and tight loops cannot be interrupted; the pool
 * starts a fresh worker for the next task), a worker that crashes fails only its own task, and
 * workers idle for `idleMs` are terminated to give the memory back.
 *
 * The pool does not know how to create a worker: crypto-client.ts passes the one literal
 * `new Worker(new URL(...))` that bundlers can see.
 */
import { wrap, type Remote } from 'comlink';
import { AppError, toAppError } from '@/lib/errors';
import { abortedError } from '@/lib/engine/chunks';

export interface PoolOptions {
  /** Creates one worker (the bundler-visible literal lives in the caller). */
  readonly create: () => Worker;
  /** Maximum number of workers, read on every dispatch so a settings change applies at once. */
  readonly size: () => number;
  /** Terminate a worker after this long without work. */
  readonly idleMs: number;
}

/** One live worker, as a task sees it. `loaded` is per-worker bookkeeping for the caller (e.g. cached keys). */
export interface PooledWorker<Api> {
  readonly id: number;
  readonly remote: Remote<Api>;
  readonly loaded: Set<string>;
}

export interface RunOptions {
  /** Aborting rejects the task with ABORTED and terminates the worker running it, if any. */
  readonly signal?: AbortSignal;
  /** Checked just before a queued task starts; a cancelled task is skipped (rejected with ABORTED). */
  readonly cancelled?: () => boolean;
}

interface Job<Api> {
  readonly task: (w: PooledWorker<Api>) => Promise<unknown>;
  readonly opts: RunOptions;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  dequeue?: () => void;
}

interface Slot<Api> extends PooledWorker<Api> {
  readonly worker: Worker;
  job: Job<Api> | null;
  idleTimer?: ReturnType<typeof setTimeout>;
}

export class WorkerPool<Api> {
  private readonly slots: Slot<Api>[] = [];
  private readonly queue: Job<Api>[] = [];
  private nextId = 1;

  constructor(private readonly options: PoolOptions) {}

  /** Number of live workers (for tests and the status page). */
  get liveWorkers(): number {
    return this.slots.length;
  }

  run<R>(task: (w: PooledWorker<Api>) => Promise<R>, opts: RunOptions = {}): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (opts.signal?.aborted) return reject(abortedError());
      const job: Job<Api> = { task, opts, resolve: resolve as (v: unknown) => void, reject };
      if (opts.signal) {
        const onAbort = () => {
          const i = this.queue.indexOf(job);
          if (i >= 0) {
            this.queue.splice(i, 1);
            reject(abortedError());
          }
        };
        opts.signal.addEventListener('abort', onAbort, { once: true });
        job.dequeue = () => opts.signal?.removeEventListener('abort', onAbort);
      }
      this.queue.push(job);
      this.pump();
    });
  }

  /** The live workers (busy or idle), e.g. to tell each to drop a cached key. */
  live(): PooledWorker<Api>[] {
    return [...this.slots];
  }

  /** Terminates every worker; running tasks fail with ABORTED. Queued tasks start on fresh workers. */
  terminateAll(): void {
    for (const slot of [...this.slots]) this.kill(slot, abortedError());
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === null);
      if (!slot) {
        if (this.slots.length >= Math.max(1, this.options.size())) return;
        slot = this.spawn();
      }
      const job = this.queue.shift()!;
      job.dequeue?.();
      if (job.opts.cancelled?.() || job.opts.signal?.aborted) {
        job.reject(abortedError());
        continue;
      }
      this.start(slot, job);
    }
  }

  private start(slot: Slot<Api>, job: Job<Api>): void {
    clearTimeout(slot.idleTimer);
    slot.job = job;
    const onAbort = () => this.kill(slot, abortedError());
    job.opts.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (ok: boolean, value: unknown) => {
      job.opts.signal?.removeEventListener('abort', onAbort);
      if (slot.job !== job) return; // the worker was killed; the job is already settled
      slot.job = null;
      if (ok) job.resolve(value);
      else job.reject(toAppError(value, 'CRYPTO_FAILURE'));
      this.afterTask(slot);
    };
    job.task(slot).then(
      (v) => finish(true, v),
      (e) => finish(false, e),
    );
  }

  private afterTask(slot: Slot<Api>): void {
    if (this.slots.length > Math.max(1, this.options.size())) {
      this.kill(slot, null);
      return;
    }
    this.pump();
    if (slot.job === null) {
      slot.idleTimer = setTimeout(() => {
        if (slot.job === null) this.kill(slot, null);
      }, this.options.idleMs);
    }
  }

  private spawn(): Slot<Api> {
    const worker = this.options.create();
    const slot: Slot<Api> = { id: this.nextId++, worker, remote: wrap<Api>(worker), loaded: new Set(), job: null };
    worker.addEventListener('error', (ev: ErrorEvent) => {
      ev.preventDefault();
      this.kill(
        slot,
        new AppError('CRYPTO_FAILURE', `crypto worker crashed: ${ev.message || 'script error'}`, {
          userMessage: 'The encryption worker stopped unexpectedly (out of memory or failed to load). Try again; reload the page if it keeps happening.',
        }),
      );
    });
    this.slots.push(slot);
    return slot;
  }

  private kill(slot: Slot<Api>, reason: AppError | null): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    clearTimeout(slot.idleTimer);
    slot.worker.terminate();
    const job = slot.job;
    slot.job = null;
    if (job) job.reject(reason ?? abortedError());
    // Queued tasks (other callers) continue on a fresh worker.
    queueMicrotask(() => this.pump());
  }
}
