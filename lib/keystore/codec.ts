/**
 * @module keystore/codec
 * Byte encodings the key store owns (style.md rule 7: our own versioned formats only on what we
 * store ourselves): a "parts" container that packs one JSON header and named binary blobs into a
 * single byte string, plus base64 helpers for the JSON backup envelope.
 *
 * Parts layout (all integers little-endian):
 * ```
 *   0  4 bytes  magic "RKP1" (format version 1)
 *   4  u32      header length H
 *   8  H bytes  UTF-8 JSON { json, blobs: [[name, byteLength], …] }
 * 8+H  …        the blobs, concatenated in header order
 * ```
 * Decoding validates every length against the buffer, so a truncated or foreign input is reported
 * as `null`, never as a partly filled result.
 */

const MAGIC = [0x52, 0x4b, 0x50, 0x31]; // "RKP1"
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

export interface Parts {
  readonly json: unknown;
  readonly blobs: Readonly<Record<string, Uint8Array>>;
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Packs a JSON value and named blobs into one byte string. */
export function encodeParts(json: unknown, blobs: Readonly<Record<string, Uint8Array>> = {}): Uint8Array<ArrayBuffer> {
  const names = Object.keys(blobs);
  const header = utf8.encode(JSON.stringify({ json, blobs: names.map((n) => [n, blobs[n].byteLength]) }));
  let total = 8 + header.byteLength;
  for (const n of names) total += blobs[n].byteLength;
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, header.byteLength, true);
  out.set(header, 8);
  let off = 8 + header.byteLength;
  for (const n of names) {
    out.set(blobs[n], off);
    off += blobs[n].byteLength;
  }
  return out;
}

/** Unpacks {@link encodeParts} output; `null` when the bytes are not a well-formed container. Blobs are copies. */
export function decodeParts(bytes: Uint8Array): Parts | null {
  if (bytes.byteLength < 8 || MAGIC.some((b, i) => bytes[i] !== b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(4, true);
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.byteLength) return null;
  let header: unknown;
  try {
    header = JSON.parse(utf8Strict.decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    return null;
  }
  if (typeof header !== 'object' || header === null || !Array.isArray((header as { blobs?: unknown }).blobs)) return null;
  const blobs: Record<string, Uint8Array> = {};
  let off = 8 + headerLength;
  for (const entry of (header as { blobs: unknown[] }).blobs) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Number.isSafeInteger(entry[1]) || entry[1] < 0) return null;
    const [name, length] = entry as [string, number];
    if (off + length > bytes.byteLength || name in blobs) return null;
    blobs[name] = bytes.slice(off, off + length);
    off += length;
  }
  if (off !== bytes.byteLength) return null;
  return { json: (header as { json?: unknown }).json, blobs };
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < B64.length; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

/** Standard base64 with padding (RFC 4648 §4). */
export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  const CHUNK = 3 * 8192;
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const end = Math.min(bytes.length, start + CHUNK);
    let s = '';
    let i = start;
    for (; i + 3 <= end; i += 3) {
      const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      s += B64[n >>> 18] + B64[(n >>> 12) & 63] + B64[(n >>> 6) & 63] + B64[n & 63];
    }
    if (i < end) {
      const rest = end - i;
      const n = (bytes[i] << 16) | (rest === 2 ? bytes[i + 1] << 8 : 0);
      s += B64[n >>> 18] + B64[(n >>> 12) & 63] + (rest === 2 ? B64[(n >>> 6) & 63] : '=') + '=';
    }
    parts.push(s);
  }
  return parts.join('');
}

/** Decodes strict standard base64 (padding required, no whitespace); `null` on any malformed input. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (typeof text !== 'string' || text.length % 4 !== 0) return null;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    const c0 = decodeChar(text, i);
    const c1 = decodeChar(text, i + 1);
    const c2 = last && pad === 2 ? 0 : decodeChar(text, i + 2);
    const c3 = last && pad >= 1 ? 0 : decodeChar(text, i + 3);
    if (c0 < 0 || c1 < 0 || c2 < 0 || c3 < 0) return null;
    const n = (c0 << 18) | (c1 << 12) | (c2 << 6) | c3;
    out[o++] = n >>> 16;
    if (o < out.length) out[o++] = (n >>> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

function decodeChar(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c < 128 ? B64_INDEX[c] : -1;
}
