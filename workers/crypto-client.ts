/**
 * @module workers/crypto-client
 * The browser `CryptoEngine`: a lazily started pool of crypto Web Workers (pool.ts). Large inputs
 * are cut into row chunks (lib/engine/chunks.ts) that run in parallel; each chunk's input is copied
 * into a buffer and TRANSFERRED to the worker, and results come back transferred, so the main thread
 * only does memcpy-sized work and never blocks (no long tasks while encrypting). Liu and FDHOPE
 * chunks are pipelined (two in flight per worker) and recycle their buffers (`streamed` below).
 *
 * Every call takes an AbortSignal; aborting terminates the workers busy with that call (the pool
 * starts fresh ones lazily). Workers idle for IDLE_MS are terminated.
 *
 * This is the only module that creates crypto workers, with the literal
 * `new Worker(new URL('./crypto.worker.ts', import.meta.url))` that webpack turns into a worker
 * chunk. It must stay free of value imports from lib/crypto so SEAL stays out of the page bundle.
 *
 * Keys are passed by key-store id: the workers load them (style.md rule 8); the page reads only
 * key records (metadata).
 */
import { proxy, transfer } from 'comlink';
import { DEFAULT_SETTINGS } from '@/lib/config';
import { AppError } from '@/lib/errors';
import { CKKS_CHUNK, LIU_CHUNK, LIU_PIPELINE_DEPTH, PROGRESS_INTERVAL_MS, planChunks, runChunks, runPipelined, udmRowChunk } from '@/lib/engine/chunks';
import type { CallOptions, CryptoEngine, KeyId } from '@/lib/engine/types';
import { browserKeyStore } from '@/lib/keystore/idb';
import type { KeyStore } from '@/lib/keystore/types';
import type { ChunkReply, CryptoWorkerApi } from './crypto-api';
import { WorkerPool, type PooledWorker } from './pool';

/** Terminate a worker after this long without work (frees the WASM heap). */
export const IDLE_MS = 60_000;

function createCryptoWorker(): Worker {
  return new Worker(new URL('./crypto.worker.ts', import.meta.url));
}

export interface WorkerEngineOptions {
  /** Pool size, read at each dispatch. Default: MAX_WORKERS from the defaults (see setCryptoPoolSize). */
  readonly size?: () => number;
  readonly idleMs?: number;
  /** Key records (metadata only: Liu's m). Default: the browser key store. */
  readonly keys?: Pick<KeyStore, 'get'>;
  /** Creates a worker; default the bundled crypto worker (tests pass an in-process stand-in). */
  readonly create?: () => Worker;
}

export interface WorkerCryptoEngine extends CryptoEngine {
  /** Live workers right now (tests, status). */
  readonly liveWorkers: number;
}

