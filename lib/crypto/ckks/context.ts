/**
 * @module crypto/ckks/context
 * A CKKS context: SEAL parameters, encoder and evaluator, plus the modulus chain (spec/crypto.md §5).
 * Built from a parameter set (§5.1), from a Pyfhel `ctx` file (prefix + SEAL parameters,
 * vectors/ckks-pyfhel/README.md), or from our own serialized form, which is the same Pyfhel layout.
 *
 * Levels are SEAL chain indices: a fresh ciphertext sits at `maxLevel` (= number of primes − 2),
 * each rescale or mod-switch lowers it by one, and level 0 keeps only q0.
 * Pyfhel's `mod_level` is `maxLevel − level`.
 */
import type { Ciphertext, CKKSEncoder, EncryptionParameters, Evaluator, ParmsIdType, SEALContext } from 'node-seal/throws';
import { AppError } from '../../errors';
import { assertCkksParams, CKKS_DEFAULT_PARAMS, CKKS_SCALE_BITS, type CkksParams, type CkksSecurityLevel } from './params';
import { compressionCode, hasSealMagic, parseSealHeader, type CkksCompression } from './header';
import { encodePyfhelContext, parsePyfhelContext } from './pyfhel';
import { guard, loadSeal, scope, SealScope, type Seal, type SealInitOptions } from './seal';

/** Key of the SEAL handles of a context; used by keys.ts and evaluator.ts only (not re-exported). */
export const NATIVE: unique symbol = Symbol('ckks.native');

export interface ContextNative {
  readonly seal: Seal;
  readonly context: SEALContext;
  readonly encoder: CKKSEncoder;
  readonly evaluator: Evaluator;
  /** `parmsIds[level]` for level 0..maxLevel+1 (the last one is the key level). */
  readonly parmsIds: readonly ParmsIdType[];
  /** Level of a parms id, keyed by its four words. */
  readonly levelByParmsId: ReadonlyMap<string, number>;
}

export interface CkksContextBytesOptions {
  /** Scale for a bare SEAL parameter blob (no Pyfhel prefix). Default 2^40. */
  readonly scale?: number;
  /** Security level for a bare SEAL parameter blob. Default 128. */
  readonly securityLevel?: CkksSecurityLevel;
}

/** Information about a ciphertext's position in the modulus chain. */
export interface CkksLevelInfo {
  readonly level: number;
  readonly scale: number;
  /** Number of polynomials (2 after relinearization, 3 after a ct×ct product). */
  readonly size: number;
}

const SEC_LEVELS: readonly CkksSecurityLevel[] = [128, 192, 256];

export class CkksContext {
  /** N, the polynomial modulus degree. */
  readonly polyModulusDegree: number;
  /** Number of complex slots (N/2); we use the real parts. */
  readonly slots: number;
  /** Default encoding scale (2^40 for Rory's parameters). */
  readonly scale: number;
  /** round(log2(scale)). */
  readonly scaleBits: number;
  /** Bit sizes of q0..qL (qL is the special prime). */
  readonly coeffModulusBits: readonly number[];
  /** The primes q0..qL. */
  readonly primes: readonly bigint[];
  readonly securityLevel: CkksSecurityLevel;
  /** Level of a fresh ciphertext (chain index of the first data level). */
  readonly maxLevel: number;

  readonly #owned: SealScope;
  readonly #native: ContextNative;
  readonly #parmsBlob: (c: CkksCompression) => Uint8Array;

