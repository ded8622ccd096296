/**
 * @module engine/chunks
 * Splitting a large job into row ranges and running them with bounded concurrency, progress
 * events and cancellation. Shared by the worker pool (chunks run in parallel Web Workers) and the
 * in-process engine (chunks run one after another, yielding to the event loop in between).
 */
import { AppError, toAppError } from '../errors';

/**
 * Liu/FDHOPE values per chunk: large enough to amortise messaging (~0.1–0.2 ms a round trip),
 * small enough for progress and for the page's copy of one result to stay far below a long task.
 */
export const LIU_CHUNK = { minRows: 4096, maxRows: 32768 } as const;
/** Chunks of UDM rows (each n·a values) of about a Liu chunk's size: at least one row. */
export function udmRowChunk(rowValues: number): { minRows: number; maxRows: number } {
  const maxRows = Math.max(1, Math.floor(LIU_CHUNK.maxRows / Math.max(1, rowValues)));
  return { minRows: Math.min(maxRows, Math.max(1, Math.floor(LIU_CHUNK.minRows / Math.max(1, rowValues)))), maxRows };
}
/** Liu/FDHOPE chunks kept in flight per worker, so a worker never waits for the page between chunks. */
export const LIU_PIPELINE_DEPTH = 2;
/**
 * Least time between two progress reports of a pipelined call (the last one is always reported).
 * A report per chunk re-rendered the page (and, in jobs, rewrote the job record) ~30 times a
 * second and took more main-thread time than the chunks themselves (docs/perf-crypto-browser.md).
 */
export const PROGRESS_INTERVAL_MS = 100;
/** CKKS rows per chunk (each row is one ciphertext, ~5–20 ms at N = 8192 in WASM). */
export const CKKS_CHUNK = { minRows: 1, maxRows: 16 } as const;

export interface Chunk {
  readonly index: number;
  /** First row (inclusive). */
  readonly from: number;
  /** Last row (exclusive). */
  readonly to: number;
}

export interface Progress {
  /** Rows (or values) finished so far. */
  readonly done: number;
  readonly total: number;
  /** What is happening, for multi-stage work (e.g. CKKS key generation). */
  readonly stage?: string;
}

/**
 * Cuts `total` rows into chunks of `minRows..maxRows`, aiming at about `perWorker` chunks per
 * worker so a slow worker does not hold up the end of the job.
 */
export function planChunks(total: number, workers: number, opts: { minRows: number; maxRows: number; perWorker?: number }): Chunk[] {
  if (total <= 0) return [];
  const target = Math.ceil(total / Math.max(1, workers * (opts.perWorker ?? 4)));
  const rows = Math.max(1, Math.min(opts.maxRows, Math.max(opts.minRows, target)));
  const chunks: Chunk[] = [];
  for (let from = 0, index = 0; from < total; from += rows, index++) chunks.push({ index, from, to: Math.min(total, from + rows) });
  return chunks;
}

/**
 * Runs `run(chunk, cancelled)` for every chunk with at most `concurrency` in flight. Rejects with
 * the first failure (chunks not yet started are skipped; `cancelled()` turns true for them) or
 * with ABORTED when `signal` fires. Reports progress after each chunk.
 */
export async function runChunks(
  chunks: readonly Chunk[],
  run: (chunk: Chunk, cancelled: () => boolean) => Promise<void>,
  opts: { concurrency: number; total: number; signal?: AbortSignal; onProgress?: (p: Progress) => void; stage?: string },
): Promise<void> {
  const { signal, onProgress, total, stage } = opts;
  if (signal?.aborted) throw abortedError();
  let failed: unknown = null;
  let hasFailed = false;
  let next = 0;
  let done = 0;
  const cancelled = () => hasFailed || signal?.aborted === true;
  const lane = async () => {
    while (!cancelled() && next < chunks.length) {
      const chunk = chunks[next++];
      try {
        await run(chunk, cancelled);
      } catch (e) {
        if (!hasFailed) {
          hasFailed = true;
          failed = e;
        }
        return;
      }
      done += chunk.to - chunk.from;
      if (!cancelled()) onProgress?.({ done, total, stage });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, chunks.length)) }, lane));
  if (signal?.aborted) throw abortedError();
  if (hasFailed) throw toAppError(failed, 'CRYPTO_FAILURE');
}

/**
 * Runs every chunk on `lanes` long-lived lanes (e.g. one pooled worker each), pulling from one
 * shared queue so a slow lane takes fewer chunks. `lane(serve, cancelled)` opens a lane and calls
 * `serve(run)`, which keeps up to `depth` chunks in flight through `run` until the queue is empty,
 * something failed or `signal` fired. Progress is reported after a chunk when `progressIntervalMs`
 * (default 0) have passed since the last report, and always after the last chunk. Rejects with
 * ABORTED when `signal` fires, else with the first failure (of a chunk or of a lane itself).
 */
export async function runPipelined(
  chunks: readonly Chunk[],
  lane: (serve: (run: (chunk: Chunk) => Promise<void>) => Promise<void>, cancelled: () => boolean) => Promise<void>,
  opts: {
    lanes: number;
    depth: number;
    total: number;
    signal?: AbortSignal;
    onProgress?: (p: Progress) => void;
    stage?: string;
    progressIntervalMs?: number;
    /** Clock for the progress interval (tests). Default performance.now. */
    now?: () => number;
  },
): Promise<void> {
  const { signal, onProgress, total, stage } = opts;
  const interval = opts.progressIntervalMs ?? 0;
  const now = opts.now ?? (() => performance.now());
  let lastReport = -Infinity;
  if (signal?.aborted) throw abortedError();
  let failed: unknown = null;
  let hasFailed = false;
  const fail = (e: unknown) => {
    if (!hasFailed) {
      hasFailed = true;
      failed = e;
    }
  };
  let next = 0;
  let done = 0;
  const cancelled = () => hasFailed || signal?.aborted === true;
  const serve = async (run: (chunk: Chunk) => Promise<void>) => {
    const loop = async () => {
      while (!cancelled() && next < chunks.length) {
        const chunk = chunks[next++];
        try {
          await run(chunk);
        } catch (e) {
          fail(e); // at once, so every other loop stops pulling chunks
          return;
        }
        done += chunk.to - chunk.from;
        if (cancelled() || !onProgress) continue;
        const t = interval > 0 ? now() : 0;
        if (done === total || t - lastReport >= interval) {
          lastReport = t;
          onProgress({ done, total, stage });
        }
      }
    };
    // Every loop settles before serve returns, so no chunk of this lane is still running afterwards.
    await Promise.all(Array.from({ length: Math.max(1, opts.depth) }, loop));
  };
  const lanes = Math.max(1, Math.min(opts.lanes, chunks.length));
  await Promise.all(Array.from({ length: chunks.length === 0 ? 0 : lanes }, () => lane(serve, cancelled).catch(fail)));
  if (signal?.aborted) throw abortedError();
  if (hasFailed) throw toAppError(failed, 'CRYPTO_FAILURE');
}

export function abortedError(): AppError {
  return new AppError('ABORTED', 'crypto task aborted', { userMessage: 'The operation was cancelled.' });
}

/** Lets the event loop run (timers, messages, rendering) between synchronous chunks. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
