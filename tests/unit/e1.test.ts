/**
 * E1 chunked-ndarray codec against shared/vectors/encodings.json (`E1`, `_about.example_metadata_body`),
 * produced by the MictlanX Python client 0.1.0a5 itself (spec/protocol.md §7.1, §7.4).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeE1, encodeE1, splitRows } from '@/lib/storage/e1';
import { metadataBody } from '@/lib/storage/mictlanx-client';
import { ndarray, ndarrayFromBytes, ndarrayToBytes } from '@/lib/storage/ndarray';
import { fromHex, sha256Hex, toHex } from '@/lib/storage/sha256';
import type { Dtype, NdArray } from '@/lib/storage/types';

interface E1Chunk {
  key: string;
  index: number;
  size: number;
  checksum: string;
  segmenter_tags: Record<string, string>;
  wire_tags: Record<string, string>;
  payload_hex: string;
}
interface E1Case {
  name: string;
  ball_id: string;
  dtype: Dtype;
  shape: number[];
  num_chunks_requested: number;
  num_chunks_actual: number;
  rows_per_chunk: number[];
  caller_tags: Record<string, string>;
  values?: unknown;
  values_int64_decimal?: unknown;
  array_bytes_hex: string;
  full_checksum: string;
  chunks: E1Chunk[];
}

const vectors = JSON.parse(readFileSync(fileURLToPath(new URL('../../../shared/vectors/encodings.json', import.meta.url)), 'utf8'));
const cases: E1Case[] = vectors.E1.cases;

function flat(v: unknown): unknown[] {
  return Array.isArray(v) ? v.flatMap(flat) : [v];
}

/** The case's array built from its listed values (not from the hex), so encoding is really tested. */
function arrayOf(c: E1Case): NdArray {
  if (c.dtype === 'int64') return ndarray('int64', c.shape, BigInt64Array.from(flat(c.values_int64_decimal).map((s) => BigInt(s as string))));
  if (c.dtype === 'float64') return ndarray('float64', c.shape, Float64Array.from(flat(c.values) as number[]));
  throw new Error(`unexpected dtype ${c.dtype}`);
}

