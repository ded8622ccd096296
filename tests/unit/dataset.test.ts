/**
 * Dataset records and helpers (lib/data/dataset.ts) and statistics (lib/data/stats.ts).
 * Expected iris statistics computed with numpy 1.x/2.x `a.mean(0)`, `a.std(0)` (ddof = 0).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { seededRandomBytes } from '@/lib/crypto/random';
import { plainMatrix } from '@/lib/data/matrix';
import { writeNpy } from '@/lib/data/npy';
import {
  assertClusterable,
  assertLabelsMatch,
  createDatasetRecord,
  DATASET_ID_PATTERN,
  defaultDatasetName,
  isDatasetId,
  newDatasetId,
  parseDatasetFile,
  validateDatasetName,
} from '@/lib/data/dataset';
import { assertDatasetValues, columnStats, preview } from '@/lib/data/stats';

const DATASETS = new URL('../../../shared/datasets/', import.meta.url);
const fileOf = (name: string) => new Blob([readFileSync(new URL(name, DATASETS))]);

function fail(f: () => unknown): AppError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected an error');
}

describe('dataset ids', () => {
  it('are "ds" + 16 base-36 characters, MictlanX-safe', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const id = newDatasetId();
      expect(id).toMatch(DATASET_ID_PATTERN);
      expect(id).toMatch(/^[A-Za-z0-9]+([-_][A-Za-z0-9]+)*$/); // spec/protocol.md §7
      ids.add(id);
    }
    expect(ids.size).toBe(200);
  });

  it('come from the injected RandomBytes', () => {
    expect(newDatasetId(seededRandomBytes(7))).toBe(newDatasetId(seededRandomBytes(7)));
    expect(newDatasetId(seededRandomBytes(7))).not.toBe(newDatasetId(seededRandomBytes(8)));
  });

  it('isDatasetId rejects anything else', () => {
    for (const bad of ['', 'ds', 'DS0123456789abcdef', 'ds0123456789abcde', 'ds0123456789abcdef0', 'ds0123456789abcde-', 42, null]) {
      expect(isDatasetId(bad)).toBe(false);
    }
    expect(isDatasetId('ds0123456789abcdef')).toBe(true);
  });
});

describe('names', () => {
  it('trims and bounds names', () => {
    expect(validateDatasetName('  iris  ')).toBe('iris');
    for (const bad of ['', '   ', 'a\nb', 'x'.repeat(121), 3]) expect(fail(() => validateDatasetName(bad)).code).toBe('INVALID_ARGUMENT');
  });

  it('derives a default name from the file name', () => {
    expect(defaultDatasetName('C:\\data\\iris.csv')).toBe('iris');
    expect(defaultDatasetName('/tmp/x.NPY')).toBe('x');
    expect(defaultDatasetName('.csv')).toBe('dataset');
  });
});

describe('parseDatasetFile', () => {
  it('parses CSV files', async () => {
    const p = await parseDatasetFile(fileOf('wine.csv'));
    expect([p.sourceFormat, p.rows, p.cols, p.delimiter]).toEqual(['csv', 178, 13, ',']);
  });

  it('recognises NPY by its magic bytes, whatever the name', async () => {
    const bytes = writeNpy(plainMatrix(Float64Array.from([1, 2, 3, 4, 5, 6]), 3, 2));
    const p = await parseDatasetFile(new File([bytes as BlobPart], 'data.csv'));
    expect([p.sourceFormat, p.rows, p.cols]).toEqual(['npy', 3, 2]);
    expect(Array.from(p.matrix.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('passes errors through with their codes', async () => {
    await expect(parseDatasetFile(fileOf('bad/ragged.csv'))).rejects.toMatchObject({ code: 'CSV_INVALID', details: { line: 2 } });
    await expect(parseDatasetFile(fileOf('bad/huge-values.csv'))).rejects.toMatchObject({ code: 'DATA_MAGNITUDE' });
  });
});

describe('records', () => {
  it('builds a record with shape and per-column statistics (iris)', async () => {
    const p = await parseDatasetFile(fileOf('iris.csv'));
    const rec = createDatasetRecord(p, { name: ' Iris ', bytes: 2400, rng: seededRandomBytes(1), now: () => new Date(Date.UTC(2025, 0, 2)) });
    expect(rec).toMatchObject({ name: 'Iris', rows: 150, cols: 4, hasLabels: false, sourceFormat: 'csv', bytes: 2400, createdAt: '2025-01-02T00:00:00.000Z' });
    expect(rec.id).toMatch(DATASET_ID_PATTERN);
    expect(rec.header).toBeUndefined();
    expect(rec.stats.min).toEqual([4.3, 2.0, 1.0, 0.1]);
    expect(rec.stats.max).toEqual([7.9, 4.4, 6.9, 2.5]);
    const mean = [5.843333333333335, 3.057333333333334, 3.7580000000000027, 1.199333333333334];
    const std = [0.8253012917851409, 0.43441096773549437, 1.7594040657753032, 0.7596926279021594];
    rec.stats.mean.forEach((m, j) => expect(m).toBeCloseTo(mean[j], 12));
    rec.stats.std.forEach((s, j) => expect(s).toBeCloseTo(std[j], 12));
    expect(structuredClone(rec)).toEqual(rec); // storable as is
  });

  it('keeps header and label column; refuses labels of the wrong length', async () => {
    const p = await parseDatasetFile(new Blob(['a,b,y\n1,2,0\n3,4,1\n']), { labelColumn: 'last' });
    const rec = createDatasetRecord(p, { name: 'x' });
    expect([rec.header, rec.labelColumn, rec.hasLabels, rec.cols]).toEqual([['a', 'b'], 2, true, 2]);
    const e = fail(() => createDatasetRecord({ ...p, labels: Int32Array.from([1]) }, { name: 'x' }));
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(fail(() => createDatasetRecord(p, { name: 'x', id: 'not-an-id' })).code).toBe('INVALID_ARGUMENT');
  });

  it('assertLabelsMatch names both counts', () => {
    const e = fail(() => assertLabelsMatch(150, new Int32Array(149)));
    expect(e.userMessage).toMatch(/149 labels.*150 records/);
  });
});

describe('bad/one-row.csv: parses, but k ≥ 2 is refused', () => {
  it('1×4, and clustering with k > rows is refused', async () => {
    const p = await parseDatasetFile(fileOf('bad/one-row.csv'));
    expect(p.matrix.shape).toEqual([1, 4]);
    assertClusterable(p.rows, 1);
    const e = fail(() => assertClusterable(p.rows, 2));
    expect([e.code, e.details]).toEqual(['INVALID_ARGUMENT', { k: 2, rows: 1 }]);
    expect(e.userMessage).toMatch(/must not exceed the number of records/);
    expect(fail(() => assertClusterable(10, 0)).code).toBe('INVALID_ARGUMENT');
    expect(fail(() => assertClusterable(10, 2.5)).code).toBe('INVALID_ARGUMENT');
  });
});

describe('stats', () => {
  const m = plainMatrix(Float64Array.from([1, -1, 3, 5, 5, 3]), 3, 2);

  it('column min/max/mean/std (population)', () => {
    expect(columnStats(m)).toEqual({ rows: 3, cols: 2, min: [1, -1], max: [5, 5], mean: [3, 7 / 3], std: [Math.sqrt(8 / 3), Math.sqrt(((-1 - 7 / 3) ** 2 + (5 - 7 / 3) ** 2 + (3 - 7 / 3) ** 2) / 3)] });
  });

  it('preview returns the first rows', () => {
    expect(preview(m, 2)).toEqual([[1, -1], [3, 5]]);
    expect(preview(m)).toHaveLength(3);
    expect(preview(m, 0)).toEqual([]);
  });

  it('refuses non-2-D input', () => {
    expect(fail(() => columnStats({ data: new Float64Array(2), shape: [2] } as never)).code).toBe('SHAPE_MISMATCH');
  });

  it('assertDatasetValues locates the first bad value (1-based)', () => {
    expect(() => assertDatasetValues(Float64Array.from([1, 2, 3, 4]), 2)).not.toThrow();
    const e = fail(() => assertDatasetValues(Float64Array.from([1, 2, 3, 2e15]), 2));
    expect([e.code, e.details]).toEqual(['DATA_MAGNITUDE', { row: 2, column: 2 }]);
    const n = fail(() => assertDatasetValues(Float64Array.from([1, NaN]), 2, 'CSV_INVALID'));
    expect([n.code, n.details]).toEqual(['CSV_INVALID', { row: 1, column: 2 }]);
  });
});
