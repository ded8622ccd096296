/**
 * Datasets page end to end, in Chromium through the UI (issue "Data and storage", deliverable 2):
 * the first-visit empty state, every malformed fixture of `shared/datasets/README.md` refused or
 * accepted exactly as that README says (with nothing stored after a refusal), iris added with its
 * shape and column statistics, persistence across a reload, labels attached later (and a wrong
 * labels file refused), a label column picked from the data, an NPY file, a dropped data + labels
 * pair, a large file read with a progress bar, rename, URL state, and delete with confirmation.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matrix } from '@/lib/data/matrix';
import { writeNpy } from '@/lib/data/npy';
import { SHARED, startApp, type AppUnderTest } from './harness';

let app: AppUnderTest;
let dir: string;
const DATASETS = join(SHARED, 'datasets');
const BAD = join(DATASETS, 'bad');
const ID_URL = /\/datasets\/\?id=(ds[0-9a-z]{16})$/;

beforeAll(async () => {
  app = await startApp();
  dir = await mkdtemp(join(tmpdir(), 'rory-datasets-e2e-'));
});
afterAll(async () => {
  await app?.close();
});

async function openList(page: Page): Promise<void> {
  await page.goto(`${app.url}/datasets/`);
  await page.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
  await page.getByText(/No datasets yet|Datasets in this browser \(/).first().waitFor();
}

/** Keys in the app's IndexedDB dataset store, read without creating the database or its store. */
async function storedKeys(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const dbs = await indexedDB.databases();
    if (!dbs.some((d) => d.name === 'rory-datasets')) return [];
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open('rory-datasets');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    try {
      if (!db.objectStoreNames.contains('datasets')) return [];
      const keys = await new Promise<IDBValidKey[]>((resolve, reject) => {
        const req = db.transaction('datasets').objectStore('datasets').getAllKeys();
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      return keys.map(String).sort();
    } finally {
      db.close();
    }
  });
}

const rowCount = (page: Page) => page.getByTestId('dataset-row').count();
const review = (page: Page) => page.getByRole('form', { name: 'Review dataset' });
const shape = (page: Page) => page.getByTestId('dataset-shape').textContent();

/** [min, max, mean, std] cells of one row of the column statistics table. */
async function statsRow(page: Page, column: string): Promise<string[]> {
  const table = page.getByRole('table', { name: 'Column statistics' });
  const row = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: column, exact: true }) });
  return row.getByRole('cell').allTextContents();
}

async function firstRow(page: Page): Promise<string[]> {
  const cells = await page.getByRole('table', { name: 'First rows' }).getByRole('row').nth(1).getByRole('cell').allTextContents();
  return cells.slice(1); // drop the row number
}

/** Picks `path` and waits for the review (or for an error alert). */
async function pick(page: Page, path: string): Promise<void> {
  await page.getByLabel('Add dataset file').setInputFiles(path);
  await review(page).or(page.getByRole('alert').filter({ hasText: 'was not added' })).first().waitFor();
}

async function saveDraft(page: Page, name?: string): Promise<string> {
  if (name !== undefined) await review(page).getByLabel('Dataset name').fill(name);
  await page.getByRole('button', { name: 'Save dataset' }).click();
  await page.waitForURL(ID_URL);
  await page.getByTestId('dataset-name').waitFor();
  await page.getByRole('table', { name: 'Column statistics' }).waitFor();
  return ID_URL.exec(page.url())![1];
}

