/**
 * @module workers/crypto-api
 * What the crypto Web Worker exposes (crypto.worker.ts is only `expose(createCryptoWorkerApi())`),
 * kept apart so tests can serve the same API in-process over a MessageChannel. Glue over
 * workers/ops.ts (which calls lib/crypto). Typed arrays come in transferred and go back
 * transferred; Liu and FDHOPE chunks also receive their output array from the caller and return
 * their input, so no chunk allocates (docs/perf-crypto-browser.md). Errors cross as plain
 * `{code, message, userMessage, details}` objects (comlink clones non-Error throwables as they
 * are) and crypto-client.ts rebuilds them as AppError.
 */
import { transfer } from 'comlink';
import { toAppError } from '@/lib/errors';
import type { CkksParams, CkksPublicBundle, SealInitOptions } from '@/lib/crypto/ckks';
import type { FdhopeKey } from '@/lib/crypto/fdhope';
import type { LiuRoundOptions, LiuSecretKey } from '@/lib/crypto/liu';
import * as ops from './ops';

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
 * The worker's API over one ops state (one CKKS key cache). `sealInit` is how SEAL finds its
 * .wasm: `{ locateFile: undefined }` in the bundled worker, the default in Node.
 */
export function createCryptoWorkerApi(sealInit?: SealInitOptions) {
  const state = ops.createOpsState(sealInit);
  return {
    /** Encrypts `plain` into `out` (transferred in, length plain.length·m) and sends both back. */
    liuEncrypt: guarded((key: LiuSecretKey, plain: Float64Array, rounding: LiuRoundOptions | undefined, out: Float64Array) =>
      reply(ops.liuEncrypt(key, plain, rounding, out), plain),
    ),
    /** Decrypts `cipher` into `out` (length cipher.length/m) and sends both back. */
    liuDecrypt: guarded((key: LiuSecretKey, cipher: Float64Array, rounding: LiuRoundOptions | undefined, out: Float64Array) =>
      reply(ops.liuDecrypt(key, cipher, rounding, out), cipher),
    ),
    liuKeygen: guarded((level: 128 | 192 | 256) => ops.liuKeygen(level)),
    /** Encrypts `plain` into `out` (same length) and sends both back. */
    fdhopeEncrypt: guarded((key: FdhopeKey, plain: Float64Array, sens: number, out: Float64Array) => reply(ops.fdhopeEncrypt(key, plain, sens, out), plain)),
    fdhopeKeygen: guarded((values: Float64Array) => ops.fdhopeKeygen(values)),
    /** Loads a CKKS key set under `handle` (public bundle, plus the secret key for decryption). */
    ckksLoad: guarded((handle: string, material: { publicBundle: CkksPublicBundle; secretKey?: Uint8Array }) => ops.ckksLoad(state, handle, material)),
    ckksEncryptRows: guarded((handle: string, rows: Float64Array, cols: number) => sendBytes(ops.ckksEncryptRows(state, handle, rows, cols))),
    ckksDecryptRows: guarded((handle: string, ciphertexts: Uint8Array[], take: number) => sendFloat64(ops.ckksDecryptRows(state, handle, ciphertexts, take))),
    ckksInspect: guarded((bytes: CkksPublicBundle & { secretKey?: Uint8Array }) => ops.ckksInspect(bytes, sealInit)),
    ckksKeygen: guarded(
      async (
        request: { params: CkksParams; relinKeys?: boolean; galoisSteps?: readonly number[] },
        onStage?: (stage: string, done: number, total: number) => void,
      ) => {
        const bytes = await ops.ckksKeygen(request, onStage, sealInit);
        const blobs = [bytes.ctx, bytes.publicKey, bytes.secretKey, bytes.relinKeys, bytes.galoisKeys].filter((b): b is Uint8Array => b !== undefined);
        return transfer(bytes, buffers(blobs));
      },
    ),
  };
}

export type CryptoWorkerApi = ReturnType<typeof createCryptoWorkerApi>;
