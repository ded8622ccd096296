/**
 * @module crypto/fdhope/key
 * FDHOPE keys (spec/crypto.md §3.1): two chains of intervals, `messagespace[i] = [lo_i, hi_i]`
 * and `cipherspace[i] = [clo_i, chi_i]`, `RANGE_0 … RANGE_{n−1}`. Validation, the upstream-like
 * JSON form `{messagespace: {RANGE_0: [lo, hi], …}, cipherspace: {…}}`, and a per-key cache of
 * the constants encryption needs.
 */
import { AppError } from '../../errors';
import { tryParseJson } from '../../json';

export interface FdhopeKey {
  readonly messagespace: readonly (readonly [number, number])[];
  readonly cipherspace: readonly (readonly [number, number])[];
}

/** At most 10 ranges, so `RANGE_i` names sort lexicographically in numeric order (§3.1). */
export const FDHOPE_MAX_RANGES = 10;

/** Constants for encryption: per range lower bounds, upper bounds, cipher lower bounds, slopes. */
export interface CompiledFdhopeKey {
  readonly n: number;
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  readonly clo: Float64Array;
  /** `(chi − clo)/(hi − lo)`, as upstream computes it. */
  readonly scale: Float64Array;
}

const compiled = new WeakMap<object, CompiledFdhopeKey>();

function invalid(message: string): AppError {
  return new AppError('INVALID_KEY', `FDHOPE key: ${message}`, {
    userMessage: 'The FDHOPE key is malformed. Generate a new key for this dataset.',
  });
}

function readPairs(x: unknown, name: string): [number, number][] {
  if (!Array.isArray(x)) throw invalid(`${name} must be an array of [lo, hi] pairs`);
  return x.map((p: unknown, i) => {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'number' || typeof p[1] !== 'number' || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
      throw invalid(`${name}[${i}] must be a pair of finite numbers`);
    }
    return [p[0], p[1]];
  });
}

/**
 * Checks the structure of an FDHOPE key and returns it frozen. A key must have 1…10 ranges; both
 * chains must be contiguous (`hi_i = lo_{i+1}`); message ranges non-empty or degenerate
 * (`lo ≤ hi`, the last one `lo < hi`); cipher ranges of positive width starting at ≥ 0, so that
 * encryption is increasing and keeps the sign. Upstream keys hit by bug C3 (a negative last
 * cipher width, spec/crypto.md §3.6) are rejected: they invert order.
 *
 * @throws AppError INVALID_KEY naming the first problem (never the bounds themselves).
 */
export function validateKey(key: unknown): FdhopeKey {
  if (typeof key !== 'object' || key === null) throw invalid('key must be an object');
  const k = key as Record<string, unknown>;
  const ms = readPairs(k.messagespace, 'messagespace');
  const cs = readPairs(k.cipherspace, 'cipherspace');
  const n = ms.length;
  if (n < 1 || n > FDHOPE_MAX_RANGES) throw invalid(`must have 1 to ${FDHOPE_MAX_RANGES} ranges`);
  if (cs.length !== n) throw invalid('messagespace and cipherspace must have the same number of ranges');
  if (ms[0][0] < 0) throw invalid('messagespace must start at a value ≥ 0');
  if (cs[0][0] < 0) throw invalid('cipherspace must start at a value ≥ 0');
  for (let i = 0; i < n; i++) {
    if (!(ms[i][0] <= ms[i][1])) throw invalid(`messagespace RANGE_${i} has lo > hi`);
    if (!(cs[i][0] < cs[i][1])) throw invalid(`cipherspace RANGE_${i} must have positive width`);
    if (i + 1 < n && (ms[i][1] !== ms[i + 1][0] || cs[i][1] !== cs[i + 1][0])) throw invalid(`RANGE_${i} and RANGE_${i + 1} are not contiguous`);
  }
  if (!(ms[n - 1][0] < ms[n - 1][1])) throw invalid('the last message range must have positive width');
  const frozen = (pairs: [number, number][]) => Object.freeze(pairs.map((p) => Object.freeze([p[0], p[1]] as const)));
  if (isDeepFrozen(k)) return key as FdhopeKey;
  return Object.freeze({ messagespace: frozen(ms), cipherspace: frozen(cs) });
}

function isDeepFrozen(k: Record<string, unknown>): boolean {
  const deep = (x: unknown) => Array.isArray(x) && Object.isFrozen(x) && x.every((p) => Object.isFrozen(p));
  return Object.isFrozen(k) && deep(k.messagespace) && deep(k.cipherspace);
}

/** Validated constants of a key, cached for deeply frozen keys. @throws AppError INVALID_KEY */
export function compileKey(key: unknown): CompiledFdhopeKey {
  if (typeof key === 'object' && key !== null) {
    const hit = compiled.get(key);
    if (hit) return hit;
  }
  const k = validateKey(key);
  const n = k.messagespace.length;
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  const clo = new Float64Array(n);
  const scale = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const [l, h] = k.messagespace[i];
    const [cl, ch] = k.cipherspace[i];
    lo[i] = l;
    hi[i] = h;
    clo[i] = cl;
    scale[i] = (ch - cl) / (h - l);
  }
  const c: CompiledFdhopeKey = Object.freeze({ n, lo, hi, clo, scale });
  if (k === key) compiled.set(k, c);
  return c;
}

const rangeName = (i: number) => `RANGE_${i}`;

/** Upstream-like JSON: `{"messagespace":{"RANGE_0":[lo,hi],…},"cipherspace":{…}}` (exact doubles). */
export function serialize(key: FdhopeKey): string {
  const k = validateKey(key);
  const obj = (pairs: readonly (readonly [number, number])[]) => Object.fromEntries(pairs.map((p, i) => [rangeName(i), [p[0], p[1]]]));
  return JSON.stringify({ messagespace: obj(k.messagespace), cipherspace: obj(k.cipherspace) });
}

/**
 * Parses `serialize`'s output (or an upstream key written the same way) and validates it.
 *
 * @throws AppError INVALID_KEY
 */
export function deserialize(json: string): FdhopeKey {
  if (typeof json !== 'string') throw invalid('serialized key must be a string');
  const parsed = tryParseJson(json);
  if (parsed === undefined) throw invalid('serialized key is not valid JSON');
  if (typeof parsed !== 'object' || parsed === null) throw invalid('serialized key must be a JSON object');
  const p = parsed as Record<string, unknown>;
  const ranges = (x: unknown, name: string): unknown[] => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw invalid(`${name} must be an object of RANGE_i entries`);
    const names = Object.keys(x);
    if (names.length < 1 || names.length > FDHOPE_MAX_RANGES) throw invalid(`${name} must have 1 to ${FDHOPE_MAX_RANGES} ranges`);
    return names.map((_, i) => {
      if (!Object.prototype.hasOwnProperty.call(x, rangeName(i))) throw invalid(`${name} must name its ranges RANGE_0 … RANGE_${names.length - 1}`);
      return (x as Record<string, unknown>)[rangeName(i)];
    });
  };
  return validateKey({ messagespace: ranges(p.messagespace, 'messagespace'), cipherspace: ranges(p.cipherspace, 'cipherspace') });
}
