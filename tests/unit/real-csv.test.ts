/**
 * Real-world CSV files (issue #14) through lib/data: every file of shared/datasets/real/ read
 * with the default roles gives the shape, names and classes real/README.md lists, with the very
 * values of the strict reference files (wine.csv, breast_cancer.csv, iris.csv and their labels);
 * every bad/ fixture keeps its handling through the new reader; role detection, locale detection
 * and missing-value handling case by case.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { columnDisplayName, defaultRoles, describeColumns, isIdName, isRowIndex, withoutLabel, withRole, type ColumnRole } from '@/lib/data/columns';
import { detectFormat, NumberReader } from '@/lib/data/locale';
import { fillValue, isMissingToken } from '@/lib/data/missing';
import { countMissing, naturalCompare, prepareDataset, type PreparedDataset } from '@/lib/data/prepare';
import { readCsvTable, tableFromMatrix, type RawTable } from '@/lib/data/table';
import { plainMatrix } from '@/lib/data/matrix';
import { loadCsv } from '../helpers/datasets';

const DATASETS = new URL('../../../shared/datasets/', import.meta.url);
const bytes = (name: string) => new Uint8Array(readFileSync(new URL(name, DATASETS)));
const labelsOf = (name: string) => readFileSync(new URL(name, DATASETS), 'utf8').trim().split('\n').map(Number);
const read = (name: string, sliceSize?: number) => readCsvTable(new Blob([bytes(name)]), sliceSize ? { sliceSize } : {});

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function fail(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected a throw');
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

function withDefaults(t: RawTable, missing: 'refuse' | 'drop' | 'mean' | 'median' = 'refuse'): PreparedDataset {
  return prepareDataset(t, { roles: defaultRoles(describeColumns(t)), missing });
}

const WINE_NAMES = [
  'alcohol',
  'malic_acid',
  'ash',
  'alcalinity_of_ash',
  'magnesium',
  'total_phenols',
  'flavanoids',
  'nonflavanoid_phenols',
  'proanthocyanins',
  'color_intensity',
  'hue',
  'od280/od315_of_diluted_wines',
  'proline',
];

describe('shared/datasets/real (real/README.md), default roles', () => {
  it('wine-pandas.csv: index column ignored, cultivar as labels, 178 × 13 with 3 named classes, values of wine.csv', async () => {
    for (const sliceSize of [undefined, 97]) {
      const t = await read('real/wine-pandas.csv', sliceSize);
      expect([t.header, t.rows, t.columns.length, t.format]).toEqual([true, 178, 15, { delimiter: ',', decimal: '.' }]);
      expect(t.detection?.alternatives).toEqual([]);
      const infos = describeColumns(t);
      expect([infos[0].defaultRole, infos[0].reason, infos[0].displayName]).toEqual(['ignore', 'index', 'Column 1']);
      expect([infos[14].defaultRole, infos[14].reason, infos[14].distinct]).toEqual(['label', 'classes', 3]);
      const p = withDefaults(t);
      expect([p.rows, p.cols, p.featureNames, p.labelName, p.labelNames, p.labelColumn]).toEqual([178, 13, WINE_NAMES, 'cultivar', ['class_0', 'class_1', 'class_2'], 14]);
      expect(sameBits(p.matrix.data, loadCsv('wine.csv').data)).toBe(true);
      expect(Array.from(p.labels!)).toEqual(labelsOf('wine.labels.csv'));
      expect(p.notes).toEqual([]);
    }
  });

  it('breast-cancer-kaggle.csv: id ignored, diagnosis M/B as labels, empty trailing column dropped with a note; 569 × 30', async () => {
    const t = await read('real/breast-cancer-kaggle.csv');
    expect([t.header, t.rows, t.columns.length]).toEqual([true, 569, 33]);
    const infos = describeColumns(t);
    expect([infos[0].name, infos[0].defaultRole, infos[0].reason, infos[0].allowed]).toEqual(['id', 'ignore', 'id', ['feature', 'label', 'ignore']]);
    expect([infos[1].name, infos[1].defaultRole]).toEqual(['diagnosis', 'label']);
    expect([infos[32].kind, infos[32].defaultRole, infos[32].reason, infos[32].allowed]).toEqual(['empty', 'ignore', 'empty', ['ignore']]);
    const p = withDefaults(t);
    expect([p.rows, p.cols, p.labelName, p.labelNames]).toEqual([569, 30, 'diagnosis', ['B', 'M']]);
    expect(p.featureNames.slice(0, 3)).toEqual(['radius_mean', 'texture_mean', 'perimeter_mean']);
    expect(p.featureNames[7]).toBe('concave points_mean');
    expect(sameBits(p.matrix.data, loadCsv('breast_cancer.csv').data)).toBe(true);
    // scikit-learn codes malignant 0 and benign 1; names sort B (0) before M (1).
    expect(Array.from(p.labels!)).toEqual(labelsOf('breast_cancer.labels.csv').map((l) => 1 - l));
    expect(p.notes).toEqual(['Column 33 (unnamed) is empty on every record and was left out.']);
    // The user can make the id a feature; it is then an ordinary column of large integers.
    const withId = prepareDataset(t, { roles: withRole(defaultRoles(infos), infos, 0, 'feature'), missing: 'refuse' });
    expect([withId.cols, withId.featureNames[0], withId.matrix.data[0]]).toEqual([31, 'id', 45556803]);
  });

  it('iris-excel-es.csv: BOM, ";" and decimal comma detected, accented names, 150 × 4 with 3 named classes', async () => {
    const raw = bytes('real/iris-excel-es.csv');
    expect(Array.from(raw.subarray(0, 3))).toEqual([0xef, 0xbb, 0xbf]);
    for (const input of [new Blob([raw]), new TextDecoder('utf-8', { ignoreBOM: true }).decode(raw)]) {
      const t = await readCsvTable(input);
      expect([t.format, t.bom, t.header, t.rows]).toEqual([{ delimiter: ';', decimal: ',' }, true, true, 150]);
      expect(t.detection?.alternatives).toEqual([]);
      const p = withDefaults(t);
      expect([p.rows, p.cols, p.featureNames, p.labelName, p.labelNames]).toEqual([
        150,
        4,
        ['longitud_sépalo', 'ancho_sépalo', 'longitud_pétalo', 'ancho_pétalo'],
        'especie',
        ['setosa', 'versicolor', 'virginica'],
      ]);
      expect(sameBits(p.matrix.data, loadCsv('iris.csv').data)).toBe(true);
      expect(Array.from(p.labels!)).toEqual(labelsOf('iris.labels.csv'));
    }
  });

  it('wine-missing.csv: 9 missing cells counted per column; refused by default; drop → 51 × 13, mean → 60 × 13, median fills too', async () => {
    const t = await read('real/wine-missing.csv');
    expect([t.header, t.rows, t.columns.length]).toEqual([true, 60, 13]);
    const roles = defaultRoles(describeColumns(t));
    expect(roles.every((r) => r === 'feature')).toBe(true);
    const counts = countMissing(t, roles);
    expect([counts.cells, counts.rows]).toEqual([9, 9]);
    expect(counts.perColumn.reduce((s, c) => s + c.count, 0)).toBe(9);
    expect(counts.perColumn.map((c) => c.name)).toEqual(['alcohol', 'malic_acid', 'ash', 'alcalinity_of_ash', 'magnesium', 'flavanoids', 'color_intensity', 'proline']);
    // The markers of the file: empty, NA, ?, nan and N/A.
    const tokens = new Set(t.columns.flatMap((c) => (c.firstMissing ? [c.firstMissing.token] : [])));
    expect(tokens.size).toBeGreaterThan(1);

    const e = fail(() => withDefaults(t, 'refuse'));
    expect([e.code, e.details]).toEqual(['CSV_INVALID', { line: 5, column: 1, reason: 'missing', missingCells: 9, missingRows: 9 }]);
    expect(e.userMessage).toMatch(/^Line 5, column 1 is empty\..*9 missing cells in 9 records/);

    const wine = loadCsv('wine.csv');
    const dropped = withDefaults(t, 'drop');
    expect([dropped.rows, dropped.cols, dropped.missing.dropped, dropped.keptRows!.length]).toEqual([51, 13, 9, 51]);
    expect(dropped.notes).toEqual(['9 of 60 records had missing values and were dropped.']);
    // The kept records are the matching records of wine.csv, bit for bit.
    const expected = Array.from(dropped.keptRows!).flatMap((i) => Array.from(wine.data.subarray(i * 13, i * 13 + 13)));
    expect(sameBits(dropped.matrix.data, expected)).toBe(true);

    for (const how of ['mean', 'median'] as const) {
      const filled = withDefaults(t, how);
      expect([filled.rows, filled.cols, filled.keptRows]).toEqual([60, 13, undefined]);
      expect(filled.notes[0]).toMatch(new RegExp(`^9 missing cells were filled with the column ${how} \\(alcohol, malic_acid`));
      for (const c of t.columns) {
        const present = (i: number) => c.kinds[i] === 0;
        const fill = fillValue(c.values, present, how);
        for (let i = 0; i < 60; i++) {
          const want = present(i) ? wine.data[i * 13 + c.index] : fill;
          expect(Object.is(filled.matrix.data[i * 13 + c.index], want)).toBe(true);
        }
      }
    }
  });
});

describe('bad fixtures keep their handling through the table reader (shared/datasets/README.md)', () => {
  const t = {} as Record<'nonNumeric' | 'nan' | 'huge' | 'bom' | 'one', RawTable>;
  beforeAll(async () => {
    t.nonNumeric = await read('bad/non-numeric.csv');
    t.nan = await read('bad/nan.csv');
    t.huge = await read('bad/huge-values.csv');
    t.bom = await read('bad/bom-semicolon.csv');
    t.one = await read('bad/one-row.csv');
  });

  it('empty, header-only and ragged files are refused while reading', async () => {
    expect((await rejection(read('bad/empty.csv'))).message).toBe('file is empty');
    const h = await rejection(read('bad/header-only.csv'));
    expect([h.code, h.details]).toEqual(['CSV_INVALID', { line: 1 }]);
    expect(h.userMessage).toMatch(/no numeric rows \(a header is not data\)/);
    const r = await rejection(read('bad/ragged.csv'));
    expect([r.message, r.details]).toEqual(['line 2 has 3 fields, expected 4', { line: 2 }]);
    expect(r.userMessage).toMatch(/^Line 2 has 3 fields, expected 4\b/);
  });

  it('non-numeric, nan and huge-values are refused with line and column; bom-semicolon and one-row are accepted', () => {
    const nn = fail(() => withDefaults(t.nonNumeric));
    expect([nn.code, nn.details]).toEqual(['CSV_INVALID', { line: 2, column: 2 }]);
    expect(nn.userMessage).toMatch(/^Line 2, column 2: "abc" is not a number\./);
    const nan = fail(() => withDefaults(t.nan));
    expect([nan.code, nan.details?.line, nan.details?.column, nan.details?.reason]).toEqual(['CSV_INVALID', 2, 2, 'missing']);
    expect(nan.userMessage).toMatch(/^Line 2, column 2: "NaN" is a missing or non-finite value\. Liu, UDM and FDHOPE need finite real numbers/);
    const huge = fail(() => withDefaults(t.huge));
    expect([huge.code, huge.details]).toEqual(['DATA_MAGNITUDE', { line: 1, column: 1 }]);
    expect(huge.userMessage).toMatch(/^Line 1, column 1: the value is too large in magnitude \(every value must lie between -1e15 and 1e15\)/);
    const bom = withDefaults(t.bom);
    expect([bom.rows, bom.cols, t.bom.format, t.bom.header]).toEqual([5, 4, { delimiter: ';', decimal: '.' }, false]);
    expect(Array.from(bom.matrix.data.subarray(0, 4))).toEqual([5.1, 3.5, 1.4, 0.2]);
    const one = withDefaults(t.one);
    expect([one.rows, one.cols]).toEqual([1, 4]);
  });

  it('the strict datasets read to the same matrix as a plain split of their text: headerless, every column a feature', async () => {
    for (const name of ['iris.csv', 'wine.csv', 'blobs-100x5-k2.csv', 'classification-test.csv']) {
      const tab = await read(name);
      const p = withDefaults(tab);
      expect([tab.header, p.notes]).toEqual([false, []]);
      expect(sameBits(p.matrix.data, loadCsv(name).data)).toBe(true);
    }
  });
});

/** A table from CSV text. */
const tableOf = (text: string) => readCsvTable(text);

