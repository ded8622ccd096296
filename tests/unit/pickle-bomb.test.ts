/**
 * Regression tests for issue #12 finding 3, the pickle bomb (lib/storage/pickle.ts, e3e4.ts):
 * memo references to lists let a few hundred bytes describe 2^32 (or 3^60) leaves, which the old
 * reader expanded synchronously (a 148-byte, 22-level payload already took 0.4 s on main and each
 * level doubles it). The reader now refuses any memo reference to a list and keeps node and
 * output budgets; real Pyfhel pickles (shared/vectors/ckks-pyfhel/*.pkl) still decode under the
 * tightest budgets their shape allows.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { decodeBytesList, decodeBytesMatrix, encodeBytesList, encodeBytesMatrix } from '@/lib/storage/e3e4';
import { PICKLE_MAX_NODES, pickleBytesList, unpickle, unpickleBytesList, unpickleBytesMatrix } from '@/lib/storage/pickle';
import type { StoredChunk } from '@/lib/storage/types';

const VECTORS = new URL('../../../shared/vectors/', import.meta.url);
const pyfhelFile = (name: string) => new Uint8Array(readFileSync(new URL(`ckks-pyfhel/${name}`, VECTORS)));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * `L_levels` with `L_k = [L_{k-1}] * width`, as CPython's memo writes it (protocol 4): every
 * repeat of a list is a BINGET of the first. `L_0 = [b'a' * leaf]`. The value has width^levels
 * leaves; the payload is 9 + leaf + levels * (2 * width + 2) bytes.
 */
function listBomb(levels: number, width: number, leaf: number): Uint8Array {
  const out: number[] = [0x80, 0x04];
  for (let i = 0; i < levels; i++) out.push(0x5d, 0x94, 0x28); // EMPTY_LIST MEMOIZE MARK
  out.push(0x5d, 0x94, 0x43, leaf, ...new Array<number>(leaf).fill(0x61), 0x94, 0x61); // [b'aaa…'] APPEND
  for (let i = levels - 1; i >= 0; i--) {
    for (let w = 1; w < width; w++) out.push(0x68, i + 1); // BINGET of the list one level down
    out.push(0x65); // APPENDS
  }
  out.push(0x2e);
  return Uint8Array.from(out);
}

function timedError(f: () => unknown): { error: AppError; ms: number } {
  const t0 = performance.now();
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return { error: e as AppError, ms: performance.now() - t0 };
  }
  throw new Error('expected the decode to be refused');
}

const chunk = (payload: Uint8Array, index = 0, n = 1): StoredChunk => ({ tags: { index: String(index), num_chunks: String(n) }, payload });

