/**
 * @module crypto/ckks/keys
 * CKKS key sets: generation, (de)serialization and the Data Owner's encrypt/decrypt of rows
 * (spec/crypto.md §5.1, §5.2, §5.4, D4; spec/protocol.md §7.3).
 *
 * - Keys serialize as SEAL blobs (zstd by default, as Pyfhel's `save_*`) next to the context in
 *   Pyfhel's `ctx` layout, so `toPyfhelFiles` is a renaming and Pyfhel can load what we export.
 * - `CkksPublicBundle` is all a worker may receive: context, public, relinearization and Galois
 *   keys. Never the secret key (D4).
 * - One ciphertext per row: slots 0..a−1 hold the row, the rest are zero (§5.2). Ciphertexts are
 *   serialized uncompressed by default, byte-compatible with Pyfhel's `PyCtxt.to_bytes()`;
 *   readers accept any compression (it is in the SEAL header).
 */
import type { ComprModeType, Decryptor, Encryptor, GaloisKeys, PublicKey, RelinKeys, SecretKey } from 'node-seal/throws';
import { AppError } from '../../errors';
import { assertAllFinite, assertFloat64Array, assertInteger } from '../assert';
import { matrix, row, type Matrix } from '../../data/matrix';
import { CkksContext, loadCiphertext, NATIVE } from './context';
import { compressionCode, parseSealHeader, type CkksCompression } from './header';
import { CKKS_DEFAULT_PARAMS, type CkksParams } from './params';
import type { PyfhelKeyFiles } from './pyfhel';
import { guard, loadSeal, scope, SealScope, type SealInitOptions } from './seal';

/** What a worker may receive (D4): no secret key. */
export interface CkksPublicBundle {
  /** Context in Pyfhel `ctx` layout. */
  readonly ctx: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly relinKeys?: Uint8Array;
  readonly galoisKeys?: Uint8Array;
}

/** A full key set as bytes (Data Owner only). */
export interface CkksKeySetBytes extends CkksPublicBundle {
  readonly secretKey: Uint8Array;
}

/** Keys without their context. */
export interface CkksKeyBytes {
  readonly publicKey: Uint8Array;
  readonly secretKey?: Uint8Array;
  readonly relinKeys?: Uint8Array;
  readonly galoisKeys?: Uint8Array;
}

export interface CkksKeyGenOptions {
  /** Generate relinearization keys (needed for ct×ct). Default true. */
  readonly relinKeys?: boolean;
  /** Rotation steps to make Galois keys for (e.g. 1, 2, 4, … for rotate-and-sum). Default none. */
  readonly galoisSteps?: readonly number[];
}

export interface CkksLoadOptions {
  /**
   * When both keys are present, check that the secret key decrypts what the public key encrypts
   * (and that the relinearization keys belong to it). About 20 ms at N = 8192. Default true.
   */
  readonly verify?: boolean;
}

export interface CkksSerializeOptions {
  /** SEAL compression for keys. Default 'zstd' (Pyfhel's `save_*` default). */
  readonly compression?: CkksCompression;
}

export interface CkksEncryptOptions {
  /** SEAL compression of the ciphertext. Default 'none' (what Pyfhel's `to_bytes()` writes). */
  readonly compression?: CkksCompression;
  /**
   * Encrypt with the secret key (needs one) and serialize the ciphertext *seeded*: its second
   * polynomial is replaced by the 64-byte seed it was drawn from, so it is half the size. Any SEAL
   * 4 reader (Pyfhel, a worker) expands the seed on load. Default false (public-key encryption).
   */
  readonly symmetric?: boolean;
}

/** Key of the SEAL key objects of a key set; used by evaluator.ts only (not re-exported). */
export const KEYS_NATIVE: unique symbol = Symbol('ckks.keys.native');

/** Largest |error| accepted by the key consistency check (values are O(1)). */
const VERIFY_TOLERANCE = 1e-3;

export class CkksKeySet {
  readonly context: CkksContext;
  readonly #owned = new SealScope();
  readonly #ownsContext: boolean;
  #publicKey: PublicKey | undefined;
  #secretKey: SecretKey | undefined;
  #relinKeys: RelinKeys | undefined;
  #galoisKeys: GaloisKeys | undefined;
  #encryptor: Encryptor | undefined;
  #symmetricEncryptor: Encryptor | undefined;
  #decryptor: Decryptor | undefined;

