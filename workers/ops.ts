/**
 * @module workers/ops
 * The chunk-level operations behind `CryptoEngine`, shared by the Web Worker (crypto.worker.ts)
 * and the in-process engine (engine.ts). Glue only: allocate outputs, validate shapes, call
 * lib/crypto, keep loaded CKKS key sets. No algorithm code here (spec/crypto.md §2, §3, §5 live
 * in lib/crypto).
 *
 * Liu and FDHOPE take an optional output array: the worker pool passes recycled buffers so that no
 * chunk allocates fresh memory (page faults on fresh ArrayBuffers cost more than the arithmetic in
 * Chromium, docs/perf-crypto-browser.md); without one a fresh array is returned.
 *
 * CKKS key sets are cached per realm (one cache per worker) under a handle chosen by the caller,
 * so SEAL contexts and keys are built once per job, not once per chunk. The cache is small and
 * least-recently-used; evicted or unknown handles raise INVALID_KEY with `details.reason =
 * 'KEY_NOT_LOADED'`, and the caller resends the material.
 */
import { AppError } from '@/lib/errors';
import * as ckks from '@/lib/crypto/ckks';
import * as fdhope from '@/lib/crypto/fdhope';
import * as liu from '@/lib/crypto/liu';
import { secureRandomBytes } from '@/lib/crypto/random';
import { KEY_NOT_LOADED } from './chunks';

const MAX_CACHED_KEY_SETS = 4;

export interface OpsState {
  readonly keySets: Map<string, ckks.CkksKeySet>;
  readonly sealInit?: ckks.SealInitOptions;
}

export function createOpsState(sealInit?: ckks.SealInitOptions): OpsState {
  return { keySets: new Map(), sealInit };
}

export function disposeOpsState(state: OpsState): void {
  for (const k of state.keySets.values()) k.dispose();
  state.keySets.clear();
}

// ---- Liu ----------------------------------------------------------------------------------------

export function liuComponents(key: liu.LiuSecretKey): number {
  return key.m;
}

export function liuCount(length: number, m: number): number {
  if (length % m !== 0) throw new AppError('SHAPE_MISMATCH', `Liu ciphertext length ${length} is not a multiple of m = ${m}`);
  return length / m;
}

/** Liu-encrypts `plain` into `out` (length plain.length·m; allocated when omitted) and returns it. */
export function liuEncrypt(key: liu.LiuSecretKey, plain: Float64Array, rounding?: liu.LiuRoundOptions, out?: Float64Array): Float64Array {
  const dst = out ?? new Float64Array(plain.length * key.m);
  liu.encryptInto(key, plain, dst, secureRandomBytes, rounding);
  return dst;
}

/** Liu-decrypts `cipher` into `out` (length cipher.length/m; allocated when omitted) and returns it. */
export function liuDecrypt(key: liu.LiuSecretKey, cipher: Float64Array, rounding?: liu.LiuRoundOptions, out?: Float64Array): Float64Array {
  const dst = out ?? new Float64Array(liuCount(cipher.length, key.m));
  liu.decryptInto(key, cipher, dst, rounding);
  return dst;
}

export function liuKeygen(level: 128 | 192 | 256): liu.LiuSecretKey {
  return liu.keygen(level, secureRandomBytes);
}

// ---- FDHOPE -------------------------------------------------------------------------------------

/** FDHOPE-encrypts `plain` into `out` (same length; allocated when omitted) and returns it. */
export function fdhopeEncrypt(key: fdhope.FdhopeKey, plain: Float64Array, sens: number, out?: Float64Array): Float64Array {
  const dst = out ?? new Float64Array(plain.length);
  fdhope.encryptInto(key, plain, dst, sens, secureRandomBytes);
  return dst;
}

export function fdhopeKeygen(values: Float64Array): fdhope.FdhopeKey {
  return fdhope.keygen(values, { rb: secureRandomBytes });
}

// ---- CKKS ---------------------------------------------------------------------------------------

export function rowCount(length: number, cols: number): number {
  if (!Number.isInteger(cols) || cols < 1 || length % cols !== 0) {
    throw new AppError('SHAPE_MISMATCH', `a matrix of ${length} values cannot have ${cols} columns`);
  }
  return length / cols;
}

