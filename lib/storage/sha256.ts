/**
 * @module storage/sha256
 * SHA-256 as lowercase hex through WebCrypto (`crypto.subtle.digest`), the form MictlanX uses for
 * `checksum` and `full_checksum` (spec/mictlanx.md §5.3). Isomorphic: browsers (secure contexts,
 * which include http://localhost and http://127.0.0.1), workers and Node 22 all expose it.
 */
import { AppError } from '../errors';

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) {
    throw new AppError('INTERNAL', 'crypto.subtle is unavailable', {
      userMessage: 'This page is not a secure context, so checksums cannot be computed. Open the app over https or from localhost.',
    });
  }
  return s;
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += bytes[i].toString(16).padStart(2, '0');
  return s;
}

/**
 * Bytes of a hex string (whitespace not allowed).
 * @throws AppError INVALID_ARGUMENT on odd length or non-hex characters
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new AppError('INVALID_ARGUMENT', 'not a hex string');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** SHA-256 of `bytes` as 64 lowercase hex characters. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // WebCrypto wants an ArrayBuffer-backed view; copy only when the view sits on a SharedArrayBuffer.
  const input = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
  return toHex(new Uint8Array(await subtle().digest('SHA-256', input)));
}

/** SHA-256 of the concatenation of `parts`, in order. */
export async function sha256HexOfParts(parts: readonly Uint8Array[]): Promise<string> {
  if (parts.length === 1) return sha256Hex(parts[0]);
  return sha256Hex(concatBytes(parts));
}

/** Concatenates byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
