/**
 * The CSV slicer (lib/data/csv.ts `streamCsvRows`, issue #10 item 9): whatever the slice size,
 * the rows it hands out are exactly the rows `Papa.parse` finds in the whole text (blank lines
 * left out), with the physical line each row starts on — with quoted fields holding delimiters,
 * quotes, CR/LF/CRLF newlines and multi-byte characters that fall across slice boundaries, and
 * through both inputs (string slices by characters, Blob slices by bytes).
 */
import fc from 'fast-check';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { streamCsvRows, type CsvDelimiter, type CsvInput, type CsvStreamStart } from '@/lib/data/csv';

interface Streamed {
  readonly start: CsvStreamStart;
  readonly rows: { fields: string[]; line: number }[];
}

async function stream(input: CsvInput, sliceSize: number, delimiter: CsvDelimiter): Promise<Streamed> {
  let start: CsvStreamStart | undefined;
  const rows: { fields: string[]; line: number }[] = [];
  await streamCsvRows(input, { sliceSize }, { delimiter: () => delimiter, start: (s) => (start = s), row: (fields, line) => rows.push({ fields: [...fields], line }) });
  return { start: start!, rows };
}

/** What papaparse makes of the whole text with the same settings, blank rows left out. */
function papaWhole(text: string, delimiter: CsvDelimiter, newline: string) {
  const r = Papa.parse<string[]>(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, {
    delimiter,
    newline: newline as '\n',
    quoteChar: '"',
    escapeChar: '"',
    header: false,
    dynamicTyping: false,
    skipEmptyLines: false,
  });
  return { rows: r.data.filter((f) => !(f.length === 1 && f[0].trim() === '')), errors: r.errors.length };
}

const ALPHABET = ['a', 'b', '7', '.', ' ', ',', ';', '\t', '"', '\n', '\r', 'é', '€', '😀'];
const fieldArb = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 6 }).map((cs) => cs.join(''));

/**
 * Encodes one field: quoted when it must be (it holds the delimiter, a quote at its start, a CR,
 * or an LF in an LF file) or when `quote` says so; otherwise written raw (a quote inside a raw
 * field is literal, and so is a lone LF in a CRLF file).
 */
function encodeField(f: string, delimiter: string, newline: string, quote: boolean): string {
  const must = f.includes(delimiter) || f.startsWith('"') || f.includes('\r') || (newline === '\n' && f.includes('\n'));
  return must || quote ? `"${f.replaceAll('"', '""')}"` : f;
}

describe('property: streamCsvRows equals Papa.parse on the whole text', () => {
  it('for any slice size, delimiter, newline and quoting', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          delimiter: fc.constantFrom<CsvDelimiter>(',', ';', '\t'),
          newline: fc.constantFrom('\n', '\r\n'),
          cols: fc.integer({ min: 1, max: 4 }),
          rows: fc.array(fc.tuple(fc.array(fieldArb, { minLength: 4, maxLength: 4 }), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 })), { minLength: 1, maxLength: 25 }),
          blankLines: fc.array(fc.nat(30), { maxLength: 3 }),
          sliceSize: fc.integer({ min: 1, max: 64 }),
          bom: fc.boolean(),
          trailing: fc.boolean(),
        }),
        async ({ delimiter, newline, cols, rows, blankLines, sliceSize, bom, trailing }) => {
          // The first row is plain text so the newline is detected from a real row end.
          const lines = ['h1' + `${delimiter}h`.repeat(cols - 1)];
          for (const [fields, quotes] of rows) lines.push(fields.slice(0, cols).map((f, j) => encodeField(f, delimiter, newline, quotes[j])).join(delimiter));
          for (const at of blankLines) lines.splice(1 + (at % lines.length), 0, '');
          const text = (bom ? '\ufeff' : '') + lines.join(newline) + (trailing ? newline : '');

          const expected = papaWhole(text, delimiter, newline);
          const fromString = await stream(text, sliceSize, delimiter).catch((e: unknown) => e);
          const fromBlob = await stream(new Blob([text]), sliceSize, delimiter).catch((e: unknown) => e);
          if (expected.errors > 0) {
            expect(fromString).toBeInstanceOf(AppError);
            expect(fromBlob).toBeInstanceOf(AppError);
            return;
          }
          for (const got of [fromString, fromBlob] as Streamed[]) {
            expect(got.start.newline).toBe(newline);
            expect(got.start.bom).toBe(bom);
            expect(got.rows.map((r) => r.fields)).toEqual(expected.rows);
          }
          // Physical lines: a row starts after as many newlines as precede it in the text.
          expect((fromBlob as Streamed).rows.map((r) => r.line)).toEqual((fromString as Streamed).rows.map((r) => r.line));
          expect((fromString as Streamed).rows[0].line).toBe(1);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('line numbers count the newlines inside quoted fields', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(3), fc.boolean()), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 16 }),
        async (spec, sliceSize) => {
          const lines: string[] = ['a,b'];
          const expectedLines: number[] = [1];
          let line = 2;
          for (const [inner, blank] of spec) {
            if (blank) {
              lines.push('');
              line++;
            }
            expectedLines.push(line);
            lines.push(`"x${'\n'.repeat(inner)}y",1`);
            line += inner + 1;
          }
          const text = lines.join('\n') + '\n';
          const got = await stream(text, sliceSize, ',');
          expect(got.rows.map((r) => r.line)).toEqual(expectedLines);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a quote in the middle of a raw field is literal, as in papaparse', async () => {
    const text = 'a"b,c\n"x\ny",z\nq"",r\n';
    for (let s = 1; s <= text.length; s++) {
      const got = await stream(text, s, ',');
      expect(got.rows.map((r) => r.fields)).toEqual([['a"b', 'c'], ['x\ny', 'z'], ['q""', 'r']]);
      expect(got.rows.map((r) => r.line)).toEqual([1, 2, 4]);
    }
  });

  it('refuses a slice size that is not a positive integer', async () => {
    for (const sliceSize of [0, -1, 1.5]) {
      await expect(streamCsvRows('1,2\n', { sliceSize }, { row: () => undefined })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });
});
