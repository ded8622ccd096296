/**
 * @module workers/engine
 * The `CryptoEngine` interface that runners (lib/rory), the keys page and benchmarks use for bulk
 * encryption and decryption (spec/crypto.md §2.3–2.4 Liu, §3 FDHOPE, §5.2 and §5.4 CKKS), with two
 * implementations:
 * - the Web Worker pool (workers/crypto-client.ts) in the browser: chunks run in parallel workers,
 *   the main thread only slices and assembles typed arrays;
 * - `createInlineCryptoEngine()` here, for Node (tests, the local cloud, CLI benches): the same
 *   chunked operations run in-process, yielding to the event loop between chunks.
 *
 * Layout conventions (flat Float64Array, C order, no nested arrays):
 * - Liu: `n` plaintext values ↔ `n·m` ciphertext components, each value's m components contiguous
 *   (an n×a matrix becomes the n×a×m tensor Rory stores).
 * - FDHOPE: `n` values ↔ `n` ciphertexts.
 * - CKKS: an n×a row-major matrix ↔ n serialized ciphertexts (one per row).
 *
 * Key material is passed per call. The engine never persists or logs it; the worker pool caches
 * loaded CKKS keys per worker (keyed by material identity) so SEAL objects are built once per job.
 */
import { AppError } from '@/lib/errors';
import type { CkksKeySetBytes, CkksParams, CkksPublicBundle } from '@/lib/crypto/ckks';
import type { FdhopeKey } from '@/lib/crypto/fdhope';
import type { LiuRoundOptions, LiuSecretKey } from '@/lib/crypto/liu';
import { CKKS_CHUNK, LIU_CHUNK, ckksMaterialOf, keyHandle, planChunks, runChunks, yieldToEventLoop, type Progress } from './chunks';
import * as ops from './ops';
import type { CkksKeySetInfo } from './ops';

export type { Progress } from './chunks';
export type { CkksKeySetInfo } from './ops';

export interface CallOptions {
  /** Aborting rejects with ABORTED; in the browser it also terminates the workers doing the work. */
  readonly signal?: AbortSignal;
  /** Progress after each finished chunk (or stage, for key generation). */
  readonly onProgress?: (p: Progress) => void;
}

export interface LiuCallOptions extends CallOptions {
  /** Upstream `LIU_ROUND` / `LIU_DECIMALS`: round plaintexts before encryption and results after decryption. */
  readonly rounding?: LiuRoundOptions;
}

export interface CkksKeygenRequest {
  readonly params: CkksParams;
  /** Relinearization keys (ct×ct: SKNN-PQC, PPLR). Default true. */
  readonly relinKeys?: boolean;
  /** Rotation steps for Galois keys (PPLR rotate-and-sum). Default none. */
  readonly galoisSteps?: readonly number[];
}

/** CKKS material needed to decrypt: the public bundle (for the context) and the secret key. */
export interface CkksSecretMaterial {
  readonly publicBundle: CkksPublicBundle;
  readonly secretKey: Uint8Array;
}

export interface CryptoEngine {
  /** Liu-encrypts `plain` (n values) to n·m components. The input is not modified or detached. */
  liuEncrypt(key: LiuSecretKey, plain: Float64Array, opts?: LiuCallOptions): Promise<Float64Array>;
  /** Liu-decrypts n·m components to n values. */
  liuDecrypt(key: LiuSecretKey, cipher: Float64Array, opts?: LiuCallOptions): Promise<Float64Array>;
  /** Generates a Liu key at a security level (spec/crypto.md §2.2; re-drawn until valid). */
  liuKeygen(level: 128 | 192 | 256, opts?: CallOptions): Promise<LiuSecretKey>;
  /** FDHOPE-encrypts n values with noise in [0, sens·scale) (spec/crypto.md §3). */
  fdhopeEncrypt(key: FdhopeKey, plain: Float64Array, sens: number, opts?: CallOptions): Promise<Float64Array>;
  /** Fits an FDHOPE key to the values it will encrypt (a UDM or DM, flattened). */
  fdhopeKeygen(values: Float64Array, opts?: CallOptions): Promise<FdhopeKey>;
  /**
   * Encrypts each row of an n×`cols` matrix: n ciphertexts. With a public bundle, public-key
   * encryption; with the secret material, seeded symmetric encryption (half the bytes).
   */
  ckksEncryptRows(keys: CkksPublicBundle | CkksSecretMaterial, rows: Float64Array, cols: number, opts?: CallOptions): Promise<Uint8Array[]>;
  /** Decrypts ciphertexts, keeping the first `take` slots of each: an n×take matrix, flat. */
  ckksDecryptRows(material: CkksSecretMaterial, ciphertexts: readonly Uint8Array[], take: number, opts?: CallOptions): Promise<Float64Array>;
  /** Opens a CKKS key set (e.g. imported Pyfhel files), checks that its keys belong together and describes it. */
  ckksInspect(bytes: CkksPublicBundle & { readonly secretKey?: Uint8Array }, opts?: CallOptions): Promise<CkksKeySetInfo>;
  /** Generates a CKKS key set (seconds at N ≥ 8192). Progress reports stages. */
  ckksKeygen(request: CkksKeygenRequest, opts?: CallOptions): Promise<CkksKeySetBytes>;
  /** Frees workers and WASM memory. The engine restarts lazily on the next call. */
  dispose(): void;
}

