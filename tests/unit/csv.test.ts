/**
 * CSV ingestion (lib/data/csv.ts) against the dataset files and every malformed fixture of
 * shared/datasets/README.md, plus edge cases of the format (quotes, newlines, slices).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { parseCsv, parseLabels, detectDelimiter, type ParsedTable } from '@/lib/data/csv';
import { MAX_ABS_VALUE } from '@/lib/data/stats';

const DATASETS = new URL('../../../shared/datasets/', import.meta.url);
const readText = (name: string) => readFileSync(new URL(name, DATASETS), 'utf8');
const readBytes = (name: string) => new Uint8Array(readFileSync(new URL(name, DATASETS)));

/** Both input paths (string and Blob) must give the same result. */
async function parseBoth(text: string, opts?: Parameters<typeof parseCsv>[1]): Promise<ParsedTable> {
  const a = await parseCsv(text, opts);
  const b = await parseCsv(new Blob([text]), opts);
  expect(b.matrix.shape).toEqual(a.matrix.shape);
  expect(bitsEqual(a.matrix.data, b.matrix.data)).toBe(true);
  return a;
}

/** Shortest round-trip text, like Python's repr(float) (which keeps the sign of zero). */
const fmt = (v: number) => (Object.is(v, -0) ? '-0.0' : String(v));

function bitsEqual(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected a rejection');
}

/** Both input paths must fail the same way. */
async function parseError(text: string | Uint8Array, opts?: Parameters<typeof parseCsv>[1]): Promise<AppError> {
  const fromBlob = await rejection(parseCsv(new Blob([text as BlobPart]), opts));
  if (typeof text === 'string') {
    const fromString = await rejection(parseCsv(text, opts));
    expect(fromString.code).toBe(fromBlob.code);
    expect(fromString.message).toBe(fromBlob.message);
    expect(fromString.details).toEqual(fromBlob.details);
  }
  return fromBlob;
}

const GOOD: [string, number, number, Record<number, number>][] = [
  ['iris', 150, 4, { 0: 50, 1: 50, 2: 50 }],
  ['wine', 178, 13, { 0: 59, 1: 71, 2: 48 }],
  ['breast_cancer', 569, 30, { 0: 212, 1: 357 }],
  ['blobs-100x5-k2', 100, 5, { 0: 50, 1: 50 }],
  ['blobs-1000x8-k4', 1000, 8, { 0: 250, 1: 250, 2: 250, 3: 250 }],
  ['classification-train', 200, 5, { 0: 101, 1: 99 }],
  ['classification-test', 50, 5, { 0: 25, 1: 25 }],
];

describe('good datasets (shared/datasets/README.md)', () => {
  for (const [name, rows, cols, classes] of GOOD) {
    it(`${name}.csv parses to ${rows}×${cols}, each value exactly Number(token)`, async () => {
      const text = readText(`${name}.csv`);
      const t = await parseBoth(text);
      expect(t.matrix.shape).toEqual([rows, cols]);
      expect([t.rows, t.cols, t.delimiter, t.header, t.labels]).toEqual([rows, cols, ',', undefined, undefined]);
      const expected = Float64Array.from(
        text.trimEnd().split('\n').flatMap((line) => line.split(',').map((tok) => Number(tok))),
      );
      expect(bitsEqual(t.matrix.data, expected)).toBe(true);
      expect(t.matrix.data.buffer.byteLength).toBe(rows * cols * 8); // exact-size buffer (transferable)
    });

    it(`${name}.labels.csv parses to ${rows} integer labels with the documented class counts`, async () => {
      const labels = await parseLabels(new Blob([readBytes(`${name}.labels.csv`)]));
      expect(labels).toBeInstanceOf(Int32Array);
      expect(labels.length).toBe(rows);
      const counts: Record<number, number> = {};
      for (const l of labels) counts[l] = (counts[l] ?? 0) + 1;
      expect(counts).toEqual(classes);
    });
  }

  it('iris first and last rows', async () => {
    const t = await parseCsv(readText('iris.csv'));
    expect(Array.from(t.matrix.data.subarray(0, 4))).toEqual([5.1, 3.5, 1.4, 0.2]);
    expect(Array.from(t.matrix.data.subarray(149 * 4))).toEqual([5.9, 3.0, 5.1, 1.8]);
  });
});

