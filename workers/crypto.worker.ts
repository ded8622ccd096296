/**
 * @module workers/crypto.worker
 * The crypto Web Worker: a thin comlink `expose` over workers/ops.ts (which calls lib/crypto).
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
import type { CkksParams, CkksPublicBundle } from '@/lib/crypto/ckks';
import type { FdhopeKey } from '@/lib/crypto/fdhope';
import type { LiuRoundOptions, LiuSecretKey } from '@/lib/crypto/liu';
import * as ops from './ops';

const state = ops.createOpsState({ locateFile: undefined });

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
  liuEncrypt: guarded((key: LiuSecretKey, plain: Float64Array, rounding?: LiuRoundOptions) => sendFloat64(ops.liuEncrypt(key, plain, rounding))),
  liuDecrypt: guarded((key: LiuSecretKey, cipher: Float64Array, rounding?: LiuRoundOptions) => sendFloat64(ops.liuDecrypt(key, cipher, rounding))),
  liuKeygen: guarded((level: 128 | 192 | 256) => ops.liuKeygen(level)),
  fdhopeEncrypt: guarded((key: FdhopeKey, plain: Float64Array, sens: number) => sendFloat64(ops.fdhopeEncrypt(key, plain, sens))),
  fdhopeKeygen: guarded((values: Float64Array) => ops.fdhopeKeygen(values)),
  /** Loads a CKKS key set under `handle` (public bundle, plus the secret key for decryption). */
  ckksLoad: guarded((handle: string, material: { publicBundle: CkksPublicBundle; secretKey?: Uint8Array }) => ops.ckksLoad(state, handle, material)),
  ckksEncryptRows: guarded((handle: string, rows: Float64Array, cols: number) => sendBytes(ops.ckksEncryptRows(state, handle, rows, cols))),
  ckksDecryptRows: guarded((handle: string, ciphertexts: Uint8Array[], take: number) => sendFloat64(ops.ckksDecryptRows(state, handle, ciphertexts, take))),
  ckksInspect: guarded((bytes: CkksPublicBundle & { secretKey?: Uint8Array }) => ops.ckksInspect(bytes, { locateFile: undefined })),
  ckksKeygen: guarded(
    async (
      request: { params: CkksParams; relinKeys?: boolean; galoisSteps?: readonly number[] },
      onStage?: (stage: string, done: number, total: number) => void,
    ) => {
      const bytes = await ops.ckksKeygen(request, onStage, { locateFile: undefined });
      const blobs = [bytes.ctx, bytes.publicKey, bytes.secretKey, bytes.relinKeys, bytes.galoisKeys].filter((b): b is Uint8Array => b !== undefined);
      return transfer(bytes, buffers(blobs));
    },
  ),
};

export type CryptoWorkerApi = typeof api;

expose(api);
