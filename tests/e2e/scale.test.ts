/**
 * Scale and a responsive page (issue #13) in Chromium against the real local cloud:
 * - jobs run in the job Web Worker: Cancel during the heaviest phase of a DBSKMeans job on
 *   blobs-1000x8-k4 (the FDHOPE encryption of its 8·10⁶-value UDM) takes effect within 1 s, and
 *   nothing more goes to storage afterwards;
 * - size budgets: the jobs form says what a job builds and uploads before "Create job", and a
 *   DBSKMeans job on a 10 000 × 8 CSV (generated here) is refused up front with its size and the
 *   alternative, private k-means, which the form can switch to.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '@/server/cloud';
import { startApp, type AppUnderTest } from './harness';
import { addDataset, createJob, optionLabel, status, useApp } from './job-helpers';

let cloud: LocalCloud;
let app: AppUnderTest;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rory-e2e-scale-'));
  cloud = await startLocalCloud({ dataDir: join(dir, 'cloud') });
  app = await startApp({ cloud });
  useApp(app);
});

afterAll(async () => {
  await app?.close();
  await cloud?.close();
  await rm(dir, { recursive: true, force: true });
});

/** `rows` records in `cols` columns around four centres (deterministic). */
function blobsCsv(rows: number, cols: number): string {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const c = (i % 4) * 5;
    lines.push(Array.from({ length: cols }, (_, j) => (c + Math.sin(i * 7.3 + j * 1.7)).toFixed(5)).join(','));
  }
  return lines.join('\n') + '\n';
}

describe('jobs off the page thread', () => {
  it('Cancel while the UDM of a DBSKMeans job on blobs-1000x8-k4 is encrypted and uploaded (its heaviest phase) takes effect within 1 s; nothing is uploaded afterwards', async () => {
    const { page } = app;
    await addDataset(page, 'blobs-1000x8-k4.csv', 1000, 8);
    await createJob(page, { dataset: /blobs-1000x8/, algorithm: 'DBSKMEANS', k: 4 });
    const requests: { at: number; what: string }[] = [];
    const onRequest = (r: Request) => {
      if (r.url().startsWith(cloud.routerUrl)) requests.push({ at: Date.now(), what: `${r.method()} ${r.url()}` });
    };
    page.on('request', onRequest);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    // The UDM phase: 8·10⁶ differences FDHOPE-encrypted in the crypto workers and uploaded as the
    // 64 MB {P}encryptedudm (encryption takes well under a second here; the upload takes seconds).
    const udmTransfer = page.getByRole('progressbar', { name: /^Transfer .*encryptedudm$/ });
    const fdhope = page.getByRole('progressbar', { name: 'FDHOPE encryption' });
    const inUdmPhase = async () =>
      Number((await udmTransfer.getAttribute('aria-valuenow', { timeout: 50 }).catch(() => null)) ?? 0) > 0 ||
      Number((await fdhope.getAttribute('aria-valuenow', { timeout: 50 }).catch(() => null)) ?? 0) > 0;
    await expect.poll(inUdmPhase, { timeout: 120_000, interval: 25 }).toBe(true);
    expect(await status(page)).toBe('running');

    const clickedAt = Date.now();
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.locator('[data-testid="job-status"][data-status="cancelled"]').waitFor({ timeout: 5_000 });
    const shownAt = Date.now();
    expect(shownAt - clickedAt).toBeLessThan(1000);
    expect(await page.getByTestId('job-error').textContent()).toMatch(/cancelled/i);
    // Nothing more goes to storage: no request to the router starts once the job shows cancelled
    // (a request already on its way when Cancel was pressed may still be reported in the first moments).
    await page.waitForTimeout(2_000);
    page.off('request', onRequest);
    expect(requests.filter((r) => r.at > shownAt + 250).map((r) => r.what)).toEqual([]);
    const log = (await page.getByTestId('event-log').textContent()) ?? '';
    expect(log).toContain('CANCELLED');
    // The UDM never completed its upload.
    expect(log).not.toMatch(/PUT[^A-Z]*key=\w*encryptedudm/);
    // The job can run again (fresh crypto workers replace the terminated ones).
    await expect.poll(() => page.getByRole('button', { name: 'Run again' }).isVisible()).toBe(true);
  });
});

describe('size budgets, said before the job starts', () => {
  it('the form states what DBSKMeans builds and uploads for 1 000 × 8, and private k-means is linear', async () => {
    const { page } = app;
    await page.goto(`${app.url}/jobs/`);
    await page.getByLabel(/^Dataset/).locator('option').first().waitFor({ state: 'attached' });
    await page.getByLabel(/^Dataset/).selectOption({ label: (await optionLabel(page, /^Dataset/, /blobs-1000x8/))! });
    await page.getByLabel('Algorithm').selectOption('DBSKMEANS');
    const size = page.getByTestId('job-size');
    expect(await size.getAttribute('data-ok')).toBe('true');
    expect(await size.textContent()).toMatch(/Builds and uploads an 8·n²·a-byte FDHOPE difference matrix \(UDM\): 64 MB for 1 000 × 8\./);
    await page.getByLabel('Algorithm').selectOption('PKMEANS');
    expect(await size.textContent()).toMatch(/linear in the number of records/);
  });

  it('a DBSKMeans job on a 10 000 × 8 CSV is refused up front with the size and the alternative; the form switches to private k-means', async () => {
    const { page } = app;
    const file = join(dir, 'wide-10000x8.csv');
    await writeFile(file, blobsCsv(10_000, 8));
    await page.goto(`${app.url}/datasets/`);
    await page.getByLabel('Add dataset file').setInputFiles(file);
    await page.getByTestId('dataset-shape').filter({ hasText: '10000 × 8' }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Save dataset' }).click();
    await page.waitForURL(/\/datasets\/\?id=ds/);

    await page.goto(`${app.url}/jobs/`);
    await page.getByLabel(/^Dataset/).locator('option').first().waitFor({ state: 'attached' });
    await page.getByLabel(/^Dataset/).selectOption({ label: (await optionLabel(page, /^Dataset/, /wide-10000x8/))! });
    await page.getByLabel('Algorithm').selectOption('DBSKMEANS');
    await page.getByLabel('Clusters (k)').fill('4');
    const size = page.getByTestId('job-size');
    expect(await size.getAttribute('data-ok')).toBe('false');
    const text = (await size.textContent()) ?? '';
    expect(text).toMatch(/8·n²·a-byte FDHOPE difference matrix \(UDM\): 6\.4 GB for 10 000 × 8/);
    expect(text).toMatch(/more than the job size budget of 1 GB/);
    expect(text).toMatch(/Use Private k-means \(CKKS, exact\) instead, which is linear in the number of records: about \d+ MB for this dataset\./);
    expect(await page.getByRole('button', { name: 'Create job' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Switch to private k-means' }).click();
    expect(await page.getByLabel('Algorithm').inputValue()).toBe('PKMEANS');
    expect(await size.getAttribute('data-ok')).toBe('true');
    expect(await page.getByRole('button', { name: 'Create job' }).isDisabled()).toBe(false);
    // The refused job was never created.
    expect(await page.getByRole('link', { name: /DBSKMEANS on wide-10000x8/ }).count()).toBe(0);
  });
});
