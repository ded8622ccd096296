/**
 * Round trip (issue #14, "Done when"): a matrix with missing cells and a string class column,
 * written the way pandas `DataFrame.to_csv()` writes it — optional index column (unnamed),
 * header, `sep` of `,` `;` or tab, `decimal` `.` or `,`, an `na_rep` marker, `quoting` minimal or
 * all, `lineterminator` LF or CRLF, `utf-8-sig` BOM, floats as `repr` — is read back by
 * data/table + the default roles (data/columns) + data/prepare to exactly the rows without
 * missing cells (drop), or to the matrix with each hole filled by its column's mean (mean),
 * with the class names and ids and the header names intact. When the text leaves the locale
 * open, the written format is among the alternatives offered (the one-click choice).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultRoles, describeColumns } from '@/lib/data/columns';
import { sameFormat, type CsvFormat } from '@/lib/data/locale';
import { prepareDataset } from '@/lib/data/prepare';
import { MAX_ABS_VALUE } from '@/lib/data/stats';
import { readCsvTable, type RawTable } from '@/lib/data/table';

/** Python's repr(float), which pandas uses (keeps the sign of zero, `.0` on integers, e-notation). */
function pyRepr(v: number): string {
  if (Object.is(v, -0)) return '-0.0';
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.0`;
  const s = String(v);
  // JS writes 1e-7 / 1e+21; Python writes 1e-07 / 1e+21.
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

const NA_REPS = ['', 'NA', 'N/A', '?', 'nan', 'NaN'];
const CLASS_NAMES = ['setosa', 'versicolor', 'virginica', 'clase_é', 'M', 'B'];
const NAME_CHARS = 'abcdefxyzéñ_ '.split('');

interface Written {
  readonly text: string;
  readonly format: CsvFormat;
}

function toCsv(
  m: (number | null)[][],
  names: string[],
  classes: string[] | null,
  o: { index: boolean; sep: ',' | ';' | '\t'; decimal: '.' | ','; na: string; quoteAll: boolean; eol: string; bom: boolean },
): Written {
  const q = (s: string, isText: boolean) => {
    const needs = s.includes(o.sep) || s.includes('"') || s.includes('\n') || s.includes('\r');
    return (o.quoteAll && isText) || needs ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const num = (v: number | null) => (v === null ? o.na : o.decimal === ',' ? pyRepr(v).replace('.', ',') : pyRepr(v));
  const header = [...(o.index ? [''] : []), ...names, ...(classes ? ['species'] : [])].map((h) => q(h, true));
  const lines = [header.join(o.sep)];
  m.forEach((row, i) => {
    // QUOTE_ALL quotes every field, numbers too (pandas writes them as text).
    const cells = [...(o.index ? [String(i)] : []), ...row.map(num), ...(classes ? [classes[i]] : [])].map((c) => q(c, true));
    lines.push(cells.join(o.sep));
  });
  return { text: (o.bom ? '\ufeff' : '') + lines.join(o.eol) + o.eol, format: { delimiter: o.sep, decimal: o.decimal } };
}

function sameTable(a: RawTable, b: RawTable): boolean {
  if (a.columns.length !== b.columns.length || a.rows !== b.rows) return false;
  return a.columns.every((c, j) => c.name === b.columns[j].name && c.values.every((v, i) => Object.is(v, b.columns[j].values[i])) && c.kinds.every((k, i) => k === b.columns[j].kinds[i]));
}

const finite = fc.double({ min: -MAX_ABS_VALUE, max: MAX_ABS_VALUE, noNaN: true });

describe('property: pandas-like CSV round trip (roles, locale, missing values)', () => {
  it('drop and mean read back exactly what was written', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .record({ rows: fc.integer({ min: 3, max: 14 }), cols: fc.integer({ min: 1, max: 5 }) })
          .chain(({ rows, cols }) =>
            fc.record({
              m: fc.array(fc.array(fc.option(finite, { freq: 6, nil: null }), { minLength: cols, maxLength: cols }), { minLength: rows, maxLength: rows }),
              names: fc.uniqueArray(fc.array(fc.constantFrom(...NAME_CHARS), { minLength: 1, maxLength: 6 }).map((cs) => `c${cs.join('')}`.trim()), {
                minLength: cols,
                maxLength: cols,
              }),
              classes: fc.option(fc.array(fc.constantFrom(...CLASS_NAMES.slice(0, 3)), { minLength: rows, maxLength: rows }), { nil: null }),
              index: fc.boolean(),
              sep: fc.constantFrom<',' | ';' | '\t'>(',', ';', '\t'),
              decimal: fc.constantFrom<'.' | ','>('.', ','),
              na: fc.constantFrom(...NA_REPS),
              quoteAll: fc.boolean(),
              eol: fc.constantFrom('\n', '\r\n'),
              bom: fc.boolean(),
              sliceSize: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
            }),
          ),
        async ({ m, names, classes, index, sep, decimal, na, quoteAll, eol, bom, sliceSize }) => {
          // pandas' own rules: a decimal comma needs another separator; every column has a value,
          // and at least one record has no hole (else "drop" rightly leaves nothing).
          const dec = sep === ',' ? '.' : decimal;
          const cols = names.length;
          for (let j = 0; j < cols; j++) if (m.every((r) => r[j] === null)) m[0][j] = 1.5;
          if (m.every((r) => r.some((v) => v === null))) m[m.length - 1] = m[m.length - 1].map((v) => v ?? 2.25);
          // Enough repeats for the class column to count as labels (≤ rows / 2 distinct).
          const cls = classes ? classes.map((_, i) => CLASS_NAMES[i % 2]) : null;
          // A record of one empty field (quoted or not) is a blank line to the reader: use a marker.
          const naRep = na === '' && cols === 1 && !index && !cls ? 'NA' : na;
          const w = toCsv(m, names, cls, { index, sep, decimal: dec, na: naRep, quoteAll, eol, bom });

          let t = await readCsvTable(w.text, sliceSize ? { sliceSize } : {});
          if (!sameFormat(t.format!, w.format)) {
            const forced = await readCsvTable(w.text, { format: w.format, ...(sliceSize ? { sliceSize } : {}) });
            // Either the detected reading gives the same table (e.g. one column: the delimiter
            // never occurs), or the text left the locale open and the written format is one click away.
            if (!sameTable(t, forced)) expect(t.detection!.alternatives.some((f) => sameFormat(f, w.format))).toBe(true);
            t = forced;
          }
          expect(t.header).toBe(true);
          const infos = describeColumns(t);
          const roles = defaultRoles(infos);
          if (index) expect([roles[0], infos[0].reason]).toEqual(['ignore', 'index']);
          if (cls) expect(roles[roles.length - 1]).toBe('label');

          // drop
          const keep = m.map((r, i) => (r.every((v) => v !== null) ? i : -1)).filter((i) => i >= 0);
          const dropped = prepareDataset(t, { roles, missing: 'drop' });
          expect(dropped.featureNames).toEqual(names.map((n) => n.trim()));
          expect(dropped.rows).toBe(keep.length);
          const want = keep.flatMap((i) => m[i] as number[]);
          expect(Array.from(dropped.matrix.data).every((v, k) => Object.is(v, want[k]))).toBe(true);
          if (cls) {
            const sorted = [...new Set(cls)].sort();
            expect(dropped.labelNames).toEqual(sorted);
            expect(Array.from(dropped.labels!)).toEqual(keep.map((i) => sorted.indexOf(cls[i])));
          }

          // mean
          const filled = prepareDataset(t, { roles, missing: 'mean' });
          expect(filled.rows).toBe(m.length);
          for (let j = 0; j < cols; j++) {
            let sum = 0;
            let n = 0;
            for (const r of m) {
              if (r[j] === null) continue;
              sum += r[j]!;
              n++;
            }
            for (let i = 0; i < m.length; i++) {
              const v = m[i][j] ?? sum / n;
              expect(Object.is(filled.matrix.data[i * cols + j], v)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