/** Loads (or refreshes) a key set under `handle`. Secret material is optional (encrypt-only sets). */
export async function ckksLoad(
  state: OpsState,
  handle: string,
  material: { readonly publicBundle: ckks.CkksPublicBundle; readonly secretKey?: Uint8Array },
): Promise<void> {
  const cached = state.keySets.get(handle);
  if (cached && !cached.disposed) {
    touch(state, handle, cached);
    return;
  }
  const bytes = material.secretKey ? { ...material.publicBundle, secretKey: material.secretKey } : material.publicBundle;
  // The keys come from our own key store or a verified import: skip the 20 ms consistency check.
  const keySet = await ckks.openKeySet(bytes, { verify: false }, state.sealInit);
  state.keySets.set(handle, keySet);
  while (state.keySets.size > MAX_CACHED_KEY_SETS) {
    const [oldest, k] = state.keySets.entries().next().value as [string, ckks.CkksKeySet];
    state.keySets.delete(oldest);
    k.dispose();
  }
}

/** One ciphertext per row; with the secret key loaded, seeded symmetric ciphertexts (half the size). */
export function ckksEncryptRows(state: OpsState, handle: string, rows: Float64Array, cols: number): Uint8Array[] {
  const keys = loaded(state, handle);
  const n = rowCount(rows.length, cols);
  const symmetric = keys.hasSecretKey;
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(keys.encryptRow(rows.subarray(i * cols, (i + 1) * cols), { symmetric }));
  return out;
}

export function ckksDecryptRows(state: OpsState, handle: string, ciphertexts: readonly Uint8Array[], take: number): Float64Array {
  const keys = loaded(state, handle);
  if (!keys.hasSecretKey) throw new AppError('INVALID_KEY', 'decryption needs the secret key');
  return keys.decryptRows(ciphertexts, take).data;
}

/** Generates a CKKS key set and serializes it; `onStage(stage, done, total)` reports progress. */
export async function ckksKeygen(
  request: { readonly params: ckks.CkksParams; readonly relinKeys?: boolean; readonly galoisSteps?: readonly number[] },
  onStage?: (stage: string, done: number, total: number) => void,
  sealInit?: ckks.SealInitOptions,
): Promise<ckks.CkksKeySetBytes> {
  const total = 3;
  onStage?.('Loading the CKKS engine', 0, total);
  await ckks.loadSeal(sealInit);
  onStage?.('Generating keys', 1, total);
  const keySet = await ckks.generateKeySet(request.params, { relinKeys: request.relinKeys ?? true, galoisSteps: request.galoisSteps ?? [] }, sealInit);
  try {
    onStage?.('Serializing keys', 2, total);
    const bytes = keySet.toBytes();
    onStage?.('Done', total, total);
    return bytes;
  } finally {
    keySet.dispose();
  }
}

/** What `ckksInspect` reports about a key set. */
export interface CkksKeySetInfo {
  readonly params: ckks.CkksParams;
  readonly hasSecretKey: boolean;
  readonly hasRelinKeys: boolean;
  readonly hasGaloisKeys: boolean;
}

/**
 * Opens a key set (imported files), checks that the secret key matches the public key and
 * describes it. Nothing is cached.
 * @throws AppError SEAL_ERROR (corrupt or foreign bytes), INVALID_KEY (keys do not belong together)
 */
export async function ckksInspect(bytes: ckks.CkksPublicBundle & { readonly secretKey?: Uint8Array }, sealInit?: ckks.SealInitOptions): Promise<CkksKeySetInfo> {
  const keySet = await ckks.openKeySet(bytes, { verify: true }, sealInit);
  try {
    return {
      params: keySet.context.params,
      hasSecretKey: keySet.hasSecretKey,
      hasRelinKeys: keySet.hasRelinKeys,
      hasGaloisKeys: keySet.hasGaloisKeys,
    };
  } finally {
    keySet.dispose();
  }
}

function loaded(state: OpsState, handle: string): ckks.CkksKeySet {
  const k = state.keySets.get(handle);
  if (!k || k.disposed) {
    throw new AppError('INVALID_KEY', `CKKS key set ${handle} is not loaded in this worker`, { details: { reason: KEY_NOT_LOADED } });
  }
  touch(state, handle, k);
  return k;
}

function touch(state: OpsState, handle: string, k: ckks.CkksKeySet): void {
  state.keySets.delete(handle);
  state.keySets.set(handle, k);
}