describe('bad fixtures (shared/datasets/README.md, handled exactly as specified)', () => {
  it('empty.csv → "file is empty"', async () => {
    const e = await parseError(readBytes('bad/empty.csv'));
    expect(e.code).toBe('CSV_INVALID');
    expect(e.message).toBe('file is empty');
    expect(e.userMessage).toMatch(/file is empty/i);
  });

  it('header-only.csv → no numeric rows (a header is not data)', async () => {
    const e = await parseError(readText('bad/header-only.csv'));
    expect(e.code).toBe('CSV_INVALID');
    expect(e.message).toMatch(/no numeric rows/);
    expect(e.userMessage).toMatch(/no numeric rows/);
    expect(e.userMessage).toMatch(/header is not data/);
    expect(e.details).toEqual({ line: 1 });
  });

  it('ragged.csv → names line 2: 3 fields, expected 4', async () => {
    const e = await parseError(readText('bad/ragged.csv'));
    expect(e.code).toBe('CSV_INVALID');
    expect(e.message).toBe('line 2 has 3 fields, expected 4');
    expect(e.userMessage).toMatch(/^Line 2 has 3 fields, expected 4/);
    expect(e.details).toEqual({ line: 2 });
  });

  it('non-numeric.csv → names line 2, column 2', async () => {
    const e = await parseError(readText('bad/non-numeric.csv'));
    expect(e.code).toBe('CSV_INVALID');
    expect(e.details).toEqual({ line: 2, column: 2 });
    expect(e.userMessage).toMatch(/^Line 2, column 2: "abc" is not a number/);
    // No neighbouring values in the messages.
    for (const m of [e.message, e.userMessage]) expect(m).not.toMatch(/4\.9|1\.4|0\.2/);
  });

  it('nan.csv → missing/non-finite values refused at line 2, column 2', async () => {
    const e = await parseError(readText('bad/nan.csv'));
    expect(e.code).toBe('CSV_INVALID');
    expect(e.details).toEqual({ line: 2, column: 2 });
    expect(e.userMessage).toMatch(/missing or non-finite/);
    expect(e.userMessage).toMatch(/finite real numbers/);
    // The lower-case `nan` of line 3 is refused the same way once line 2 is fixed.
    const fixed = readText('bad/nan.csv').replace('NaN', '3.0');
    const e3 = await parseError(fixed);
    expect([e3.code, e3.details]).toEqual(['CSV_INVALID', { line: 3, column: 3 }]);
    expect(e3.userMessage).toMatch(/"nan" is a missing or non-finite value/);
  });

  it('bom-semicolon.csv → accepted as 5×4 (BOM stripped, ";" detected)', async () => {
    const bytes = readBytes('bad/bom-semicolon.csv');
    expect(Array.from(bytes.subarray(0, 3))).toEqual([0xef, 0xbb, 0xbf]);
    const fromBlob = await parseCsv(new Blob([bytes]));
    const fromString = await parseCsv(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes)); // BOM kept in the string
    for (const t of [fromBlob, fromString]) {
      expect(t.matrix.shape).toEqual([5, 4]);
      expect(t.delimiter).toBe(';');
      expect(t.header).toBeUndefined();
      expect(Array.from(t.matrix.data)).toEqual(readText('iris.csv').split('\n').slice(0, 5).join(',').split(',').map(Number));
    }
  });

  it('huge-values.csv → refused with a magnitude message (never Infinity downstream)', async () => {
    const e = await parseError(readText('bad/huge-values.csv'));
    expect(e.code).toBe('DATA_MAGNITUDE');
    expect(e.details).toEqual({ line: 1, column: 1 });
    expect(e.userMessage).toMatch(/too large in magnitude/);
    expect(e.userMessage).toMatch(/UDM/);
    expect(e.userMessage).not.toMatch(/1e308/);
  });

  it('one-row.csv → parses as 1×4', async () => {
    const t = await parseBoth(readText('bad/one-row.csv'));
    expect(t.matrix.shape).toEqual([1, 4]);
    expect(Array.from(t.matrix.data)).toEqual([5.1, 3.5, 1.4, 0.2]);
  });
});

