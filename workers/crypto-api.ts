/**
 * @module workers/crypto-api
 * What the crypto Web Worker exposes (crypto.worker.ts is only `expose(createCryptoWorkerApi(...))`),
 * kept apart so tests can serve the same API in-process over a MessageChannel. Glue over
 * lib/engine/ops.ts (which calls lib/crypto).
 *
 * Keys are named by key-store id and loaded HERE from the realm's key store (the browser's
 * IndexedDB store, wrapped at rest), so secret key material never reaches the page (style.md
 * rule 8). Keys are also created, imported and backed up here for the same reason.
 *
 * Typed arrays come in transferred and go back transferred; Liu and FDHOPE chunks also receive
 * their output array from the caller and return their input, so no chunk allocates
 * (docs/perf-crypto-browser.md). Errors cross as plain `{code, message, userMessage, details}`
 * objects (comlink clones non-Error throwables as they are) and crypto-client.ts rebuilds them.
 */
import { transfer } from 'comlink';
import { toAppError } from '@/lib/errors';
import type { SealInitOptions } from '@/lib/crypto/ckks';
import type { LiuLevel, LiuRoundOptions } from '@/lib/crypto/liu';
import * as ops from '@/lib/engine/ops';
import type { CkksKeygenRequest, NewKeyMeta } from '@/lib/engine/types';
import type { KeyFileNames, NamedFile } from '@/lib/keystore/pyfhel';
import type { KeyStore } from '@/lib/keystore/types';

/** Runs `fn`, turning any throw into a serialised AppError that survives structured cloning. */
function guarded<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (e) {
      throw toAppError(e, 'CRYPTO_FAILURE').toJSON();
    }
  };
}

const sendFloat64 = (a: Float64Array) => transfer(a, [a.buffer]);
const buffers = (list: readonly Uint8Array[]) => [...new Set(list.map((b) => b.buffer as ArrayBuffer))];
const sendBytes = (list: Uint8Array[]) => transfer(list, buffers(list));

/**
 * A chunk result plus the input array, both transferred back: the pool recycles the two buffers for
 * its next chunk instead of allocating fresh ones (docs/perf-crypto-browser.md).
 */
export interface ChunkReply {
  readonly out: Float64Array;
  readonly input: Float64Array;
}

const reply = (out: Float64Array, input: Float64Array): ChunkReply =>
  transfer({ out, input }, out.buffer === input.buffer ? [out.buffer as ArrayBuffer] : [out.buffer as ArrayBuffer, input.buffer as ArrayBuffer]);

/**
 * The worker's API over one key store and one key vault (keys cached per worker). `sealInit` is how
 * SEAL finds its .wasm: `{ locateFile: undefined }` in the bundled worker, the default in Node.
 */
export function createCryptoWorkerApi(store: KeyStore, sealInit?: SealInitOptions) {
  const vault = new ops.KeyVault(store, sealInit);
  return {
    /** Encrypts `plain` into `out` (transferred in, length plain.length·m) and sends both back. */
    liuEncrypt: guarded(async (keyId: string, plain: Float64Array, rounding: LiuRoundOptions | undefined, out: Float64Array) =>
      reply(ops.liuEncrypt(await vault.liu(keyId), plain, rounding, out), plain),
    ),
    /** Decrypts `cipher` into `out` (length cipher.length/m) and sends both back. */
    liuDecrypt: guarded(async (keyId: string, cipher: Float64Array, rounding: LiuRoundOptions | undefined, out: Float64Array) =>
      reply(ops.liuDecrypt(await vault.liu(keyId), cipher, rounding, out), cipher),
    ),
    /** Encrypts `plain` into `out` (same length) and sends both back. */
    fdhopeEncrypt: guarded(async (keyId: string, plain: Float64Array, sens: number, out: Float64Array) =>
      reply(ops.fdhopeEncrypt(await vault.fdhope(keyId), plain, sens, out), plain),
    ),
    fdhopeEncryptUdmRows: guarded(async (keyId: string, data: Float64Array, cols: number, from: number, to: number, sens: number, seed: Uint8Array) =>
      sendFloat64(ops.fdhopeEncryptUdmRows(await vault.fdhope(keyId), data, cols, from, to, sens, seed)),
    ),
    ckksEncryptRows: guarded(async (keyId: string, rows: Float64Array, cols: number) => sendBytes(ops.ckksEncryptRows(await vault.ckks(keyId), rows, cols))),
    ckksDecryptRows: guarded(async (keyId: string, ciphertexts: Uint8Array[], take: number) => sendFloat64(ops.ckksDecryptRows(await vault.ckks(keyId), ciphertexts, take))),
    ckksPublic: guarded((keyId: string) => ops.ckksPublic(store, keyId)),
    createLiuKey: guarded((level: LiuLevel, meta: NewKeyMeta) => ops.createLiuKey(store, level, meta)),
    createFdhopeKey: guarded((values: Float64Array, meta: NewKeyMeta & { datasetId?: string }) => ops.createFdhopeKey(store, values, meta)),
    createFdhopeKeyForUdm: guarded((data: Float64Array, cols: number, meta: NewKeyMeta & { datasetId?: string }) => ops.createFdhopeKeyForUdm(store, data, cols, meta)),
    createCkksKey: guarded((request: CkksKeygenRequest, meta: NewKeyMeta, onStage?: (stage: string, done: number, total: number) => void) =>
      ops.createCkksKey(store, request, meta, onStage, sealInit),
    ),
    importCkksFiles: guarded((files: NamedFile[], names: KeyFileNames, label: string) => ops.importCkksFiles(store, files, names, label, sealInit)),
    exportBackup: guarded((passphrase: string, ids?: string[]) => ops.exportKeysBackup(store, passphrase, ids)),
    importBackup: guarded((text: string, passphrase: string) => ops.importKeysBackup(store, text, passphrase)),
    forget: guarded((keyId: string) => vault.forget(keyId)),
  };
}

export type CryptoWorkerApi = ReturnType<typeof createCryptoWorkerApi>;
