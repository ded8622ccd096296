/**
 * NPY reader/writer (lib/data/npy.ts). Fixtures are built here: headers written by hand for
 * every version, byte order and memory order, plus a few files produced by numpy 2.4.6
 * (`np.save` / `numpy.lib.format.write_array`), embedded as hex, to pin our reading of the format
 * to numpy's own output rather than to our writer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { matrix, plainMatrix } from '@/lib/data/matrix';
import { parseNpy, parseNpyLabels, writeNpy } from '@/lib/data/npy';
import { MAX_ABS_VALUE } from '@/lib/data/stats';

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
const ascii = (b: Uint8Array) => String.fromCharCode(...b);

/** Builds an NPY file: `header` is the dict text; padding and `\n` are added as numpy does. */
function npy(header: string, body: Uint8Array, version: 1 | 2 | 3 = 1, align = 64): Uint8Array {
  const lenBytes = version === 1 ? 2 : 4;
  const pre = 8 + lenBytes;
  const enc = new TextEncoder().encode(header);
  const total = Math.ceil((pre + enc.length + 1) / align) * align;
  const hlen = total - pre;
  const out = new Uint8Array(total + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, hlen, true);
  else dv.setUint32(8, hlen, true);
  out.fill(0x20, pre, total - 1);
  out.set(enc, pre);
  out[total - 1] = 0x0a;
  out.set(body, total);
  return out;
}