describe('column roles (data/columns)', () => {
  it('an unnamed 0…n−1 or 1…n column is an index; out of order, gapped or named it is not', async () => {
    for (const head of ['', 'Unnamed: 0', 'index']) {
      const t = await tableOf(`${head},x\n0,1.5\n1,2.5\n2,3.5\n`);
      expect([describeColumns(t)[0].defaultRole, describeColumns(t)[0].reason]).toEqual(['ignore', 'index']);
    }
    expect(describeColumns(await tableOf(',x\n1,1.5\n2,2.5\n3,3.5\n'))[0].reason).toBe('index');
    expect(describeColumns(await tableOf(',x\n0,1.5\n2,2.5\n1,3.5\n'))[0].defaultRole).toBe('feature');
    expect(describeColumns(await tableOf(',x\n0,1.5\n1,2.5\n3,3.5\n'))[0].defaultRole).toBe('feature');
    expect(describeColumns(await tableOf('depth,x\n0,1.5\n1,2.5\n2,3.5\n'))[0].defaultRole).toBe('feature');
    // Headerless: only a first column of at least 3 rows.
    expect(describeColumns(await tableOf('0,1.5\n1,2.5\n2,3.5\n'))[0].reason).toBe('index');
    expect(describeColumns(await tableOf('1.5,0\n2.5,1\n3.5,2\n'))[1].defaultRole).toBe('feature');
    expect(describeColumns(await tableOf('0,1.5\n1,2.5\n'))[0].defaultRole).toBe('feature');
    expect(isRowIndex(tableFromMatrix(plainMatrix(Float64Array.from([0, 1, 2]), 3, 1)).columns[0], 3)).toBe(true);
  });

  it('identifier names are recognised, words merely ending in "id" are not', () => {
    for (const n of ['id', 'ID', 'Id', 'patient_id', 'Sample ID', 'sample-id', 'id_code', 'patientId', 'uuid', 'record.guid']) expect(isIdName(n), n).toBe(true);
    for (const n of ['', 'acid', 'fluid', 'idle', 'identity', 'width', 'humid', 'paid']) expect(isIdName(n), n).toBe(false);
  });

  it('the first text column with few distinct values is the label column; other text columns are ignored', async () => {
    const rows = Array.from({ length: 8 }, (_, i) => `${i * 1.5},${['a', 'b'][i % 2]},name${i},${['x', 'y'][i % 2]}`);
    const infos = describeColumns(await tableOf(`v,cls,name,other\n${rows.join('\n')}\n`));
    expect(infos.map((c) => [c.kind, c.defaultRole, c.reason ?? ''])).toEqual([
      ['numeric', 'feature', ''],
      ['text', 'label', 'classes'],
      ['text', 'ignore', 'text'],
      ['text', 'ignore', 'text'],
    ]);
    expect(infos[2].allowed).toEqual(['label', 'ignore']);
    // A text column named like an identifier is not a label column.
    expect(describeColumns(await tableOf('sample_id,v\nA,1\nB,2\nA,3\nB,4\n'))[0].defaultRole).toBe('ignore');
  });

  it('a numeric column with stray text stays a feature (and fails with line and column); an empty column can only be ignored', async () => {
    const t = await tableOf('a,b,c\n1,2,\n3,x,\n');
    const infos = describeColumns(t);
    expect(infos.map((c) => c.kind)).toEqual(['numeric', 'mixed', 'empty']);
    expect(infos[1].allowed).toEqual(['feature', 'ignore']);
    expect(infos[2].allowed).toEqual(['ignore']);
    expect(fail(() => withDefaults(t)).details).toEqual({ line: 3, column: 2 });
    const ok = prepareDataset(t, { roles: ['feature', 'ignore', 'ignore'], missing: 'refuse' });
    expect([ok.rows, ok.cols, ok.notes]).toEqual([2, 1, ['Column “c” is empty on every record and was left out.']]);
  });

  it('withRole keeps one label column and refuses roles the cells do not allow; withoutLabel restores defaults', async () => {
    const t = await tableOf('a,b,cls\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n');
    const infos = describeColumns(t);
    const roles = defaultRoles(infos);
    expect(roles).toEqual(['feature', 'feature', 'label']);
    const moved: ColumnRole[] = withRole(roles, infos, 1, 'label');
    expect(moved).toEqual(['feature', 'label', 'ignore']);
    expect(withRole(roles, infos, 2, 'feature')).toEqual(roles); // text cannot be a feature
    expect(withoutLabel(roles, infos)).toEqual(['feature', 'feature', 'ignore']);
    expect(withoutLabel(moved, infos)).toEqual(['feature', 'feature', 'ignore']);
    const p = prepareDataset(t, { roles: moved, missing: 'refuse' });
    expect([p.cols, p.labelName, p.labelNames, Array.from(p.labels!)]).toEqual([1, 'b', undefined, [2, 4, 6, 8]]);
    expect(fail(() => prepareDataset(t, { roles: ['ignore', 'ignore', 'label'], missing: 'refuse' })).code).toBe('INVALID_ARGUMENT');
    expect(columnDisplayName('', 4)).toBe('Column 5');
  });

  it('class names map to ids in natural order; mixed or missing labels are explained', async () => {
    expect(['class_10', 'class_2', 'b', 'a', 'class_1'].sort(naturalCompare)).toEqual(['a', 'b', 'class_1', 'class_2', 'class_10']);
    const t = await tableOf('v,cls\n1,class_10\n2,class_2\n3,class_2\n4,class_10\n5,class_1\n6,class_1\n');
    const p = withDefaults(t);
    expect([p.labelNames, Array.from(p.labels!)]).toEqual([['class_1', 'class_2', 'class_10'], [2, 1, 1, 2, 0, 0]]);
    const mixed = await tableOf('v,cls\n1,a\n2,3\n3,a\n4,b\n');
    expect(fail(() => prepareDataset(mixed, { roles: ['feature', 'label'], missing: 'refuse' })).userMessage).toMatch(/mixes numbers and text \(first text at line 2\)/);
    const holes = await tableOf('v,cls\n1,a\n2,\n3,a\n4,b\n5,b\n6,a\n');
    expect(fail(() => withDefaults(holes, 'mean')).userMessage).toMatch(/“cls” has 1 missing cell.*cannot be filled/);
    const d = withDefaults(holes, 'drop');
    expect([d.rows, Array.from(d.keptRows!), Array.from(d.labels!)]).toEqual([5, [0, 2, 3, 4, 5], [0, 0, 1, 1, 0]]);
    const refused = fail(() => withDefaults(holes));
    expect([refused.details?.line, refused.details?.column, refused.details?.reason]).toEqual([3, 2, 'missing']);
  });
});

