/**
 * Results in the user's terms and scaling (issue #14 items 5–6): data/scaling (fit, apply, the
 * k-means spread note), data/profiles (cluster profiles, cluster-by-class table, labelled CSV
 * from the stored file or from the matrix), and the dataset store keeping the source file and
 * applying the stored scaling when a job loads the dataset.
 */
import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { seededRandomBytes } from '@/lib/crypto/random';
import { createDatasetRecord, createPreparedRecord, labelName } from '@/lib/data/dataset';
import { defaultRoles, describeColumns } from '@/lib/data/columns';
import { plainMatrix } from '@/lib/data/matrix';
import { prepareDataset } from '@/lib/data/prepare';
import { clusterProfiles, crossTab, csvField, freshColumnName, labelledCsvFromMatrix, labelledCsvFromSource } from '@/lib/data/profiles';
import { applyScaling, fitScaling, isIdentity, spreadWarning } from '@/lib/data/scaling';
import { columnStats } from '@/lib/data/stats';
import { readCsvTable } from '@/lib/data/table';
import { createIdbDatasetStore, createMemoryDatasetStore } from '@/lib/datasets';
import { AppError } from '@/lib/errors';

const DATASETS = new URL('../../../shared/datasets/', import.meta.url);
const fileBlob = (name: string) => new Blob([new Uint8Array(readFileSync(new URL(name, DATASETS)))]);
const fileText = (name: string) => readFileSync(new URL(name, DATASETS), 'utf8');

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected a rejection');
}

describe('scaling (data/scaling)', () => {
  const m = plainMatrix(Float64Array.from([1, 100, 5, 2, 100, 5, 3, 400, 5]), 3, 3);

  it('z-score gives mean 0 and population std 1 per column; a constant column is only shifted', () => {
    const s = fitScaling(m, 'zscore');
    const z = applyScaling(m, s);
    const st = columnStats(z);
    expect(st.mean[0]).toBeCloseTo(0, 14);
    expect(st.std[0]).toBeCloseTo(1, 14);
    expect(st.std[1]).toBeCloseTo(1, 14);
    expect(s.scale[2]).toBe(1);
    expect([z.data[2], z.data[5], z.data[8]]).toEqual([0, 0, 0]);
  });

  it('min-max maps every column onto [0, 1]', () => {
    const z = applyScaling(m, fitScaling(m, 'minmax'));
    expect(Array.from(z.data)).toEqual([0, 0, 0, 0.5, 0, 0, 1, 1, 0]);
  });

  it('none is the identity (the same matrix object)', () => {
    const s = fitScaling(m, 'none');
    expect(isIdentity(s)).toBe(true);
    expect(applyScaling(m, s)).toBe(m);
    expect(applyScaling(m, undefined)).toBe(m);
    expect(() => applyScaling(plainMatrix(new Float64Array(2), 1, 2), fitScaling(m, 'zscore'))).toThrow(AppError);
  });

  it('notes when the columns spread very differently (wine: proline vs nonflavanoid_phenols)', async () => {
    const t = await readCsvTable(fileBlob('real/wine-pandas.csv'));
    const p = prepareDataset(t, { roles: defaultRoles(describeColumns(t)), missing: 'refuse' });
    const w = spreadWarning(p.matrix, p.featureNames)!;
    expect([w.wide, w.narrow]).toEqual(['proline', 'nonflavanoid_phenols']);
    expect(w.ratio).toBeGreaterThan(1000);
    expect(spreadWarning(applyScaling(p.matrix, fitScaling(p.matrix, 'zscore')), p.featureNames)).toBeUndefined();
  });
});

describe('cluster profiles and cluster-by-class table (data/profiles)', () => {
  it('per-cluster sizes and column means, clusters in id order', () => {
    const m = plainMatrix(Float64Array.from([1, 10, 3, 30, 2, 20, 100, 0]), 4, 2);
    expect(clusterProfiles(m, [1, 1, 1, 0])).toEqual([
      { cluster: 0, size: 1, means: [100, 0] },
      { cluster: 1, size: 3, means: [2, 20] },
    ]);
    expect(() => clusterProfiles(m, [0])).toThrow(AppError);
  });

  it('counts each (cluster, class) pair', () => {
    const t = crossTab([0, 0, 1, 2, 2, 2], [1, 1, 0, 0, 1, 0]);
    expect(t).toEqual({ rows: [0, 1, 2], cols: [0, 1], counts: [[0, 2], [1, 0], [2, 1]] });
    let total = 0;
    for (const r of t.counts) for (const c of r) total += c;
    expect(total).toBe(6);
  });

  it('names labels by the record', () => {
    expect(labelName({ labelNames: ['class_0', 'class_1'] }, 1)).toBe('class_1');
    expect(labelName({}, 2)).toBe('2');
    expect(labelName(undefined, 0)).toBe('0');
  });
});