describe('the pickle bomb (issue #12 finding 3)', () => {
  const small = listBomb(32, 2, 7); // 2^32 leaves
  const large = listBomb(60, 3, 7); // 3^60 leaves

  it('the payloads are the sizes of the report: 208 and 496 bytes', () => {
    expect(small.length).toBe(208);
    expect(large.length).toBe(496);
  });

  it.each([
    ['208-byte', small],
    ['496-byte', large],
  ])('the %s bomb is refused in under 100 ms with a clear error', (_name, payload) => {
    for (const f of [() => unpickle(payload), () => unpickleBytesList(payload), () => unpickleBytesMatrix(payload)]) {
      const { error, ms } = timedError(f);
      expect(error.code).toBe('PROTOCOL_VIOLATION');
      expect(error.message).toMatch(/memo reference to a list is not allowed/);
      expect(error.message).toMatch(/BINGET/);
      expect(error.userMessage).toMatch(/CKKS container/);
      expect(ms).toBeLessThan(100);
    }
  });

  it('through the E3/E4 codec it is a STORAGE_INTEGRITY error naming the ball', () => {
    for (const f of [() => decodeBytesList('P0centi', [chunk(large)]), () => decodeBytesMatrix('distancesR0', [chunk(large)])]) {
      const { error, ms } = timedError(f);
      expect(error.code).toBe('STORAGE_INTEGRITY');
      expect(error.details).toMatchObject({ ballId: expect.stringMatching(/P0centi|distancesR0/) });
      expect(error.message).toMatch(/chunk 0 is not the expected pickled list of bytes \(a memo reference to a list/);
      expect(error.userMessage).toMatch(/damaged, incomplete or not in the expected format/);
      expect(ms).toBeLessThan(100);
    }
  });

  it('a list that contains itself is refused the same way', () => {
    // pickle.dumps(l) for l = []; l.append(l)
    expect(() => unpickle(Uint8Array.from(Buffer.from('80049506000000000000005d946800612e', 'hex')))).toThrow(/contains itself/);
  });
});

describe('budgets on what bytes references and protocol-2 encodes may produce', () => {
  it('references to one bytes object count in full against maxOutputBytes', () => {
    const item = new Uint8Array(60_000).fill(7);
    const payload = pickleBytesList(Array.from({ length: 2000 }, () => item)); // ~64 kB describing 120 MB
    expect(payload.length).toBeLessThan(70_000);
    const { error, ms } = timedError(() => unpickleBytesList(payload));
    expect(error.message).toMatch(/would exceed \d+ bytes \(budget exceeded\)/);
    expect(ms).toBeLessThan(100);
    // With a budget that allows it, the same references decode to the same object.
    const got = unpickleBytesList(payload, { maxOutputBytes: 2000 * 60_000 });
    expect(got).toHaveLength(2000);
    expect(got[1999]).toBe(got[0]);
    expect(() => unpickleBytesList(payload, { maxOutputBytes: 2000 * 60_000 - 1 })).toThrow(/budget exceeded/);
  });

  it('a memoized protocol-2 str encoded again and again is counted before it is copied', () => {
    // [_codecs.encode(S, 'latin1')] + 400 × (BINGET encode, BINGET S, BINGET 'latin1', TUPLE2, REDUCE) with |S| = 100 000
    const s = 'x'.repeat(100_000);
    const head = [0x80, 0x02, 0x5d, 0x71, 0x00, 0x28];
    const glob = [...Buffer.from('c_codecs\nencode\n', 'latin1'), 0x71, 0x01];
    const str = [0x58, ...u32(s.length), ...Buffer.from(s, 'latin1'), 0x71, 0x02];
    const enc = [0x58, 6, 0, 0, 0, ...Buffer.from('latin1'), 0x71, 0x03];
    const first = [...glob, ...str, ...enc, 0x86, 0x52];
    const again = [0x68, 0x01, 0x68, 0x02, 0x68, 0x03, 0x86, 0x52];
    const payload = Uint8Array.from([...head, ...first, ...Array.from({ length: 400 }, () => again).flat(), 0x65, 0x2e]);
    expect(payload.length).toBeLessThan(104_000);
    const { error, ms } = timedError(() => unpickleBytesList(payload));
    expect(error.message).toMatch(/budget exceeded/);
    expect(ms).toBeLessThan(100);
    expect(unpickleBytesList(payload, { maxOutputBytes: 401 * 100_000 })).toHaveLength(401);
  });

  it('maxNodes bounds the values of a result; long APPENDS batches do not overflow the call stack', () => {
    const items = Array.from({ length: 10 }, (_, i) => Uint8Array.of(i));
    expect(() => unpickleBytesList(pickleBytesList(items), { maxNodes: 10 })).toThrow(/more than 10 values/);
    expect(unpickleBytesList(pickleBytesList(items), { maxNodes: 11 })).toHaveLength(10);
    // One MARK … APPENDS batch of 300 000 empty bytes (Python batches 1000; a hostile writer need not).
    const n = 300_000;
    const payload = new Uint8Array(4 + 2 * n + 2);
    payload.set([0x80, 0x04, 0x5d, 0x28]);
    for (let i = 0; i < n; i++) payload.set([0x43, 0x00], 4 + 2 * i);
    payload.set([0x65, 0x2e], 4 + 2 * n);
    expect(unpickleBytesList(payload)).toHaveLength(n);
    expect(() => unpickleBytesList(payload, { maxNodes: 1000 })).toThrow(/more than 1000 values/);
    expect(PICKLE_MAX_NODES).toBeGreaterThanOrEqual(n);
  });

  it('refuses invalid budgets', () => {
    expect(() => unpickle(pickleBytesList([]), { maxNodes: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => unpickle(pickleBytesList([]), { maxOutputBytes: 0.5 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('real Pyfhel pickles decode under the tightest budgets their shape allows', () => {
  it('e3_matrix_rows.pkl: 4 ciphertexts, nodes = 5, output = their bytes', () => {
    const e3 = pyfhelFile('e3_matrix_rows.pkl');
    const items = decodeBytesList('encryptedP0', [chunk(e3)], { shape: [4], maxOutputBytes: 4 * 131185 });
    expect(items.map(sha256)[0]).toBe('26a5c232203c62d99e203415eaad56bdb62e5a4239dcef7062076c002bea49a0');
    expect(() => decodeBytesList('encryptedP0', [chunk(e3)], { shape: [4], maxOutputBytes: 4 * 131185 - 1 })).toThrow(/budget exceeded/);
    expect(() => decodeBytesList('encryptedP0', [chunk(e3)], { shape: [3] })).toThrow(expect.objectContaining({ code: 'STORAGE_INTEGRITY' }));
    expect(() => decodeBytesList('encryptedP0', [chunk(e3)], { shape: [5] })).toThrow(/holds 4 ciphertexts, 5 were expected/);
  });

  it('e4_nested.pkl: one row of one ciphertext', () => {
    const e4 = pyfhelFile('e4_nested.pkl');
    const rows = decodeBytesMatrix('distancesR0', [chunk(e4)], { shape: [1, 1] });
    expect(sha256(rows[0][0])).toBe('6d7021a92f20419006b8cc3fada8a55d1dbf97cb09a11387f0119947b05aef88');
    expect(() => decodeBytesMatrix('distancesR0', [chunk(e4)], { shape: [1, 2] })).toThrow(/does not hold the 2 ciphertexts expected/);
    expect(() => decodeBytesMatrix('distancesR0', [chunk(e4)], { shape: [2] })).toThrow(/holds 1 rows/);
  });
});

describe('E3/E4 chunked round trips with exact expectations', () => {
  it('items split over chunks decode in index order whatever the chunk order', async () => {
    const items = Array.from({ length: 7 }, (_, i) => Uint8Array.from({ length: 10 * i }, (_, j) => (i + j) & 255));
    const ball = await encodeBytesList('ct', items, { numChunks: 4 });
    const stored = ball.chunks.map((c) => ({ tags: c.tags, payload: c.payload })).reverse();
    const total = items.reduce((n, b) => n + b.length, 0);
    expect(decodeBytesList('ct', stored, { shape: [7], maxOutputBytes: total })).toEqual(items);
    expect(() => decodeBytesList('ct', stored, { shape: [7], maxOutputBytes: total - 1 })).toThrow(/budget exceeded/);
    const rows = items.map((b) => [b, b.slice()]);
    const m = await encodeBytesMatrix('dist', rows, { numChunks: 3 });
    expect(decodeBytesMatrix('dist', m.chunks, { shape: [7, 2], maxOutputBytes: 2 * total })).toEqual(rows);
  });
});

function u32(n: number): number[] {
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24];
}
