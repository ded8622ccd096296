/**
 * Results in the user's terms, end to end (issue #14 "Done when"): wine-pandas.csv added through
 * the Datasets page with z-score scaling, a DBSKMeans job (k = 3, "Approve all") run against the
 * real local Rory cloud on loopback, and the results page showing the cluster-by-cultivar table
 * (class_0 … class_2), the cluster profiles under the file's column names in the file's units,
 * and the labelled-CSV download: the file's 178 rows with its own columns and text plus
 * `cluster`, matching the job's labels.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Download, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '@/server/cloud';
import { SHARED, startApp, type AppUnderTest } from './harness';

let cloud: LocalCloud;
let app: AppUnderTest;
let dataDir: string;
const SHOTS = process.env.E2E_SCREENSHOTS;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'rory-e2e-results-'));
  cloud = await startLocalCloud({ dataDir });
  const router = new URL(cloud.routerUrl);
  const manager = new URL(cloud.managerUrl);
  // `cloud`: the cloud accepts the app's origin (CORS, Host checks) and the page's CSP lets it connect.
  app = await startApp({
    cloud,
    config: () => ({
      settings: {
        RORY_MANAGER_IP_ADDR: manager.hostname,
        RORY_MANAGER_PORT: Number(manager.port),
        MICTLANX_ROUTERS: `mictlanx-router-0:${router.hostname}:${router.port}`,
      },
    }),
  });
});

afterAll(async () => {
  await app?.close();
  await cloud?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function downloadText(page: Page, button: string): Promise<{ name: string; text: string }> {
  const [download] = (await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()])) as [Download, unknown];
  const chunks = await (await download.createReadStream()).toArray();
  return { name: download.suggestedFilename(), text: Buffer.concat(chunks).toString('utf8') };
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

describe('results in the user’s terms', () => {
  it('DBSKMeans on wine-pandas.csv: cluster-by-cultivar table, profiles with the real column names, labelled CSV with 178 rows + cluster', async () => {
    const { page } = app;
    await page.goto(`${app.url}/datasets/`);
    await page.getByLabel('Add dataset file').setInputFiles(join(SHARED, 'datasets', 'real', 'wine-pandas.csv'));
    const review = page.getByRole('form', { name: 'Review dataset' });
    await review.waitFor({ timeout: 30_000 });
    await review.getByLabel('Scaling before encryption').selectOption('zscore');
    await page.getByRole('button', { name: 'Save dataset' }).click();
    await page.waitForURL(/\/datasets\/\?id=ds/);
    await page.getByTestId('dataset-scaling').waitFor();
    expect(await page.getByTestId('dataset-scaling').textContent()).toMatch(/^z-score/);

    await page.goto(`${app.url}/jobs/`);
    const datasetSelect = page.getByLabel(/^Dataset/);
    await datasetSelect.locator('option').first().waitFor({ state: 'attached' });
    const option = (await datasetSelect.locator('option').allTextContents()).find((l) => /wine-pandas/.test(l))!;
    await datasetSelect.selectOption({ label: option });
    await page.getByLabel('Algorithm').selectOption('DBSKMEANS');
    await page.getByLabel('Clusters (k)').fill('3');
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByRole('button', { name: 'Approve all for this job' }).click({ timeout: 180_000 });
    await page.locator('[data-testid="job-status"][data-status="completed"]').waitFor({ timeout: 300_000 });

    // Cluster-by-cultivar table: the file's class names, every record counted once.
    const table = page.getByRole('table', { name: 'Clusters by cultivar' });
    await table.waitFor({ timeout: 30_000 });
    const head = await table.getByRole('columnheader').allTextContents();
    expect(head).toEqual(['cluster \\ cultivar', 'class_0', 'class_1', 'class_2', 'total']);
    const rows = await table.getByRole('row').all();
    let total = 0;
    const perClass = [0, 0, 0];
    for (const row of rows.slice(1)) {
      const cells = (await row.getByRole('cell').allTextContents()).map(Number);
      expect(cells).toHaveLength(4);
      expect(cells[3]).toBe(cells[0] + cells[1] + cells[2]);
      total += cells[3];
      cells.slice(0, 3).forEach((n, j) => (perClass[j] += n));
    }
    expect(total).toBe(178);
    expect(perClass).toEqual([59, 71, 48]);

    // Profiles: the file's column names, means in the file's units (proline in the hundreds).
    const profiles = page.getByRole('table', { name: 'Cluster profiles' });
    expect(await profiles.getByRole('rowheader').allTextContents()).toEqual(WINE_NAMES);
    const proline = await profiles.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'proline', exact: true }) }).getByRole('cell').allTextContents();
    expect(proline.at(-1)).toBe('746.893');
    for (const v of proline.slice(0, -1)) expect(Number(v)).toBeGreaterThan(200);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'results-wine-pandas.png'), fullPage: true });

    // Labelled CSV: the original rows, text and all, plus the cluster of each record.
    const result = JSON.parse((await downloadText(page, 'Download JSON')).text) as { labels: number[] };
    const labelled = await downloadText(page, 'Download labelled CSV');
    expect(labelled.name).toBe('wine-pandas-cluster.csv');
    const original = (await readFile(join(SHARED, 'datasets', 'real', 'wine-pandas.csv'), 'utf8')).trimEnd().split('\n');
    const lines = labelled.text.trimEnd().split('\n');
    expect(lines).toHaveLength(179);
    expect(lines[0]).toBe(`${original[0]},cluster`);
    expect(lines[0].split(',')).toHaveLength(16);
    for (let i = 1; i < lines.length; i++) expect(lines[i]).toBe(`${original[i]},${result.labels[i - 1]}`);
    expect(app.pageErrors).toEqual([]);
  });
});
