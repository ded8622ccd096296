/**
 * @module workers/crypto-client
 * The browser `CryptoEngine`: a lazily started pool of crypto Web Workers (pool.ts). Large inputs
 * are cut into row chunks (chunks.ts) that run in parallel; each chunk's input is copied into its
 * own buffer and TRANSFERRED to the worker, and results come back transferred, so the main thread
 * only does memcpy-sized work and never blocks (no long tasks while encrypting).
 *
 * Every call takes an AbortSignal; aborting terminates the workers busy with that call (the pool
 * starts fresh ones lazily). Workers idle for IDLE_MS are terminated.
 *
 * This is the only module that creates crypto workers, with the literal
 * `new Worker(new URL('./crypto.worker.ts', import.meta.url))` that webpack turns into a worker
 * chunk. It must stay free of value imports from lib/crypto so SEAL stays out of the page bundle.
 */
import { proxy, transfer } from 'comlink';
import { DEFAULT_SETTINGS } from '@/lib/config';
import { AppError, toAppError } from '@/lib/errors';
import type { CkksPublicBundle } from '@/lib/crypto/ckks';
import { CKKS_CHUNK, KEY_NOT_LOADED, LIU_CHUNK, ckksMaterialOf, keyHandle, planChunks, runChunks } from './chunks';
import type { CryptoWorkerApi } from './crypto.worker';
import type { CallOptions, CkksSecretMaterial, CryptoEngine } from './engine';
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
}

export interface WorkerCryptoEngine extends CryptoEngine {
  /** Live workers right now (tests, status). */
  readonly liveWorkers: number;
}

export function createWorkerCryptoEngine(options: WorkerEngineOptions = {}): WorkerCryptoEngine {
  const size = options.size ?? (() => poolSize);
  const pool = new WorkerPool<CryptoWorkerApi>({ create: createCryptoWorker, size, idleMs: options.idleMs ?? IDLE_MS });
  type W = PooledWorker<CryptoWorkerApi>;

  /** Runs `fn(worker)` for each chunk of `total` rows across the pool. */
  const fanOut = (total: number, chunk: { minRows: number; maxRows: number }, opts: CallOptions, fn: (w: W, from: number, to: number) => Promise<void>) =>
    runChunks(
      planChunks(total, Math.max(1, size()), chunk),
      (c, cancelled) => pool.run((w) => fn(w, c.from, c.to), { signal: opts.signal, cancelled }),
      { concurrency: Math.max(1, size()), total, signal: opts.signal, onProgress: opts.onProgress },
    );

  const single = <R>(opts: CallOptions, fn: (w: W) => Promise<R>) => pool.run(fn, { signal: opts.signal });

  /** Ensures the worker holds the CKKS key set under `handle`, then runs `fn` (resending keys if evicted). */
  const withCkksKey = async <R>(w: W, handle: string, material: { publicBundle: CkksPublicBundle; secretKey?: Uint8Array }, fn: () => Promise<R>): Promise<R> => {
    const load = async () => {
      await w.remote.ckksLoad(handle, material);
      w.loaded.add(handle);
    };
    if (!w.loaded.has(handle)) await load();
    try {
      return await fn();
    } catch (e) {
      const err = toAppError(e);
      if (err.code !== 'INVALID_KEY' || err.details?.reason !== KEY_NOT_LOADED) throw err;
      w.loaded.delete(handle);
      await load();
      return fn();
    }
  };

  return {
    get liveWorkers() {
      return pool.liveWorkers;
    },

    async liuEncrypt(key, plain, opts = {}) {
      const out = new Float64Array(plain.length * key.m);
      await fanOut(plain.length, LIU_CHUNK, opts, async (w, from, to) => {
        const part = plain.slice(from, to);
        out.set(await w.remote.liuEncrypt(key, transfer(part, [part.buffer]), opts.rounding), from * key.m);
      });
      return out;
    },

    async liuDecrypt(key, cipher, opts = {}) {
      if (cipher.length % key.m !== 0) throw new AppError('SHAPE_MISMATCH', `Liu ciphertext length ${cipher.length} is not a multiple of m = ${key.m}`);
      const n = cipher.length / key.m;
      const out = new Float64Array(n);
      await fanOut(n, LIU_CHUNK, opts, async (w, from, to) => {
        const part = cipher.slice(from * key.m, to * key.m);
        out.set(await w.remote.liuDecrypt(key, transfer(part, [part.buffer]), opts.rounding), from);
      });
      return out;
    },

    liuKeygen: (level, opts = {}) => single(opts, (w) => w.remote.liuKeygen(level)),

    async fdhopeEncrypt(key, plain, sens, opts = {}) {
      const out = new Float64Array(plain.length);
      await fanOut(plain.length, LIU_CHUNK, opts, async (w, from, to) => {
        const part = plain.slice(from, to);
        out.set(await w.remote.fdhopeEncrypt(key, transfer(part, [part.buffer]), sens), from);
      });
      return out;
    },

    fdhopeKeygen: (values, opts = {}) =>
      single(opts, (w) => {
        const copy = values.slice();
        return w.remote.fdhopeKeygen(transfer(copy, [copy.buffer]));
      }),

    async ckksEncryptRows(keys, rows, cols, opts = {}) {
      if (!Number.isInteger(cols) || cols < 1 || rows.length % cols !== 0) {
        throw new AppError('SHAPE_MISMATCH', `a matrix of ${rows.length} values cannot have ${cols} columns`);
      }
      const n = rows.length / cols;
      const material = ckksMaterialOf(keys);
      const handle = material.secretKey ? keyHandle(material.secretKey, 'sk') : keyHandle(material.publicBundle.publicKey, 'pk');
      const out: Uint8Array[] = new Array(n);
      await fanOut(n, CKKS_CHUNK, opts, (w, from, to) =>
        withCkksKey(w, handle, material, async () => {
          const part = rows.slice(from * cols, to * cols);
          const cts = await w.remote.ckksEncryptRows(handle, transfer(part, [part.buffer]), cols);
          cts.forEach((c, i) => (out[from + i] = c));
        }),
      );
      return out;
    },

    async ckksDecryptRows(material: CkksSecretMaterial, ciphertexts, take, opts = {}) {
      const handle = keyHandle(material.secretKey, 'sk');
      const out = new Float64Array(ciphertexts.length * take);
      await fanOut(ciphertexts.length, CKKS_CHUNK, opts, (w, from, to) =>
        withCkksKey(w, handle, material, async () => {
          // Ciphertexts are copied (not transferred): the caller may still need them.
          out.set(await w.remote.ckksDecryptRows(handle, ciphertexts.slice(from, to), take), from * take);
        }),
      );
      return out;
    },

    ckksInspect: (bytes, opts = {}) => single(opts, (w) => w.remote.ckksInspect(bytes)),

    ckksKeygen: (request, opts = {}) =>
      single(opts, (w) =>
        w.remote.ckksKeygen(
          request,
          proxy((stage: string, done: number, total: number) => opts.onProgress?.({ stage, done, total })),
        ),
      ),

    dispose() {
      pool.terminateAll();
    },
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
