/**
 * @module crypto/ckks/seal
 * The one place that touches node-seal 7 (Microsoft SEAL 4.1 compiled to WASM), spec/crypto.md §5.
 *
 * - `loadSeal(options)` initialises the WASM module once (a memoised promise). The browser worker
 *   passes its own init options (e.g. `{ locateFile: undefined }` so the bundler's URL is used).
 * - `scope(fn)` runs synchronous SEAL code and deletes every object tracked in it, even on throw.
 *   Classes that keep SEAL objects alive own a `SealScope` and dispose it in `dispose()`.
 *
 * SEAL objects live on the WASM heap; the JS garbage collector does not see their size, so every
 * object is deleted explicitly. We import `node-seal/throws`, which refuses transparent ciphertexts.
 *
 * Randomness: SEAL draws keys and encryption noise from its own Blake2 PRNG, seeded through
 * emscripten's `getentropy`, i.e. `crypto.getRandomValues` (D5). node-seal offers no way to inject
 * a generator, so the CKKS functions take no `rng` argument.
 */
import type { InitializeOptions, MainModule } from 'node-seal/throws';
import { AppError } from '../../errors';
import { toSealError } from './errors';

/** The initialised node-seal module. */
export type Seal = MainModule;
/** Options forwarded to the emscripten module factory (e.g. `locateFile`). */
export type SealInitOptions = InitializeOptions;

/** Anything SEAL allocated that must be deleted. */
export interface SealObject {
  delete(): void;
  isDeleted(): boolean;
}

let sealPromise: Promise<Seal> | undefined;

/**
 * Loads and initialises SEAL once. Later calls return the same instance; their options are ignored
 * once loading has started. A failed load is not cached, so the caller may retry.
 * @throws AppError('SEAL_ERROR') when the WASM module cannot be fetched or compiled.
 */
export function loadSeal(options?: SealInitOptions): Promise<Seal> {
  if (sealPromise === undefined) {
    const pending = (async () => {
      const mod = await import('node-seal/throws');
      return mod.default(options ?? {});
    })();
    sealPromise = pending.catch((e: unknown) => {
      sealPromise = undefined;
      throw new AppError('SEAL_ERROR', `could not initialise SEAL: ${describe(e)}`, {
        userMessage: 'The CKKS engine (WebAssembly) could not be loaded. Reload the page; if it persists, check that the browser allows WebAssembly.',
        cause: e,
      });
    });
  }
  return sealPromise;
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/**
 * Owns SEAL objects and deletes them together. `track` registers an object; `release` hands one
 * back to the caller (it is then no longer deleted by this scope).
 */
export class SealScope {
  readonly #owned = new Set<SealObject>();
  #closed = false;

  /** Registers `obj` for deletion and returns it. */
  track<T extends SealObject>(obj: T): T {
    if (this.#closed) {
      obj.delete();
      throw new AppError('INTERNAL', 'SEAL scope already disposed');
    }
    this.#owned.add(obj);
    return obj;
  }

  /** Removes `obj` from this scope without deleting it; the caller now owns it. */
  release<T extends SealObject>(obj: T): T {
    this.#owned.delete(obj);
    return obj;
  }

  /** True when this scope owns `obj`. */
  owns(obj: SealObject): boolean {
    return this.#owned.has(obj);
  }

  /** Deletes `obj` now (if this scope owns it). */
  free(obj: SealObject): void {
    if (this.#owned.delete(obj) && !obj.isDeleted()) obj.delete();
  }

  /** Number of objects currently owned (for leak tests). */
  get size(): number {
    return this.#owned.size;
  }

  get disposed(): boolean {
    return this.#closed;
  }

  /** Deletes every owned object, newest first. Idempotent. */
  dispose(): void {
    const all = [...this.#owned].reverse();
    this.#owned.clear();
    this.#closed = true;
    for (const obj of all) {
      if (!obj.isDeleted()) obj.delete();
    }
  }
}

/**
 * Runs `fn` with a fresh scope and deletes everything tracked in it afterwards. Errors thrown by
 * SEAL are mapped to `AppError('SEAL_ERROR')`, naming `operation`. `fn` must be synchronous (SEAL
 * calls are), and it must not return a tracked object (release it first).
 *
 * @example
 * const slots = scope((s) => s.track(new seal.CKKSEncoder(ctx)).slotCount(), 'slot count');
 */
export function scope<R>(fn: (s: SealScope) => R, operation = 'operation'): R {
  const s = new SealScope();
  try {
    const result = fn(s);
    if (result instanceof Promise) {
      result.catch(() => undefined); // its objects are deleted below; do not leave an unhandled rejection
      throw new AppError('INTERNAL', 'SEAL scope callbacks must be synchronous');
    }
    return result;
  } catch (e) {
    throw toSealError(e, operation);
  } finally {
    s.dispose();
  }
}

/** Runs `fn`, mapping anything SEAL throws to `AppError('SEAL_ERROR')`. */
export function guard<R>(operation: string, fn: () => R): R {
  try {
    return fn();
  } catch (e) {
    throw toSealError(e, operation);
  }
}
