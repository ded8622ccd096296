/**
 * @module workers/crypto.worker
 * The crypto Web Worker: a thin comlink `expose` over lib/engine/ops.ts (which calls lib/crypto).
 * Keys are named by key-store id and loaded HERE, from the browser key store (IndexedDB, wrapped
 * at rest), so secret key material never reaches the page (style.md rule 8). Keys are also
 * created, imported and backed up here for the same reason.
 *
 * Typed arrays come in transferred and go back transferred. Errors cross as plain
 * `{code, message, userMessage, details}` objects (comlink clones non-Error throwables as they
 * are) and crypto-client.ts rebuilds them as AppError.
 *
 * SEAL is initialised with `{ locateFile: undefined }`: node-seal's default `locateFile` builds
 * the .wasm URL at run time, which a bundler cannot see; without it the Emscripten glue falls
 * back to `new URL('seal_throws.wasm', import.meta.url)`, which webpack rewrites to the emitted
 * asset.
 */
import { expose, transfer } from 'comlink';
import { toAppError } from '@/lib/errors';
import type { LiuLevel, LiuRoundOptions } from '@/lib/crypto/liu';
import * as ops from '@/lib/engine/ops';
import type { CkksKeygenRequest, NewKeyMeta } from '@/lib/engine/types';
import { browserKeyStore } from '@/lib/keystore/idb';
import type { KeyFileNames, NamedFile } from '@/lib/keystore/pyfhel';

const SEAL_INIT = { locateFile: undefined };
const store = browserKeyStore();
const vault = new ops.KeyVault(store, SEAL_INIT);

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

const api = {
  liuEncrypt: guarded(async (keyId: string, plain: Float64Array, rounding?: LiuRoundOptions) => sendFloat64(ops.liuEncrypt(await vault.liu(keyId), plain, rounding))),
  liuDecrypt: guarded(async (keyId: string, cipher: Float64Array, rounding?: LiuRoundOptions) => sendFloat64(ops.liuDecrypt(await vault.liu(keyId), cipher, rounding))),
  fdhopeEncrypt: guarded(async (keyId: string, plain: Float64Array, sens: number) => sendFloat64(ops.fdhopeEncrypt(await vault.fdhope(keyId), plain, sens))),
  ckksEncryptRows: guarded(async (keyId: string, rows: Float64Array, cols: number) => sendBytes(ops.ckksEncryptRows(await vault.ckks(keyId), rows, cols))),
  ckksDecryptRows: guarded(async (keyId: string, ciphertexts: Uint8Array[], take: number) => sendFloat64(ops.ckksDecryptRows(await vault.ckks(keyId), ciphertexts, take))),
  ckksPublic: guarded((keyId: string) => ops.ckksPublic(store, keyId)),
  createLiuKey: guarded((level: LiuLevel, meta: NewKeyMeta) => ops.createLiuKey(store, level, meta)),
  createFdhopeKey: guarded((values: Float64Array, meta: NewKeyMeta & { datasetId?: string }) => ops.createFdhopeKey(store, values, meta)),
  createCkksKey: guarded((request: CkksKeygenRequest, meta: NewKeyMeta, onStage?: (stage: string, done: number, total: number) => void) =>
    ops.createCkksKey(store, request, meta, onStage, SEAL_INIT),
  ),
  importCkksFiles: guarded((files: NamedFile[], names: KeyFileNames, label: string) => ops.importCkksFiles(store, files, names, label, SEAL_INIT)),
  exportBackup: guarded((passphrase: string, ids?: string[]) => ops.exportKeysBackup(store, passphrase, ids)),
  importBackup: guarded((text: string, passphrase: string) => ops.importKeysBackup(store, text, passphrase)),
  forget: guarded((keyId: string) => vault.forget(keyId)),
};

export type CryptoWorkerApi = typeof api;

expose(api);
