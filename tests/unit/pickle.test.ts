/**
 * Pickle subset codec (E3/E4) against the byte-exact vectors of shared/vectors/encodings.json
 * (`E3`, `E4`) and the real Python pickles in shared/vectors/ckks-pyfhel/ (spec/protocol.md §7.3).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { pickle, pickleBytesList, pickleBytesMatrix, unpickle, unpickleBytesList, unpickleBytesMatrix, type PickleValue } from '@/lib/storage/pickle';

const VECTORS = new URL('../../../shared/vectors/', import.meta.url);
const enc = JSON.parse(readFileSync(new URL('encodings.json', VECTORS), 'utf8'));
const pyfhelFile = (name: string) => new Uint8Array(readFileSync(new URL(`ckks-pyfhel/${name}`, VECTORS)));

const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const ascii = (s: string) => new TextEncoder().encode(s);

function expectProtocolError(f: () => unknown, pattern?: RegExp): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(AppError);
  expect((caught as AppError).code).toBe('PROTOCOL_VIOLATION');
  if (pattern) expect((caught as AppError).message).toMatch(pattern);
}

const e3Items: Uint8Array[] = enc.E3.items_hex.map(fromHex);
const e4Rows: Uint8Array[][] = enc.E4.items_hex.map((r: string[]) => r.map(fromHex));

/** The items of `E3.more`, rebuilt from their descriptions. */
function moreItems(i: number): Uint8Array[] {
  if (i === 0) return [Uint8Array.from({ length: 300 }, (_, j) => (j * 31 + 7) % 256), ascii('x')];
  if (i === 1) return [ascii('ab'), Uint8Array.from({ length: 66000 }, (_, j) => (j * 7 + 3) % 256), ascii('cd')];
  const rory = ascii('rory');
  return [rory, rory]; // the same object twice → memo reference
}

describe('E3 writer (encodings.json E3)', () => {
  it.each([3, 4, 5] as const)('protocol %i equals Python pickle.dumps byte for byte', (p) => {
    expect(toHex(pickleBytesList(e3Items, { protocol: p }))).toBe(enc.E3.pickle_hex_by_protocol[String(p)]);
  });

  it('defaults to protocol 4 = mictlanx Chunk.from_list payload', () => {
    expect(enc.E3.python_default_protocol).toBe(4);
    expect(toHex(pickleBytesList(e3Items))).toBe(enc.E3.mictlanx_Chunk_from_list_payload_hex);
  });

  it('writes the spec minimal encoding', () => {
    expect(toHex(pickleBytesList(e3Items, { minimal: true }))).toBe(enc.E3.minimal_encoder_hex);
  });

  it.each([0, 1, 2])('E3.more[%i] equals Python byte for byte (BINBYTES, frames around a 66000-byte item, memo ref)', (i) => {
    const more = enc.E3.more[i];
    const items = moreItems(i);
    expect(items.map((b) => b.length)).toEqual(more.item_lengths);
    expect(items.map(sha256)).toEqual(more.items_sha256);
    const out = pickleBytesList(items);
    expect(sha256(out)).toBe(more.pickle_sha256);
    expect(toHex(out)).toBe(more.pickle_hex);
  });
});

describe('E4 writer (encodings.json E4)', () => {
  it('protocol 4 equals Python byte for byte', () => {
    expect(toHex(pickleBytesMatrix(e4Rows))).toBe(enc.E4.pickle_hex_by_protocol['4']);
  });

  it('writes the spec minimal nesting', () => {
    expect(toHex(pickleBytesMatrix(e4Rows, { minimal: true }))).toBe(enc.E4.minimal_encoder_hex);
  });
});

describe('E3/E4 reader', () => {
  it.each(['2', '3', '4', '5'])('decodes E3 protocol %s', (p) => {
    expect(unpickleBytesList(fromHex(enc.E3.pickle_hex_by_protocol[p])).map(toHex)).toEqual(enc.E3.items_hex);
  });

  it('decodes the E3 minimal encoding', () => {
    expect(unpickleBytesList(fromHex(enc.E3.minimal_encoder_hex)).map(toHex)).toEqual(enc.E3.items_hex);
  });

  it.each([0, 1, 2])('decodes E3.more[%i]', (i) => {
    const got = unpickleBytesList(fromHex(enc.E3.more[i].pickle_hex));
    expect(got.map(sha256)).toEqual(enc.E3.more[i].items_sha256);
  });

  it('resolves a memo reference (BINGET) to the same bytes', () => {
    const got = unpickleBytesList(fromHex(enc.E3.more[2].pickle_hex));
    expect(got).toHaveLength(2);
    expect(got[0]).toBe(got[1]);
  });

  it.each(['2', '4'])('decodes E4 protocol %s', (p) => {
    const got = unpickleBytesMatrix(fromHex(enc.E4.pickle_hex_by_protocol[p]));
    expect(got.map((r) => r.map(toHex))).toEqual(enc.E4.items_hex);
  });

  it('decodes the E4 minimal encoding', () => {
    expect(unpickleBytesMatrix(fromHex(enc.E4.minimal_encoder_hex)).map((r) => r.map(toHex))).toEqual(enc.E4.items_hex);
  });

  it('decodes protocol-2 empty bytes (__builtin__.bytes()) and BINGET of it', () => {
    // pickle.dumps([b'', b'', b''], protocol=2) from CPython 3.11
    const hex = '80025d710028635f5f6275696c74696e5f5f0a62797465730a71012952710268026802652e';
    expect(unpickleBytesList(fromHex(hex)).map((b) => b.length)).toEqual([0, 0, 0]);
  });

  it('copies items by default, returns views with copy: false', () => {
    const data = fromHex(enc.E3.pickle_hex_by_protocol['4']);
    expect(unpickleBytesList(data)[0].buffer).not.toBe(data.buffer);
    const views = unpickleBytesList(data, { copy: false });
    expect(views[0].buffer).toBe(data.buffer);
    expect(views[0].byteOffset).toBe(16);
  });
});

