/**
 * @module crypto/ckks/pyfhel
 * Byte layout of Pyfhel 3.5 key files (spec/crypto.md §5.1, vectors/ckks-pyfhel/README.md).
 *
 * `ctx` = Pyfhel prefix + SEAL `EncryptionParameters` blob. The prefix, little-endian:
 * `int32 sec`, `u64 qi_len`, `int32 × qi_len qi_sizes`, `f64 scale` (12 + 4·qi_len + 8 bytes).
 * `pubkey`, `secretkey`, `relinkey`, `rotatekey` and ciphertexts are bare SEAL blobs.
 *
 * Our own serialized context uses the same layout, so a key set exported here loads in Pyfhel
 * (`HE.load_context`, `load_public_key`, …) and vice versa. Pure byte functions, no SEAL.
 */
import { AppError } from '../../errors';
import { hasSealMagic, parseSealHeader } from './header';

/** Pyfhel's key file names (`scripts/keygen.py`, Rory's `KEYS_PATH`). */
export const PYFHEL_FILE_NAMES = ['ctx', 'pubkey', 'secretkey', 'relinkey', 'rotatekey'] as const;
export type PyfhelFileName = (typeof PYFHEL_FILE_NAMES)[number];

/** Key material in Pyfhel's file layout, one entry per file. */
export interface PyfhelKeyFiles {
  readonly ctx: Uint8Array;
  readonly pubkey: Uint8Array;
  readonly secretkey?: Uint8Array;
  readonly relinkey?: Uint8Array;
  readonly rotatekey?: Uint8Array;
}

export interface PyfhelContextPrefix {
  /** Pyfhel's `sec`: 128, 192 or 256 (0 = no security check, rejected here). */
  readonly securityLevel: 128 | 192 | 256;
  /** Bit sizes of the coefficient moduli, as passed to `contextGen(qi_sizes=…)`. */
  readonly qiSizes: readonly number[];
  /** Default encoding scale (`HE.scale`). */
  readonly scale: number;
}

const MAX_QI = 64;

function invalid(reason: string): AppError {
  return new AppError('SEAL_ERROR', `not a Pyfhel CKKS context: ${reason}`, {
    userMessage: 'The CKKS context file is corrupt or not a Pyfhel CKKS context.',
    details: { operation: 'read context' },
  });
}

/** Length of the Pyfhel prefix for `qiLen` moduli. */
export function pyfhelPrefixLength(qiLen: number): number {
  return 12 + 4 * qiLen + 8;
}

/**
 * Splits a Pyfhel `ctx` file into its prefix and the bare SEAL `EncryptionParameters` blob
 * (a subarray view, not a copy).
 * @throws AppError('SEAL_ERROR') when the layout is not Pyfhel's.
 */
export function parsePyfhelContext(bytes: Uint8Array): { prefix: PyfhelContextPrefix; sealParameters: Uint8Array } {
  if (!(bytes instanceof Uint8Array)) throw new AppError('INVALID_ARGUMENT', 'ctx must be a Uint8Array');
  if (bytes.length < 12) throw invalid('too short');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sec = dv.getInt32(0, true);
  if (sec !== 128 && sec !== 192 && sec !== 256) throw invalid(`unsupported security level ${sec}`);
  const qiLenBig = dv.getBigUint64(4, true);
  if (qiLenBig < 2n || qiLenBig > BigInt(MAX_QI)) throw invalid('bad number of moduli');
  const qiLen = Number(qiLenBig);
  const prefixLen = pyfhelPrefixLength(qiLen);
  if (bytes.length < prefixLen + 16) throw invalid('too short');
  const qiSizes: number[] = [];
  for (let i = 0; i < qiLen; i++) {
    const q = dv.getInt32(12 + 4 * i, true);
    if (q < 1 || q > 60) throw invalid('bad modulus size');
    qiSizes.push(q);
  }
  const scale = dv.getFloat64(12 + 4 * qiLen, true);
  if (!Number.isFinite(scale) || scale < 1) throw invalid('bad scale');
  const sealParameters = bytes.subarray(prefixLen);
  if (!hasSealMagic(sealParameters)) throw invalid('no SEAL parameters after the prefix');
  parseSealHeader(sealParameters, 'context');
  return { prefix: { securityLevel: sec, qiSizes: Object.freeze(qiSizes), scale }, sealParameters };
}

/** Builds a Pyfhel `ctx` file from its prefix fields and a SEAL `EncryptionParameters` blob. */
export function encodePyfhelContext(prefix: PyfhelContextPrefix, sealParameters: Uint8Array): Uint8Array {
  parseSealHeader(sealParameters, 'context');
  const n = prefix.qiSizes.length;
  const prefixLen = pyfhelPrefixLength(n);
  const out = new Uint8Array(prefixLen + sealParameters.length);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, prefix.securityLevel, true);
  dv.setBigUint64(4, BigInt(n), true);
  prefix.qiSizes.forEach((q, i) => dv.setInt32(12 + 4 * i, q, true));
  dv.setFloat64(12 + 4 * n, prefix.scale, true);
  out.set(sealParameters, prefixLen);
  return out;
}
