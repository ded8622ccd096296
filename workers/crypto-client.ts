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
 *
 * Keys are passed by key-store id: the workers load them (style.md rule 8); the page reads only
 * key records (metadata).
 */
import { proxy, transfer } from 'comlink';
import { DEFAULT_SETTINGS } from '@/lib/config';
import { AppError } from '@/lib/errors';
import { CKKS_CHUNK, LIU_CHUNK, planChunks, runChunks } from '@/lib/engine/chunks';
import type { CallOptions, CryptoEngine, KeyId } from '@/lib/engine/types';
import { browserKeyStore } from '@/lib/keystore/idb';
import type { KeyStore } from '@/lib/keystore/types';
import type { CryptoWorkerApi } from './crypto.worker';
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
}

export interface WorkerCryptoEngine extends CryptoEngine {
  /** Live workers right now (tests, status). */
  readonly liveWorkers: number;
}

export function createWorkerCryptoEngine(options: WorkerEngineOptions = {}): WorkerCryptoEngine {
  const size = options.size ?? (() => poolSize);
  const pool = new WorkerPool<CryptoWorkerApi>({ create: createCryptoWorker, size, idleMs: options.idleMs ?? IDLE_MS });
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
      const out = new Float64Array(plain.length * m);
      await fanOut(plain.length, LIU_CHUNK, opts, async (w, from, to) => {
        const part = plain.slice(from, to);
        out.set(await w.remote.liuEncrypt(id, transfer(part, [part.buffer]), opts.rounding), from * m);
      });
      return out;
    },

    async liuDecrypt(id, cipher, opts = {}) {
      const m = await liuM(id);
      if (cipher.length % m !== 0) throw new AppError('SHAPE_MISMATCH', `Liu ciphertext length ${cipher.length} is not a multiple of m = ${m}`, { userMessage: 'The ciphertext does not fit this Liu key (wrong number of components).' });
      const n = cipher.length / m;
      const out = new Float64Array(n);
      await fanOut(n, LIU_CHUNK, opts, async (w, from, to) => {
        const part = cipher.slice(from * m, to * m);
        out.set(await w.remote.liuDecrypt(id, transfer(part, [part.buffer]), opts.rounding), from);
      });
      return out;
    },

    async fdhopeEncrypt(id, plain, sens, opts = {}) {
      const out = new Float64Array(plain.length);
      await fanOut(plain.length, LIU_CHUNK, opts, async (w, from, to) => {
        const part = plain.slice(from, to);
        out.set(await w.remote.fdhopeEncrypt(id, transfer(part, [part.buffer]), sens), from);
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
