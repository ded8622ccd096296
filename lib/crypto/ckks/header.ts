/**
 * @module crypto/ckks/header
 * The 16-byte SEAL serialization header (SEAL 4.x `SEALHeader`; vectors/ckks-pyfhel/README.md):
 * `u16 magic 0xA15E`, `u8 header_size 16`, `u8 major 4`, `u8 minor`, `u8 compr_mode`
 * (0 none, 1 zlib, 2 zstd), `u16 reserved 0`, `u64 total_size` (header included), little-endian.
 *
 * We check it before handing bytes to SEAL, so garbage gets a clear error instead of a WASM
 * exception, and so the compression mode of stored objects can be reported (Pyfhel's
 * `to_bytes()` writes uncompressed ciphertexts, its `save_*` functions zstd; spec/protocol.md §7.3).
 */
import { AppError } from '../../errors';

export type CkksCompression = 'none' | 'zlib' | 'zstd';

export const SEAL_HEADER_BYTES = 16;
export const SEAL_MAGIC = 0xa15e;

const COMPRESSION_BY_CODE: readonly CkksCompression[] = ['none', 'zlib', 'zstd'];

export interface SealHeader {
  readonly major: number;
  readonly minor: number;
  readonly compression: CkksCompression;
  /** Total serialized size, header included. */
  readonly size: number;
}

/** True when `bytes` starts with the SEAL magic (`5E A1`). */
export function hasSealMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x5e && bytes[1] === 0xa1;
}

/**
 * Parses and validates a SEAL header.
 * @param what names the object in error messages (e.g. `'ciphertext'`).
 * @param exact require `total_size` to equal `bytes.length` (default true).
 * @throws AppError('SEAL_ERROR') when the bytes are not a SEAL 4.x object.
 */
export function parseSealHeader(bytes: Uint8Array, what: string, exact = true): SealHeader {
  if (!(bytes instanceof Uint8Array)) throw new AppError('INVALID_ARGUMENT', `${what} must be a Uint8Array`);
  const corrupt = (reason: string) =>
    new AppError('SEAL_ERROR', `${what} is not a SEAL object: ${reason}`, {
      userMessage: `The CKKS ${what} is corrupt or not a CKKS object.`,
      details: { operation: `read ${what}` },
    });
  if (bytes.length < SEAL_HEADER_BYTES) throw corrupt(`only ${bytes.length} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint16(0, true) !== SEAL_MAGIC) throw corrupt('bad magic');
  if (bytes[2] !== SEAL_HEADER_BYTES) throw corrupt('bad header size');
  const major = bytes[3];
  const minor = bytes[4];
  if (major !== 4) throw corrupt(`unsupported SEAL version ${major}.${minor}`);
  const compression = COMPRESSION_BY_CODE[bytes[5]];
  if (compression === undefined) throw corrupt(`unknown compression mode ${bytes[5]}`);
  if (dv.getUint16(6, true) !== 0) throw corrupt('reserved field is not zero');
  const size = Number(dv.getBigUint64(8, true));
  if (size < SEAL_HEADER_BYTES) throw corrupt('size field too small');
  if (exact ? size !== bytes.length : size > bytes.length) {
    throw corrupt(`size field says ${size} bytes, got ${bytes.length}`);
  }
  return { major, minor, compression, size };
}

/** SEAL's numeric compression code for a mode. */
export function compressionCode(c: CkksCompression): 0 | 1 | 2 {
  const i = COMPRESSION_BY_CODE.indexOf(c);
  if (i < 0) throw new AppError('INVALID_ARGUMENT', `compression must be one of ${COMPRESSION_BY_CODE.join(', ')}`);
  return i as 0 | 1 | 2;
}