export function createWorkerCryptoEngine(options: WorkerEngineOptions = {}): WorkerCryptoEngine {
  const size = options.size ?? (() => poolSize);
  const pool = new WorkerPool<CryptoWorkerApi>({ create: options.create ?? createCryptoWorker, size, idleMs: options.idleMs ?? IDLE_MS });
  const buffers = bufferCache(RETAIN_BUFFER_BYTES, options.idleMs ?? IDLE_MS);
  const records = () => options.keys ?? browserKeyStore();
  type W = PooledWorker<CryptoWorkerApi>;

  /** Runs `fn(worker)` for each chunk of `total` rows across the pool. */
  const fanOut = (total: number, chunk: { minRows: number; maxRows: number }, opts: CallOptions, fn: (w: W, from: number, to: number) => Promise<void>) =>
    runChunks(
      planChunks(total, Math.max(1, size()), chunk),
      (c, cancelled) => pool.run((w) => fn(w, c.from, c.to), { signal: opts.signal, cancelled }),
      { concurrency: Math.max(1, size()), total, signal: opts.signal, onProgress: opts.onProgress },
    );

  const single = <R>(opts: CallOptions, fn: (w: W) => Promise<R>) => pool.run(fn, { signal: opts.signal });

  /**
   * Liu/FDHOPE over row chunks: input row r is `inWidth` values of `src`, output row r is
   * `outWidth` values. One lane per worker with LIU_PIPELINE_DEPTH chunks in flight, so workers
   * never wait for the page. Chunk inputs are copied into recycled buffers and outputs are written
   * by the worker into recycled buffers (kept between calls), so the only fresh memory is the result
   * itself (in Chromium every new ArrayBuffer costs page faults on first touch, which outweighed the
   * arithmetic: docs/perf-crypto-browser.md). A call that fits in one chunk gets its result array
   * straight from the worker, with no copy on the page. Progress is reported at most every
   * PROGRESS_INTERVAL_MS, and at the end.
   */
  const streamed = async (
    src: Float64Array,
    rows: number,
    inWidth: number,
    outWidth: number,
    opts: CallOptions,
    call: (w: W, input: Float64Array, output: Float64Array) => Promise<ChunkReply>,
  ): Promise<Float64Array> => {
    const lanes = Math.max(1, size());
    const chunks = planChunks(rows, lanes, LIU_CHUNK);
    let out: Float64Array = new Float64Array(rows * outWidth);
    const one = chunks.length === 1;
    // One size class per row width (the largest chunk), so buffers fit every later call too; only
    // the pages a chunk touches are ever faulted in.
    const inBytes = LIU_CHUNK.maxRows * inWidth * 8;
    const outBytes = LIU_CHUNK.maxRows * outWidth * 8;
    const run = async (w: W, c: { from: number; to: number }) => {
      const n = c.to - c.from;
      const input = new Float64Array(buffers.take(inBytes), 0, n * inWidth);
      input.set(src.subarray(c.from * inWidth, c.to * inWidth));
      // One chunk: the worker writes the result array itself (allocated here, untouched until then).
      const output = one ? out : new Float64Array(buffers.take(outBytes), 0, n * outWidth);
      const r = await call(w, transfer(input, [input.buffer]), transfer(output, [output.buffer]));
      if (one) out = r.out;
      else {
        out.set(r.out, c.from * outWidth);
        buffers.give(r.out.buffer);
      }
      buffers.give(r.input.buffer);
    };
    await runPipelined(chunks, (serve, cancelled) => pool.run((w) => serve((c) => run(w, c)), { signal: opts.signal, cancelled }), {
      lanes,
      depth: LIU_PIPELINE_DEPTH,
      total: rows,
      signal: opts.signal,
      onProgress: opts.onProgress,
      progressIntervalMs: PROGRESS_INTERVAL_MS,
    });
    return out;
  };

  /** Components per Liu value of a key, from its record (metadata, no material). */
  const liuM = async (id: KeyId): Promise<number> => {
    const r = await records().get(id);
    if (!r || r.scheme !== 'liu') throw new AppError('INVALID_KEY', `no Liu key ${id}`, { userMessage: 'The Liu key of this job no longer exists. Restore it from a backup or run the job again with a new key.' });
    return r.params.m;
  };

  return {
    get liveWorkers() {
      return pool.liveWorkers;
    },

    async liuEncrypt(id, plain, opts = {}) {
      const m = await liuM(id);
      return streamed(plain, plain.length, 1, m, opts, (w, input, output) => w.remote.liuEncrypt(id, input, opts.rounding, output));
    },

    async liuDecrypt(id, cipher, opts = {}) {
      const m = await liuM(id);
      if (cipher.length % m !== 0) throw new AppError('SHAPE_MISMATCH', `Liu ciphertext length ${cipher.length} is not a multiple of m = ${m}`, { userMessage: 'The ciphertext does not fit this Liu key (wrong number of components).' });
      return streamed(cipher, cipher.length / m, m, 1, opts, (w, input, output) => w.remote.liuDecrypt(id, input, opts.rounding, output));
    },

    fdhopeEncrypt: (id, plain, sens, opts = {}) => streamed(plain, plain.length, 1, 1, opts, (w, input, output) => w.remote.fdhopeEncrypt(id, input, sens, output)),

    async fdhopeEncryptUdmRows(id, data, cols, rows, sens, seed, opts = {}) {
      // Each worker gets the dataset (n·a values, small) and builds its UDM rows itself.
      const rowValues = data.length;
      const out = new Float64Array((rows.to - rows.from) * rowValues);
      await fanOut(rows.to - rows.from, udmRowChunk(rowValues), opts, async (w, from, to) => {
        out.set(await w.remote.fdhopeEncryptUdmRows(id, data, cols, rows.from + from, rows.from + to, sens, seed), from * rowValues);
      });
      return out;
    },

    async ckksEncryptRows(id, rows, cols, opts = {}) {
      if (!Number.isInteger(cols) || cols < 1 || rows.length % cols !== 0) {
        throw new AppError('SHAPE_MISMATCH', `a matrix of ${rows.length} values cannot have ${cols} columns`, { userMessage: 'The values do not form whole rows for CKKS encryption.' });
      }
      const n = rows.length / cols;
      const out: Uint8Array[] = new Array(n);
      await fanOut(n, CKKS_CHUNK, opts, async (w, from, to) => {
        const part = rows.slice(from * cols, to * cols);
        const cts = await w.remote.ckksEncryptRows(id, transfer(part, [part.buffer]), cols);
        cts.forEach((c, i) => (out[from + i] = c));
      });
      return out;
    },

    async ckksDecryptRows(id, ciphertexts, take, opts = {}) {
      const out = new Float64Array(ciphertexts.length * take);
      await fanOut(ciphertexts.length, CKKS_CHUNK, opts, async (w, from, to) => {
        // Ciphertexts are copied (not transferred): the caller may still need them.
        out.set(await w.remote.ckksDecryptRows(id, ciphertexts.slice(from, to), take), from * take);
      });
      return out;
    },

    ckksPublic: (id) => single({}, (w) => w.remote.ckksPublic(id)),
    createLiuKey: (level, meta, opts = {}) => single(opts, (w) => w.remote.createLiuKey(level, meta)),
    createFdhopeKey: (values, meta, opts = {}) =>
      single(opts, (w) => {
        const copy = values.slice();
        return w.remote.createFdhopeKey(transfer(copy, [copy.buffer]), meta);
      }),
    createFdhopeKeyForUdm: (data, cols, meta, opts = {}) => single(opts, (w) => w.remote.createFdhopeKeyForUdm(data, cols, meta)),
    createCkksKey: (request, meta, opts = {}) =>
      single(opts, (w) =>
        w.remote.createCkksKey(
          request,
          meta,
          proxy((stage: string, done: number, total: number) => opts.onProgress?.({ stage, done, total })),
        ),
      ),
    importCkksFiles: (files, names, label, opts = {}) => single(opts, (w) => w.remote.importCkksFiles([...files], names, label)),
    exportBackup: (passphrase, ids) => single({}, (w) => w.remote.exportBackup(passphrase, ids ? [...ids] : undefined)),
    importBackup: (text, passphrase) => single({}, (w) => w.remote.importBackup(text, passphrase)),
    async forget(id) {
      await Promise.all(pool.live().map((w) => w.remote.forget(id).catch(() => undefined)));
    },

    dispose() {
      pool.terminateAll();
      buffers.clear();
    },
  };
}