/**
 * The in-process engine for Node: same operations and chunking as the worker pool, one chunk at a
 * time, yielding to the event loop between chunks so timers and sockets keep running. Abort is
 * honoured between chunks (a running chunk finishes).
 */
export function createInlineCryptoEngine(): CryptoEngine {
  const state = ops.createOpsState();

  const chunked = async (
    total: number,
    chunk: { minRows: number; maxRows: number },
    opts: CallOptions,
    run: (from: number, to: number) => void,
  ) => {
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
    async liuEncrypt(key, plain, opts = {}) {
      const m = ops.liuComponents(key);
      const out = new Float64Array(plain.length * m);
      await chunked(plain.length, LIU_CHUNK, opts, (from, to) => out.set(ops.liuEncrypt(key, plain.subarray(from, to), opts.rounding), from * m));
      return out;
    },
    async liuDecrypt(key, cipher, opts = {}) {
      const m = ops.liuComponents(key);
      const n = ops.liuCount(cipher.length, m);
      const out = new Float64Array(n);
      await chunked(n, LIU_CHUNK, opts, (from, to) => out.set(ops.liuDecrypt(key, cipher.subarray(from * m, to * m), opts.rounding), from));
      return out;
    },
    async liuKeygen(level, opts = {}) {
      checkAborted(opts.signal);
      return ops.liuKeygen(level);
    },
    async fdhopeEncrypt(key, plain, sens, opts = {}) {
      const out = new Float64Array(plain.length);
      await chunked(plain.length, LIU_CHUNK, opts, (from, to) => out.set(ops.fdhopeEncrypt(key, plain.subarray(from, to), sens), from));
      return out;
    },
    async fdhopeKeygen(values, opts = {}) {
      checkAborted(opts.signal);
      return ops.fdhopeKeygen(values);
    },
    async ckksEncryptRows(keys, rows, cols, opts = {}) {
      const n = ops.rowCount(rows.length, cols);
      const material = ckksMaterialOf(keys);
      const handle = material.secretKey ? keyHandle(material.secretKey, 'sk') : keyHandle(material.publicBundle.publicKey, 'pk');
      await ops.ckksLoad(state, handle, material);
      const out: Uint8Array[] = new Array(n);
      await chunked(n, CKKS_CHUNK, opts, (from, to) => {
        ops.ckksEncryptRows(state, handle, rows.subarray(from * cols, to * cols), cols).forEach((c, i) => (out[from + i] = c));
      });
      return out;
    },
    async ckksDecryptRows(material, ciphertexts, take, opts = {}) {
      const handle = keyHandle(material.secretKey, 'sk');
      await ops.ckksLoad(state, handle, material);
      const out = new Float64Array(ciphertexts.length * take);
      await chunked(ciphertexts.length, CKKS_CHUNK, opts, (from, to) => out.set(ops.ckksDecryptRows(state, handle, ciphertexts.slice(from, to), take), from * take));
      return out;
    },
    async ckksInspect(bytes, opts = {}) {
      checkAborted(opts.signal);
      return ops.ckksInspect(bytes);
    },
    async ckksKeygen(request, opts = {}) {
      checkAborted(opts.signal);
      return ops.ckksKeygen(request, (stage, done, total) => opts.onProgress?.({ stage, done, total }));
    },
    dispose() {
      ops.disposeOpsState(state);
    },
  };
}

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AppError('ABORTED', 'crypto task aborted', { userMessage: 'The operation was cancelled.' });
}