  private constructor(context: CkksContext, ownsContext: boolean) {
    this.context = context;
    this.#ownsContext = ownsContext;
  }

  /**
   * Generates a fresh key set on `context`: secret, public, relinearization (optional) and Galois
   * keys for the given rotation steps only.
   * @param ownsContext dispose the context together with the keys.
   */
  static generate(context: CkksContext, options: CkksKeyGenOptions = {}, ownsContext = false): CkksKeySet {
    const steps = checkSteps(options.galoisSteps ?? [], context.slots);
    const keys = new CkksKeySet(context, ownsContext);
    const { seal, context: ctx } = context[NATIVE];
    try {
      guard('generate keys', () => {
        const owned = keys.#owned;
        const gen = owned.track(new seal.KeyGenerator(ctx));
        keys.#secretKey = owned.track(gen.secretKey());
        keys.#publicKey = owned.track(gen.createPublicKey());
        if (options.relinKeys ?? true) keys.#relinKeys = owned.track(gen.createRelinKeys());
        if (steps.length > 0) keys.#galoisKeys = owned.track(gen.createGaloisKeysWithSteps(Int32Array.from(steps)));
        owned.free(gen);
      });
    } catch (e) {
      keys.dispose();
      throw e;
    }
    return keys;
  }

  /**
   * Loads keys (SEAL blobs, any compression) for `context`.
   * @throws AppError('SEAL_ERROR') on corrupt keys or keys of other parameters;
   *         AppError('INVALID_KEY') when the secret key does not match the public key.
   */
  static fromBytes(context: CkksContext, bytes: CkksKeyBytes, options: CkksLoadOptions = {}, ownsContext = false): CkksKeySet {
    if (bytes === null || typeof bytes !== 'object' || !(bytes.publicKey instanceof Uint8Array)) {
      throw new AppError('INVALID_KEY', 'a CKKS key set needs a public key', {
        userMessage: 'The CKKS key set is incomplete: the public key is missing.',
      });
    }
    const keys = new CkksKeySet(context, ownsContext);
    const { seal, context: ctx } = context[NATIVE];
    const load = <T extends { loadFromArray(c: typeof ctx, a: Uint8Array): void }>(make: () => T, blob: Uint8Array, what: string): T => {
      parseSealHeader(blob, what);
      const obj = make();
      guard(`load ${what}`, () => obj.loadFromArray(ctx, blob));
      return obj;
    };
    try {
      const owned = keys.#owned;
      keys.#publicKey = load(() => owned.track(new seal.PublicKey()), bytes.publicKey, 'public key');
      if (bytes.secretKey !== undefined) keys.#secretKey = load(() => owned.track(new seal.SecretKey()), bytes.secretKey, 'secret key');
      if (bytes.relinKeys !== undefined) keys.#relinKeys = load(() => owned.track(new seal.RelinKeys()), bytes.relinKeys, 'relinearization keys');
      if (bytes.galoisKeys !== undefined) keys.#galoisKeys = load(() => owned.track(new seal.GaloisKeys()), bytes.galoisKeys, 'Galois keys');
      if ((options.verify ?? true) && keys.#secretKey !== undefined) keys.#verify();
    } catch (e) {
      keys.dispose();
      throw e;
    }
    return keys;
  }

  get hasSecretKey(): boolean {
    return this.#secretKey !== undefined;
  }

  get hasRelinKeys(): boolean {
    return this.#relinKeys !== undefined;
  }

  get hasGaloisKeys(): boolean {
    return this.#galoisKeys !== undefined;
  }

  /** True when a Galois key for exactly this rotation step is present. */
  hasRotationStep(step: number): boolean {
    assertInteger(step, 'step', -(this.context.slots - 1), this.context.slots - 1);
    const gk = this.#galoisKeys;
    return gk !== undefined && guard('query Galois keys', () => gk.hasKey(galoisElement(step, this.context.polyModulusDegree)));
  }

  /** Full key set as bytes, including the secret key. Keep it in the keystore only. */
  toBytes(options: CkksSerializeOptions = {}): CkksKeySetBytes {
    const sk = this.#secretKey;
    if (sk === undefined) throw missingKey('secret key', 'export the key set');
    const c = options.compression ?? 'zstd';
    return { ...this.publicBundle(options), secretKey: this.#save(sk, c, 'secret key') };
  }

  /** Context, public, relinearization and Galois keys: what a worker may receive (D4). */
  publicBundle(options: CkksSerializeOptions = {}): CkksPublicBundle {
    const c = options.compression ?? 'zstd';
    compressionCode(c);
    const bundle: { ctx: Uint8Array; publicKey: Uint8Array; relinKeys?: Uint8Array; galoisKeys?: Uint8Array } = {
      ctx: this.context.toBytes(c),
      publicKey: this.#save(this.#pk(), c, 'public key'),
    };
    if (this.#relinKeys !== undefined) bundle.relinKeys = this.#save(this.#relinKeys, c, 'relinearization keys');
    if (this.#galoisKeys !== undefined) bundle.galoisKeys = this.#save(this.#galoisKeys, c, 'Galois keys');
    return bundle;
  }

  /**
   * Encrypts one row: slots 0..a−1 = `values`, the other slots 0, at the context scale, with the
   * public key. Returns the serialized ciphertext.
   * @throws AppError('SHAPE_MISMATCH') when `values` is longer than the slot count;
   *         AppError('DATA_MAGNITUDE') on NaN/±Infinity.
   */
  encryptRow(values: Float64Array, options: CkksEncryptOptions = {}): Uint8Array {
    this.#checkValues(values, 'values');
    const compression = options.compression ?? 'none';
    compressionCode(compression);
    const { seal, encoder } = this.context[NATIVE];
    if (options.symmetric) {
      const encryptor = this.#getSymmetricEncryptor();
      return scope((s) => {
        const pt = s.track(new seal.Plaintext());
        encoder.encode(values, this.context.scale, pt);
        const seeded = s.track(encryptor.encryptSymmetricSerializable(pt));
        return seeded.saveToArray(seal.ComprModeType[compression]) as Uint8Array;
      }, 'encrypt');
    }
    const encryptor = this.#getEncryptor();
    return scope((s) => {
      const pt = s.track(new seal.Plaintext());
      encoder.encode(values, this.context.scale, pt);
      const ct = s.track(new seal.Ciphertext());
      encryptor.encrypt(pt, ct);
      return ct.saveToArray(seal.ComprModeType[compression]) as Uint8Array;
    }, 'encrypt');
  }

  /** Encrypts each row of an n×a matrix (one ciphertext per row, §5.2). */
  encryptRows(m: Matrix, options: CkksEncryptOptions = {}): Uint8Array[] {
    if (m === null || typeof m !== 'object' || !(m.data instanceof Float64Array) || m.shape.length !== 2) {
      throw new AppError('SHAPE_MISMATCH', 'encryptRows needs an n×a matrix');
    }
    const [n, a] = m.shape;
    if (a > this.context.slots) throw new AppError('SHAPE_MISMATCH', `a row has ${a} values but the context has ${this.context.slots} slots`);
    assertAllFinite(m.data, 'matrix');
    const out: Uint8Array[] = [];
    for (let i = 0; i < n; i++) out.push(this.encryptRow(row(m, i), options));
    return out;
  }

  /** Decrypts a serialized ciphertext to all `slots` real values. */
  decryptVector(ciphertext: Uint8Array): Float64Array {
    const decryptor = this.#getDecryptor('decrypt');
    const { seal, encoder } = this.context[NATIVE];
    return scope((s) => {
      const ct = loadCiphertext(this.context, s, ciphertext);
      const pt = s.track(new seal.Plaintext());
      decryptor.decrypt(ct, pt);
      return encoder.decodeFloat64(pt) as Float64Array;
    }, 'decrypt');
  }

  /**
   * Decrypts k row ciphertexts and keeps the first `a` slots of each: a k×a matrix
   * (Rory's `decryptMatrix(…, shape=[k, a])`, §5.4).
   */
  decryptRows(ciphertexts: readonly Uint8Array[], a: number): Matrix {
    if (!Array.isArray(ciphertexts)) throw new AppError('INVALID_ARGUMENT', 'ciphertexts must be an array');
    assertInteger(a, 'a', 0, this.context.slots);
    const out = new Float64Array(ciphertexts.length * a);
    ciphertexts.forEach((c, i) => out.set(this.decryptVector(c).subarray(0, a), i * a));
    return matrix(out, [ciphertexts.length, a]);
  }

  get disposed(): boolean {
    return this.#owned.disposed;
  }

  /** Deletes the keys (and the context, if this key set owns it). */
  dispose(): void {
    this.#owned.dispose();
    this.#publicKey = this.#secretKey = this.#relinKeys = this.#galoisKeys = undefined;
    this.#encryptor = this.#symmetricEncryptor = this.#decryptor = undefined;
    if (this.#ownsContext) this.context.dispose();
  }

  /** SEAL key objects for evaluator.ts (the symbol is not exported from the package index). */
  [KEYS_NATIVE](): { publicKey?: PublicKey; relinKeys?: RelinKeys; galoisKeys?: GaloisKeys; encryptor?: Encryptor } {
    this.#alive();
    return {
      publicKey: this.#publicKey,
      relinKeys: this.#relinKeys,
      galoisKeys: this.#galoisKeys,
      encryptor: this.#publicKey === undefined ? undefined : this.#getEncryptor(),
    };
  }

  #checkValues(values: Float64Array, name: string): void {
    assertFloat64Array(values, name);
    if (values.length > this.context.slots) {
      throw new AppError('SHAPE_MISMATCH', `${name} has ${values.length} values but the context has ${this.context.slots} slots`);
    }
    assertAllFinite(values, name);
  }

  #alive(): void {
    if (this.#owned.disposed) throw new AppError('INTERNAL', 'CKKS key set used after dispose()');
  }

  #pk(): PublicKey {
    this.#alive();
    if (this.#publicKey === undefined) throw missingKey('public key', 'encrypt');
    return this.#publicKey;
  }

  #save(obj: { saveToArray(m: ComprModeType): unknown }, c: CkksCompression, what: string): Uint8Array {
    this.#alive();
    const { seal } = this.context[NATIVE];
    return guard(`save ${what}`, () => obj.saveToArray(seal.ComprModeType[c]) as Uint8Array);
  }

  #getEncryptor(): Encryptor {
    const pk = this.#pk();
    if (this.#encryptor === undefined) {
      const { seal, context } = this.context[NATIVE];
      this.#encryptor = this.#owned.track(guard('create encryptor', () => new seal.Encryptor(context, pk)));
    }
    return this.#encryptor;
  }

  #getSymmetricEncryptor(): Encryptor {
    const pk = this.#pk();
    const sk = this.#secretKey;
    if (sk === undefined) throw missingKey('secret key', 'encrypt symmetrically');
    if (this.#symmetricEncryptor === undefined) {
      const { seal, context } = this.context[NATIVE];
      this.#symmetricEncryptor = this.#owned.track(guard('create encryptor', () => new seal.Encryptor(context, pk, sk)));
    }
    return this.#symmetricEncryptor;
  }

  #getDecryptor(operation: string): Decryptor {
    this.#alive();
    const sk = this.#secretKey;
    if (sk === undefined) throw missingKey('secret key', operation);
    if (this.#decryptor === undefined) {
      const { seal, context } = this.context[NATIVE];
      this.#decryptor = this.#owned.track(guard('create decryptor', () => new seal.Decryptor(context, sk)));
    }
    return this.#decryptor;
  }