describe('locale (data/locale)', () => {
  it('reads numbers with a decimal point or comma, and thousands separators used consistently', () => {
    const point = new NumberReader('.');
    const comma = new NumberReader(',');
    const cases: [NumberReader, string, number, boolean][] = [
      [point, '3.5', 3.5, false],
      [point, '-.5', -0.5, false],
      [point, '1e-3', 0.001, false],
      [point, '+7', 7, false],
      [point, '1,234', 1234, true],
      [point, '1,234,567.25', 1234567.25, true],
      [point, '1 234.5', 1234.5, true],
      [point, "1'234", 1234, true],
      [comma, '3,5', 3.5, false],
      [comma, '-,5', -0.5, false],
      [comma, '1,5e3', 1500, false],
      [comma, '12', 12, false],
      [comma, '1.234', 1234, true],
      [comma, '1.234.567,5', 1234567.5, true],
      [comma, '1\u00a0234,5', 1234.5, true],
    ];
    for (const [r, token, value, thousands] of cases) {
      expect([token, r.read(token), r.thousands]).toEqual([token, value, thousands]);
    }
    for (const token of ['', 'abc', '0x10', '0b1', 'Infinity', 'inf', '1_000', '1,23', '12,34,567', '1,234.567.8', '1.2.3', '3,5']) {
      expect([token, Number.isNaN(point.read(token))]).toEqual([token, true]);
    }
    for (const token of ['3.5', '1.23', '1,2,3', '1.234,567.8']) expect([token, Number.isNaN(comma.read(token))]).toEqual([token, true]);
    expect(point.read('1e400')).toBe(Infinity);
  });

  it('detects the delimiter and decimal separator from the first lines', () => {
    expect(detectFormat('a;b\n5,1;3,5\n4,9;3\n')).toMatchObject({ format: { delimiter: ';', decimal: ',' }, alternatives: [] });
    expect(detectFormat('a,b\n5.1,3.5\n')).toMatchObject({ format: { delimiter: ',', decimal: '.' }, alternatives: [] });
    expect(detectFormat('5.1;3.5;1.4\n4.9;3.0;1.4\n')).toMatchObject({ format: { delimiter: ';', decimal: '.' }, alternatives: [] });
    expect(detectFormat('1\t2,5\n3\t4,5\n')).toMatchObject({ format: { delimiter: '\t', decimal: ',' }, alternatives: [] });
    expect(detectFormat('\ufeffx;y\n"1,5";2\n')).toMatchObject({ format: { delimiter: ';', decimal: ',' } });
    // Quoted numbers with thousands separators in a comma-separated file.
    expect(detectFormat('a,b\n"1,234.5",2\n"12,000",3\n')).toMatchObject({ format: { delimiter: ',', decimal: '.' }, alternatives: [] });
    // Integers only: every reading gives the same numbers, nothing to ask.
    expect(detectFormat('1;2\n3;4\n').alternatives).toEqual([]);
  });

  it('offers the competing readings when the text does not decide', () => {
    // One column with decimal commas, or two columns?
    const a = detectFormat('1,5\n2,5\n');
    expect([a.format, a.alternatives]).toEqual([{ delimiter: ',', decimal: '.' }, [{ delimiter: ';', decimal: ',' }]]);
    // Semicolons with "1,234": a decimal comma (1.234) or a thousands separator (1234)?
    const b = detectFormat('x;y\n1,234;2\n5,678;3\n');
    expect([b.format, b.alternatives]).toEqual([{ delimiter: ';', decimal: ',' }, [{ delimiter: ';', decimal: '.' }]]);
  });

  it('falls back to the strict rule when no reading finds numbers (so ragged rows are reported by line)', () => {
    expect(detectFormat('5.1,3.5,1.4,0.2\n4.9,3.0,1.4\n').format).toEqual({ delimiter: ',', decimal: '.' });
    expect(detectFormat('a;b\nc;d\n').format).toEqual({ delimiter: ';', decimal: '.' });
  });

  it('reads a file in a given format, and reports thousands separators per column', async () => {
    const t = await readCsvTable('x;y\n1,234;2\n5,678;3\n', { format: { delimiter: ';', decimal: '.' } });
    expect(t.detection).toBeUndefined();
    const p = withDefaults(t);
    expect(Array.from(p.matrix.data)).toEqual([1234, 2, 5678, 3]);
    expect(p.notes).toEqual(['Column “x”: 2 values written with thousands separators were read as whole numbers (1,234 → 1234).']);
    const c = withDefaults(await readCsvTable('x;y\n1,234;2\n5,678;3\n'));
    expect(Array.from(c.matrix.data)).toEqual([1.234, 2, 5.678, 3]);
  });
});

