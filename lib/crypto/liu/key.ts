/**
 * @module crypto/liu/key
 * Liu secret keys as Rory's newest core defines them (spec/crypto.md §2.1, §2.2): `m` triples
 * `(k_i, s_i, t_i)` of `nbits`-bit integers, with `(m, nbits)` fixed by the "security level".
 * Keys come from a CSPRNG and are re-drawn until they can decrypt (D5): `k_i ≠ 0` for `i < m−1`,
 * `T = Σ_{i<m−1} t_i ≠ 0` and `K = k_{m−1} + s_{m−1} + t_{m−1} ≠ 0`.
 *
 * The level is a historical label (3·m·nbits key bits), not a security level: see §2.8.
 */
import { AppError } from '../../errors';
import { randomBits, secureRandomBytes, type RandomBytes } from '../random';

export type LiuLevel = 128 | 192 | 256;

/** Security level → `(m, nbits)` (spec/crypto.md §2.1, upstream `SECURITY_LEVELS`). */
export const LIU_LEVELS: Readonly<Record<LiuLevel, { readonly m: number; readonly nbits: number }>> = Object.freeze({
  128: Object.freeze({ m: 3, nbits: 15 }),
  192: Object.freeze({ m: 4, nbits: 16 }),
  256: Object.freeze({ m: 6, nbits: 15 }),
});

/** Upstream client default (`LIU_SECURITY_LEVEL`, D6). */
export const LIU_DEFAULT_LEVEL: LiuLevel = 128;

export interface LiuSecretKey {
  readonly level: LiuLevel;
  readonly m: number;
  readonly nbits: number;
  readonly triples: readonly (readonly [number, number, number])[];
}

/**
 * Precomputed per-key constants, kept out of the public key object. Every product listed here is
 * an exact integer below 2^53, so precomputing it does not change any rounding.
 */
export interface CompiledLiuKey {
  readonly m: number;
  readonly k: Float64Array;
  readonly s: Float64Array;
  /** `k_i · t_i`. */
  readonly kt: Float64Array;
  /** `k_{m−1} + s_{m−1} + t_{m−1}`. */
  readonly K: number;
  /** `Σ_{i<m−1} t_i`. */
  readonly T: number;
}

const compiled = new WeakMap<object, CompiledLiuKey>();

export function isLiuLevel(x: unknown): x is LiuLevel {
  return x === 128 || x === 192 || x === 256;
}

/** Whether the triples satisfy the decryptability conditions of §2.2. */
function decryptable(triples: readonly (readonly [number, number, number])[]): boolean {
  const m = triples.length;
  let T = 0;
  for (let i = 0; i < m - 1; i++) {
    if (triples[i][0] === 0) return false;
    T += triples[i][2];
  }
  const last = triples[m - 1];
  return T !== 0 && last[0] + last[1] + last[2] !== 0;
}

function freezeKey(level: LiuLevel, triples: (readonly [number, number, number])[]): LiuSecretKey {
  const { m, nbits } = LIU_LEVELS[level];
  return Object.freeze({ level, m, nbits, triples: Object.freeze(triples.map((t) => Object.freeze([t[0], t[1], t[2]] as const))) });
}

/**
 * Draws a fresh key from `rb` (default: WebCrypto), re-drawing until it is decryptable.
 *
 * @throws AppError INVALID_ARGUMENT if `level` is not 128, 192 or 256.
 * @example const sk = liu.keygen(128);
 */
export function keygen(level: LiuLevel = LIU_DEFAULT_LEVEL, rb: RandomBytes = secureRandomBytes): LiuSecretKey {
  if (!isLiuLevel(level)) throw new AppError('INVALID_ARGUMENT', 'level must be 128, 192 or 256');
  if (typeof rb !== 'function') throw new AppError('INVALID_ARGUMENT', 'rb must be a RandomBytes function');
  const { m, nbits } = LIU_LEVELS[level];
  for (;;) {
    const triples: (readonly [number, number, number])[] = [];
    for (let i = 0; i < m; i++) triples.push([randomBits(rb, nbits), randomBits(rb, nbits), randomBits(rb, nbits)]);
    if (decryptable(triples)) return freezeKey(level, triples);
  }
}

function invalid(message: string): AppError {
  return new AppError('INVALID_KEY', `Liu key: ${message}`, {
    userMessage: 'The Liu key is malformed or cannot decrypt. Generate or restore a valid key.',
  });
}

/**
 * Checks that `key` is a well-formed, decryptable Liu key (e.g. one read back from storage) and
 * returns it as a frozen `LiuSecretKey`. Never echoes key material. Keys that are not deeply
 * frozen (e.g. structured clones from IndexedDB or postMessage) are re-validated on every call;
 * validate once and reuse the returned key to skip that.
 *
 * @throws AppError INVALID_KEY naming the first problem.
 */
export function validateKey(key: unknown): LiuSecretKey {
  if (typeof key !== 'object' || key === null) throw invalid('key must be an object');
  const { level, m, nbits, triples } = key as Record<string, unknown>;
  if (!isLiuLevel(level)) throw invalid('level must be 128, 192 or 256');
  const p = LIU_LEVELS[level];
  if (m !== p.m) throw invalid(`m must be ${p.m} for level ${level}`);
  if (nbits !== p.nbits) throw invalid(`nbits must be ${p.nbits} for level ${level}`);
  if (!Array.isArray(triples) || triples.length !== p.m) throw invalid(`triples must be an array of ${p.m} triples`);
  const limit = 2 ** p.nbits;
  const out: (readonly [number, number, number])[] = [];
  for (let i = 0; i < triples.length; i++) {
    const t: unknown = triples[i];
    if (!Array.isArray(t) || t.length !== 3) throw invalid(`triples[${i}] must have 3 components`);
    for (const c of t) {
      if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c >= limit) {
        throw invalid(`triples[${i}] components must be integers in [0, 2^${p.nbits})`);
      }
    }
    out.push([t[0], t[1], t[2]]);
  }
  if (!decryptable(out)) throw invalid('key cannot decrypt (k_i = 0, T = 0 or K = 0)');
  if (Object.isFrozen(key) && Object.isFrozen(triples) && triples.every((t) => Object.isFrozen(t))) return key as LiuSecretKey;
  return freezeKey(level, out);
}

/**
 * The precomputed constants of a key, validating it on first use (keys are frozen, so the cache
 * cannot go stale).
 *
 * @throws AppError INVALID_KEY
 */
export function compileKey(key: unknown): CompiledLiuKey {
  if (typeof key === 'object' && key !== null) {
    const hit = compiled.get(key);
    if (hit) return hit;
  }
  const sk = validateKey(key);
  const m = sk.m;
  const k = new Float64Array(m);
  const s = new Float64Array(m);
  const kt = new Float64Array(m);
  let T = 0;
  for (let i = 0; i < m; i++) {
    const [ki, si, ti] = sk.triples[i];
    k[i] = ki;
    s[i] = si;
    kt[i] = ki * ti;
    if (i < m - 1) T += ti;
  }
  const [kl, sl, tl] = sk.triples[m - 1];
  const c: CompiledLiuKey = Object.freeze({ m, k, s, kt, K: kl + sl + tl, T });
  // Only deeply frozen keys are cached (validateKey returns those unchanged); a mutable key object
  // is re-validated on every call so a later mutation cannot bypass the checks.
  if (sk === key) compiled.set(sk, c);
  return c;
}