describe('real Python pickles of Pyfhel ciphertexts (ckks-pyfhel/*.pkl)', () => {
  const e3 = pyfhelFile('e3_matrix_rows.pkl');
  const e4 = pyfhelFile('e4_nested.pkl');

  it('e3_matrix_rows.pkl: 4 blobs at the README offsets with the README hashes', () => {
    const items = unpickleBytesList(e3, { copy: false });
    expect(items.map((b) => b.byteOffset - e3.byteOffset)).toEqual([10, 131201, 262392, 393583]);
    expect(items.map((b) => b.length)).toEqual([131185, 131185, 131185, 131185]);
    expect(items.map(sha256)).toEqual([
      '26a5c232203c62d99e203415eaad56bdb62e5a4239dcef7062076c002bea49a0',
      'eaa0cdcb114ce22abe94b8d9dba6056ebf979cc1627d94927fe66274655d9090',
      '84a7c4867aa9131d6a5917e0c1f102048423359b50184ec1be7a09eaa1ba88ce',
      '503f3eb3a33d5aa903d17d4d029059d80f702ccce17bf916d508c98a1d04c352',
    ]);
  });

  it('e4_nested.pkl: [[blob]] with a FRAME after the large BINBYTES', () => {
    const rows = unpickleBytesMatrix(e4, { copy: false });
    expect(rows.map((r) => r.length)).toEqual([1]);
    expect(rows[0][0].byteOffset - e4.byteOffset).toBe(20);
    expect(sha256(rows[0][0])).toBe('6d7021a92f20419006b8cc3fada8a55d1dbf97cb09a11387f0119947b05aef88');
  });

  it('re-pickling the decoded values reproduces both files byte for byte', () => {
    expect(Buffer.compare(Buffer.from(pickleBytesList(unpickleBytesList(e3))), Buffer.from(e3))).toBe(0);
    expect(Buffer.compare(Buffer.from(pickleBytesMatrix(unpickleBytesMatrix(e4))), Buffer.from(e4))).toBe(0);
  });
});

describe('writer details (CPython C pickler rules)', () => {
  it('uses APPEND for a single item and batches of 1000 in MARK … APPENDS', () => {
    // pickle.dumps([b'a']) and pickle.dumps([b'aa'] * 1001)[-8:] from CPython 3.11
    expect(toHex(pickle([ascii('a')]))).toBe('80049508000000000000005d9443016194612e');
    const b = ascii('aa');
    const many = pickle(Array.from({ length: 1001 }, () => b));
    // the 1001st item gets its own MARK … APPENDS batch (C pickler), not APPEND
    expect(toHex(many.subarray(many.length - 8))).toBe('680165286801652e');
    expect(unpickleBytesList(many)).toHaveLength(1001);
  });

  it('protocol 3 uses BINPUT then LONG_BINPUT past 255 memo entries', () => {
    const items = Array.from({ length: 300 }, (_, i) => Uint8Array.of(i & 255, i >> 8));
    const out = pickle(items, { protocol: 3 });
    expect(unpickleBytesList(out).map((x) => x[0] | (x[1] << 8))).toEqual(items.map((_, i) => i));
    expect(toHex(out)).toContain('72' + '00010000'); // LONG_BINPUT 256
  });

  it('writes an empty list and nested empty lists', () => {
    expect(toHex(pickle([]))).toBe('80045d942e');
    expect(unpickle(pickle([[], [[]]]))).toEqual([[], [[]]]);
  });

  it('rejects values other than bytes and lists', () => {
    for (const bad of [[1], ['x'], [null], [new Uint16Array(2)], {}] as unknown as PickleValue[]) {
      expect(() => pickle(bad)).toThrow(AppError);
    }
    expect(() => pickleBytesList([[ascii('a')]] as unknown as Uint8Array[])).toThrow(AppError);
    expect(() => pickleBytesMatrix([ascii('a')] as unknown as Uint8Array[][])).toThrow(AppError);
    expect(() => pickle([], { protocol: 2 as 4 })).toThrow(AppError);
  });

  it('handles a list that contains itself through the memo; the minimal form refuses it', () => {
    const self: PickleValue[] = [];
    self.push(self);
    expect(toHex(pickle(self))).toBe('80049506000000000000005d946800612e');
    expect(() => pickle(self, { minimal: true })).toThrow(AppError);
    expectProtocolError(() => unpickle(pickle(self)), /contains itself/);
  });
});

