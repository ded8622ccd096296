/**
 * @module engine/ops
 * The chunk-level operations behind `CryptoEngine`, shared by the crypto Web Worker
 * (workers/crypto.worker.ts) and the in-process engine (`./in-process.ts`). Glue only: resolve a
 * key id to material through the realm's key store, allocate outputs, validate shapes, call
 * lib/crypto. No algorithm code here (spec/crypto.md §2, §3, §5 live in lib/crypto).
 *
 * Key material never leaves the realm that runs these functions (a crypto worker in the
 * browser): the `KeyVault` unwraps it from the key store on first use and keeps a small
 * least-recently-used cache (Liu and FDHOPE keys as values, CKKS key sets as opened SEAL objects,
 * disposed on eviction). `forget(id)` drops a deleted key.
 */
import { AppError } from '../errors';
import * as ckks from '../crypto/ckks';
import * as fdhope from '../crypto/fdhope';
import * as liu from '../crypto/liu';
import { chacha20Stream, streamNonce } from '../crypto/chacha20';
import { secureRandomBytes, type RandomBytes } from '../crypto/random';
import { matrix } from '../data/matrix';
import { udmBlocks, udmRowsOf } from '../data/udm';
import { exportBackup, importBackup, type BackupImportReport } from '../keystore/backup';
import { ckksKeyParams, upstreamKeySetFromFiles, type KeyFileNames, type NamedFile } from '../keystore/pyfhel';
import type { CkksKeyRecord, FdhopeKeyRecord, KeyMaterial, KeyStore, LiuKeyRecord } from '../keystore/types';
import type { CkksKeygenRequest, CkksPublicInfo, KeyId, NewKeyMeta } from './types';

const MAX_CACHED_KEYS = 8;
const MAX_CACHED_CKKS = 4;

/** Key material of one realm, loaded by id from its key store. */
export class KeyVault {
  readonly #store: KeyStore;
  readonly #sealInit?: ckks.SealInitOptions;
  readonly #plain = new Map<KeyId, Promise<KeyMaterial>>();
  readonly #ckks = new Map<KeyId, Promise<ckks.CkksKeySet>>();

  constructor(store: KeyStore, sealInit?: ckks.SealInitOptions) {
    this.#store = store;
    this.#sealInit = sealInit;
  }

  get store(): KeyStore {
    return this.#store;
  }

  async liu(id: KeyId): Promise<liu.LiuSecretKey> {
    const m = await this.#material(id);
    if (m.scheme !== 'liu') throw wrongScheme(id, 'Liu');
    return m.key;
  }

  async fdhope(id: KeyId): Promise<fdhope.FdhopeKey> {
    const m = await this.#material(id);
    if (m.scheme !== 'fdhope') throw wrongScheme(id, 'FDHOPE');
    return m.key;
  }