  /** Encrypts a probe with the public key, squares and relinearizes it, and decrypts with the secret key. */
  #verify(): void {
    const { seal, encoder, evaluator } = this.context[NATIVE];
    const probe = new Float64Array([1, -0.5, 0.25]);
    const encryptor = this.#getEncryptor();
    const decryptor = this.#getDecryptor('verify keys');
    const rk = this.#relinKeys;
    const [plainOk, relinOk] = scope((s) => {
      const pt = s.track(new seal.Plaintext());
      encoder.encode(probe, this.context.scale, pt);
      const ct = s.track(new seal.Ciphertext());
      encryptor.encrypt(pt, ct);
      const out = s.track(new seal.Plaintext());
      decryptor.decrypt(ct, out);
      const ok1 = close(encoder.decodeFloat64(out) as Float64Array, probe);
      if (rk === undefined || this.context.maxLevel < 1) return [ok1, true];
      const sq = s.track(new seal.Ciphertext());
      evaluator.square(ct, sq);
      evaluator.relinearizeInplace(sq, rk);
      evaluator.rescaleToNextInplace(sq);
      decryptor.decrypt(sq, out);
      return [ok1, close(encoder.decodeFloat64(out) as Float64Array, probe.map((x) => x * x))];
    }, 'verify keys');
    if (!plainOk) {
      throw new AppError('INVALID_KEY', 'the CKKS secret key does not match the public key', {
        userMessage: 'The CKKS secret key and public key belong to different key sets.',
      });
    }
    if (!relinOk) {
      throw new AppError('INVALID_KEY', 'the CKKS relinearization keys do not match the secret key', {
        userMessage: 'The CKKS relinearization keys belong to a different key set.',
      });
    }
  }
}