describe('reader rejects anything outside the subset', () => {
  const valid = fromHex(enc.E3.pickle_hex_by_protocol['4']);

  it('refuses code-execution opcodes and foreign globals', () => {
    // pickle.dumps(os.system) style: GLOBAL 'posix system'
    expectProtocolError(() => unpickle(fromHex('800263706f7369780a73797374656d0a71002e')), /GLOBAL/);
    // GLOBAL 'builtins eval' + args + REDUCE
    expectProtocolError(() => unpickle(concat(fromHex('8002636275696c74696e730a6576616c0a'), fromHex('2e'))), /GLOBAL/);
    // STACK_GLOBAL, INST, OBJ, BUILD, NEWOBJ, PERSID are not in the subset
    for (const op of [0x93, 0x69, 0x6f, 0x62, 0x81, 0x50, 0x51]) {
      expectProtocolError(() => unpickle(Uint8Array.of(0x80, 0x04, op, 0x2e)), /not supported/);
    }
  });

  it('refuses REDUCE on anything but encode(str, latin1) / bytes()', () => {
    // _codecs.encode('a', 'utf8') (wrong codec)
    const hex = '8002635f636f646563730a656e636f64650a5801000000615804000000757466388652' + '2e';
    expectProtocolError(() => unpickle(fromHex(hex)), /latin1/);
    // REDUCE on a list
    expectProtocolError(() => unpickle(fromHex('80025d5d522e')), /REDUCE/);
  });

  it('rejects truncation, trailing data and unbalanced stacks', () => {
    for (let n = 0; n < valid.length; n++) expectProtocolError(() => unpickle(valid.subarray(0, n)));
    expectProtocolError(() => unpickle(concat(valid, Uint8Array.of(0x2e))), /after STOP/);
    expectProtocolError(() => unpickle(fromHex('80045d5d2e')), /unbalanced/);
    expectProtocolError(() => unpickle(fromHex('8004285d2e')), /unbalanced/);
    expectProtocolError(() => unpickle(fromHex('8004612e')), /underflow/);
    expectProtocolError(() => unpickle(fromHex('800465')), /without MARK/);
  });

  it('enforces frame boundaries and protocol numbers', () => {
    // a frame of length 2 around a 3-byte opcode
    expectProtocolError(() => unpickle(fromHex('8004950200000000000000430161' + '2e')), /frame/);
    // FRAME longer than the data
    expectProtocolError(() => unpickle(fromHex('800495ff000000000000005d2e')), /frame/);
    // FRAME inside an unfinished frame
    expectProtocolError(() => unpickle(fromHex('8004950a0000000000000095010000000000000000')), /FRAME/);
    expectProtocolError(() => unpickle(fromHex('80015d2e')), /protocol/);
    expectProtocolError(() => unpickle(fromHex('80065d2e')), /protocol/);
  });

  it('rejects undefined memo entries, APPEND to bytes and wrong shapes', () => {
    expectProtocolError(() => unpickle(fromHex('80045d6805612e')), /memo/);
    expectProtocolError(() => unpickle(fromHex('8004430161430162612e')), /not a list/);
    expectProtocolError(() => unpickleBytesList(pickle([[ascii('a')]])), /list of bytes/);
    expectProtocolError(() => unpickleBytesMatrix(pickle([ascii('a')])), /list of lists/);
    expectProtocolError(() => unpickleBytesList(pickle(ascii('a'))), /list of bytes/);
  });

  it('rejects nesting deeper than the limit', () => {
    const deep = new Uint8Array(2 + 70 + 69 + 1);
    deep.set([0x80, 0x04]);
    for (let i = 0; i < 70; i++) deep[2 + i] = 0x5d; // 70 EMPTY_LISTs
    for (let i = 0; i < 69; i++) deep[72 + i] = 0x61; // 69 APPENDs
    deep[141] = 0x2e;
    expectProtocolError(() => unpickle(deep), /deeper/);
  });

  it('names the offset in errors', () => {
    try {
      unpickle(fromHex('80045d2843015a94ff'));
      expect.unreachable();
    } catch (e) {
      expect((e as AppError).details?.offset).toBe(8);
      expect((e as AppError).userMessage).toMatch(/CKKS container/);
    }
  });
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
