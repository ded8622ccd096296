/**
 * @module crypto/ckks/params
 * CKKS parameter sets of Rory's `Ckks.SECURITY_LEVELS` (spec/crypto.md §5.1). Rory clustering uses
 * mode `default`, level 128: N = 8192, scale 2^40, coefficient moduli [60, 40, 40, 60] bits.
 * The last modulus is SEAL's special (key-switching) prime; the others form the rescaling chain.
 */
import { AppError } from '../../errors';

export type CkksMode = 'default' | 'ml';
export type CkksSecurityLevel = 128 | 192 | 256;

export interface CkksParams {
  /** Polynomial modulus degree N; the number of slots is N/2. */
  readonly polyModulusDegree: number;
  /** Encoding scale = 2^scaleBits. */
  readonly scaleBits: number;
  /** Bit sizes of the coefficient moduli q0..qL (the last one is the special prime). */
  readonly coeffModulusBits: readonly number[];
  /** SEAL's security check (HomomorphicEncryption.org tables, classical). */
  readonly securityLevel: CkksSecurityLevel;
}

/** Scale of Rory's default parameters, in bits. */
export const CKKS_SCALE_BITS = 40;

function params(polyModulusDegree: number, scaleBits: number, coeffModulusBits: number[], securityLevel: CkksSecurityLevel): CkksParams {
  return Object.freeze({ polyModulusDegree, scaleBits, coeffModulusBits: Object.freeze(coeffModulusBits), securityLevel });
}

const ML_BITS = [60, 40, 40, 40, 40, 40, 40, 40, 60];

/** `CKKS_PARAMS[mode][level]`, as in spec/crypto.md §5.1. */
export const CKKS_PARAMS: Readonly<Record<CkksMode, Readonly<Record<CkksSecurityLevel, CkksParams>>>> = Object.freeze({
  default: Object.freeze({
    128: params(8192, 40, [60, 40, 40, 60], 128),
    192: params(16384, 40, [60, 40, 40, 40, 60], 192),
    256: params(32768, 60, [60, 50, 50, 50, 60], 256),
  }),
  ml: Object.freeze({
    128: params(16384, 40, [...ML_BITS], 128),
    192: params(32768, 40, [...ML_BITS], 192),
    256: params(32768, 40, [...ML_BITS], 256),
  }),
});

/** Rory clustering's parameters: mode `default`, level 128. */
export const CKKS_DEFAULT_PARAMS: CkksParams = CKKS_PARAMS.default[128];

/** Looks up a parameter set; throws on an unknown mode or level. */
export function ckksParams(mode: CkksMode = 'default', level: CkksSecurityLevel = 128): CkksParams {
  const byLevel = (CKKS_PARAMS as Record<string, Record<number, CkksParams> | undefined>)[mode];
  const p = byLevel?.[level];
  if (p === undefined) throw new AppError('INVALID_ARGUMENT', `unknown CKKS parameter set ${String(mode)}/${String(level)}`);
  return p;
}

/** The name of a known parameter set, e.g. `default-128`, or undefined for custom parameters. */
export function ckksParamSetName(p: CkksParams): string | undefined {
  for (const mode of ['default', 'ml'] as const) {
    for (const level of [128, 192, 256] as const) {
      const q = CKKS_PARAMS[mode][level];
      if (
        q.polyModulusDegree === p.polyModulusDegree &&
        q.scaleBits === p.scaleBits &&
        q.securityLevel === p.securityLevel &&
        q.coeffModulusBits.length === p.coeffModulusBits.length &&
        q.coeffModulusBits.every((b, i) => b === p.coeffModulusBits[i])
      ) {
        return `${mode}-${level}`;
      }
    }
  }
  return undefined;
}

/** Structural checks; SEAL itself then checks security and prime availability. */
export function assertCkksParams(p: CkksParams): void {
  const n = p.polyModulusDegree;
  if (!Number.isInteger(n) || n < 1024 || n > 32768 || (n & (n - 1)) !== 0) {
    throw new AppError('INVALID_ARGUMENT', 'polyModulusDegree must be a power of two in [1024, 32768]');
  }
  if (!Array.isArray(p.coeffModulusBits) || p.coeffModulusBits.length < 2 || p.coeffModulusBits.length > 64) {
    throw new AppError('INVALID_ARGUMENT', 'coeffModulusBits must list 2..64 bit sizes');
  }
  for (const b of p.coeffModulusBits) {
    if (!Number.isInteger(b) || b < 17 || b > 60) throw new AppError('INVALID_ARGUMENT', 'each coefficient modulus must have 17..60 bits');
  }
  if (!Number.isInteger(p.scaleBits) || p.scaleBits < 1 || p.scaleBits > 120) {
    throw new AppError('INVALID_ARGUMENT', 'scaleBits must be an integer in [1, 120]');
  }
  if (p.securityLevel !== 128 && p.securityLevel !== 192 && p.securityLevel !== 256) {
    throw new AppError('INVALID_ARGUMENT', 'securityLevel must be 128, 192 or 256');
  }
}