function close(got: Float64Array, want: Float64Array): boolean {
  for (let i = 0; i < want.length; i++) if (!(Math.abs(got[i] - want[i]) <= VERIFY_TOLERANCE)) return false;
  return true;
}

function missingKey(key: string, operation: string): AppError {
  return new AppError('INVALID_KEY', `cannot ${operation}: the CKKS ${key} is not loaded`, {
    userMessage: `This CKKS key set has no ${key}, which is needed to ${operation}.`,
    details: { missingKey: key },
  });
}

function checkSteps(steps: readonly number[], slots: number): number[] {
  if (!Array.isArray(steps)) throw new AppError('INVALID_ARGUMENT', 'galoisSteps must be an array of integers');
  const seen = new Set<number>();
  for (const s of steps) {
    assertInteger(s, 'galois step', -(slots - 1), slots - 1);
    if (s === 0) throw new AppError('INVALID_ARGUMENT', 'galois step 0 is not a rotation');
    seen.add(s);
  }
  return [...seen];
}

/**
 * SEAL's Galois element for a CKKS rotation by `step` slots (left for positive steps):
 * 3^step mod 2N, with negative steps taken as slots − |step|.
 */
export function galoisElement(step: number, polyModulusDegree: number): number {
  const m = 2 * polyModulusDegree;
  if (step === 0) return m - 1;
  const slots = polyModulusDegree / 2;
  let e = step < 0 ? slots + step : step;
  let g = 1;
  while (e-- > 0) g = (g * 3) % m;
  return g;
}