  private constructor(seal: Seal, owned: SealScope, parms: EncryptionParameters, scale: number, securityLevel: CkksSecurityLevel, expectBits?: readonly number[]) {
    this.#owned = owned;
    const context = owned.track(new seal.SEALContext(parms, true, seal.SecLevelType[`tc${securityLevel}`]));
    if (!context.parametersSet()) {
      throw new AppError('SEAL_ERROR', 'SEAL rejected the CKKS parameters', {
        userMessage: 'The CKKS parameters are invalid or not secure at the requested level.',
        details: { operation: 'create context' },
      });
    }
    if (parms.scheme() !== seal.SchemeType.ckks) {
      throw new AppError('SEAL_ERROR', 'the SEAL parameters are not for the CKKS scheme', {
        userMessage: 'The context is not a CKKS context.',
        details: { operation: 'create context' },
      });
    }
    const primes = scope((s) => seal.jsArrayFromVecModulus(s.track(parms.coeffModulus())) as bigint[], 'read parameters');
    const bits = primes.map((p) => p.toString(2).length);
    if (expectBits !== undefined && (expectBits.length !== bits.length || expectBits.some((b, i) => b !== bits[i]))) {
      throw new AppError('SEAL_ERROR', 'Pyfhel prefix qi_sizes do not match the SEAL parameters', {
        userMessage: 'The CKKS context file is inconsistent (its header and parameters disagree).',
        details: { operation: 'read context' },
      });
    }
    const encoder = owned.track(new seal.CKKSEncoder(context));
    const evaluator = owned.track(new seal.Evaluator(context));
    const parmsIds: ParmsIdType[] = [];
    const levelByParmsId = new Map<string, number>();
    const maxLevel = bits.length - 2;
    scope((s) => {
      let cd = s.track(context.keyContextData());
      for (let level = maxLevel + 1; level >= 0; level--) {
        if (cd.chainIndex() !== level) throw new AppError('INTERNAL', 'unexpected SEAL modulus chain');
        const pid = owned.track(cd.parmsId());
        parmsIds[level] = pid;
        levelByParmsId.set(parmsIdKey(pid), level);
        if (level > 0) cd = s.track(cd.nextContextData());
      }
    }, 'read modulus chain');

    this.polyModulusDegree = parms.polyModulusDegree();
    this.slots = encoder.slotCount();
    this.scale = scale;
    this.scaleBits = Math.round(Math.log2(scale));
    this.coeffModulusBits = Object.freeze(bits);
    this.primes = Object.freeze(primes);
    this.securityLevel = securityLevel;
    this.maxLevel = maxLevel;
    this.#native = Object.freeze({ seal, context, encoder, evaluator, parmsIds: Object.freeze(parmsIds), levelByParmsId });
    this.#parmsBlob = (c) => parms.saveToArray(seal.ComprModeType[c]) as Uint8Array;
    if (!(scale >= 1) || this.scaleBits >= bits.slice(0, -1).reduce((a, b) => a + b, 0)) {
      throw new AppError('INVALID_ARGUMENT', 'the CKKS scale does not fit the coefficient modulus');
    }
  }

  /** Creates a context from a parameter set (default: Rory's default/128). Loads SEAL if needed. */
  static async create(params: CkksParams = CKKS_DEFAULT_PARAMS, init?: SealInitOptions): Promise<CkksContext> {
    return CkksContext.createWith(await loadSeal(init), params);
  }

  /** Synchronous `create` with an already loaded SEAL. */
  static createWith(seal: Seal, params: CkksParams = CKKS_DEFAULT_PARAMS): CkksContext {
    assertCkksParams(params);
    return build('create context', (owned) => {
      const parms = owned.track(new seal.EncryptionParameters(seal.SchemeType.ckks));
      parms.setPolyModulusDegree(params.polyModulusDegree);
      const moduli = owned.track(seal.CoeffModulus.Create(params.polyModulusDegree, Int32Array.from(params.coeffModulusBits)));
      parms.setCoeffModulus(moduli);
      return new CkksContext(seal, owned, parms, 2 ** params.scaleBits, params.securityLevel);
    });
  }

  /**
   * Loads a serialized context: a Pyfhel `ctx` file (what `toBytes` writes) or a bare SEAL
   * `EncryptionParameters` blob (then `options.scale`/`securityLevel` apply).
   * @throws AppError('SEAL_ERROR') on malformed or non-CKKS bytes.
   */
  static async fromBytes(bytes: Uint8Array, options: CkksContextBytesOptions = {}, init?: SealInitOptions): Promise<CkksContext> {
    return CkksContext.fromBytesWith(await loadSeal(init), bytes, options);
  }

  /** Synchronous `fromBytes` with an already loaded SEAL. */
  static fromBytesWith(seal: Seal, bytes: Uint8Array, options: CkksContextBytesOptions = {}): CkksContext {
    let blob: Uint8Array;
    let scale: number;
    let securityLevel: CkksSecurityLevel;
    let expectBits: readonly number[] | undefined;
    if (bytes instanceof Uint8Array && hasSealMagic(bytes)) {
      parseSealHeader(bytes, 'context');
      blob = bytes;
      scale = options.scale ?? 2 ** CKKS_SCALE_BITS;
      securityLevel = options.securityLevel ?? 128;
      if (!SEC_LEVELS.includes(securityLevel)) throw new AppError('INVALID_ARGUMENT', 'securityLevel must be 128, 192 or 256');
      if (!Number.isFinite(scale) || scale < 1) throw new AppError('INVALID_ARGUMENT', 'scale must be a finite number ≥ 1');
    } else {
      const parsed = parsePyfhelContext(bytes);
      blob = parsed.sealParameters;
      scale = parsed.prefix.scale;
      securityLevel = parsed.prefix.securityLevel;
      expectBits = parsed.prefix.qiSizes;
    }
    return build('load context', (owned) => {
      const parms = owned.track(new seal.EncryptionParameters(seal.SchemeType.ckks));
      parms.loadFromArray(blob);
      return new CkksContext(seal, owned, parms, scale, securityLevel, expectBits);
    });
  }

