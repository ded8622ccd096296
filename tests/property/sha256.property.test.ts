/**
 * Properties of the incremental SHA-256 (lib/storage/sha256.ts): for random inputs split at random
 * points, `Sha256` fed piece by piece equals WebCrypto's one-shot digest of the whole, and
 * `sha256HexOfParts` equals `sha256Hex` of the concatenation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SHA256_JOIN_MAX_BYTES, Sha256, concatBytes, sha256Hex, sha256HexOfParts } from '@/lib/storage/sha256';

/** An input and the cut points that split it into pieces (possibly empty ones). */
const splitInput = fc
  .tuple(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(), { maxLength: 12 }))
  .map(([msg, cuts]) => {
    const points = cuts.map((c) => (msg.length === 0 ? 0 : c % (msg.length + 1))).sort((a, b) => a - b);
    const pieces: Uint8Array[] = [];
    let at = 0;
    for (const p of [...points, msg.length]) {
      pieces.push(msg.subarray(at, p));
      at = p;
    }
    return { msg, pieces };
  });

describe('incremental SHA-256 vs WebCrypto', () => {
  it('update over any split equals the one-shot WebCrypto digest', async () => {
    await fc.assert(
      fc.asyncProperty(splitInput, async ({ msg, pieces }) => {
        const h = new Sha256();
        for (const p of pieces) h.update(p);
        expect(h.hex()).toBe(await sha256Hex(msg));
      }),
      { numRuns: 300 },
    );
  });

  it('sha256HexOfParts equals sha256Hex of the concatenation', async () => {
    await fc.assert(
      fc.asyncProperty(splitInput, async ({ pieces }) => {
        expect(await sha256HexOfParts(pieces)).toBe(await sha256Hex(concatBytes(pieces)));
      }),
      { numRuns: 150 },
    );
  });

  it('large random inputs in random pieces (several MB, past the join threshold)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: SHA256_JOIN_MAX_BYTES + 1, max: SHA256_JOIN_MAX_BYTES + 2_000_000 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.array(fc.integer({ min: 1, max: 2_000_000 }), { minLength: 1, maxLength: 6 }), async (n, seed, sizes) => {
        const msg = new Uint8Array(n);
        let x = seed;
        for (let i = 0; i < n; i++) {
          x = (Math.imul(x, 1103515245) + 12345) >>> 0;
          msg[i] = x >>> 23;
        }
        const pieces: Uint8Array[] = [];
        let at = 0;
        for (let k = 0; at < n; k++) {
          const len = Math.min(n - at, sizes[k % sizes.length]);
          pieces.push(msg.subarray(at, at + len));
          at += len;
        }
        expect(await sha256HexOfParts(pieces)).toBe(await sha256Hex(msg));
      }),
      { numRuns: 3 },
    );
  });
});
