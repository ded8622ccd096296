/**
 * @module crypto/ckks/evaluator
 * Homomorphic operations for a worker (spec/crypto.md §5.3): add, subtract, sum, multiply by a
 * plaintext scalar or vector (+ rescale), ct×ct multiply and square (+ relinearize + rescale),
 * rotation, rescale and mod-switching. Needs only the public bundle (D4): no secret key.
 *
 * Ciphertexts are held as opaque `CkksCipher` handles owned by the evaluator. Every operation
 * returns a new handle and leaves its inputs unchanged. `free` deletes handles; `scoped(fn)`
 * frees everything created inside `fn` except what it returns; `dispose` frees all.
 *
 * Operands at different levels or scales are aligned the way Pyfhel's `align_mod_n_scale` does
 * for Rory's cases: the higher-level operand is mod-switched down to the lower level; scales that
 * differ only by rescaling drift (same power of two, relative gap ≤ `CKKS_SCALE_TOLERANCE`) are
 * both set to that power of two (Pyfhel's `round_scale`), which changes values by that gap
 * (about 1e-7 relative with 40-bit primes). Larger scale gaps are an error.
 */
import type { Ciphertext } from 'node-seal/throws';
import { AppError } from '../../errors';
import { assertAllFinite, assertFiniteNumber, assertFloat64Array, assertInteger } from '../assert';
import { levelInfo, levelOf, loadCiphertext, NATIVE, type CkksContext, type CkksLevelInfo } from './context';
import { compressionCode, type CkksCompression } from './header';
import { CkksKeySet, KEYS_NATIVE, openKeySet, type CkksEncryptOptions, type CkksPublicBundle } from './keys';
import { guard, scope, SealScope, type SealInitOptions } from './seal';

declare const cipherBrand: unique symbol;

/** Opaque handle to a ciphertext held by a `CkksEvaluator`. */
export interface CkksCipher {
  readonly [cipherBrand]: 'CkksCipher';
}

export interface CkksRescaleOptions {
  /** Rescale to the next level after the product. Default true. */
  readonly rescale?: boolean;
}

/** Largest relative scale gap that alignment forces to equal (Pyfhel rounds to a power of two). */
export const CKKS_SCALE_TOLERANCE = 2 ** -10;

export class CkksEvaluator {
  readonly keys: CkksKeySet;
  readonly context: CkksContext;
  readonly #owned = new SealScope();
  readonly #live = new Map<CkksCipher, Ciphertext>();
  readonly #ownsKeys: boolean;

  /**
   * @param keys public material (a secret key, if present, is not used).
   * @param ownsKeys dispose `keys` together with the evaluator.
   */
  constructor(keys: CkksKeySet, ownsKeys = false) {
    if (!(keys instanceof CkksKeySet)) throw new AppError('INVALID_ARGUMENT', 'keys must be a CkksKeySet');
    this.keys = keys;
    this.context = keys.context;
    this.#ownsKeys = ownsKeys;
  }

  /**
   * Opens a worker-side evaluator from a public bundle. Only `ctx`, `publicKey`, `relinKeys` and
   * `galoisKeys` are read: a secret key passed by mistake is ignored, never loaded (D4).
   */
  static async fromPublicBundle(bundle: CkksPublicBundle, init?: SealInitOptions): Promise<CkksEvaluator> {
    if (bundle === null || typeof bundle !== 'object') throw new AppError('INVALID_KEY', 'a public bundle is required');
    const pub: CkksPublicBundle = {
      ctx: bundle.ctx,
      publicKey: bundle.publicKey,
      ...(bundle.relinKeys === undefined ? {} : { relinKeys: bundle.relinKeys }),
      ...(bundle.galoisKeys === undefined ? {} : { galoisKeys: bundle.galoisKeys }),
    };
    return new CkksEvaluator(await openKeySet(pub, { verify: false }, init), true);
  }

  /** Deserializes a ciphertext (any SEAL compression). */
  load(bytes: Uint8Array): CkksCipher {
    return this.#adoptFrom((s) => loadCiphertext(this.context, s, bytes), 'load ciphertext');
  }

  /** Deserializes many ciphertexts. */
  loadAll(bytes: readonly Uint8Array[]): CkksCipher[] {
    return bytes.map((b) => this.load(b));
  }

  /** Serializes a ciphertext. Default compression 'none' (Pyfhel `to_bytes()` compatible). */
  save(c: CkksCipher, options: CkksEncryptOptions = {}): Uint8Array {
    const compression: CkksCompression = options.compression ?? 'none';
    compressionCode(compression);
    const ct = this.#get(c);
    const { seal } = this.context[NATIVE];
    return guard('save ciphertext', () => ct.saveToArray(seal.ComprModeType[compression]) as Uint8Array);
  }