describe('labelled CSV (data/profiles)', () => {
  it('wine-pandas.csv: 178 rows with the original columns and text, plus cluster', async () => {
    const clusters = Array.from({ length: 178 }, (_, i) => i % 3);
    const text = await labelledCsvFromSource({ source: fileBlob('real/wine-pandas.csv'), delimiter: ',', header: true }, 'cluster', clusters);
    const original = fileText('real/wine-pandas.csv').trimEnd().split('\n');
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(179);
    expect(lines[0]).toBe(`${original[0]},cluster`);
    for (let i = 1; i <= 178; i++) expect(lines[i]).toBe(`${original[i]},${(i - 1) % 3}`);
    const parsed = Papa.parse<string[]>(text.trimEnd(), { header: false }).data;
    expect(parsed[1]).toEqual(['0', '14.23', '1.71', '2.43', '15.6', '127.0', '2.8', '3.06', '0.28', '2.29', '5.64', '1.04', '3.92', '1065.0', 'class_0', '0']);
  });

  it('iris-excel-es.csv: semicolons, decimal commas, accents and BOM kept; names quoted only where needed', async () => {
    const text = await labelledCsvFromSource({ source: fileBlob('real/iris-excel-es.csv'), delimiter: ';', header: true }, 'cluster', Array(150).fill('a;b'));
    expect(text.startsWith('\ufefflongitud_sépalo;ancho_sépalo;longitud_pétalo;ancho_pétalo;especie;cluster\n5,1;3,5;1,4;0,2;setosa;"a;b"\n')).toBe(true);
    expect(text.trimEnd().split('\n')).toHaveLength(151);
  });

  it('breast-cancer-kaggle.csv: the quoted header and the empty last column are kept as they were', async () => {
    const text = await labelledCsvFromSource({ source: fileBlob('real/breast-cancer-kaggle.csv'), delimiter: ',', header: true }, 'cluster', Array(569).fill(1));
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(570);
    expect(lines[0].startsWith('id,diagnosis,radius_mean,')).toBe(true);
    expect(lines[0].endsWith(',fractal_dimension_worst,,cluster')).toBe(true);
    expect(lines[1].startsWith('45556803,M,17.99,')).toBe(true);
    expect(lines[1].endsWith(',,1')).toBe(true);
  });

  it('wine-missing.csv: dropped records are left out so the rows line up with the dataset; filled ones stay', async () => {
    const t = await readCsvTable(fileBlob('real/wine-missing.csv'));
    const roles = defaultRoles(describeColumns(t));
    const dropped = prepareDataset(t, { roles, missing: 'drop' });
    const src = { source: fileBlob('real/wine-missing.csv'), delimiter: ',' as const, header: true };
    const dropText = await labelledCsvFromSource({ ...src, droppedIfMissingIn: roles.map((_, j) => j) }, 'cluster', Array.from({ length: 51 }, (_, i) => i));
    const lines = dropText.trimEnd().split('\n');
    const original = fileText('real/wine-missing.csv').trimEnd().split('\n');
    expect(lines).toHaveLength(52);
    Array.from(dropped.keptRows!).forEach((row, i) => expect(lines[i + 1]).toBe(`${original[row + 1]},${i}`));
    const fillText = await labelledCsvFromSource(src, 'cluster', Array(60).fill(0));
    expect(fillText.trimEnd().split('\n')).toHaveLength(61);
    expect(fillText).toContain('\n,1.95,2.5,16.8,113.0,3.85,3.49,0.24,2.18,7.8,0.86,3.45,1480.0,0\n'); // the empty cell stays empty
  });

  it('refuses a result whose length does not match the file', async () => {
    const e = await rejection(labelledCsvFromSource({ source: 'a\n1\n2\n', delimiter: ',', header: true }, 'cluster', [0]));
    expect(e.code).toBe('STORAGE_INTEGRITY');
  });

  it('from the matrix when no file is stored; fresh column names; quoting', () => {
    const m = plainMatrix(Float64Array.from([1.5, -0, 2, 1e-7]), 2, 2);
    expect(labelledCsvFromMatrix(m, ['a', 'cluster'], 'cluster', [3, 4])).toBe('a,cluster,cluster_2\n1.5,0,3\n2,1e-7,4\n');
    expect(freshColumnName(['cluster', 'cluster_2'], 'cluster')).toBe('cluster_3');
    expect(csvField('a,b', ',')).toBe('"a,b"');
    expect(csvField('say "hi"', ';')).toBe('"say ""hi"""');
    expect(csvField(' x', ',')).toBe('" x"');
    expect(csvField('a,b', ';')).toBe('a,b');
  });
});

