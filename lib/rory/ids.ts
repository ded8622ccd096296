/**
 * @module rory/ids
 * Job-unique, MictlanX-safe ids (spec/protocol.md §3.7, §12.10). Rory storage keys carry no job
 * namespace (`encrypted{P}`, `{P}udm`, …), so every job needs its own `P`; MictlanX silently
 * mangles ids outside `[a-zA-Z0-9]+([-_][a-zA-Z0-9]+)*`, and chunk keys append `_i`, so the ids
 * made here are plain alphanumerics.
 */
import { AppError } from '../errors';
import { secureRandomBytes, type RandomBytes } from '../crypto/random';

/** What MictlanX accepts unchanged (spec/protocol.md §3.7). */
export const MICTLANX_SAFE_ID = /^[a-zA-Z0-9]+([a-zA-Z0-9]|[-_](?=[a-zA-Z0-9]))*$/;
const ALNUM = /^[A-Za-z0-9]+$/;
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
/** Longest `P` we emit: keeps `{P}encryptedshiftmatrix_NNN` well under any key limit. */
export const MAX_MATRIX_ID_LENGTH = 64;

/** `n` random base-36 characters (rejection sampling, no modulo bias). */
export function randomAlnum(n: number, rb: RandomBytes = secureRandomBytes): string {
  let out = '';
  const buf = new Uint8Array(Math.max(16, n * 2));
  while (out.length < n) {
    rb(buf);
    for (const b of buf) {
      if (b < 252 && out.length < n) out += ALPHABET[b % 36];
    }
  }
  return out;
}

/** A fresh job id, e.g. `job4k2x9q0ab7cd` (alphanumeric, 15 characters). */
export function newJobId(rb: RandomBytes = secureRandomBytes): string {
  return `job${randomAlnum(12, rb)}`;
}

/** Keeps only letters and digits of a name (at most 24 characters); empty when nothing is left. */
export function sanitizeName(name: string): string {
  return name.normalize('NFKD').replace(/[^A-Za-z0-9]/g, '').slice(0, 24);
}

/**
 * The Plaintext-Matrix-Id `P` of a job: an optional prefix + the job id, alphanumeric only. The
 * app passes no prefix (a dataset's name would reach every object key and header, issue #12);
 * tests and benches may name their objects. `matrixId('iris.csv', 'job4k2x9q0ab7cd')` →
 * `iriscsvjob4k2x9q0ab7cd`, `matrixId('', 'job4k2x9q0ab7cd')` → `job4k2x9q0ab7cd`.
 */
export function matrixId(datasetName: string, jobId: string): string {
  if (!ALNUM.test(jobId)) throw new AppError('INVALID_KEY_ID', 'job id must be alphanumeric');
  const p = `${sanitizeName(datasetName)}${jobId}`.slice(0, MAX_MATRIX_ID_LENGTH);
  assertMatrixId(p);
  return p;
}

/** Throws INVALID_KEY_ID unless `p` is safe as a Rory/MictlanX id root. */
export function assertMatrixId(p: string): void {
  if (typeof p !== 'string' || p.length === 0 || p.length > MAX_MATRIX_ID_LENGTH || !MICTLANX_SAFE_ID.test(p)) {
    throw new AppError('INVALID_KEY_ID', 'matrix id must be 1-64 letters/digits (optionally joined by single - or _)', {
      userMessage: 'The job id is not valid for MictlanX storage. Use letters and digits only.',
    });
  }
}
