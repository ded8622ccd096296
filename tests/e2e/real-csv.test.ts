/**
 * Real-world CSV files through the Datasets page, in Chromium (issue #14 "Done when"): each file
 * of shared/datasets/real/ added with the default choices (plus the one click real/README.md
 * asks for), checking the shape, column names and class names in the review and on the stored
 * dataset; wine-missing.csv with both choices; an ambiguous locale resolved in one click; and a
 * large file read in the parse worker, cancelled mid-way (the worker is terminated, nothing is
 * stored).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED, startApp, type AppUnderTest } from './harness';

let app: AppUnderTest;
let dir: string;
const REAL = join(SHARED, 'datasets', 'real');
const ID_URL = /\/datasets\/\?id=(ds[0-9a-z]{16})$/;
const SHOTS = process.env.E2E_SCREENSHOTS; // a directory, to look at the pages

beforeAll(async () => {
  app = await startApp();
  dir = await mkdtemp(join(tmpdir(), 'rory-real-csv-e2e-'));
});
afterAll(async () => {
  await app?.close();
});

const review = (page: Page) => page.getByRole('form', { name: 'Review dataset' });
const text = (page: Page, id: string) => page.getByTestId(id).textContent();

async function openList(page: Page): Promise<void> {
  await page.goto(`${app.url}/datasets/`);
  await page.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
  await page.getByText(/No datasets yet|Datasets in this browser \(/).first().waitFor();
}

async function pick(page: Page, path: string): Promise<void> {
  await page.getByLabel('Add dataset file').setInputFiles(path);
  await review(page).or(page.getByRole('alert').filter({ hasText: 'was not added' })).first().waitFor({ timeout: 60_000 });
}

async function statsNames(page: Page): Promise<string[]> {
  return page.getByRole('table', { name: 'Column statistics' }).getByRole('rowheader').allTextContents();
}

async function firstRow(page: Page): Promise<string[]> {
  const cells = await page.getByRole('table', { name: 'First rows' }).getByRole('row').nth(1).getByRole('cell').allTextContents();
  return cells.slice(1);
}

async function role(page: Page, column: string): Promise<string> {
  return review(page).getByLabel(`Role of ${column}`, { exact: true }).inputValue();
}

async function save(page: Page): Promise<string> {
  await page.getByRole('button', { name: 'Save dataset' }).click();
  await page.waitForURL(ID_URL);
  await page.getByTestId('dataset-name').waitFor();
  await page.getByRole('table', { name: 'Column statistics' }).waitFor();
  return ID_URL.exec(page.url())![1];
}

async function shot(page: Page, name: string) {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
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

describe('real-world CSV files (shared/datasets/real)', () => {
  it('wine-pandas.csv: index column ignored, cultivar as labels; 178 × 13 with class_0 … class_2', async () => {
    const { page } = app;
    await openList(page);
    await pick(page, join(REAL, 'wine-pandas.csv'));
    expect(await text(page, 'dataset-shape')).toBe('178 × 13');
    expect(await text(page, 'class-counts')).toBe('class_0 (59), class_1 (71), class_2 (48)');
    expect(await role(page, 'Column 1')).toBe('ignore');
    expect(await role(page, 'cultivar')).toBe('label');
    expect(await role(page, 'proline')).toBe('feature');
    expect(await review(page).getByLabel('Label column').inputValue()).toBe('14');
    expect(await statsNames(page)).toEqual(WINE_NAMES);
    const headers = await page.getByRole('table', { name: 'First rows' }).getByRole('columnheader').allTextContents();
    expect(headers).toEqual(['#', ...WINE_NAMES, 'cultivar (label)']);
    expect(await firstRow(page)).toEqual(['14.23', '1.71', '2.43', '15.6', '127', '2.8', '3.06', '0.28', '2.29', '5.64', '1.04', '3.92', '1065', 'class_0']);
    expect(await text(page, 'spread-note')).toMatch(/“proline” varies about [\d,]+× more than “nonflavanoid_phenols”: consider z-score/);
    await shot(page, 'review-wine-pandas');

    await save(page);
    expect(await text(page, 'dataset-shape')).toBe('178 × 13');
    expect(await text(page, 'class-counts')).toBe('class_0 (59), class_1 (71), class_2 (48)');
    expect(await text(page, 'dataset-label-column')).toBe('cultivar (3 classes: class_0, class_1, class_2)');
    expect(await text(page, 'dataset-features')).toBe(WINE_NAMES.join(', '));
    expect(await text(page, 'dataset-ignored')).toBe('Column 1');
    expect(await text(page, 'dataset-format')).toBe('comma-separated, decimal point, header line');
    expect(await text(page, 'dataset-scaling')).toMatch(/^None/);
    expect(await statsNames(page)).toEqual(WINE_NAMES);
    await shot(page, 'detail-wine-pandas');
    expect(app.pageErrors).toEqual([]);
  });

  it('breast-cancer-kaggle.csv: id ignored, diagnosis M/B as labels, empty last column dropped with a note; 569 × 30', async () => {
    const { page } = app;
    await openList(page);
    await pick(page, join(REAL, 'breast-cancer-kaggle.csv'));
    expect(await text(page, 'dataset-shape')).toBe('569 × 30');
    expect(await text(page, 'class-counts')).toBe('B (357), M (212)');
    expect(await role(page, 'id')).toBe('ignore');
    expect(await role(page, 'diagnosis')).toBe('label');
    expect(await role(page, 'Column 33')).toBe('ignore');
    expect(await review(page).getByLabel('Role of Column 33', { exact: true }).isDisabled()).toBe(true);
    expect(await text(page, 'dataset-notes')).toContain('Column 33 (unnamed) is empty on every record and was left out.');
    const names = await statsNames(page);
    expect(names).toHaveLength(30);
    expect([names[0], names[7], names[29]]).toEqual(['radius_mean', 'concave points_mean', 'fractal_dimension_worst']);
    // The id can be made a feature (and back) before saving.
    await review(page).getByLabel('Role of id', { exact: true }).selectOption('feature');
    await expect.poll(() => text(page, 'dataset-shape')).toBe('569 × 31');
    await review(page).getByLabel('Role of id', { exact: true }).selectOption('ignore');
    await expect.poll(() => text(page, 'dataset-shape')).toBe('569 × 30');

    await save(page);
    expect(await text(page, 'dataset-shape')).toBe('569 × 30');
    expect(await text(page, 'class-counts')).toBe('B (357), M (212)');
    expect(await text(page, 'dataset-label-column')).toBe('diagnosis (2 classes: B, M)');
    expect(await text(page, 'dataset-ignored')).toBe('id, Column 33');
    expect(await text(page, 'dataset-notes')).toContain('Column 33 (unnamed) is empty on every record and was left out.');
  });

  it('iris-excel-es.csv: BOM, ";" and decimal comma detected, accented names; 150 × 4 with 3 named classes', async () => {
    const { page } = app;
    await openList(page);
    await pick(page, join(REAL, 'iris-excel-es.csv'));
    expect(await text(page, 'csv-format')).toBe('Detected: semicolon-separated, decimal comma, header line, UTF-8 with BOM.');
    expect(await text(page, 'dataset-shape')).toBe('150 × 4');
    expect(await statsNames(page)).toEqual(['longitud_sépalo', 'ancho_sépalo', 'longitud_pétalo', 'ancho_pétalo']);
    expect(await text(page, 'class-counts')).toBe('setosa (50), versicolor (50), virginica (50)');
    expect(await firstRow(page)).toEqual(['5.1', '3.5', '1.4', '0.2', 'setosa']);
    expect(await page.getByText('The numbers can be read in more than one way').count()).toBe(0);
    await shot(page, 'review-iris-excel-es');

    await save(page);
    expect(await page.getByTestId('dataset-name').textContent()).toBe('iris-excel-es');
    expect(await text(page, 'dataset-shape')).toBe('150 × 4');
    expect(await statsNames(page)).toEqual(['longitud_sépalo', 'ancho_sépalo', 'longitud_pétalo', 'ancho_pétalo']);
    expect(await text(page, 'dataset-label-column')).toBe('especie (3 classes: setosa, versicolor, virginica)');
    expect(await text(page, 'dataset-format')).toBe('semicolon-separated, decimal comma, header line, UTF-8 with BOM');
  });

  it('wine-missing.csv: missing cells counted per column; drop → 51 × 13, mean → 60 × 13, the choice stored and shown', async () => {
    const { page } = app;
    const cases: [button: RegExp, shape: string, summary: string, stored: string][] = [
      [/^Drop the 9 records with missing values$/, '51 × 13', '9 missing cells in 9 records; 9 records dropped.', '9 cells in 9 records: those records were dropped (51 of 60 kept)'],
      [/^Fill with the column mean$/, '60 × 13', '9 missing cells in 9 records.', '9 cells in 9 records: fill with the column mean'],
    ];
    for (const [button, shape, summary, stored] of cases) {
      await openList(page);
      await pick(page, join(REAL, 'wine-missing.csv'));
      const alert = page.getByRole('alert').filter({ hasText: 'was not added' });
      expect(await alert.getByText('“wine-missing.csv” was not added yet: it has missing values').isVisible()).toBe(true);
      expect(await text(page, 'dataset-error')).toMatch(/^Line 5, column 1 is empty\..*9 missing cells in 9 records/);
      const counts = await alert.getByRole('table', { name: 'Missing cells per column' }).getByRole('row').allTextContents();
      expect(counts.length).toBe(8);
      expect(counts[0]).toMatch(/^alcohol\d+$/);
      expect(await review(page).count()).toBe(0);
      if (button.source.startsWith('^Drop')) await shot(page, 'missing-choice');
      await alert.getByRole('button', { name: button }).click();
      await review(page).waitFor();
      expect(await text(page, 'dataset-shape')).toBe(shape);
      expect(await text(page, 'missing-summary')).toBe(summary);
      expect(await statsNames(page)).toEqual(WINE_NAMES);
      await save(page);
      expect(await text(page, 'dataset-shape')).toBe(shape);
      expect(await text(page, 'dataset-missing')).toBe(stored);
    }
    // The choice can also be changed in the review: back to "refuse" shows why nothing can be saved.
    await openList(page);
    await pick(page, join(REAL, 'wine-missing.csv'));
    await page.getByRole('button', { name: 'Fill with the column median' }).click();
    await review(page).getByLabel('Missing values').selectOption('refuse');
    await expect.poll(() => text(page, 'draft-problem')).toMatch(/^Line 5, column 1 is empty\./);
    expect(await page.getByRole('button', { name: 'Save dataset' }).isDisabled()).toBe(true);
    await review(page).getByLabel('Missing values').selectOption('drop');
    await expect.poll(() => text(page, 'dataset-shape')).toBe('51 × 13');
    await page.getByRole('button', { name: 'Discard' }).click();
  });

  it('an ambiguous locale is one click away: "1,234" with semicolons read as 1.234 or as 1234', async () => {
    const { page } = app;
    const path = join(dir, 'ambiguous.csv');
    await writeFile(path, 'amount;count\n1,234;2\n5,678;3\n2,500;4\n');
    await openList(page);
    await pick(page, path);
    expect(await text(page, 'csv-format')).toBe('Detected: semicolon-separated, decimal comma, header line.');
    expect(await firstRow(page)).toEqual(['1.234', '2']);
    const warn = page.getByRole('status').filter({ hasText: 'The numbers can be read in more than one way' });
    await warn.getByRole('button', { name: 'Read as semicolon-separated, decimal point' }).click();
    await expect.poll(() => firstRow(page)).toEqual(['1234', '2']);
    expect(await text(page, 'csv-format')).toBe('Chosen: semicolon-separated, decimal point, header line.');
    expect(await text(page, 'dataset-notes')).toContain('Column “amount”: 3 values written with thousands separators were read as whole numbers (1,234 → 1234).');
    const id = await save(page);
    expect(id).toMatch(/^ds/);
    expect(await text(page, 'dataset-format')).toBe('semicolon-separated, decimal point, header line');
  });

  it('reads a large file in the parse worker; Cancel terminates it and stores nothing', async () => {
    const { page } = app;
    const lines = ['a,b,c'];
    for (let i = 0; i < 600_000; i++) lines.push(`${i * 0.001},${-i},${(i % 97) / 7}`);
    const path = join(dir, 'large-cancel.csv');
    await writeFile(path, lines.join('\n') + '\n');
    await openList(page);
    const before = await page.getByTestId('dataset-row').count();
    const workerStarted = page.waitForEvent('worker');
    await page.getByLabel('Add dataset file').setInputFiles(path);
    const worker = await workerStarted;
    const closed = new Promise<void>((resolve) => worker.on('close', () => resolve()));
    await page.getByRole('progressbar', { name: /^Reading large-cancel\.csv/ }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await closed;
    expect(await page.getByTestId('reading').count()).toBe(0);
    expect(await review(page).count()).toBe(0);
    expect(await page.getByRole('alert').filter({ hasText: 'was not added' }).count()).toBe(0);
    await openList(page);
    expect(await page.getByTestId('dataset-row').count()).toBe(before);
    expect(app.pageErrors).toEqual([]);
  });
});