describe('E1 vectors (encodings.json)', () => {
  it('has the five cases', () => {
    expect(cases).toHaveLength(5);
  });

  for (const c of cases) {
    describe(c.name, () => {
      it('array values give the listed bytes', () => {
        expect(toHex(ndarrayToBytes(arrayOf(c)))).toBe(c.array_bytes_hex);
        expect(toHex(ndarrayToBytes(arrayOf(c), { portable: true }))).toBe(c.array_bytes_hex);
      });

      it('encodes byte for byte: keys, payloads, checksums, wire tags in order', async () => {
        const ball = await encodeE1(c.ball_id, arrayOf(c), { numChunks: c.num_chunks_requested, tags: c.caller_tags });
        expect(ball.fullChecksum).toBe(c.full_checksum);
        expect(ball.chunks).toHaveLength(c.num_chunks_actual);
        expect(ball.totalBytes).toBe(c.array_bytes_hex.length / 2);
        ball.chunks.forEach((chunk, i) => {
          const v = c.chunks[i];
          expect(chunk.key).toBe(v.key);
          expect(chunk.index).toBe(v.index);
          expect(chunk.payload.byteLength).toBe(v.size);
          expect(toHex(chunk.payload)).toBe(v.payload_hex);
          expect(chunk.checksum).toBe(v.checksum);
          expect(chunk.tags).toEqual(v.wire_tags);
          expect(Object.keys(chunk.tags)).toEqual(Object.keys(v.wire_tags));
          expect(chunk.tags.num_chunks).toBe(String(c.num_chunks_actual));
          expect(Number(chunk.tags.records)).toBe(c.rows_per_chunk[i]);
        });
      });

      it('decodes the vector chunks in any order to the original array', async () => {
        const stored = c.chunks.map((v) => ({ tags: v.wire_tags, payload: fromHex(v.payload_hex) })).reverse();
        const arr = decodeE1(c.ball_id, stored);
        expect(arr.dtype).toBe(c.dtype);
        expect(arr.shape).toEqual(c.shape);
        expect(toHex(ndarrayToBytes(arr))).toBe(c.array_bytes_hex);
        expect(await sha256Hex(ndarrayToBytes(arr))).toBe(c.full_checksum);
        if (c.dtype === 'int64') {
          expect(arr.data).toBeInstanceOf(BigInt64Array);
          expect(Array.from(arr.data as BigInt64Array, String)).toEqual(flat(c.values_int64_decimal));
        } else {
          expect(Array.from(arr.data as Float64Array)).toEqual(flat(c.values));
        }
      });
    });
  }

  it('keeps the int64 extremes and ±(2^53+1) exact', () => {
    const c = cases.find((x) => x.ball_id === 'labels0')!;
    const arr = decodeE1(c.ball_id, c.chunks.map((v) => ({ tags: v.wire_tags, payload: fromHex(v.payload_hex) })));
    const d = arr.data as BigInt64Array;
    expect(d).toContain(9223372036854775807n);
    expect(d).toContain(-9223372036854775808n);
    expect(d).toContain(9007199254740993n);
    expect(d).toContain(-9007199254740993n);
  });

  it('reproduces example_metadata_body field for field', async () => {
    const expected = vectors._about.example_metadata_body;
    const c = cases.find((x) => x.ball_id === expected.ball_id)!;
    const ball = await encodeE1(c.ball_id, arrayOf(c), { numChunks: c.num_chunks_requested, tags: c.caller_tags });
    const body = metadataBody(expected.bucket_id, c.ball_id, ball.chunks[0], expected.producer_id);
    expect(body).toEqual(expected);
    expect(Object.keys(body)).toEqual(Object.keys(expected));
    expect(JSON.stringify(body)).toBe(JSON.stringify(expected));
  });
});

describe('E1 row-split rule (row_split_table)', () => {
  const table: { rows: number; num_chunks: number; chunk_rows: number[] | null }[] = vectors.E1.row_split_table;

  it('covers rows 0..12 × N 1..5', () => {
    expect(table).toHaveLength(65);
  });

  for (const row of table) {
    it(`rows=${row.rows}, N=${row.num_chunks} → ${row.chunk_rows === null ? 'error' : JSON.stringify(row.chunk_rows)}`, () => {
      if (row.chunk_rows === null) expect(() => splitRows(row.rows, row.num_chunks)).toThrow(/at least one row/);
      else expect(splitRows(row.rows, row.num_chunks)).toEqual(row.chunk_rows);
    });
  }
});