/** Chunk buffers kept for reuse at most (about four chunks in flight per worker at Liu-256). */
export const RETAIN_BUFFER_BYTES = 16 * 2 ** 20;

/**
 * Free ArrayBuffers by size, kept between calls so that steady work allocates no fresh chunk
 * memory (fresh pages are what made Chromium slow: docs/perf-crypto-browser.md). Holds at most
 * `maxBytes`; everything is released after `idleMs` without a give, and on `clear()`.
 */
function bufferCache(maxBytes: number, idleMs: number): { take(bytes: number): ArrayBuffer; give(b: ArrayBufferLike): void; clear(): void } {
  const free = new Map<number, ArrayBuffer[]>();
  let held = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const clear = () => {
    clearTimeout(timer);
    timer = undefined;
    free.clear();
    held = 0;
  };
  return {
    take(bytes) {
      const b = free.get(bytes)?.pop();
      if (!b) return new ArrayBuffer(bytes);
      held -= bytes;
      return b;
    },
    give(b) {
      if (!(b instanceof ArrayBuffer) || b.byteLength === 0 || held + b.byteLength > maxBytes) return;
      const list = free.get(b.byteLength) ?? [];
      list.push(b);
      free.set(b.byteLength, list);
      held += b.byteLength;
      clearTimeout(timer);
      timer = setTimeout(clear, idleMs);
    },
    clear,
  };
}

let poolSize: number = DEFAULT_SETTINGS.MAX_WORKERS;
let shared: WorkerCryptoEngine | undefined;

/** Sets the pool size of the shared engine (from the MAX_WORKERS setting); applies to the next dispatch. */
export function setCryptoPoolSize(n: number): void {
  if (Number.isInteger(n) && n >= 1 && n <= 16) poolSize = n;
}

/** The page's shared crypto engine (browser only). */
export function browserCryptoEngine(): WorkerCryptoEngine {
  if (typeof Worker === 'undefined') {
    throw new AppError('INTERNAL', 'Web Workers are not available here', {
      userMessage: 'This browser cannot run background workers, which encryption needs. Use a current Chrome, Firefox or Safari.',
    });
  }
  return (shared ??= createWorkerCryptoEngine());
}