const dict = (descr: string, shape: string, fortran = false) => `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;

type Setter = (dv: DataView, off: number, v: number, le: boolean) => void;
const SETTERS: Record<string, [number, Setter]> = {
  f8: [8, (d, o, v, le) => d.setFloat64(o, v, le)],
  f4: [4, (d, o, v, le) => d.setFloat32(o, v, le)],
  i8: [8, (d, o, v, le) => d.setBigInt64(o, BigInt(v), le)],
  u8: [8, (d, o, v, le) => d.setBigUint64(o, BigInt(v), le)],
  i4: [4, (d, o, v, le) => d.setInt32(o, v, le)],
  u4: [4, (d, o, v, le) => d.setUint32(o, v, le)],
  i2: [2, (d, o, v, le) => d.setInt16(o, v, le)],
  u2: [2, (d, o, v, le) => d.setUint16(o, v, le)],
  i1: [1, (d, o, v) => d.setInt8(o, v)],
  u1: [1, (d, o, v) => d.setUint8(o, v)],
  b1: [1, (d, o, v) => d.setUint8(o, v ? 1 : 0)],
};

function encode(kind: string, values: number[], little: boolean): Uint8Array {
  const [size, set] = SETTERS[kind];
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => set(dv, i * size, v, little));
  return out;
}

function fail(f: () => unknown): AppError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected an error');
}

// A 2×3 matrix in C order.
const M = [1, -2, 3, 4, 5, -6];
const values = (p: { matrix: { data: Float64Array } }) => Array.from(p.matrix.data);

describe('files written by numpy 2.4.6', () => {
  it('reads big-endian int32 in Fortran order (v1.0)', () => {
    const b = hex(
      '934e554d5059010076007b276465736372273a20273e6934272c2027666f727472616e5f6f72646572273a20547275652c20277368617065273a2028322c2033292c207d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000000100000004fffffffe0000000500000003fffffffa',
    );
    const p = parseNpy(b);
    expect([p.version, p.dtype, p.fortranOrder, p.shape, p.matrix.shape]).toEqual(['1.0', '>i4', true, [2, 3], [2, 3]]);
    expect(values(p)).toEqual(M);
  });

  it('reads v2.0 little-endian float32', () => {
    const b = hex(
      '934e554d50590200740000007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2032292c207d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000003f0000a0bf000040406f12833a',
    );
    const p = parseNpy(b);
    expect([p.version, p.dtype, p.matrix.shape]).toEqual(['2.0', '<f4', [2, 2]]);
    expect(values(p)).toEqual([0.5, -1.25, 3, Math.fround(1e-3)]);
  });

  it('reads v3.0 big-endian uint16, 1-D → n×1', () => {
    const b = hex(
      '934e554d50590300740000007b276465736372273a20273e7532272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0001ffff0007',
    );
    const p = parseNpy(b);
    expect([p.version, p.shape, p.matrix.shape]).toEqual(['3.0', [3], [3, 1]]);
    expect(values(p)).toEqual([1, 65535, 7]);
  });

  it('reads bool', () => {
    const b = hex(
      '934e554d5059010076007b276465736372273a20277c6231272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a010001',
    );
    expect(values(parseNpy(b))).toEqual([1, 0, 1]);
  });

  it('writeNpy matches np.save byte for byte', () => {
    const numpy = hex(
      '934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000000000000f83f00000000000002c059f3f8c21f6ea50100000000000008409a9999999999b93f0000000000000080',
    );
    const ours = writeNpy(plainMatrix(Float64Array.from([1.5, -2.25, 1e-300, 3.0, 0.1, -0]), 2, 3));
    expect(ours).toEqual(numpy);
    expect(Object.is(parseNpy(numpy).matrix.data[5], -0)).toBe(true);
  });
});

describe('hand-written headers: every dtype, byte order, memory order and version', () => {
  for (const kind of Object.keys(SETTERS)) {
    const sample = kind === 'b1' ? [1, 0, 1, 1, 0, 0] : kind.startsWith('u') ? [1, 2, 3, 4, 5, 250] : M;
    const sampleF = [0, 3, 1, 4, 2, 5].map((i) => sample[i]);
    for (const little of [true, false]) {
      for (const version of [1, 2, 3] as const) {
        const order = kind.endsWith('1') ? '|' : little ? '<' : '>';
        it(`${order}${kind} v${version}.0, C and Fortran order`, () => {
          const c = parseNpy(npy(dict(`${order}${kind}`, '(2, 3)'), encode(kind, sample, little), version));
          expect(values(c)).toEqual(sample);
          const f = parseNpy(npy(dict(`${order}${kind}`, '(2, 3)', true), encode(kind, sampleF, little), version));
          expect(values(f)).toEqual(sample);
          expect(f.matrix.shape).toEqual([2, 3]);
        });
      }
    }
  }

  it('float16, both orders', () => {
    // 1.0 = 0x3c00, -2.5 = 0xc100, 65504 = 0x7bff, 2^-24 = 0x0001
    const le = new Uint8Array([0x00, 0x3c, 0x00, 0xc1, 0xff, 0x7b, 0x01, 0x00]);
    const be = new Uint8Array([0x3c, 0x00, 0xc1, 0x00, 0x7b, 0xff, 0x00, 0x01]);
    expect(values(parseNpy(npy(dict('<f2', '(4,)'), le)))).toEqual([1, -2.5, 65504, 2 ** -24]);
    expect(values(parseNpy(npy(dict('>f2', '(4,)'), be)))).toEqual([1, -2.5, 65504, 2 ** -24]);
  });

  it('accepts old 16-byte aligned headers, double quotes, Python 2 longs and a trailing-comma-less dict', () => {
    const body = encode('f8', [1, 2], true);
    expect(values(parseNpy(npy(dict('<f8', '(1, 2)'), body, 1, 16)))).toEqual([1, 2]);
    expect(values(parseNpy(npy(`{"descr": "<f8", "fortran_order": False, "shape": (2L,)}`, body)))).toEqual([1, 2]);
  });

  it('int64 / uint64 convert exactly within the magnitude bound', () => {
    const v = [MAX_ABS_VALUE, -MAX_ABS_VALUE, 123456789012345];
    expect(values(parseNpy(npy(dict('<i8', '(3,)'), encode('i8', v, true))))).toEqual(v);
  });

  it('accepts ArrayBuffer input and unaligned views', () => {
    const file = npy(dict('<f8', '(2,)'), encode('f8', [0.1, 0.2], true));
    expect(values(parseNpy(file.slice().buffer))).toEqual([0.1, 0.2]);
    const shifted = new Uint8Array(file.length + 3);
    shifted.set(file, 3);
    expect(values(parseNpy(shifted.subarray(3)))).toEqual([0.1, 0.2]);
  });
});

describe('refusals', () => {
  const f8 = encode('f8', [1, 2, 3, 4, 5, 6], true);
  const cases: [string, () => unknown, RegExp][] = [
    ['object arrays', () => parseNpy(npy(dict('|O', '(2,)'), new Uint8Array(16))), /pickle/],
    ['structured dtypes', () => parseNpy(npy(`{'descr': [('a', '<f8'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }`, new Uint8Array(12))), /structured/],
    ['strings', () => parseNpy(npy(dict('<U5', '(1,)'), new Uint8Array(20))), /text/],
    ['complex', () => parseNpy(npy(dict('<c16', '(1,)'), new Uint8Array(16))), /complex/],
    ['datetimes', () => parseNpy(npy(dict('<M8[D]', '(1,)'), new Uint8Array(8))), /not real numbers|dates/],
    ['long double', () => parseNpy(npy(dict('<f16', '(1,)'), new Uint8Array(16))), /float64/],
    ['0-D', () => parseNpy(npy(dict('<f8', '()'), f8.subarray(0, 8))), /single number/],
    ['3-D', () => parseNpy(npy(dict('<f8', '(1, 2, 3)'), f8)), /3-D array of shape \(1, 2, 3\)/],
    ['empty arrays', () => parseNpy(npy(dict('<f8', '(0, 3)'), new Uint8Array(0))), /no values/],
    ['truncated data', () => parseNpy(npy(dict('<f8', '(2, 3)'), f8.subarray(0, 40))), /truncated/],
    ['trailing bytes', () => parseNpy(npy(dict('<f8', '(2, 2)'), f8)), /extra bytes/],
    ['bad magic', () => parseNpy(new TextEncoder().encode('1,2,3\n4,5,6\n')), /not a NumPy/],
    ['npz archives', () => parseNpy(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0])), /npz/],
    ['too short', () => parseNpy(new Uint8Array([0x93, 0x4e])), /not a NumPy/],
    ['version 4.0', () => parseNpy(npy(dict('<f8', '(1,)'), f8.subarray(0, 8), 3).map((b, i) => (i === 6 ? 4 : b))), /version 4\.0/],
    ['a truncated header', () => parseNpy(npy(dict('<f8', '(1,)'), new Uint8Array(0)).subarray(0, 40)), /truncated/],
    ['extra header keys', () => parseNpy(npy(`{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}`, f8.subarray(0, 8))), /exactly descr/],
    ['a shape that is not a tuple', () => parseNpy(npy(`{'descr': '<f8', 'fortran_order': False, 'shape': (1)}`, f8.subarray(0, 8))), /shape/],
    ['negative dimensions', () => parseNpy(npy(dict('<f8', '(-1,)'), f8.subarray(0, 8))), /shape/],
    ['non-bool fortran_order', () => parseNpy(npy(`{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}`, f8.subarray(0, 8))), /malformed/],
    ['garbage headers', () => parseNpy(npy(`{'descr': __import__('os'), }`, f8.subarray(0, 8))), /malformed/],
    ['multi-byte types without byte order', () => parseNpy(npy(dict('|f8', '(1,)'), f8.subarray(0, 8))), /malformed/],
  ];
  for (const [what, f, re] of cases) {
    it(`refuses ${what} with NPY_INVALID`, () => {
      const e = fail(f);
      expect(e.code).toBe('NPY_INVALID');
      expect(e.userMessage).toMatch(re);
    });
  }

  it('refuses NaN / Infinity with row and column (after Fortran transposition)', () => {
    const e = fail(() => parseNpy(npy(dict('<f8', '(2, 3)', true), encode('f8', [1, 2, 3, NaN, 5, 6], true))));
    expect([e.code, e.details]).toEqual(['NPY_INVALID', { row: 2, column: 2 }]);
    expect(e.userMessage).toMatch(/not finite/);
    const inf = fail(() => parseNpy(npy(dict('>f4', '(3,)'), encode('f4', [1, -Infinity, 0], false))));
    expect([inf.code, inf.details]).toEqual(['NPY_INVALID', { row: 2, column: 1 }]);
  });

  it('refuses huge values with DATA_MAGNITUDE (bad/huge-values.csv as .npy)', () => {
    const e = fail(() => parseNpy(npy(dict('<f8', '(3, 2)'), encode('f8', [1e308, -1e308, -1e308, 1e308, 0.5, -0.5], true))));
    expect([e.code, e.details]).toEqual(['DATA_MAGNITUDE', { row: 1, column: 1 }]);
    expect(e.userMessage).not.toMatch(/1e308/);
    const big = fail(() => parseNpy(npy(dict('<u8', '(1,)'), encode('u8', [2 ** 60], true))));
    expect(big.code).toBe('DATA_MAGNITUDE');
  });
});

describe('labels', () => {
  it('reads integer labels from any integral dtype, 1-D or n×1', () => {
    expect(parseNpyLabels(npy(dict('<i8', '(4,)'), encode('i8', [0, 1, 2, 1], true)))).toEqual(Int32Array.from([0, 1, 2, 1]));
    expect(parseNpyLabels(npy(dict('<f8', '(2, 1)'), encode('f8', [3, 0], true)))).toEqual(Int32Array.from([3, 0]));
  });

  it('refuses non-integers and 2-D label arrays', () => {
    const e = fail(() => parseNpyLabels(npy(dict('<f8', '(2,)'), encode('f8', [1, 1.5], true))));
    expect([e.code, e.details]).toEqual(['NPY_INVALID', { row: 2 }]);
    expect(fail(() => parseNpyLabels(npy(dict('<f8', '(2, 2)'), encode('f8', [1, 2, 3, 4], true)))).code).toBe('NPY_INVALID');
  });
});

describe('writeNpy', () => {
  it('writes v1.0 <f8 C order with the data at a multiple of 64 bytes', () => {
    for (const shape of [[1], [7], [2, 3], [150, 4], [12345678, 0], [2, 3, 4]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const out = writeNpy(matrix(new Float64Array(n), shape));
      const hlen = out[8] | (out[9] << 8);
      expect((10 + hlen) % 64).toBe(0);
      expect(out.length).toBe(10 + hlen + n * 8);
      const header = ascii(out.subarray(10, 10 + hlen));
      expect(header.endsWith('\n')).toBe(true);
      const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
      expect(header.trimEnd()).toBe(`{'descr': '<f8', 'fortran_order': False, 'shape': ${shapeText}, }`);
    }
  });

  it('writes only the viewed part of a subarray', () => {
    const big = Float64Array.from([9, 1, 2, 9]);
    const p = parseNpy(writeNpy(plainMatrix(big.subarray(1, 3), 1, 2)));
    expect(values(p)).toEqual([1, 2]);
  });

  it('property: parseNpy ∘ writeNpy is the identity, bit for bit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.double({ min: -MAX_ABS_VALUE, max: MAX_ABS_VALUE, noNaN: true }), { minLength: 96, maxLength: 96 }),
        (rows, cols, pool) => {
          const data = Float64Array.from({ length: rows * cols }, (_, i) => pool[i % pool.length]);
          const p = parseNpy(writeNpy(plainMatrix(data, rows, cols)));
          expect(p.matrix.shape).toEqual([rows, cols]);
          for (let i = 0; i < data.length; i++) expect(Object.is(p.matrix.data[i], data[i])).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