describe('missing values (data/missing)', () => {
  it('recognises the markers case-insensitively, and nothing else', () => {
    for (const t of ['', 'NA', 'na', 'N/A', 'n/a', '?', 'nan', 'NaN', 'NAN', 'null', 'None', '#N/A', '<NA>']) expect(isMissingToken(t), t).toBe(true);
    for (const t of ['0', '-', 'nana', 'n.a.', 'missing', 'Infinity', 'inf', '??']) expect(isMissingToken(t), t).toBe(false);
  });

  it('fills with the mean or the median of the present values', () => {
    const v = Float64Array.from([1, NaN, 4, 10, NaN]);
    const present = (i: number) => !Number.isNaN(v[i]);
    expect(fillValue(v, present, 'mean')).toBe(5);
    expect(fillValue(v, present, 'median')).toBe(4);
    expect(fillValue(Float64Array.from([3, 1, 2, 10]), () => true, 'median')).toBe(2.5);
    expect(fillValue(v, () => false, 'mean')).toBeNaN();
  });

  it('refuses to drop every record, and says which column has nothing to fill from', async () => {
    const t = await tableOf('a,b\n1,\nNA,2\n');
    expect(fail(() => withDefaults(t, 'drop')).userMessage).toMatch(/dropping them leaves nothing/);
    const m = withDefaults(t, 'mean');
    expect(Array.from(m.matrix.data)).toEqual([1, 2, 1, 2]);
    expect(m.missing).toMatchObject({ strategy: 'mean', cells: 2, rows: 2, dropped: 0 });
  });

  it('missing cells in ignored columns do not count', async () => {
    const t = await tableOf('id,a\n,1\nx,2\n');
    const p = prepareDataset(t, { roles: ['ignore', 'feature'], missing: 'refuse' });
    expect([p.rows, p.missing.cells]).toEqual([2, 0]);
  });
});