  /** Serializes as a Pyfhel `ctx` file (prefix + SEAL parameters; Pyfhel's default compression is zstd). */
  toBytes(compression: CkksCompression = 'zstd'): Uint8Array {
    this.#alive();
    compressionCode(compression);
    const blob = guard('save context', () => this.#parmsBlob(compression));
    return encodePyfhelContext({ securityLevel: this.securityLevel, qiSizes: this.coeffModulusBits, scale: this.scale }, blob);
  }

  /** Parameters in the shape of `CKKS_PARAMS` entries. */
  get params(): CkksParams {
    return Object.freeze({
      polyModulusDegree: this.polyModulusDegree,
      scaleBits: this.scaleBits,
      coeffModulusBits: this.coeffModulusBits,
      securityLevel: this.securityLevel,
    });
  }

  /** True when both contexts have identical SEAL parameters (same parms id) and scale. */
  sameParameters(other: CkksContext): boolean {
    return (
      this.scale === other.scale &&
      parmsIdKey(this[NATIVE].parmsIds[this.maxLevel + 1]) === parmsIdKey(other[NATIVE].parmsIds[other.maxLevel + 1])
    );
  }

  get disposed(): boolean {
    return this.#owned.disposed;
  }

  /** Deletes the SEAL objects. Keys and evaluators built on this context become unusable. */
  dispose(): void {
    this.#owned.dispose();
  }

  /** SEAL handles for keys.ts and evaluator.ts (the symbol is not exported from the package index). */
  get [NATIVE](): ContextNative {
    this.#alive();
    return this.#native;
  }

  #alive(): void {
    if (this.#owned.disposed) throw new AppError('INTERNAL', 'CKKS context used after dispose()');
  }
}

/** Level (chain index) of a SEAL ciphertext; `maxLevel + 1` means the key level. */
export function levelOf(context: CkksContext, ct: Ciphertext): number {
  const { levelByParmsId } = context[NATIVE];
  const level = scope((s) => levelByParmsId.get(parmsIdKey(s.track(ct.parmsId()))), 'read level');
  if (level === undefined) throw new AppError('SEAL_ERROR', 'ciphertext does not belong to this context', { details: { operation: 'read level' } });
  return level;
}

/** Level, scale and size of a SEAL ciphertext. */
export function levelInfo(context: CkksContext, ct: Ciphertext): CkksLevelInfo {
  return { level: levelOf(context, ct), scale: ct.scale(), size: ct.size() };
}

/**
 * Loads a serialized ciphertext into scope `s`. Checks the SEAL header first and rejects objects
 * at the key level (a public key has the same layout as a ciphertext).
 */
export function loadCiphertext(context: CkksContext, s: SealScope, bytes: Uint8Array, what = 'ciphertext'): Ciphertext {
  parseSealHeader(bytes, what);
  const { seal, context: ctx } = context[NATIVE];
  const ct = s.track(new seal.Ciphertext());
  guard(`load ${what}`, () => ct.loadFromArray(ctx, bytes));
  if (levelOf(context, ct) > context.maxLevel || ct.size() < 2) {
    throw new AppError('SEAL_ERROR', `${what} is not a ciphertext at a data level`, {
      userMessage: 'The bytes are a CKKS key or another object, not a ciphertext.',
      details: { operation: `load ${what}` },
    });
  }
  return ct;
}

function parmsIdKey(pid: ParmsIdType): string {
  return Array.from(pid.values() as BigUint64Array).join(',');
}

/** Runs a constructor body with a fresh owner scope; on failure everything it allocated is deleted. */
function build<T>(operation: string, fn: (owned: SealScope) => T): T {
  const owned = new SealScope();
  try {
    return guard(operation, () => fn(owned));
  } catch (e) {
    owned.dispose();
    throw e;
  }
}