  /** Encrypts a row with the public key (e.g. a zero placeholder). */
  encrypt(values: Float64Array): CkksCipher {
    return this.load(this.keys.encryptRow(values));
  }

  /** Level, scale and size of a ciphertext. */
  info(c: CkksCipher): CkksLevelInfo {
    return levelInfo(this.context, this.#get(c));
  }

  add(a: CkksCipher, b: CkksCipher): CkksCipher {
    return this.#binary(a, b, 'add', (x, y, out) => this.#ev().add(x, y, out));
  }

  sub(a: CkksCipher, b: CkksCipher): CkksCipher {
    return this.#binary(a, b, 'subtract', (x, y, out) => this.#ev().sub(x, y, out));
  }

  negate(a: CkksCipher): CkksCipher {
    const ct = this.#get(a);
    return this.#adoptFrom((s) => {
      const out = s.track(new (this.context[NATIVE].seal.Ciphertext)());
      this.#ev().negate(ct, out);
      return out;
    }, 'negate');
  }

  /** Sum of one or more ciphertexts (aligned to the lowest level first). */
  sum(cs: readonly CkksCipher[]): CkksCipher {
    if (!Array.isArray(cs) || cs.length === 0) throw new AppError('INVALID_ARGUMENT', 'sum needs at least one ciphertext');
    const cts = cs.map((c) => this.#get(c));
    return this.#adoptFrom((s) => {
      let acc = s.track(cts[0].copy());
      for (let i = 1; i < cts.length; i++) {
        const [x, y] = this.#align(s, acc, cts[i]);
        if (x !== acc) acc = x;
        this.#ev().addInplace(acc, y);
      }
      return acc;
    }, 'sum');
  }

  /**
   * Multiplies by a plaintext: a scalar (filled into every slot, as Rory's `1/|C_j|`) or a vector
   * (zero-padded), encoded at the context scale and the ciphertext's level; then rescales unless
   * `rescale: false`.
   */
  multiplyPlain(a: CkksCipher, k: number | Float64Array, options: CkksRescaleOptions = {}): CkksCipher {
    const slots = this.context.slots;
    let values: Float64Array;
    if (typeof k === 'number') {
      assertFiniteNumber(k, 'k');
      values = new Float64Array(slots).fill(k);
    } else {
      assertFloat64Array(k, 'k');
      if (k.length > slots) throw new AppError('SHAPE_MISMATCH', `k has ${k.length} values but the context has ${slots} slots`);
      assertAllFinite(k, 'k');
      values = k;
    }
    if (values.every((v) => v === 0)) {
      // SEAL refuses products that would be transparent (all-zero plaintext), so say so plainly.
      throw new AppError('INVALID_ARGUMENT', 'multiplyPlain by an all-zero plaintext is not allowed', {
        userMessage: 'A CKKS ciphertext cannot be multiplied by zero; encrypt zeros instead.',
      });
    }
    const ct = this.#get(a);
    const level = levelOf(this.context, ct);
    const rescale = options.rescale ?? true;
    if (rescale) this.#needLevel(level, 'multiplyPlain with rescale');
    const { seal, encoder, parmsIds } = this.context[NATIVE];
    return this.#adoptFrom((s) => {
      const pt = s.track(new seal.Plaintext());
      encoder.encode(values, this.context.scale, pt);
      if (level < this.context.maxLevel) this.#ev().plainModSwitchToInplace(pt, parmsIds[level]);
      const out = s.track(new seal.Ciphertext());
      this.#ev().multiplyPlain(ct, pt, out);
      if (rescale) this.#ev().rescaleToNextInplace(out);
      return out;
    }, 'multiply by plaintext');
  }

  /** ct×ct product, relinearized (needs relinearization keys), then rescaled unless `rescale: false`. */
  multiply(a: CkksCipher, b: CkksCipher, options: CkksRescaleOptions = {}): CkksCipher {
    const rk = this.#relinKeys('multiply');
    const rescale = options.rescale ?? true;
    const x0 = this.#get(a);
    const y0 = this.#get(b);
    return this.#adoptFrom((s) => {
      const [x, y] = this.#align(s, x0, y0);
      if (rescale) this.#needLevel(levelOf(this.context, x), 'multiply with rescale');
      const out = s.track(new (this.context[NATIVE].seal.Ciphertext)());
      this.#ev().multiply(x, y, out);
      this.#ev().relinearizeInplace(out, rk);
      if (rescale) this.#ev().rescaleToNextInplace(out);
      return out;
    }, 'multiply');
  }

  /** Square, relinearized (needs relinearization keys), then rescaled unless `rescale: false`. */
  square(a: CkksCipher, options: CkksRescaleOptions = {}): CkksCipher {
    const rk = this.#relinKeys('square');
    const rescale = options.rescale ?? true;
    const ct = this.#get(a);
    if (rescale) this.#needLevel(levelOf(this.context, ct), 'square with rescale');
    return this.#adoptFrom((s) => {
      const out = s.track(new (this.context[NATIVE].seal.Ciphertext)());
      this.#ev().square(ct, out);
      this.#ev().relinearizeInplace(out, rk);
      if (rescale) this.#ev().rescaleToNextInplace(out);
      return out;
    }, 'square');
  }

  /**
   * Rotates the slot vector left by `steps` (right when negative): slot i receives slot i+steps.
   * Needs a Galois key for `steps`, or for every term of its signed non-adjacent form
   * (SEAL decomposes e.g. 5 = 4 + 1, but 3 = 4 − 1 needs a key for −1).
   * @throws AppError('INVALID_KEY') when the Galois key is missing.
   */
  rotate(a: CkksCipher, steps: number): CkksCipher {
    assertInteger(steps, 'steps', -(this.context.slots - 1), this.context.slots - 1);
    const ct = this.#get(a);
    const gk = this.keys[KEYS_NATIVE]().galoisKeys;
    if (steps === 0) return this.#adoptFrom((s) => s.track(ct.copy()), 'copy');
    if (gk === undefined) throw missingKey('Galois (rotation) keys', 'rotate');
    try {
      return this.#adoptFrom((s) => {
        const out = s.track(new (this.context[NATIVE].seal.Ciphertext)());
        this.#ev().rotateVector(ct, steps, gk, out);
        return out;
      }, 'rotate');
    } catch (e) {
      if (e instanceof AppError && /Galois key not present/i.test(e.message)) {
        throw new AppError('INVALID_KEY', `no Galois key for rotation step ${steps}`, {
          userMessage: `The CKKS key set has no rotation key for step ${steps}. Generate keys with this rotation step.`,
          cause: e,
          details: { missingKey: 'galois', step: steps },
        });
      }
      throw e;
    }
  }

  /** Rescales to the next level (divides the scale by the dropped prime). */
  rescale(a: CkksCipher): CkksCipher {
    const ct = this.#get(a);
    this.#needLevel(levelOf(this.context, ct), 'rescale');
    return this.#adoptFrom((s) => {
      const out = s.track(new (this.context[NATIVE].seal.Ciphertext)());
      this.#ev().rescaleToNext(ct, out);
      return out;
    }, 'rescale');
  }

  /** Mod-switches down to `level` (scale unchanged). */
  modSwitchTo(a: CkksCipher, level: number): CkksCipher {
    const ct = this.#get(a);
    const current = levelOf(this.context, ct);
    assertInteger(level, 'level', 0, current);
    return this.#adoptFrom((s) => {
      const out = s.track(ct.copy());
      if (level < current) this.#ev().cipherModSwitchToInplace(out, this.context[NATIVE].parmsIds[level]);
      return out;
    }, 'mod switch');
  }

  /** Copies of `a` and `b` at a common level and scale (see the module doc). */
  align(a: CkksCipher, b: CkksCipher): [CkksCipher, CkksCipher] {
    const x0 = this.#get(a);
    const y0 = this.#get(b);
    const s = new SealScope();
    try {
      const [x, y] = guard('align', () => this.#align(s, x0, y0));
      const xc = x === x0 ? s.track(x0.copy()) : x;
      const yc = y === y0 ? s.track(y0.copy()) : y;
      s.release(xc);
      s.release(yc);
      return [this.#adopt(xc), this.#adopt(yc)];
    } finally {
      s.dispose();
    }
  }

  /** Deletes ciphertexts. Freed handles cannot be used again. */
  free(...cs: CkksCipher[]): void {
    for (const c of cs) {
      const ct = this.#live.get(c);
      if (ct === undefined) continue;
      this.#live.delete(c);
      this.#owned.free(ct);
    }
  }

  /**
   * Runs `fn` and frees every ciphertext created inside it, except the handle(s) it returns.
   * @example const bytes = ev.scoped(() => ev.save(ev.multiplyPlain(ev.sum(rows), 1 / rows.length)));
   */
  scoped<R>(fn: () => R): R {
    const before = new Set(this.#live.keys());
    let result: R | undefined;
    try {
      result = fn();
      if (result instanceof Promise) throw new AppError('INTERNAL', 'CkksEvaluator.scoped callbacks must be synchronous');
      return result;
    } finally {
      const keep = new Set<unknown>(Array.isArray(result) ? result : [result]);
      for (const c of [...this.#live.keys()]) {
        if (!before.has(c) && !keep.has(c)) this.free(c);
      }
    }
  }

  /** Number of ciphertexts currently held (for leak checks). */
  get liveCount(): number {
    return this.#live.size;
  }

  get disposed(): boolean {
    return this.#owned.disposed;
  }

  /** Frees every ciphertext (and the keys, if owned). */
  dispose(): void {
    this.#live.clear();
    this.#owned.dispose();
    if (this.#ownsKeys) this.keys.dispose();
  }

  // ---- internals ------------------------------------------------------------------------------

  #ev() {
    return this.context[NATIVE].evaluator;
  }

  #get(c: CkksCipher): Ciphertext {
    if (this.#owned.disposed) throw new AppError('INTERNAL', 'CkksEvaluator used after dispose()');
    const ct = this.#live.get(c);
    if (ct === undefined) {
      throw new AppError('INVALID_ARGUMENT', 'unknown ciphertext handle (freed, or from another evaluator)');
    }
    return ct;
  }

  #adopt(ct: Ciphertext): CkksCipher {
    const handle = Object.freeze({}) as unknown as CkksCipher;
    this.#owned.track(ct);
    this.#live.set(handle, ct);
    return handle;
  }

  /** Runs `make` in a scope; the ciphertext it returns is adopted, everything else is deleted. */
  #adoptFrom(make: (s: SealScope) => Ciphertext, operation: string): CkksCipher {
    if (this.#owned.disposed) throw new AppError('INTERNAL', 'CkksEvaluator used after dispose()');
    const s = new SealScope();
    try {
      const ct = guard(operation, () => make(s));
      s.release(ct);
      return this.#adopt(ct);
    } finally {
      s.dispose();
    }
  }

  #binary(a: CkksCipher, b: CkksCipher, operation: string, op: (x: Ciphertext, y: Ciphertext, out: Ciphertext) => void): CkksCipher {
    const x0 = this.#get(a);
    const y0 = this.#get(b);
    return this.#adoptFrom((s) => {
      const [x, y] = this.#align(s, x0, y0);
      const out = s.track(new (this.context[NATIVE].seal.Ciphertext)());
      op(x, y, out);
      return out;
    }, operation);
  }

  /**
   * Brings `x` and `y` to a common level and scale. Returns the inputs themselves when nothing
   * changes; otherwise copies tracked in `s` (inputs are never modified).
   */
  #align(s: SealScope, x: Ciphertext, y: Ciphertext): [Ciphertext, Ciphertext] {
    const lx = levelOf(this.context, x);
    const ly = levelOf(this.context, y);
    const { parmsIds } = this.context[NATIVE];
    const down = (ct: Ciphertext, level: number) => {
      const c = s.track(ct.copy());
      this.#ev().cipherModSwitchToInplace(c, parmsIds[level]);
      return c;
    };
    if (lx > ly) x = down(x, ly);
    else if (ly > lx) y = down(y, lx);
    const sx = x.scale();
    const sy = y.scale();
    if (sx !== sy) {
      const bits = Math.round(Math.log2(sx));
      const target = 2 ** bits;
      if (bits !== Math.round(Math.log2(sy)) || Math.abs(sx / sy - 1) > CKKS_SCALE_TOLERANCE) {
        throw new AppError('SEAL_ERROR', 'ciphertext scales differ too much to align', {
          userMessage: 'Two CKKS ciphertexts have different scales (one was multiplied without rescaling) and cannot be combined.',
          details: { operation: 'align scales' },
        });
      }
      // Pyfhel's round_scale: both scales become the nearest power of two.
      if (sx !== target) {
        if (!s.owns(x)) x = s.track(x.copy());
        x.setScale(target);
      }
      if (sy !== target) {
        if (!s.owns(y)) y = s.track(y.copy());
        y.setScale(target);
      }
    }
    return [x, y];
  }

  #needLevel(level: number, operation: string): void {
    if (level < 1) {
      throw new AppError('SEAL_ERROR', `cannot ${operation}: the ciphertext is at the last level`, {
        userMessage: 'The CKKS ciphertext has no levels left for this operation. Use parameters with more levels or fewer multiplications.',
        details: { operation },
      });
    }
  }

  #relinKeys(operation: string) {
    const rk = this.keys[KEYS_NATIVE]().relinKeys;
    if (rk === undefined) throw missingKey('relinearization keys', operation);
    return rk;
  }
}

function missingKey(key: string, operation: string): AppError {
  return new AppError('INVALID_KEY', `cannot ${operation}: the CKKS ${key} are not loaded`, {
    userMessage: `The CKKS key bundle has no ${key}, which are needed to ${operation}.`,
    details: { missingKey: key },
  });
}

/** Runs `fn` on a temporary evaluator over `keys` and disposes it afterwards. */
export function withEvaluator<R>(keys: CkksKeySet, fn: (ev: CkksEvaluator) => R): R {
  const ev = new CkksEvaluator(keys, false);
  try {
    return scope(() => fn(ev), 'evaluate');
  } finally {
    ev.dispose();
  }
}