describe('format details', () => {
  it('detects the delimiter from the first line, ignoring quoted text', () => {
    expect(detectDelimiter('1,2,3')).toBe(',');
    expect(detectDelimiter('1;2;3')).toBe(';');
    expect(detectDelimiter('1\t2\t3')).toBe('\t');
    expect(detectDelimiter('"a;b;c",d')).toBe(',');
    expect(detectDelimiter('1,5;2,5')).toBe(','); // tie → comma; the cells then fail loudly
    expect(detectDelimiter('42')).toBe(',');
  });

  it('reads tab-separated values', async () => {
    const t = await parseBoth('1\t2\n3\t4\n');
    expect([t.delimiter, ...t.matrix.shape]).toEqual(['\t', 2, 2]);
  });

  it('reads CRLF, CR-only and missing final newline', async () => {
    for (const text of ['1,2\r\n3,4\r\n', '1,2\r3,4\r', '1,2\n3,4', '1,2\r\n3,4']) {
      const t = await parseBoth(text);
      expect(Array.from(t.matrix.data)).toEqual([1, 2, 3, 4]);
    }
  });

  it('reads quoted fields, with CRLF and an escaped quote in the header', async () => {
    const t = await parseBoth('"a ""x""","b"\r\n"1.5", 2 \r\n 3 ,"-4e-1"\r\n');
    expect(t.header).toEqual(['a "x"', 'b']);
    expect(Array.from(t.matrix.data)).toEqual([1.5, 2, 3, -0.4]);
  });

  it('keeps header names and finds a label column', async () => {
    const text = 'f1,f2,species\n1,2,0\n3,4,2\n';
    const t = await parseBoth(text, { labelColumn: 'last' });
    expect([t.header, t.labelHeader, t.labelColumn, t.cols]).toEqual([['f1', 'f2'], 'species', 2, 2]);
    expect(t.labels).toEqual(Int32Array.from([0, 2]));
    const t0 = await parseCsv(text, { labelColumn: 0 });
    expect(Array.from(t0.matrix.data)).toEqual([2, 0, 4, 2]);
    expect(t0.labels).toEqual(Int32Array.from([1, 3]));
    const tf = await parseCsv('1,0.5\n2,1.5\n', { labelColumn: 1 });
    expect(tf.labels).toBeInstanceOf(Float64Array); // non-integer targets stay float
  });

  it('refuses a label column that does not exist or leaves no features', async () => {
    expect((await parseError('1,2\n', { labelColumn: 2 })).code).toBe('INVALID_ARGUMENT');
    expect((await parseError('1\n2\n', { labelColumn: 'last' })).code).toBe('INVALID_ARGUMENT');
  });

  it('a line with a number is data, not a header', async () => {
    const e = await parseError('a,1\n2,3\n');
    expect([e.code, e.details]).toEqual(['CSV_INVALID', { line: 1, column: 1 }]);
    // A first line of NaNs is bad data, not a header.
    const n = await parseError('NaN,nan\n1,2\n');
    expect([n.code, n.details]).toEqual(['CSV_INVALID', { line: 1, column: 1 }]);
  });

  it('skips blank lines but counts them in line numbers', async () => {
    const t = await parseBoth('\n\n1,2\n\n   \n3,4\n\n');
    expect(Array.from(t.matrix.data)).toEqual([1, 2, 3, 4]);
    const e = await parseError('\n1,2\n\n3,x\n');
    expect(e.details).toEqual({ line: 4, column: 2 });
  });

  it('counts newlines inside quoted fields in line numbers', async () => {
    const e = await parseError('h1,"h\n2"\n1,2\n3,oops\n');
    expect(e.details).toEqual({ line: 4, column: 2 });
  });

  it('refuses empty cells, hex/binary/octal and infinities', async () => {
    const cases: [string, string, Record<string, number>][] = [
      ['1,2\n3,\n', 'CSV_INVALID', { line: 2, column: 2 }],
      ['1,2\n3, \n', 'CSV_INVALID', { line: 2, column: 2 }],
      ['1,0x10\n', 'CSV_INVALID', { line: 1, column: 2 }],
      ['1,0b1\n', 'CSV_INVALID', { line: 1, column: 2 }],
      ['0o7,1\n', 'CSV_INVALID', { line: 1, column: 1 }],
      ['1,Infinity\n', 'CSV_INVALID', { line: 1, column: 2 }],
      ['1,-inf\n', 'CSV_INVALID', { line: 1, column: 2 }],
      ['1,NA\n', 'CSV_INVALID', { line: 1, column: 2 }],
      ['1,1_000\n', 'CSV_INVALID', { line: 1, column: 2 }],
      ['1,1e400\n', 'DATA_MAGNITUDE', { line: 1, column: 2 }],
      ['1,2\n,,\n', 'CSV_INVALID', { line: 2 }],
    ];
    for (const [text, code, details] of cases) {
      const e = await parseError(text);
      expect([text, e.code, e.details]).toEqual([text, code, details]);
    }
    const empty = await parseError('1,2\n3,\n');
    expect(empty.userMessage).toMatch(/is empty/);
  });

  it('accepts every decimal spelling Number() and Python float share', async () => {
    const t = await parseBoth('+1,-.5,5.,1E3,-0,007,  2.5e-3  \n');
    expect(Array.from(t.matrix.data)).toEqual([1, -0.5, 5, 1000, -0, 7, 0.0025]);
    expect(Object.is(t.matrix.data[4], -0)).toBe(true);
  });

  it('magnitude bound is |x| ≤ 1e15, inclusive', async () => {
    expect(MAX_ABS_VALUE).toBe(1e15);
    const ok = await parseCsv('1e15,-1e15\n');
    expect(Array.from(ok.matrix.data)).toEqual([1e15, -1e15]);
    const e = await parseError('1,1.0000000000000002e15\n');
    expect([e.code, e.details]).toEqual(['DATA_MAGNITUDE', { line: 1, column: 2 }]);
  });

  it('never quotes a token that contains digits (it could be data)', async () => {
    const e = await parseError('1,2\n3,12.5abc\n');
    expect(e.details).toEqual({ line: 2, column: 2 });
    for (const m of [e.message, e.userMessage]) expect(m).not.toMatch(/12\.5|abc/);
    const mixed = await parseError('1,2\n3;4,5\n');
    expect(mixed.userMessage).toMatch(/contains a semicolon/);
    expect(mixed.userMessage).not.toMatch(/3;4/);
  });

  it('reports malformed and unclosed quotes with the line', async () => {
    const a = await parseError('1,2\n"3"x,4\n');
    expect([a.code, a.details?.line]).toEqual(['CSV_INVALID', 2]);
    const b = await parseError('1,2\n3,"4\n5,6\n');
    expect([b.code, b.details?.line]).toEqual(['CSV_INVALID', 2]);
    expect(b.userMessage).toMatch(/never closed/);
  });

  it('refuses binary content (e.g. an .npy file)', async () => {
    const bytes = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0x76, 0, 0x7b, 0, 0, 0]);
    const e = await parseError(bytes);
    expect(e.code).toBe('CSV_INVALID');
    expect(e.userMessage).toMatch(/binary/);
  });

  it('whitespace-only or BOM-only input is empty', async () => {
    for (const t of ['   \n\n', '\ufeff', '\r\n']) expect((await parseError(t)).message).toBe('file is empty');
  });

  it('refuses a non-string, non-Blob input', async () => {
    const e = await rejection(parseCsv(42 as unknown as string));
    expect(e.code).toBe('INVALID_ARGUMENT');
  });
});

