/**
 * Properties of the E3/E4 pickle codec (spec/protocol.md §7.3): round trips at every protocol and
 * in the minimal form, frame structure of protocol-4 output, and robustness of the reader against
 * truncated and mutated input (it only ever returns bytes/lists or throws a typed error).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { decodeBytesList, decodeBytesMatrix, encodeBytesList, encodeBytesMatrix } from '@/lib/storage/e3e4';
import { pickle, pickleBytesList, unpickle, unpickleBytesList, type PickleValue, type UnpickledValue } from '@/lib/storage/pickle';

const bytesArb = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 256, maxLength: 5000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 65530, max: 66000 }).map((n) => Uint8Array.from({ length: n }, (_, i) => (i * 13) & 255)) },
);

const valueArb: fc.Arbitrary<PickleValue> = fc.letrec<{ value: PickleValue }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, bytesArb, fc.array(tie('value'), { maxLength: 6 })),
})).value;

/** Lists whose items may repeat the same object (exercises memo references). */
const sharedListArb = fc
  .tuple(fc.array(bytesArb, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 40 }))
  .map(([pool, picks]) => picks.map((i) => pool[i % pool.length]));

function same(a: UnpickledValue, b: PickleValue): boolean {
  if (a instanceof Uint8Array) return b instanceof Uint8Array && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
  return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
}