/** Convenience: loads SEAL, creates a context and generates keys. The key set owns the context. */
export async function generateKeySet(params: CkksParams = CKKS_DEFAULT_PARAMS, options: CkksKeyGenOptions = {}, init?: SealInitOptions): Promise<CkksKeySet> {
  const context = CkksContext.createWith(await loadSeal(init), params);
  try {
    return CkksKeySet.generate(context, options, true);
  } catch (e) {
    context.dispose();
    throw e;
  }
}

/**
 * Convenience: opens a key set or a public bundle (context + keys) as bytes. The key set owns
 * its context. A public bundle gives a key set without a secret key (encrypt and evaluate only).
 */
export async function openKeySet(bytes: CkksPublicBundle | CkksKeySetBytes, options: CkksLoadOptions = {}, init?: SealInitOptions): Promise<CkksKeySet> {
  if (bytes === null || typeof bytes !== 'object' || !(bytes.ctx instanceof Uint8Array)) {
    throw new AppError('INVALID_KEY', 'a CKKS key set needs its context (ctx)', { userMessage: 'The CKKS key set is incomplete: the context is missing.' });
  }
  const context = CkksContext.fromBytesWith(await loadSeal(init), bytes.ctx);
  try {
    return CkksKeySet.fromBytes(context, bytes, options, true);
  } catch (e) {
    context.dispose();
    throw e;
  }
}

/** Key set bytes in Pyfhel's file layout (`ctx`, `pubkey`, `secretkey`, `relinkey`, `rotatekey`). */
export function toPyfhelFiles(bytes: CkksPublicBundle | CkksKeySetBytes): PyfhelKeyFiles {
  const files: { ctx: Uint8Array; pubkey: Uint8Array; secretkey?: Uint8Array; relinkey?: Uint8Array; rotatekey?: Uint8Array } = {
    ctx: bytes.ctx,
    pubkey: bytes.publicKey,
  };
  if ('secretKey' in bytes && bytes.secretKey !== undefined) files.secretkey = bytes.secretKey;
  if (bytes.relinKeys !== undefined) files.relinkey = bytes.relinKeys;
  if (bytes.galoisKeys !== undefined) files.rotatekey = bytes.galoisKeys;
  return files;
}

/** Opens Pyfhel key files (`ctx`, `pubkey`, optional `secretkey`, `relinkey`, `rotatekey`). */
export async function importPyfhelFiles(files: PyfhelKeyFiles, options: CkksLoadOptions = {}, init?: SealInitOptions): Promise<CkksKeySet> {
  return openKeySet(fromPyfhelFiles(files), options, init);
}