describe('large inputs (sliced processing)', () => {
  // > 2 slices, with quoted multi-line cells and multi-byte header text spread over the file.
  function bigCsv(rows: number): { text: string; values: number[] } {
    const lines = ['"größe ""a""","b\nb",c'];
    const values: number[] = [];
    for (let i = 0; i < rows; i++) {
      const a = i * 0.25 - 7;
      const b = (i % 97) / 3;
      const c = -i;
      values.push(a, b, c);
      lines.push(i % 7 === 0 ? `"${fmt(a)}",${fmt(b)},"${fmt(c)}"` : `${fmt(a)},${fmt(b)},${fmt(c)}`);
    }
    return { text: lines.join('\n') + '\n', values };
  }

  it('parses a 5 MB file identically through string and Blob, reporting progress', async () => {
    const { text, values } = bigCsv(220_000);
    expect(text.length).toBeGreaterThan(4 * 1024 * 1024);
    const fractions: number[] = [];
    const t = await parseBoth(text, { onProgress: (f) => fractions.push(f) });
    expect(t.header).toEqual(['größe "a"', 'b\nb', 'c']);
    expect(t.matrix.shape).toEqual([220_000, 3]);
    expect(bitsEqual(t.matrix.data, Float64Array.from(values))).toBe(true);
    expect(fractions.length).toBeGreaterThan(2);
    expect(fractions.at(-1)).toBe(1);
    for (let i = 1; i < fractions.length; i++) {
      // Two runs (string, Blob) each increase monotonically.
      if (fractions[i] < fractions[i - 1]) expect(fractions[i - 1]).toBe(1);
    }
  });

  it('reports the right line far into the file', async () => {
    const { text } = bigCsv(200_000);
    const lines = text.split('\n');
    // Physical line numbers: the header spans lines 1–2, so row i is on line i + 3.
    lines[150_002] = lines[150_002].replace(/,[^,]*$/, ',bad');
    const e = await parseError(lines.join('\n'));
    expect(e.details).toEqual({ line: 150_003, column: 3 });
  });

  it('stops when the signal aborts', async () => {
    const { text } = bigCsv(200_000);
    const ctl = new AbortController();
    const p = parseCsv(new Blob([text]), { signal: ctl.signal, onProgress: (f) => f > 0.3 && ctl.abort() });
    expect((await rejection(p)).code).toBe('ABORTED');
    const pre = new AbortController();
    pre.abort();
    expect((await rejection(parseCsv('1,2\n', { signal: pre.signal }))).code).toBe('ABORTED');
  });
});

