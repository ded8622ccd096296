/**
 * @module engine/self-test
 * A key's self-test, run through a `CryptoEngine` (so in the browser it exercises the real worker
 * pool): encrypt random values and decrypt them, reporting the largest error and the throughput.
 * For FDHOPE, which has no decryption, it checks that sorted values stay sorted (spec/crypto.md §3).
 *
 * The test values are random (crypto.getRandomValues) and never shown or stored.
 */
import type { KeyRecord } from '../keystore/types';
import { fillUniform, secureRandomBytes } from '../crypto/random';
import type { CallOptions, CryptoEngine } from './types';

export interface SelfTestResult {
  readonly scheme: KeyRecord['scheme'];
  /** Values encrypted. */
  readonly count: number;
  /** max |decrypted − original| (Liu, CKKS); NaN for FDHOPE. */
  readonly maxError: number;
  /** Tolerance the result was judged against. */
  readonly tolerance: number;
  readonly ok: boolean;
  readonly encryptMs: number;
  readonly decryptMs: number;
  /** Human-readable one-liner for the UI. */
  readonly summary: string;
}

/** Values are drawn uniformly from [−RANGE, RANGE). */
const RANGE = 1000;
/** CKKS values per row in the self-test (one ciphertext per row). */
const CKKS_COLS = 8;

export async function runSelfTest(engine: CryptoEngine, record: KeyRecord, count: number, opts: CallOptions = {}): Promise<SelfTestResult> {
  const n = Math.max(1, Math.floor(count));
  const plain = await randomValues(n);
  const now = () => performance.now();

  if (record.scheme === 'liu') {
    const t0 = now();
    const ct = await engine.liuEncrypt(record.id, plain, opts);
    const t1 = now();
    const back = await engine.liuDecrypt(record.id, ct, opts);
    const t2 = now();
    // Liu decrypts to within ~1e-12 relative (vectors/liu.json tolerances).
    return finish('liu', n, await maxAbsDiff(plain, back), 1e-12 * RANGE, t1 - t0, t2 - t1);
  }

  if (record.scheme === 'ckks') {
    const rows = Math.ceil(n / CKKS_COLS);
    const padded = new Float64Array(rows * CKKS_COLS);
    padded.set(plain);
    const t0 = now();
    // As jobs do: the owner's symmetric, seeded encryption (the public-key path is tested in unit tests).
    const cts = await engine.ckksEncryptRows(record.id, padded, CKKS_COLS, opts);
    const t1 = now();
    const back = await engine.ckksDecryptRows(record.id, cts, CKKS_COLS, opts);
    const t2 = now();
    // Fresh CKKS ciphertexts at scale 2^40 decrypt to within ~1e-6 for |x| ≤ 1000.
    return finish('ckks', n, await maxAbsDiff(padded, back), 1e-4, t1 - t0, t2 - t1);
  }

  plain.sort();
  const t0 = now();
  const ct = await engine.fdhopeEncrypt(record.id, plain, 0, opts);
  const t1 = now();
  let sorted = true;
  for (let i = 1; i < n; i++) if (ct[i] < ct[i - 1]) sorted = false;
  const ms = t1 - t0;
  return {
    scheme: 'fdhope',
    count: n,
    maxError: Number.NaN,
    tolerance: 0,
    ok: sorted,
    encryptMs: ms,
    decryptMs: 0,
    summary: `${sorted ? 'Order preserved' : 'ORDER BROKEN'} for ${n.toLocaleString('en')} values (FDHOPE has no decryption); ${rate(n, ms)}.`,
  };
}

function finish(scheme: 'liu' | 'ckks', n: number, maxError: number, tolerance: number, encryptMs: number, decryptMs: number): SelfTestResult {
  const ok = maxError <= tolerance;
  return {
    scheme,
    count: n,
    maxError,
    tolerance,
    ok,
    encryptMs,
    decryptMs,
    summary: `${ok ? 'OK' : 'FAILED'}: max error ${maxError.toExponential(2)} over ${n.toLocaleString('en')} values; encrypt ${rate(n, encryptMs)}, decrypt ${rate(n, decryptMs)}.`,
  };
}

/**
 * Main-thread work is done in slices with a yield in between, so a large self-test (the e2e test
 * uses 200 000 values) never makes a long task, even on a busy machine.
 */
const SLICE = 16384;
const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function randomValues(n: number): Promise<Float64Array> {
  const out = new Float64Array(n);
  for (let from = 0; from < n; from += SLICE) {
    const part = fillUniform(secureRandomBytes, out.subarray(from, Math.min(n, from + SLICE)));
    for (let i = 0; i < part.length; i++) part[i] = (part[i] * 2 - 1) * RANGE;
    if (from + SLICE < n) await pause();
  }
  return out;
}

async function maxAbsDiff(a: Float64Array, b: Float64Array): Promise<number> {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let from = 0; from < a.length; from += SLICE) {
    const to = Math.min(a.length, from + SLICE);
    for (let i = from; i < to; i++) {
      const d = Math.abs(a[i] - b[i]);
      if (!(d <= m)) m = d; // NaN propagates as a failure
    }
    if (to < a.length) await pause();
  }
  return m;
}

function rate(n: number, ms: number): string {
  const perS = ms > 0 ? (n / ms) * 1000 : Number.POSITIVE_INFINITY;
  return `${Number.isFinite(perS) ? Math.round(perS).toLocaleString('en') : '∞'} values/s`;
}
