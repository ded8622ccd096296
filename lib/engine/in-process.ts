/**
 * @module engine/in-process
 * The `CryptoEngine` for Node (tests, benches, the local cloud, the headless Data Owner): the same
 * operations and chunking as the browser's worker pool, run in this thread one chunk at a time,
 * yielding to the event loop between chunks so timers and sockets keep running. Abort is honoured
 * between chunks (a running chunk finishes). Keys come from the key store it is given, by id.
 *
 * `rb` makes every random draw (Liu and FDHOPE keys and ciphertext randomness) come from one
 * generator, so tests can be deterministic (D5: the default is the platform CSPRNG).
 */
import { AppError } from '../errors';
import { secureRandomBytes, type RandomBytes } from '../crypto/random';
import type { KeyStore } from '../keystore/types';
import { CKKS_CHUNK, LIU_CHUNK, planChunks, runChunks, udmRowChunk, yieldToEventLoop } from './chunks';
import * as ops from './ops';
import type { CallOptions, CryptoEngine } from './types';

export interface InProcessEngineOptions {
  /** Where keys are created, stored and loaded from. */
  readonly keys: KeyStore;
  /** Randomness (default `crypto.getRandomValues`). */
  readonly rb?: RandomBytes;
}

export interface InProcessEngine extends CryptoEngine {
  readonly keys: KeyStore;
}

export function createInProcessEngine(options: InProcessEngineOptions): InProcessEngine {
  const rb = options.rb ?? secureRandomBytes;
  const vault = new ops.KeyVault(options.keys);

  const chunked = async (total: number, chunk: { minRows: number; maxRows: number }, opts: CallOptions, run: (from: number, to: number) => void) => {
    await runChunks(
      planChunks(total, 1, chunk),
      async (c) => {
        await yieldToEventLoop();
        if (opts.signal?.aborted) return;
        run(c.from, c.to);
      },
      { concurrency: 1, total, signal: opts.signal, onProgress: opts.onProgress },
    );
  };

  return {
    keys: options.keys,

    async liuEncrypt(id, plain, opts = {}) {
      const key = await vault.liu(id);
      const out = new Float64Array(plain.length * key.m);
      await chunked(plain.length, LIU_CHUNK, opts, (from, to) => ops.liuEncrypt(key, plain.subarray(from, to), opts.rounding, out.subarray(from * key.m, to * key.m), rb));
      return out;
    },
    async liuDecrypt(id, cipher, opts = {}) {
      const key = await vault.liu(id);
      const n = ops.liuCount(cipher.length, key.m);
      const out = new Float64Array(n);
      await chunked(n, LIU_CHUNK, opts, (from, to) => ops.liuDecrypt(key, cipher.subarray(from * key.m, to * key.m), opts.rounding, out.subarray(from, to)));
      return out;
    },
    async fdhopeEncrypt(id, plain, sens, opts = {}) {
      const key = await vault.fdhope(id);
      const out = new Float64Array(plain.length);
      await chunked(plain.length, LIU_CHUNK, opts, (from, to) => ops.fdhopeEncrypt(key, plain.subarray(from, to), sens, out.subarray(from, to), rb));
      return out;
    },
    async fdhopeEncryptUdmRows(id, data, cols, rows, sens, seed, opts = {}) {
      const key = await vault.fdhope(id);
      const rowValues = data.length;
      const out = new Float64Array((rows.to - rows.from) * rowValues);
      await chunked(rows.to - rows.from, udmRowChunk(rowValues), opts, (from, to) =>
        out.set(ops.fdhopeEncryptUdmRows(key, data, cols, rows.from + from, rows.from + to, sens, seed), from * rowValues),
      );
      return out;
    },
    async ckksEncryptRows(id, rows, cols, opts = {}) {
      const n = ops.rowCount(rows.length, cols);
      const keys = await vault.ckks(id);
      const out: Uint8Array[] = new Array(n);
      await chunked(n, CKKS_CHUNK, opts, (from, to) => {
        ops.ckksEncryptRows(keys, rows.subarray(from * cols, to * cols), cols).forEach((c, i) => (out[from + i] = c));
      });
      return out;
    },
    async ckksDecryptRows(id, ciphertexts, take, opts = {}) {
      const keys = await vault.ckks(id);
      const out = new Float64Array(ciphertexts.length * take);
      await chunked(ciphertexts.length, CKKS_CHUNK, opts, (from, to) => out.set(ops.ckksDecryptRows(keys, ciphertexts.slice(from, to), take), from * take));
      return out;
    },
    ckksPublic: (id) => ops.ckksPublic(options.keys, id),

    async createLiuKey(level, meta, opts = {}) {
      checkAborted(opts.signal);
      return ops.createLiuKey(options.keys, level, meta, rb);
    },
    async createFdhopeKey(values, meta, opts = {}) {
      checkAborted(opts.signal);
      return ops.createFdhopeKey(options.keys, values, meta, rb);
    },
    async createFdhopeKeyForUdm(data, cols, meta, opts = {}) {
      checkAborted(opts.signal);
      return ops.createFdhopeKeyForUdm(options.keys, data, cols, meta, rb);
    },
    async createCkksKey(request, meta, opts = {}) {
      checkAborted(opts.signal);
      return ops.createCkksKey(options.keys, request, meta, (stage, done, total) => opts.onProgress?.({ stage, done, total }));
    },
    async importCkksFiles(files, names, label, opts = {}) {
      checkAborted(opts.signal);
      return ops.importCkksFiles(options.keys, files, names, label);
    },
    exportBackup: (passphrase, ids) => ops.exportKeysBackup(options.keys, passphrase, ids),
    importBackup: (text, passphrase) => ops.importKeysBackup(options.keys, text, passphrase),
    async forget(id) {
      vault.forget(id);
    },
    dispose() {
      vault.dispose();
    },
  };
}

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AppError('ABORTED', 'crypto task aborted', { userMessage: 'The operation was cancelled.' });
}
