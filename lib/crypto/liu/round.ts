/**
 * @module crypto/liu/round
 * Python's `round(x, ndigits)` on float64 (round half to even on the exact binary value), used by
 * the optional `LIU_ROUND` / `LIU_DECIMALS` behaviour (spec/crypto.md §2.1: off by default; when
 * on, the plaintext is rounded before encryption and the decrypted value after decryption).
 */
import { AppError } from '../../errors';

/** Options shared by Liu encryption and decryption. */
export interface LiuRoundOptions {
  /** Round to `decimals` places (upstream `_round`, client `LIU_ROUND`). Default false. */
  readonly round?: boolean;
  /** Decimal places when rounding (client `LIU_DECIMALS`). Default 6. */
  readonly decimals?: number;
}

export const LIU_DEFAULT_DECIMALS = 6;

/** The number of decimals to round to, or -1 when rounding is off. Validates the options. */
export function roundingDecimals(opts: LiuRoundOptions | undefined): number {
  if (opts === undefined) return -1;
  if (typeof opts !== 'object' || opts === null) throw new AppError('INVALID_ARGUMENT', 'opts must be an object');
  if (opts.round !== undefined && typeof opts.round !== 'boolean') throw new AppError('INVALID_ARGUMENT', 'opts.round must be a boolean');
  const d = opts.decimals ?? LIU_DEFAULT_DECIMALS;
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 20) {
    throw new AppError('INVALID_ARGUMENT', 'opts.decimals must be an integer in [0, 20]');
  }
  return opts.round ? d : -1;
}

/**
 * `round(x, decimals)` as Python computes it for a float: the decimal with `decimals` places
 * nearest to the exact value of `x`, ties to even, as a float64. Non-finite values and values of
 * magnitude ≥ 1e21 (all integers) are returned unchanged.
 */
export function pythonRound(x: number, decimals: number): number {
  if (!Number.isFinite(x)) return x;
  const a = Math.abs(x);
  if (a >= 1e21) return x;
  // toFixed rounds the exact binary value, ties away from zero; only exact ties need fixing.
  let s = a.toFixed(decimals);
  const scaled = a * 10 ** decimals;
  if (Math.abs(scaled - Math.floor(scaled) - 0.5) < 1e-6 && isExactTie(a, decimals)) {
    const last = s.charCodeAt(s.length - 1) - 48;
    // Away-from-zero gave an odd last digit: the even neighbour is one unit lower (no borrow).
    if (last % 2 === 1) s = s.slice(0, -1) + String(last - 1);
  }
  const r = Number(s);
  return x < 0 || Object.is(x, -0) ? -r : r;
}

/**
 * Whether the exact decimal expansion of `a` ends at place `decimals + 1` with the digit 5.
 * A tie needs `a ≥ 5·10^-(decimals+1) ≥ 5e-22`, so `a` has at most ~124 fractional bits and
 * differs from any non-equal tie by more than 1e-60: 100 places tell them apart.
 */
function isExactTie(a: number, decimals: number): boolean {
  const t = a.toFixed(100);
  const dot = t.indexOf('.');
  const digits = t.slice(dot + 1);
  if (digits[decimals] !== '5') return false;
  for (let i = decimals + 1; i < digits.length; i++) if (digits[i] !== '0') return false;
  return true;
}