describe('datasets page', () => {
  it('tells a new user what to do first and that files stay in this browser', async () => {
    const { page } = app;
    await openList(page);
    expect(await page.getByText('No datasets yet').isVisible()).toBe(true);
    expect(await page.getByText(/Start here: add a CSV or NPY file/).isVisible()).toBe(true);
    expect(await page.getByTestId('privacy-note').textContent()).toMatch(/stored only in this browser.*never uploaded in plaintext/);
    expect(await page.getByRole('table', { name: 'Datasets in this browser' }).count()).toBe(0);
  });

  it('refuses every malformed fixture with a message naming the problem, storing nothing', async () => {
    const { page } = app;
    await openList(page);
    const before = await storedKeys(page);
    const cases: [file: string, message: RegExp][] = [
      ['empty.csv', /^The file is empty\./],
      ['header-only.csv', /header line but no numeric rows \(a header is not data\)/],
      ['ragged.csv', /^Line 2 has 3 fields, expected 4\b/],
      ['non-numeric.csv', /^Line 2, column 2: "abc" is not a number\./],
      ['nan.csv', /^Line 2, column 2: "NaN" is a missing or non-finite value\. Liu, UDM and FDHOPE need finite real numbers/],
      ['huge-values.csv', /^Line 1, column 1: the value is too large in magnitude \(every value must lie between -1e15 and 1e15\)/],
    ];
    for (const [file, message] of cases) {
      await page.getByLabel('Add dataset file').setInputFiles(join(BAD, file));
      const alert = page.getByRole('alert').filter({ hasText: 'was not added' });
      await alert.getByText(`“${file}” was not added`).waitFor();
      expect(await page.getByTestId('dataset-error').textContent(), file).toMatch(message);
      expect(await alert.textContent(), file).toContain('Nothing was stored.');
      expect(await review(page).count(), file).toBe(0);
      expect(await rowCount(page), file).toBe(0);
      expect(await storedKeys(page), file).toEqual(before);
    }
    await page.reload();
    await page.getByText('No datasets yet').waitFor();
    expect(await storedKeys(page)).toEqual(before);
    expect(app.pageErrors).toEqual([]);
  });

  let irisId = '';

  it('adds iris.csv: shape 150 × 4, first rows and exact column statistics', async () => {
    const { page } = app;
    await openList(page);
    await pick(page, join(DATASETS, 'iris.csv'));
    expect(await review(page).getByRole('heading', { name: /Review “iris\.csv”/ }).isVisible()).toBe(true);
    expect(await shape(page)).toBe('150 × 4');
    expect(await review(page).getByLabel('Dataset name').inputValue()).toBe('iris');
    // Not stored before "Save dataset".
    expect((await storedKeys(page)).filter((k) => k.startsWith('meta:'))).toEqual([]);

    irisId = await saveDraft(page);
    expect(await page.getByTestId('dataset-name').textContent()).toBe('iris');
    expect(await shape(page)).toBe('150 × 4');
    expect(await page.getByTestId('dataset-labels').textContent()).toBe('no');
    expect(await firstRow(page)).toEqual(['5.1', '3.5', '1.4', '0.2']);
    const col1 = await statsRow(page, 'Column 1');
    expect(col1.slice(0, 2)).toEqual(['4.3', '7.9']);
    expect(col1[2]).toMatch(/^5\.843/);
    // The full mean is in the cell's title (float64 summation; numpy's pairwise sum gives 5.843333333333334).
    const mean = await page.getByRole('table', { name: 'Column statistics' }).getByRole('cell', { name: '5.84333' }).getAttribute('title');
    expect(Number(mean)).toBeCloseTo(5.843333333333334, 12);
    const col3 = await statsRow(page, 'Column 3');
    expect(col3.slice(0, 2)).toEqual(['1', '6.9']);
    expect(col3[2]).toMatch(/^3\.758/);
    // The matrix, the record, and the uploaded file (kept for the labelled CSV of results, issue #14).
    expect(await storedKeys(page)).toEqual([`matrix:${irisId}`, `meta:${irisId}`, `source:${irisId}`]);
  });

  it('keeps iris across a reload, selected by the query string', async () => {
    const { page } = app;
    await page.reload();
    await page.getByTestId('dataset-name').waitFor();
    expect(await page.getByTestId('dataset-name').textContent()).toBe('iris');
    await page.getByRole('table', { name: 'Column statistics' }).waitFor();
    expect((await statsRow(page, 'Column 1')).slice(0, 2)).toEqual(['4.3', '7.9']);

    await page.getByRole('link', { name: '← All datasets' }).click();
    await page.getByRole('table', { name: 'Datasets in this browser' }).waitFor();
    const row = page.getByTestId('dataset-row').filter({ hasText: 'iris' });
    const cells = await row.getByRole('cell').allTextContents();
    expect(cells.slice(0, 3)).toEqual(['iris', '150 × 4', 'no']);
    expect(cells[3]).toMatch(/\d/); // added date
    await row.getByRole('link', { name: 'iris' }).click();
    await page.waitForURL(`${app.url}/datasets/?id=${irisId}`);
  });

  it('refuses a labels file of the wrong length, then attaches iris.labels.csv', async () => {
    const { page } = app;
    await page.goto(`${app.url}/datasets/?id=${irisId}`);
    await page.getByTestId('dataset-name').waitFor();
    await page.getByLabel('Attach labels file').setInputFiles(join(DATASETS, 'wine.labels.csv'));
    await page.getByRole('alert').filter({ hasText: 'labels' }).waitFor();
    expect(await page.getByTestId('dataset-notice').textContent()).toBe(
      'The labels file has 178 labels but the dataset has 150 records. Choose the labels file that belongs to this dataset.',
    );
    expect(await storedKeys(page)).toEqual([`matrix:${irisId}`, `meta:${irisId}`, `source:${irisId}`]);

    await page.getByLabel('Attach labels file').setInputFiles(join(DATASETS, 'iris.labels.csv'));
    await page.getByText('Labels attached from iris.labels.csv.').waitFor();
    await page.getByTestId('class-counts').waitFor();
    expect(await page.getByTestId('class-counts').textContent()).toBe('0 (50), 1 (50), 2 (50)');
    expect(await page.getByTestId('dataset-labels').textContent()).toBe('yes');
    expect(await storedKeys(page)).toEqual([`labels:${irisId}`, `matrix:${irisId}`, `meta:${irisId}`, `source:${irisId}`]);
  });

  it('renames a dataset', async () => {
    const { page } = app;
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('New name').fill('Iris (Fisher 1936)');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByText('Renamed to “Iris (Fisher 1936)”.').waitFor();
    expect(await page.getByTestId('dataset-name').textContent()).toBe('Iris (Fisher 1936)');
    await page.reload();
    await page.getByTestId('dataset-name').waitFor();
    expect(await page.getByTestId('dataset-name').textContent()).toBe('Iris (Fisher 1936)');
  });

  it('accepts bom-semicolon.csv as the 5 × 4 matrix (BOM stripped, semicolons detected)', async () => {
    const { page } = app;
    await openList(page);
    await pick(page, join(BAD, 'bom-semicolon.csv'));
    expect(await shape(page)).toBe('5 × 4');
    expect(await firstRow(page)).toEqual(['5.1', '3.5', '1.4', '0.2']);
    expect((await statsRow(page, 'Column 1')).slice(0, 2)).toEqual(['4.6', '5.1']);
    await saveDraft(page);
    expect(await page.getByTestId('dataset-name').textContent()).toBe('bom-semicolon');
    expect(await shape(page)).toBe('5 × 4');
  });

  it('accepts one-row.csv as 1 × 4 with a note that clustering needs k ≤ rows', async () => {
    const { page } = app;
    await openList(page);
    await pick(page, join(BAD, 'one-row.csv'));
    expect(await shape(page)).toBe('1 × 4');
    expect(await page.getByTestId('rows-note').textContent()).toMatch(/Clustering needs k ≤ the number of records \(1\).*any k ≥ 2 will be refused/);
    await saveDraft(page);
    expect(await shape(page)).toBe('1 × 4');
    expect(await page.getByTestId('rows-note').isVisible()).toBe(true);
  });

  it('takes class labels from a column of the data when asked', async () => {
    const { page } = app;
    const path = join(dir, 'with-class.csv');
    await writeFile(path, 'height,weight,class\n1.5,50,0\n1.6,60.5,1\n1.7,70,1\n1.8,80,2\n');
    await openList(page);
    await pick(page, path);
    expect(await shape(page)).toBe('4 × 3');
    await review(page).getByLabel('Label column').selectOption({ label: 'Column 3 (class)' });
    await expect.poll(() => shape(page)).toBe('4 × 2');
    expect(await page.getByTestId('class-counts').textContent()).toBe('0 (1), 1 (2), 2 (1)');
    expect(await page.getByRole('table', { name: 'Column statistics' }).getByRole('rowheader').allTextContents()).toEqual(['height', 'weight']);
    await saveDraft(page);
    expect(await shape(page)).toBe('4 × 2');
    expect(await page.getByText('column 3 held labels').isVisible()).toBe(true);
    expect(await page.getByTestId('dataset-labels').textContent()).toBe('yes');
  });

  it('adds an NPY file (detected by its magic) with its labels attached at add time', async () => {
    const { page } = app;
    const path = join(dir, 'small.npy');
    await writeFile(path, writeNpy(matrix(Float64Array.from([1, 2, 3, 4, 5, 6.25]), [3, 2])));
    const labels = join(dir, 'small.labels.csv');
    await writeFile(labels, '1\n0\n1\n');
    await openList(page);
    await pick(page, path);
    expect(await review(page).getByRole('heading', { name: /^Review/ }).textContent()).toContain('(NPY,');
    expect(await shape(page)).toBe('3 × 2');
    await review(page).getByLabel('Labels file (optional)').setInputFiles(labels);
    await page.getByTestId('draft-labels-file').waitFor();
    expect(await page.getByTestId('class-counts').textContent()).toBe('0 (1), 1 (2)');
    await saveDraft(page, 'small array');
    expect(await page.getByTestId('dataset-name').textContent()).toBe('small array');
    expect((await statsRow(page, 'Column 2')).slice(0, 3)).toEqual(['2', '6.25', '4.08333']);
    expect(await page.getByTestId('class-counts').textContent()).toBe('0 (1), 1 (2)');
  });

  it('adds a dropped data file together with its labels file', async () => {
    const { page } = app;
    await openList(page);
    const files = await Promise.all(
      ['blobs-100x5-k2.csv', 'blobs-100x5-k2.labels.csv'].map(async (name) => ({ name, text: await readFile(join(DATASETS, name), 'utf8') })),
    );
    const dt = await page.evaluateHandle((fs) => {
      const t = new DataTransfer();
      // Labels first: the page must tell the two apart by name.
      for (const f of [...fs].reverse()) t.items.add(new File([f.text], f.name, { type: 'text/csv' }));
      return t;
    }, files);
    await page.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer: dt });
    await page.getByTestId('draft-labels-file').waitFor();
    expect(await page.getByTestId('draft-labels-file').textContent()).toBe('blobs-100x5-k2.labels.csv');
    expect(await shape(page)).toBe('100 × 5');
    expect(await page.getByTestId('class-counts').textContent()).toBe('0 (50), 1 (50)');
    await saveDraft(page);
    expect(await page.getByTestId('dataset-name').textContent()).toBe('blobs-100x5-k2');
    expect(await page.getByTestId('dataset-labels').textContent()).toBe('yes');
  });

  it('reads a large file with a progress bar, and discarding it stores nothing', async () => {
    const { page } = app;
    const rows = 300_000;
    const lines: string[] = [];
    for (let i = 0; i < rows; i++) lines.push(`${i * 0.001},${-i},${(i % 97) / 7},${i * 1e-7},0.123456789012345`);
    const path = join(dir, 'large.csv');
    await writeFile(path, lines.join('\n') + '\n');
    await openList(page);
    const before = await storedKeys(page);
    await page.getByLabel('Add dataset file').setInputFiles(path);
    await page.getByRole('progressbar', { name: /^Reading large\.csv/ }).waitFor();
    await review(page).waitFor({ timeout: 60_000 });
    expect(await shape(page)).toBe(`${rows} × 5`);
    expect((await statsRow(page, 'Column 2')).slice(0, 2)).toEqual([String(-(rows - 1)), '0']);
    await page.getByRole('button', { name: 'Discard' }).click();
    expect(await review(page).count()).toBe(0);
    expect(await storedKeys(page)).toEqual(before);
  });

  it('deletes a dataset after confirmation', async () => {
    const { page } = app;
    await openList(page);
    const before = await rowCount(page);
    expect(before).toBe(6);
    await page.getByTestId('dataset-row').getByRole('link', { name: 'Iris (Fisher 1936)' }).click();
    await page.waitForURL(`${app.url}/datasets/?id=${irisId}`);
    await page.getByTestId('dataset-name').waitFor();

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete dataset “Iris (Fisher 1936)”?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('150 × 4 matrix and its labels are removed from this browser');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await dialog.count()).toBe(0);
    expect((await storedKeys(page)).filter((k) => k.endsWith(irisId))).toHaveLength(4);

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.getByRole('button', { name: 'Delete dataset' }).click();
    await page.waitForURL(`${app.url}/datasets/`);
    await page.getByRole('table', { name: 'Datasets in this browser' }).waitFor();
    await expect.poll(() => rowCount(page)).toBe(before - 1);
    expect(await page.getByRole('link', { name: 'Iris (Fisher 1936)' }).count()).toBe(0);
    expect((await storedKeys(page)).filter((k) => k.endsWith(irisId))).toEqual([]);

    await page.goto(`${app.url}/datasets/?id=${irisId}`);
    await page.getByText('No dataset with this id is stored in this browser.').waitFor();
    await page.reload();
    await page.getByText('No dataset with this id is stored in this browser.').waitFor();
    expect(app.pageErrors).toEqual([]);
  });
});