describe('dataset store: source file, version 2 record, scaling at load', () => {
  async function winePrepared(scaling: 'none' | 'zscore') {
    const blob = fileBlob('real/wine-pandas.csv');
    const t = await readCsvTable(blob);
    const roles = defaultRoles(describeColumns(t));
    const p = prepareDataset(t, { roles, missing: 'refuse' });
    const record = createPreparedRecord(t, p, { roles, scaling }, { name: 'wine', rng: seededRandomBytes(7), hasSource: true, bytes: blob.size });
    return { blob, p, record };
  }

  for (const [kind, make] of [
    ['memory', () => createMemoryDatasetStore()],
    ['IndexedDB', () => createIdbDatasetStore({ dbName: `rory-profiles-${Math.random().toString(36).slice(2)}` })],
  ] as const) {
    it(`${kind}: keeps the source, applies z-score at load (original kept), deletes everything`, async () => {
      const s = make();
      const { blob, p, record } = await winePrepared('zscore');
      expect(record).toMatchObject({
        recordVersion: 2,
        rows: 178,
        cols: 13,
        header: p.featureNames,
        labelColumn: 14,
        labelName: 'cultivar',
        labelNames: ['class_0', 'class_1', 'class_2'],
        csvFormat: { delimiter: ',', decimal: '.', header: true, bom: false },
        fileRows: 178,
        hasSource: true,
        missing: { strategy: 'refuse', cells: 0, dropped: 0 },
      });
      expect(record.columns![0]).toEqual({ name: '', role: 'ignore' });
      expect(record.columns![14]).toEqual({ name: 'cultivar', role: 'label' });
      expect(record.scaling!.method).toBe('zscore');
      expect(structuredClone(record)).toEqual(record);
      // hasSource and the source option must agree.
      expect((await rejection(s.save({ record, matrix: p.matrix, labels: p.labels }))).code).toBe('INVALID_ARGUMENT');
      await s.save({ record, matrix: p.matrix, labels: p.labels }, { source: blob, sourceName: 'wine-pandas.csv' });
      const back = await s.load(record.id);
      expect(back.original!.data).toEqual(p.matrix.data);
      expect(back.matrix.data).toEqual(applyScaling(p.matrix, record.scaling).data);
      const st = columnStats(back.matrix);
      st.mean.forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-12));
      expect(await (await s.loadSource(record.id))!.text()).toBe(fileText('real/wine-pandas.csv'));
      // Labels from a labels file replace the class names.
      const relabelled = await s.setLabels(record.id, new Int32Array(178));
      expect([relabelled.labelNames, relabelled.labelName, relabelled.hasLabels]).toEqual([undefined, undefined, true]);
      expect(await s.loadSource(record.id)).toBeDefined();
      expect(await s.delete(record.id)).toBe(true);
      expect((await rejection(s.loadSource(record.id))).code).toBe('STORAGE_NOT_FOUND');
    });
  }

  it('a version 1 record (no scaling, no source) loads as before', async () => {
    const s = createMemoryDatasetStore();
    const matrix = plainMatrix(Float64Array.from([1, 2, 3, 4]), 2, 2);
    const record = createDatasetRecord({ matrix, sourceFormat: 'csv', rows: 2, cols: 2 }, { name: 'v1' });
    expect(record.recordVersion).toBeUndefined();
    await s.save({ record, matrix });
    const back = await s.load(record.id);
    expect(back.matrix).toBe(back.original);
    expect(Array.from(back.matrix.data)).toEqual([1, 2, 3, 4]);
    expect(await s.loadSource(record.id)).toBeUndefined();
  });
});