/** Walks the top-level framing of a protocol-4 stream: returns the frame lengths. */
function frameLengths(bytes: Uint8Array): number[] {
  // Only valid for our own output: FRAME opcodes are found by following the opcode stream.
  const lengths: number[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 2;
  while (pos < bytes.length) {
    const op = bytes[pos++];
    switch (op) {
      case 0x95:
        lengths.push(Number(dv.getBigUint64(pos, true)));
        pos += 8;
        break;
      case 0x43:
        pos += 1 + bytes[pos];
        break;
      case 0x42:
        pos += 4 + dv.getUint32(pos, true);
        break;
      case 0x68:
        pos += 1;
        break;
      case 0x6a:
        pos += 4;
        break;
      default:
        break; // one-byte opcodes: ] ( a e \x94 .
    }
  }
  return lengths;
}

describe('pickle round trips', () => {
  it('unpickle ∘ pickle = id, protocols 3/4/5 and minimal', () => {
    fc.assert(
      fc.property(valueArb, fc.constantFrom({ protocol: 3 as const }, { protocol: 4 as const }, { protocol: 5 as const }, { minimal: true }), (v, opts) => {
        expect(same(unpickle(pickle(v, opts)), v)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('repeated objects become memo references and decode to equal bytes', () => {
    fc.assert(
      fc.property(sharedListArb, (items) => {
        const out = pickleBytesList(items);
        const back = unpickleBytesList(out);
        expect(same(back, items)).toBe(true);
        // the same input object decodes to the same output object
        items.forEach((x, i) => items.forEach((y, j) => x === y && expect(back[i]).toBe(back[j])));
        // each distinct object's payload is written once
        const distinct = new Set(items);
        const payload = [...distinct].reduce((n, b) => n + b.length, 0);
        expect(out.length).toBeLessThan(payload + 20 * items.length + 64);
      }),
      { numRuns: 80 },
    );
  });

  it('protocol-4 frames are at least 4 bytes and large items sit outside frames', () => {
    fc.assert(
      fc.property(fc.array(bytesArb, { maxLength: 12 }), (items) => {
        const out = pickleBytesList(items);
        const frames = frameLengths(out);
        for (const f of frames) expect(f).toBeGreaterThanOrEqual(4);
        const framed = frames.reduce((n, f) => n + f + 9, 0);
        const large = items.filter((b) => b.length >= 65536).reduce((n, b) => n + b.length + 5, 0);
        expect(framed + large).toBeLessThanOrEqual(out.length - 2);
      }),
      { numRuns: 80 },
    );
  });

  it('minimal and default encodings decode to the same value', () => {
    fc.assert(
      fc.property(fc.array(fc.array(bytesArb, { maxLength: 4 }), { maxLength: 5 }), (rows) => {
        expect(unpickle(pickle(rows, { minimal: true }))).toEqual(unpickle(pickle(rows)));
      }),
      { numRuns: 60 },
    );
  });
});

describe('E3/E4 balls round-trip under exact expectations (lib/storage/e3e4.ts)', () => {
  const byteSum = (xs: readonly Uint8Array[]) => xs.reduce((n, b) => n + b.length, 0);

  it('E3: decode ∘ encode = id with shape [n] and an output budget of exactly the item bytes', async () => {
    await fc.assert(
      fc.asyncProperty(sharedListArb, fc.integer({ min: 1, max: 9 }), async (items, numChunks) => {
        const ball = await encodeBytesList('ct', items, { numChunks });
        const chunks = [...ball.chunks].reverse();
        const got = decodeBytesList('ct', chunks, { shape: [items.length], maxOutputBytes: byteSum(items) });
        expect(same(got, items)).toBe(true);
        if (byteSum(items) > 0) expect(() => decodeBytesList('ct', chunks, { shape: [items.length], maxOutputBytes: byteSum(items) - 1 })).toThrow(AppError);
      }),
      { numRuns: 60 },
    );
  });

  it('E4: decode ∘ encode = id with shape [rows, cols]', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 4 }), fc.array(fc.array(bytesArb, { minLength: 4, maxLength: 4 }), { maxLength: 8 }), fc.integer({ min: 1, max: 5 }), async (cols, full, numChunks) => {
        const rows = full.map((r) => r.slice(0, cols));
        const ball = await encodeBytesMatrix('dist', rows, { numChunks });
        const got = decodeBytesMatrix('dist', ball.chunks, { shape: [rows.length, cols], maxOutputBytes: byteSum(rows.flat()) });
        expect(same(got, rows)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('a value with a shared list is always refused, at once; the same value without sharing decodes', () => {
    fc.assert(
      fc.property(fc.array(bytesArb, { maxLength: 3 }), fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 40 }), (leaf, width, levels) => {
        let v: PickleValue = leaf;
        for (let i = 0; i < levels; i++) v = Array.from({ length: width }, () => v);
        const t0 = performance.now();
        expect(() => unpickle(pickle(v))).toThrow(/memo reference to a list/);
        expect(performance.now() - t0).toBeLessThan(100);
        const tree: PickleValue = [leaf, [leaf.slice()]];
        expect(same(unpickle(pickle(tree)), tree)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

describe('reader robustness', () => {
  it('every strict prefix of a valid pickle is rejected with PROTOCOL_VIOLATION', () => {
    fc.assert(
      fc.property(valueArb, fc.double({ min: 0, max: 1, noNaN: true }), (v, f) => {
        const out = pickle(v);
        const n = Math.floor(f * (out.length - 1));
        expect(() => unpickle(out.subarray(0, n))).toThrow(AppError);
      }),
      { numRuns: 150 },
    );
  });

  it('mutated input yields bytes/lists or a typed error, never anything else', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 5 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (items, flips) => {
          const out = pickleBytesList(items).slice();
          for (const [i, b] of flips) out[i % out.length] = b;
          try {
            const v = unpickle(out);
            const check = (x: UnpickledValue): boolean => x instanceof Uint8Array || (Array.isArray(x) && x.every(check));
            expect(check(v)).toBe(true);
          } catch (e) {
            expect(e).toBeInstanceOf(AppError);
            expect((e as AppError).code).toBe('PROTOCOL_VIOLATION');
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('random bytes are rejected or decode to bytes/lists', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (raw) => {
        const data = Uint8Array.of(0x80, 0x04, ...raw);
        try {
          unpickle(data);
        } catch (e) {
          expect(e).toBeInstanceOf(AppError);
        }
      }),
      { numRuns: 400 },
    );
  });
});