/** The inverse of `toPyfhelFiles`. */
export function fromPyfhelFiles(files: PyfhelKeyFiles): CkksPublicBundle & { readonly secretKey?: Uint8Array } {
  const out: { ctx: Uint8Array; publicKey: Uint8Array; secretKey?: Uint8Array; relinKeys?: Uint8Array; galoisKeys?: Uint8Array } = {
    ctx: files.ctx,
    publicKey: files.pubkey,
  };
  if (files.secretkey !== undefined) out.secretKey = files.secretkey;
  if (files.relinkey !== undefined) out.relinKeys = files.relinkey;
  if (files.rotatekey !== undefined) out.galoisKeys = files.rotatekey;
  return out;
}

// ---- single-blob envelope for our own storage (keystore records, backups) -------------------

const ENVELOPE_MAGIC = [0x52, 0x43, 0x4b, 0x53]; // "RCKS"
const ENVELOPE_VERSION = 1;
const FIELD_TAGS = { ctx: 1, publicKey: 2, secretKey: 3, relinKeys: 4, galoisKeys: 5 } as const;
type FieldName = keyof typeof FIELD_TAGS;
const FIELD_BY_TAG = new Map<number, FieldName>(Object.entries(FIELD_TAGS).map(([k, v]) => [v, k as FieldName]));

/**
 * Packs key-set or bundle bytes into one versioned blob:
 * `"RCKS" u8 version=1 u8 count { u8 tag, u32le length, bytes }…`. The SEAL blobs inside are
 * stored as they are (already compressed).
 */
export function packKeyBytes(bytes: CkksPublicBundle | CkksKeySetBytes): Uint8Array {
  const fields: [number, Uint8Array][] = [];
  for (const name of Object.keys(FIELD_TAGS) as FieldName[]) {
    const v = (bytes as Partial<Record<FieldName, Uint8Array>>)[name];
    if (v === undefined) continue;
    if (!(v instanceof Uint8Array)) throw new AppError('INVALID_ARGUMENT', `${name} must be a Uint8Array`);
    if (v.length > 0xffffffff) throw new AppError('INVALID_ARGUMENT', `${name} is too large`);
    fields.push([FIELD_TAGS[name], v]);
  }
  if (!fields.some(([t]) => t === FIELD_TAGS.ctx) || !fields.some(([t]) => t === FIELD_TAGS.publicKey)) {
    throw new AppError('INVALID_KEY', 'a key bundle needs ctx and publicKey');
  }
  const total = 6 + fields.reduce((n, [, v]) => n + 5 + v.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(ENVELOPE_MAGIC, 0);
  out[4] = ENVELOPE_VERSION;
  out[5] = fields.length;
  let off = 6;
  for (const [tag, v] of fields) {
    out[off] = tag;
    dv.setUint32(off + 1, v.length, true);
    out.set(v, off + 5);
    off += 5 + v.length;
  }
  return out;
}

/** The inverse of `packKeyBytes` (fields are copied out of `blob`). */
export function unpackKeyBytes(blob: Uint8Array): CkksPublicBundle & { readonly secretKey?: Uint8Array } {
  const bad = (reason: string) =>
    new AppError('BACKUP_INVALID', `not a CKKS key envelope: ${reason}`, { userMessage: 'The CKKS key data is corrupt or not a key set.' });
  if (!(blob instanceof Uint8Array) || blob.length < 6) throw bad('too short');
  if (ENVELOPE_MAGIC.some((b, i) => blob[i] !== b)) throw bad('bad magic');
  if (blob[4] !== ENVELOPE_VERSION) throw bad(`unsupported version ${blob[4]}`);
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const out: Partial<Record<FieldName, Uint8Array>> = {};
  let off = 6;
  for (let i = 0; i < blob[5]; i++) {
    if (off + 5 > blob.length) throw bad('truncated');
    const name = FIELD_BY_TAG.get(blob[off]);
    if (name === undefined) throw bad(`unknown field ${blob[off]}`);
    if (out[name] !== undefined) throw bad(`duplicate field ${name}`);
    const len = dv.getUint32(off + 1, true);
    if (off + 5 + len > blob.length) throw bad('truncated');
    out[name] = blob.slice(off + 5, off + 5 + len);
    off += 5 + len;
  }
  if (off !== blob.length) throw bad('trailing bytes');
  if (out.ctx === undefined || out.publicKey === undefined) throw bad('ctx or publicKey missing');
  return out as CkksPublicBundle & { readonly secretKey?: Uint8Array };
}
