/**
 * SHA-256 (lib/storage/sha256.ts): the pure incremental `Sha256` against the FIPS 180-2 example
 * digests (NIST "Secure Hash Standard" appendix B: "abc", the 448-bit and 896-bit messages, one
 * million "a"), padding boundaries against node:crypto, misuse errors, and `sha256HexOfParts` on
 * both sides of its join threshold.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SHA256_JOIN_MAX_BYTES, Sha256, concatBytes, joinBytes, sha256Bytes, sha256Hex, sha256HexOfParts, toHex } from '@/lib/storage/sha256';
import { expectAppError } from '../helpers/errors';

const ascii = (s: string) => new TextEncoder().encode(s);
const nodeHex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Deterministic bytes (test data only). */
function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('Sha256 (FIPS 180-2 appendix B vectors)', () => {
  const vectors: [string, Uint8Array, string][] = [
    ['empty', new Uint8Array(0), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['"abc" (B.1)', ascii('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['448-bit message (B.2)', ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
    [
      '896-bit message',
      ascii('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu'),
      'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
    ],
    ['one million "a" (B.3)', new Uint8Array(1_000_000).fill(0x61), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0'],
  ];

  it.each(vectors)('%s', async (_name, msg, want) => {
    expect(toHex(sha256Bytes(msg))).toBe(want);
    expect(await sha256Hex(msg)).toBe(want);
  });

  it('one million "a" fed in uneven pieces gives the same digest', () => {
    const h = new Sha256();
    const piece = new Uint8Array(997).fill(0x61);
    let left = 1_000_000;
    for (let k = 1; left > 0; k++) {
      const n = Math.min(left, (k * 37) % 997);
      h.update(piece.subarray(0, n));
      left -= n;
    }
    expect(h.hex()).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('matches node:crypto at every length around the padding boundaries', () => {
    for (let n = 0; n <= 200; n++) {
      const msg = bytes(n, n + 1);
      expect(toHex(sha256Bytes(msg)), `length ${n}`).toBe(nodeHex(msg));
    }
  });

  it('reads views at any offset and never changes its input', () => {
    const buf = bytes(1000, 7);
    const copy = buf.slice();
    const view = buf.subarray(13, 913);
    expect(new Sha256().update(view).hex()).toBe(nodeHex(view));
    expect(buf).toEqual(copy);
  });

  it('refuses update or digest after digest, and non-byte input', () => {
    const h = new Sha256().update(ascii('x'));
    h.digest();
    expectAppError(() => h.update(ascii('y')), 'INVALID_ARGUMENT', 'after digest');
    expectAppError(() => h.digest(), 'INVALID_ARGUMENT', 'twice');
    expectAppError(() => new Sha256().update('abc' as unknown as Uint8Array), 'INVALID_ARGUMENT', 'Uint8Array');
  });
});

describe('sha256HexOfParts', () => {
  it('equals the hash of the concatenation below and above the join threshold', async () => {
    for (const total of [0, 1, 1000, SHA256_JOIN_MAX_BYTES, SHA256_JOIN_MAX_BYTES + 1, SHA256_JOIN_MAX_BYTES + 70_001]) {
      const whole = bytes(total, total);
      const parts = [whole.subarray(0, Math.floor(total / 3)), whole.subarray(Math.floor(total / 3), total - 5), whole.subarray(Math.max(0, total - 5))];
      expect(await sha256HexOfParts(parts), `total ${total}`).toBe(nodeHex(whole));
    }
    expect(await sha256HexOfParts([])).toBe(nodeHex(new Uint8Array(0)));
  });
});

describe('joinBytes', () => {
  it('views adjacent parts of one buffer and copies anything else', () => {
    const buf = bytes(100);
    const parts = [buf.subarray(0, 10), buf.subarray(10, 60), buf.subarray(60, 100)];
    const joined = joinBytes(parts);
    expect(joined.buffer).toBe(buf.buffer);
    expect(joined).toEqual(buf);
    const gap = joinBytes([buf.subarray(0, 10), buf.subarray(11, 20)]);
    expect(gap.buffer).not.toBe(buf.buffer);
    expect(gap).toEqual(concatBytes([buf.subarray(0, 10), buf.subarray(11, 20)]));
    const other = joinBytes([buf.subarray(0, 10), bytes(5)]);
    expect(other.buffer).not.toBe(buf.buffer);
    expect(joinBytes([])).toEqual(new Uint8Array(0));
  });
});