describe('E1 negative cases', () => {
  const m = ndarray('float64', [3, 2], new Float64Array([1, 2, 3, 4, 5, 6]));

  it('rejects invalid ball ids before doing anything', async () => {
    for (const bad of ['', 'a b', 'a__b', '-a', 'a-', 'ü', 'a/b', 'a.b']) {
      await expect(encodeE1(bad, m)).rejects.toMatchObject({ code: 'INVALID_KEY_ID' });
    }
  });

  it('rejects empty arrays, wrong typed arrays and non-string or reserved tags', async () => {
    await expect(encodeE1('x', ndarray('float64', [0, 2], new Float64Array(0)))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(encodeE1('x', { dtype: 'float64', shape: [2], data: new Float32Array(2) } as unknown as NdArray)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(encodeE1('x', { dtype: 'float64', shape: [3], data: new Float64Array(2) })).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
    await expect(encodeE1('x', m, { tags: { index: '9' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(encodeE1('x', m, { tags: { n: 3 as unknown as string } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(encodeE1('x', m, { numChunks: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('refuses to decode missing, duplicated or inconsistent chunks', async () => {
    const ball = await encodeE1('m', m, { numChunks: 3 });
    const stored = ball.chunks.map((c) => ({ tags: c.tags, payload: c.payload }));
    expect(decodeE1('m', stored).shape).toEqual([3, 2]);
    expect(() => decodeE1('m', stored.slice(1))).toThrow(expect.objectContaining({ code: 'STORAGE_INTEGRITY' }));
    expect(() => decodeE1('m', [stored[0], stored[0], stored[2]])).toThrow(/twice/);
    expect(() => decodeE1('m', [stored[0], { ...stored[1], payload: stored[1].payload.subarray(1) }, stored[2]])).toThrow(/bytes/);
    expect(() => decodeE1('m', [stored[0], { ...stored[1], tags: { ...stored[1].tags, shape: '(1, 3)' } }, stored[2]])).toThrow(/shapes/);
    expect(() => decodeE1('m', [stored[0], { ...stored[1], tags: { ...stored[1].tags, dtype: 'float32' } }, stored[2]])).toThrow(/dtypes/);
    expect(() => decodeE1('m', [{ ...stored[0], tags: { ...stored[0].tags, shape: '__import__("os")' } }, stored[1], stored[2]])).toThrow(/shape literal/);
    expect(() => decodeE1('m', [])).toThrow(/no chunks/);
  });

  it('error messages name the ball but never the values', async () => {
    const secret = ndarray('float64', [2, 1], new Float64Array([31415.9265, 27182.818]));
    const ball = await encodeE1('secretball', secret, { numChunks: 2 });
    try {
      decodeE1('secretball', [{ tags: ball.chunks[0].tags, payload: ball.chunks[0].payload }]);
      expect.unreachable();
    } catch (e) {
      const err = e as { message: string; userMessage: string };
      expect(err.message).toContain('secretball');
      expect(err.userMessage).toContain('secretball');
      expect(`${err.message} ${err.userMessage}`).not.toMatch(/31415|27182/);
    }
  });
});

describe('ndarray bytes', () => {
  it('round-trips every dtype through the fast and the portable paths', () => {
    const samples: NdArray[] = [
      ndarray('float64', [2, 2], new Float64Array([1.5, -0, Number.MAX_VALUE, -5e-324])),
      ndarray('float32', [3], new Float32Array([1.5, -2.25, 3e38])),
      ndarray('int64', [2], new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n])),
      ndarray('uint64', [2], new BigUint64Array([0n, 2n ** 64n - 1n])),
      ndarray('int32', [2], new Int32Array([-(2 ** 31), 2 ** 31 - 1])),
      ndarray('uint32', [1], new Uint32Array([2 ** 32 - 1])),
      ndarray('int16', [2], new Int16Array([-32768, 32767])),
      ndarray('uint16', [1], new Uint16Array([65535])),
      ndarray('int8', [2], new Int8Array([-128, 127])),
      ndarray('uint8', [2, 1], new Uint8Array([0, 255])),
    ];
    for (const a of samples) {
      const fast = ndarrayToBytes(a);
      const portable = ndarrayToBytes(a, { portable: true });
      expect(toHex(portable)).toBe(toHex(fast));
      for (const back of [ndarrayFromBytes(a.dtype, a.shape, fast), ndarrayFromBytes(a.dtype, a.shape, portable, { portable: true })]) {
        expect(back.dtype).toBe(a.dtype);
        expect(back.shape).toEqual(a.shape);
        expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(a.data as ArrayLike<unknown>));
      }
    }
  });

  it('writes little-endian regardless of the view offset', () => {
    const buf = new Uint8Array(9);
    buf.set([0, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f], 0);
    const a = ndarrayFromBytes('float64', [1], buf.subarray(1));
    expect(a.data[0]).toBe(1.5);
    expect(() => ndarrayFromBytes('float64', [2], buf.subarray(1))).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
  });
});
