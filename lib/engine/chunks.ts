/**
 * @module engine/chunks
 * Splitting a large job into row ranges and running them with bounded concurrency, progress
 * events and cancellation. Shared by the worker pool (chunks run in parallel Web Workers) and the
 * in-process engine (chunks run one after another, yielding to the event loop in between).
 */
import { AppError, toAppError } from '../errors';

/** Liu/FDHOPE values per chunk: large enough to amortise messaging, small enough for progress and abort. */
export const LIU_CHUNK = { minRows: 4096, maxRows: 32768 } as const;
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

export function abortedError(): AppError {
  return new AppError('ABORTED', 'crypto task aborted', { userMessage: 'The operation was cancelled.' });
}

/** Lets the event loop run (timers, messages, rendering) between synchronous chunks. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