  /** The opened CKKS key set (with its secret key) of `id`. */
  ckks(id: KeyId): Promise<ckks.CkksKeySet> {
    const hit = this.#ckks.get(id);
    if (hit) return touch(this.#ckks, id, hit);
    const p = (async () => {
      const m = await this.#store.loadMaterial(id);
      if (m.scheme !== 'ckks') throw wrongScheme(id, 'CKKS');
      // The keys come from our own key store (checked when stored): skip the 20 ms consistency check.
      return ckks.openKeySet({ ...m.publicBundle, secretKey: m.secretKey }, { verify: false }, this.#sealInit);
    })();
    p.catch(() => this.#ckks.delete(id));
    this.#ckks.set(id, p);
    evict(this.#ckks, MAX_CACHED_CKKS, (k) => k.then((s) => s.dispose(), () => undefined));
    return p;
  }

  forget(id: KeyId): void {
    this.#plain.delete(id);
    const k = this.#ckks.get(id);
    this.#ckks.delete(id);
    k?.then((s) => s.dispose(), () => undefined);
  }

  dispose(): void {
    for (const id of [...this.#ckks.keys(), ...this.#plain.keys()]) this.forget(id);
  }

  #material(id: KeyId): Promise<KeyMaterial> {
    const hit = this.#plain.get(id);
    if (hit) return touch(this.#plain, id, hit);
    const p = this.#store.loadMaterial(id);
    p.catch(() => this.#plain.delete(id));
    this.#plain.set(id, p);
    evict(this.#plain, MAX_CACHED_KEYS);
    return p;
  }
}

function touch<T>(map: Map<KeyId, T>, id: KeyId, v: T): T {
  map.delete(id);
  map.set(id, v);
  return v;
}

function evict<T>(map: Map<KeyId, T>, max: number, dispose?: (v: T) => void): void {
  while (map.size > max) {
    const [oldest, v] = map.entries().next().value as [KeyId, T];
    map.delete(oldest);
    dispose?.(v);
  }
}

function wrongScheme(id: KeyId, want: string): AppError {
  return new AppError('INVALID_KEY', `key ${id} is not a ${want} key`, { userMessage: `The chosen key is not a ${want} key. Pick a ${want} key on the Keys page.` });
}

// ---- Liu ----------------------------------------------------------------------------------------

export function liuCount(length: number, m: number): number {
  if (length % m !== 0) throw new AppError('SHAPE_MISMATCH', `Liu ciphertext length ${length} is not a multiple of m = ${m}`, { userMessage: 'The ciphertext does not fit this Liu key (wrong number of components).' });
  return length / m;
}

/** Liu-encrypts `plain` into `out` (length plain.length·m; allocated when omitted) and returns it. */
export function liuEncrypt(key: liu.LiuSecretKey, plain: Float64Array, rounding?: liu.LiuRoundOptions, out?: Float64Array, rb: RandomBytes = secureRandomBytes): Float64Array {
  const dst = out ?? new Float64Array(plain.length * key.m);
  liu.encryptInto(key, plain, dst, rb, rounding);
  return dst;
}

/** Liu-decrypts `cipher` into `out` (length cipher.length/m; allocated when omitted) and returns it. */
export function liuDecrypt(key: liu.LiuSecretKey, cipher: Float64Array, rounding?: liu.LiuRoundOptions, out?: Float64Array): Float64Array {
  const dst = out ?? new Float64Array(liuCount(cipher.length, key.m));
  liu.decryptInto(key, cipher, dst, rounding);
  return dst;
}

// ---- FDHOPE -------------------------------------------------------------------------------------

/** FDHOPE-encrypts `plain` into `out` (same length; allocated when omitted) and returns it. */
export function fdhopeEncrypt(key: fdhope.FdhopeKey, plain: Float64Array, sens: number, out?: Float64Array, rb: RandomBytes = secureRandomBytes): Float64Array {
  const dst = out ?? new Float64Array(plain.length);
  fdhope.encryptInto(key, plain, dst, sens, rb);
  return dst;
}

/** Nonce domain of FDHOPE noise for streamed UDM rows (one ChaCha20 stream per row). */
const UDM_NOISE_DOMAIN = 0x75646d31; // 'udm1'
/** Rows of the UDM built at a time when fitting a key to it. */
const UDM_KEYGEN_ROWS = 32;

/**
 * Rows x ∈ [from, to) of the FDHOPE-encrypted UDM of `data` (n×`cols`), built here and encrypted
 * with noise from ChaCha20(`seed`, row x): the same seed gives the same ciphertexts however the
 * rows are grouped, so a streamed upload can produce the UDM twice (hash, then send) without ever
 * holding it whole (issue #13 item 2).
 */
export function fdhopeEncryptUdmRows(key: fdhope.FdhopeKey, data: Float64Array, cols: number, from: number, to: number, sens: number, seed: Uint8Array): Float64Array {
  const n = rowCount(data.length, cols);
  const D = matrix(data, [n, cols]);
  const rowLen = n * cols;
  const out = new Float64Array((to - from) * rowLen);
  for (let x = from; x < to; x++) {
    const plain = udmRowsOf(D, x, x + 1);
    fdhope.encryptInto(key, plain, out.subarray((x - from) * rowLen, (x - from + 1) * rowLen), sens, chacha20Stream(seed, streamNonce(UDM_NOISE_DOMAIN, x)));
  }
  return out;
}

// ---- CKKS ---------------------------------------------------------------------------------------

export function rowCount(length: number, cols: number): number {
  if (!Number.isInteger(cols) || cols < 1 || length % cols !== 0) {
    throw new AppError('SHAPE_MISMATCH', `a matrix of ${length} values cannot have ${cols} columns`, { userMessage: 'The values do not form whole rows for CKKS encryption.' });
  }
  return length / cols;
}

/** One seeded symmetric ciphertext per row (the owner holds the secret key: half the bytes). */
export function ckksEncryptRows(keys: ckks.CkksKeySet, rows: Float64Array, cols: number): Uint8Array[] {
  const n = rowCount(rows.length, cols);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(keys.encryptRow(rows.subarray(i * cols, (i + 1) * cols), { symmetric: keys.hasSecretKey }));
  return out;
}

export function ckksDecryptRows(keys: ckks.CkksKeySet, ciphertexts: readonly Uint8Array[], take: number): Float64Array {
  if (!keys.hasSecretKey) throw new AppError('INVALID_KEY', 'decryption needs the secret key', { userMessage: 'This CKKS key set has no secret key, so it cannot decrypt.' });
  return keys.decryptRows(ciphertexts, take).data;
}

// ---- Keys ---------------------------------------------------------------------------------------

export async function createLiuKey(store: KeyStore, level: liu.LiuLevel, meta: NewKeyMeta, rb: RandomBytes = secureRandomBytes): Promise<LiuKeyRecord> {
  const key = liu.keygen(level, rb);
  return (await store.add(
    { scheme: 'liu', label: meta.label, origin: 'generated', params: { level, m: key.m, nbits: key.nbits }, usedBy: meta.usedBy },
    { scheme: 'liu', key },
  )) as LiuKeyRecord;
}

export async function createFdhopeKey(
  store: KeyStore,
  values: Float64Array,
  meta: NewKeyMeta & { readonly datasetId?: string },
  rb: RandomBytes = secureRandomBytes,
): Promise<FdhopeKeyRecord> {
  return storeFdhopeKey(store, fdhope.keygen(values, { rb }), meta);
}

/** Fits an FDHOPE key to the UDM of `data` (n×`cols`) without building it: two passes over row blocks. */
export async function createFdhopeKeyForUdm(
  store: KeyStore,
  data: Float64Array,
  cols: number,
  meta: NewKeyMeta & { readonly datasetId?: string },
  rb: RandomBytes = secureRandomBytes,
): Promise<FdhopeKeyRecord> {
  const D = matrix(data, [rowCount(data.length, cols), cols]);
  return storeFdhopeKey(store, fdhope.keygen(() => udmBlocks(D, UDM_KEYGEN_ROWS), { rb }), meta);
}

async function storeFdhopeKey(store: KeyStore, key: fdhope.FdhopeKey, meta: NewKeyMeta & { readonly datasetId?: string }): Promise<FdhopeKeyRecord> {
  return (await store.add(
    { scheme: 'fdhope', label: meta.label, origin: 'generated', params: { datasetId: meta.datasetId, intervals: key.messagespace.length }, usedBy: meta.usedBy },
    { scheme: 'fdhope', key },
  )) as FdhopeKeyRecord;
}

/** Generates a CKKS key set and stores it; `onStage(stage, done, total)` reports progress. */
export async function createCkksKey(
  store: KeyStore,
  request: CkksKeygenRequest,
  meta: NewKeyMeta,
  onStage?: (stage: string, done: number, total: number) => void,
  sealInit?: ckks.SealInitOptions,
): Promise<CkksKeyRecord> {
  const total = 3;
  onStage?.('Loading the CKKS engine', 0, total);
  await ckks.loadSeal(sealInit);
  onStage?.('Generating keys', 1, total);
  const galoisSteps = request.galoisSteps ?? [];
  const keySet = await ckks.generateKeySet(request.params, { relinKeys: request.relinKeys ?? true, galoisSteps }, sealInit);
  let bytes: ckks.CkksKeySetBytes;
  try {
    onStage?.('Storing keys', 2, total);
    bytes = keySet.toBytes();
  } finally {
    keySet.dispose();
  }
  const { secretKey, ...publicBundle } = bytes;
  const record = (await store.add(
    {
      scheme: 'ckks',
      label: meta.label,
      origin: 'generated',
      params: ckksKeyParams(request.params, publicBundle.relinKeys !== undefined, galoisSteps.length > 0, galoisSteps),
      usedBy: meta.usedBy,
    },
    { scheme: 'ckks', publicBundle, secretKey },
  )) as CkksKeyRecord;
  onStage?.('Done', total, total);
  return record;
}

/**
 * Imports upstream (Pyfhel) key files: opens the set, checks the secret key against the public
 * key, and stores it.
 * @throws AppError INVALID_ARGUMENT (missing files), SEAL_ERROR (corrupt bytes), INVALID_KEY (keys do not belong together)
 */
export async function importCkksFiles(store: KeyStore, files: readonly NamedFile[], names: KeyFileNames, label: string, sealInit?: ckks.SealInitOptions): Promise<CkksKeyRecord> {
  const set = upstreamKeySetFromFiles(files, names);
  const keySet = await ckks.openKeySet({ ...set.publicBundle, secretKey: set.secretKey }, { verify: true }, sealInit);
  let info: { params: ckks.CkksParams; relin: boolean; galois: boolean };
  try {
    if (!keySet.hasSecretKey) throw new AppError('INVALID_KEY', 'imported key set has no secret key', { userMessage: 'The selected files contain no secret key.' });
    info = { params: keySet.context.params, relin: keySet.hasRelinKeys, galois: keySet.hasGaloisKeys };
  } finally {
    keySet.dispose();
  }
  return (await store.add(
    { scheme: 'ckks', label, origin: 'pyfhel', params: ckksKeyParams(info.params, info.relin, info.galois) },
    { scheme: 'ckks', publicBundle: set.publicBundle, secretKey: set.secretKey },
  )) as CkksKeyRecord;
}

/** The public half of a CKKS key set, from the key store (no unwrapping). */
export async function ckksPublic(store: KeyStore, id: KeyId): Promise<CkksPublicInfo> {
  const record = await store.get(id);
  if (!record || record.scheme !== 'ckks') throw wrongScheme(id, 'CKKS');
  return { bundle: await store.loadPublicBundle(id), slots: record.params.polyModulusDegree / 2, galoisSteps: record.params.galoisSteps };
}

export function exportKeysBackup(store: KeyStore, passphrase: string, ids?: readonly KeyId[]): Promise<string> {
  return exportBackup(store, passphrase, { ids });
}

export function importKeysBackup(store: KeyStore, text: string, passphrase: string): Promise<BackupImportReport> {
  return importBackup(store, text, passphrase);
}
