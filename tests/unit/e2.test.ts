/**
 * E2 byte-blob codec against shared/vectors/encodings.json (`E2`), produced by the MictlanX Python
 * client 0.1.0a5 `AsyncClient.put` with chunk_size "128kb" as rorycommon `put_ndarray` calls it
 * (spec/protocol.md §7.2).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { E2_PIECE_BYTES, decodeE2, encodeE2, splitBlob } from '@/lib/storage/e2';
import { ndarray, ndarrayToBytes } from '@/lib/storage/ndarray';
import { fromHex, sha256Hex, toHex } from '@/lib/storage/sha256';
import type { Dtype, NdArray } from '@/lib/storage/types';

interface E2Piece {
  key: string;
  index: number;
  size: number;
  checksum: string;
  wire_tags: Record<string, string>;
  payload_hex?: string;
  first_16_bytes_hex?: string;
  last_16_bytes_hex?: string;
}
interface E2Case {
  name: string;
  key: string;
  dtype: Dtype;
  shape: number[];
  byte_length: number;
  piece_sizes: number[];
  full_checksum: string;
  pieces: E2Piece[];
  values?: number[][];
  array_bytes_hex?: string;
  generator?: string;
}

const vectors = JSON.parse(readFileSync(fileURLToPath(new URL('../../../shared/vectors/encodings.json', import.meta.url)), 'utf8'));
const cases: E2Case[] = vectors.E2.cases;

/** Builds each case's array: listed values, or the numpy generator expression restated. */
function arrayOf(c: E2Case): NdArray {
  if (c.values) return ndarray('float64', c.shape, Float64Array.from(c.values.flat()));
  const n = c.shape[0] * c.shape[1];
  if (c.generator?.startsWith('numpy.arange(40002, dtype=int64)')) return ndarray('int64', c.shape, BigInt64Array.from({ length: n }, (_, i) => BigInt(i)));
  if (c.generator?.startsWith('(numpy.arange(50000, dtype=float64) * 0.5)')) return ndarray('float64', c.shape, Float64Array.from({ length: n }, (_, i) => i * 0.5));
  throw new Error(`no generator for ${c.name}`);
}

describe('E2 vectors (encodings.json)', () => {
  it('has the three cases', () => {
    expect(cases.map((c) => c.piece_sizes)).toEqual([[96], [128000, 192016], [128000, 128000, 144000]]);
  });

  for (const c of cases) {
    it(`${c.name}: pieces, checksums and wire tags byte for byte`, async () => {
      const arr = arrayOf(c);
      const ball = await encodeE2(c.key, arr);
      expect(ball.totalBytes).toBe(c.byte_length);
      expect(ball.fullChecksum).toBe(c.full_checksum);
      expect(ball.chunks.map((p) => p.payload.byteLength)).toEqual(c.piece_sizes);
      ball.chunks.forEach((p, i) => {
        const v = c.pieces[i];
        expect(p.key).toBe(v.key);
        expect(p.index).toBe(v.index);
        expect(p.checksum).toBe(v.checksum);
        expect(p.tags).toEqual(v.wire_tags);
        expect(Object.keys(p.tags)).toEqual(Object.keys(v.wire_tags));
        if (v.payload_hex) expect(toHex(p.payload)).toBe(v.payload_hex);
        if (v.first_16_bytes_hex) expect(toHex(p.payload.subarray(0, 16))).toBe(v.first_16_bytes_hex);
        if (v.last_16_bytes_hex) expect(toHex(p.payload.subarray(p.payload.byteLength - 16))).toBe(v.last_16_bytes_hex);
      });
      if (c.array_bytes_hex) expect(toHex(ndarrayToBytes(arr))).toBe(c.array_bytes_hex);
    });

    it(`${c.name}: decodes (pieces in any order) to the same array`, async () => {
      const ball = await encodeE2(c.key, arrayOf(c));
      const stored = [...ball.chunks].reverse().map((p) => ({ tags: p.tags, payload: p.payload }));
      const back = decodeE2(c.key, stored);
      expect(back.dtype).toBe(c.dtype);
      expect(back.shape).toEqual(c.shape);
      expect(await sha256Hex(ndarrayToBytes(back))).toBe(c.full_checksum);
    });
  }

  it('decodes the small case straight from the vector hex', () => {
    const c = cases[0];
    const arr = decodeE2(c.key, c.pieces.map((p) => ({ tags: p.wire_tags, payload: fromHex(p.payload_hex!) })));
    expect(Array.from(arr.data as Float64Array)).toEqual(c.values!.flat());
  });
});

describe('E2 piece sizes (piece_size_table)', () => {
  const table: { byte_length: number; piece_sizes: number[] }[] = vectors.E2.piece_size_table;
  for (const row of table) {
    it(`${row.byte_length} bytes → ${JSON.stringify(row.piece_sizes)}`, () => {
      expect(splitBlob(row.byte_length)).toEqual(row.piece_sizes);
      expect(splitBlob(row.byte_length, E2_PIECE_BYTES)).toEqual(row.piece_sizes);
    });
  }
  it('refuses an empty blob', () => {
    expect(() => splitBlob(0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('E2 negative cases', () => {
  it('rejects a wrong total length, a missing piece and an unknown dtype', async () => {
    const arr = ndarray('float64', [40000], new Float64Array(40000).fill(2)); // 320000 B → 2 pieces
    const ball = await encodeE2('blob', arr);
    const stored = ball.chunks.map((p) => ({ tags: p.tags, payload: p.payload }));
    expect(decodeE2('blob', stored).shape).toEqual([40000]);
    expect(() => decodeE2('blob', stored.slice(0, 1))).toThrow(expect.objectContaining({ code: 'STORAGE_INTEGRITY' }));
    expect(() => decodeE2('blob', [stored[0], { ...stored[1], payload: stored[1].payload.subarray(8) }])).toThrow(/bytes/);
    expect(() => decodeE2('blob', [{ ...stored[0], tags: { ...stored[0].tags, dtype: 'complex128' } }, stored[1]])).toThrow(/dtype/);
    expect(() => decodeE2('blob', [{ ...stored[0], tags: { ...stored[0].tags, shape: 'os.system("x")' } }, stored[1]])).toThrow(/shape/);
  });

  it('rejects bad ball ids and reserved caller tags', async () => {
    const arr = ndarray('float64', [1], new Float64Array([1]));
    await expect(encodeE2('no spaces', arr)).rejects.toMatchObject({ code: 'INVALID_KEY_ID' });
    await expect(encodeE2('ok', arr, { tags: { shape: '(2,)' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