describe('labels files', () => {
  it('accepts integers (and integral floats), with an optional header', async () => {
    expect(await parseLabels('label\n0\n2\n1.0\n-3\n')).toEqual(Int32Array.from([0, 2, 1, -3]));
  });

  it('refuses non-integers, several fields, blanks in cells and empty files', async () => {
    const nonInt = await rejection(parseLabels('0\n1.5\n'));
    expect([nonInt.code, nonInt.details]).toEqual(['CSV_INVALID', { line: 2, column: 1 }]);
    const big = await rejection(parseLabels('0\n3000000000\n'));
    expect(big.details).toEqual({ line: 2, column: 1 });
    const two = await rejection(parseLabels('0,1\n1,0\n'));
    expect([two.code, two.details]).toEqual(['CSV_INVALID', { line: 1 }]);
    expect((await rejection(parseLabels(''))).message).toBe('file is empty');
    expect((await rejection(parseLabels('label\n'))).code).toBe('CSV_INVALID');
    expect((await rejection(parseLabels('0\nnan\n'))).details).toEqual({ line: 2, column: 1 });
  });
});

describe('property: formatted matrices parse back exactly', () => {
  const finite = fc.double({ min: -MAX_ABS_VALUE, max: MAX_ABS_VALUE, noNaN: true });
  it('any delimiter, newline, quoting and padding', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }).chain((cols) =>
          fc.record({
            rows: fc.array(fc.array(finite, { minLength: cols, maxLength: cols }), { minLength: 1, maxLength: 20 }),
            delimiter: fc.constantFrom(',', ';', '\t'),
            newline: fc.constantFrom('\n', '\r\n'),
            quote: fc.boolean(),
            pad: fc.constantFrom('', ' ', '  '),
            header: fc.boolean(),
            bom: fc.boolean(),
            trailing: fc.boolean(),
          }),
        ),
        async ({ rows, delimiter, newline, quote, pad, header, bom, trailing }) => {
          const cols = rows[0].length;
          const cell = (s: string) => (quote ? `"${s}"` : `${pad}${s}${pad}`);
          const lines = rows.map((r) => r.map((v) => cell(fmt(v))).join(delimiter));
          if (header) lines.unshift(Array.from({ length: cols }, (_, j) => cell(`col${'abc'[j % 3]}`)).join(delimiter));
          const text = (bom ? '\ufeff' : '') + lines.join(newline) + (trailing ? newline : '');
          const t = await parseBoth(text);
          expect(t.matrix.shape).toEqual([rows.length, cols]);
          expect(bitsEqual(t.matrix.data, Float64Array.from(rows.flat()))).toBe(true);
          expect(t.header === undefined).toBe(!header);
          if (cols > 1) expect(t.delimiter).toBe(delimiter);
        },
      ),
      { numRuns: 150 },
    );
  });
});
