/**
 * ChaCha20 keystream (lib/crypto/chacha20.ts): the RFC 8439 §2.3.2 block, and property tests
 * against OpenSSL's ChaCha20 (node:crypto) for random keys, nonces, counters and read patterns.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chacha20Stream, streamNonce } from '@/lib/crypto/chacha20';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** OpenSSL's keystream: encrypt zeros; its 16-byte IV is the 32-bit counter (LE) then the nonce. */
function openssl(key: Uint8Array, nonce: Uint8Array, counter: number, length: number): Uint8Array {
  const iv = Buffer.alloc(16);
  iv.writeUInt32LE(counter, 0);
  Buffer.from(nonce).copy(iv, 4);
  const c = createCipheriv('chacha20', key, iv);
  return new Uint8Array(Buffer.concat([c.update(Buffer.alloc(length)), c.final()]));
}

describe('ChaCha20 keystream', () => {
  it('RFC 8439 §2.3.2: the block of key 00..1f, nonce 00000009 0000004a 00000000, counter 1', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const nonce = Uint8Array.from([0, 0, 0, 9, 0, 0, 0, 0x4a, 0, 0, 0, 0]);
    const out = new Uint8Array(64);
    chacha20Stream(key, nonce, 1)(out);
    expect(hex(out.subarray(0, 32))).toBe('10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e');
    expect(hex(out)).toBe(hex(openssl(key, nonce, 1, 64)));
  });

  it('equals OpenSSL for any key, nonce, counter and any way of reading the stream', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.nat(1000), fc.array(fc.nat(200), { minLength: 1, maxLength: 12 }), (key, nonce, counter, reads) => {
        const rb = chacha20Stream(key, nonce, counter);
        const total = reads.reduce((s, r) => s + r, 0);
        const got = new Uint8Array(total);
        let o = 0;
        for (const r of reads) {
          rb(got.subarray(o, o + r));
          o += r;
        }
        expect(hex(got)).toBe(hex(openssl(key, nonce, counter, total)));
      }),
      { numRuns: 200 },
    );
  });

  it('different row nonces give different streams; the same key and nonce give the same bytes', () => {
    const key = new Uint8Array(randomBytes(32));
    const a = new Uint8Array(48);
    const b = new Uint8Array(48);
    const c = new Uint8Array(48);
    chacha20Stream(key, streamNonce(1, 7))(a);
    chacha20Stream(key, streamNonce(1, 7))(b);
    chacha20Stream(key, streamNonce(1, 8))(c);
    expect(hex(a)).toBe(hex(b));
    expect(hex(a)).not.toBe(hex(c));
    expect(hex(streamNonce(1, 2 ** 40 + 3))).toBe('010000000300000000010000');
  });

  it('refuses keys and nonces of the wrong length', () => {
    expect(() => chacha20Stream(new Uint8Array(16), new Uint8Array(12))).toThrow(RangeError);
    expect(() => chacha20Stream(new Uint8Array(32), new Uint8Array(8))).toThrow(RangeError);
  });
});
