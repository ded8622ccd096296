/**
 * Jobs end to end in Chromium against the real local Rory cloud on loopback: add a dataset through
 * the UI, create and run SKMeans / DBSKMeans / DBSNNC jobs and their CKKS (PQC) variants and
 * SKNN-PQC, click every approval, deny one, reload mid-run, and audit every request the page makes
 * for plaintext (D3) and for what reaches the worker (D4: only the public CKKS objects).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '@/server/cloud';
import { kmeansReference } from '../helpers/datasets';
import type { Page } from 'playwright-core';
import { SHARED, startApp, type AppUnderTest } from './harness';
import { addDataset, approveUntilDone, auditFindings, createJob, datasetNeedles, downloadResult, optionLabel, recordRequests, status, useApp } from './job-helpers';

let cloud: LocalCloud;
let app: AppUnderTest;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'rory-e2e-cloud-'));
  cloud = await startLocalCloud({ dataDir });
  const router = new URL(cloud.routerUrl);
  const manager = new URL(cloud.managerUrl);
  // `cloud`: the harness puts the cloud into the CSP connect-src and allows the app's origin (D9).
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
  useApp(app);
});

afterAll(async () => {
  await app?.close();
  await cloud?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('jobs through the UI against the local cloud', () => {
  it('SKMeans on iris: acknowledgement, every round approved, labels equal the reference; only acknowledged objects carry plaintext-derived data', async () => {
    const { page } = app;
    await addDataset(page, 'iris.csv', 150, 4);
    await createJob(page, { dataset: /iris/, algorithm: 'SKMEANS', k: 3, maxIterations: 10 });
    // D3: the run button stays disabled until the user acknowledges the plaintext uploads.
    expect(await page.getByTestId('leakage-profile').textContent()).toContain('PLAINTEXT');
    expect(await page.getByRole('button', { name: 'Run', exact: true }).isDisabled()).toBe(true);
    await page.getByRole('checkbox').check();
    const audit = recordRequests(page);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const clicks = await approveUntilDone(page);
    const requests = await audit.stop();
    expect(await status(page)).toBe('completed');
    const ref = kmeansReference()['iris.csv'];
    expect(clicks).toBe(ref.iterations - 1);
    const result = await downloadResult(page);
    expect(result.labels).toEqual(ref.labels);
    expect(result.iterations).toBe(ref.iterations);
    expect(result.verification.ok).toBe(true);
    await page.getByRole('img', { name: /Clusters in the first two principal components/ }).waitFor();

    // Every object uploaded is either the Liu ciphertext or one of the acknowledged objects…
    const balls = new Set(requests.filter((r) => r.ball && r.url.endsWith('/metadata')).map((r) => r.ball!));
    const p = [...balls].find((b) => b.startsWith('encrypted'))!.slice('encrypted'.length);
    expect([...balls].sort()).toEqual([`${p}shiftmatrix`, `${p}udm`, `encrypted${p}`].sort());
    // …and dataset values appear (as differences that happen to equal a value) only in acknowledged objects.
    const acknowledged = new Set([`${p}udm`, `${p}shiftmatrix`]);
    const outside = auditFindings(requests, await datasetNeedles('iris.csv')).filter((f) => !f.ball || !acknowledged.has(f.ball));
    expect(outside).toEqual([]);
  });

  it('DBSKMeans on blobs: no acknowledgement, approvals clicked, and no request contains the dataset in any form', async () => {
    const { page } = app;
    await addDataset(page, 'blobs-100x5-k2.csv', 100, 5);
    await createJob(page, { dataset: /blobs-100x5/, algorithm: 'DBSKMEANS', k: 2 });
    expect(await page.getByTestId('leakage-profile').textContent()).toContain('no acknowledgement is needed');
    const audit = recordRequests(page);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await approveUntilDone(page);
    const requests = await audit.stop();
    expect(await status(page)).toBe('completed');
    const result = await downloadResult(page);
    expect(result.labels).toHaveLength(100);
    expect(result.verification.ok).toBe(true);
    expect(requests.some((r) => r.url.includes('/clustering/dbskmeans'))).toBe(true);
    expect(requests.filter((r) => r.url.includes('/chunked')).every((r) => r.ball && r.ball !== '(unknown upload)' && r.body.length > 0)).toBe(true);
    const needles = await datasetNeedles('blobs-100x5-k2.csv');
    expect(auditFindings(requests, needles)).toEqual([]);
    // Positive control: the same audit flags a request that does carry the data.
    const leaky = { url: `${cloud.routerUrl}/api/v4/buckets/data/t/chunked`, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.concat(needles.f64.slice(0, 3)) };
    const leakyText = { url: `${cloud.managerUrl}/clustering/secure`, headers: { threshold: needles.tokens[7] }, body: Buffer.alloc(0) };
    expect(auditFindings([leaky, leakyText], needles).length).toBeGreaterThanOrEqual(4);
  });

  it('DBSNNC on blobs: one call, no approval, clusters shown, and no request contains the dataset', async () => {
    const { page } = app;
    await createJob(page, { dataset: /blobs-100x5/, algorithm: 'DBSNNC', threshold: 0.5 });
    expect(await page.getByTestId('leakage-profile').textContent()).toContain('no acknowledgement is needed');
    const audit = recordRequests(page);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.locator('[data-testid="job-status"][data-status="completed"]').waitFor({ timeout: 120_000 });
    const requests = await audit.stop();
    expect(requests.some((r) => r.url.endsWith('/clustering/dbsnnc'))).toBe(true);
    expect(await page.getByTestId('result-clusters').textContent()).toMatch(/^\d+$/);
    expect(auditFindings(requests, await datasetNeedles('blobs-100x5-k2.csv'))).toEqual([]);
  });

  it('denying a decryption stops the job with a message', async () => {
    const { page } = app;
    await createJob(page, { dataset: /blobs-100x5/, algorithm: 'DBSKMEANS', k: 2 });
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByRole('button', { name: 'Deny and stop' }).click({ timeout: 120_000 });
    await page.locator('[data-testid="job-status"][data-status="denied"]').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('job-error').textContent()).toMatch(/denied/i);
  });

  it('a reload during a run leaves a consistent, clearly interrupted job that can run again', async () => {
    const { page } = app;
    const id = await createJob(page, { dataset: /blobs-100x5/, algorithm: 'DBSKMEANS', k: 2 });
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByRole('region', { name: 'Decryption approval' }).waitFor({ timeout: 120_000 });
    await page.reload();
    await page.locator('[data-testid="job-status"][data-status="interrupted"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('job-error').textContent()).toMatch(/Run again/);
    expect(await page.getByTestId('event-log').textContent()).toContain('INTERRUPTED');
    expect(new URL(page.url()).searchParams.get('id')).toBe(id);
    await page.getByRole('button', { name: 'Run again' }).first().click();
    await page.locator('[data-testid="job-status"]:not([data-status="interrupted"])').waitFor({ timeout: 30_000 });
    await approveUntilDone(page);
    expect(await status(page)).toBe('completed');
  });
});

describe('CKKS (PQC) jobs through the UI', () => {
  /** Storage objects the page uploaded (metadata POSTs), by ball id. */
  const uploadedBalls = (requests: { url: string; ball?: string }[]) =>
    [...new Set(requests.filter((r) => r.ball && r.url.endsWith('/metadata')).map((r) => r.ball!))].sort();

  it('DBSKMeans-PQC on blobs: a CKKS key set is created, rounds approved, centroids verified; only ciphertexts and public key objects leave', async () => {
    const { page } = app;
    if (!(await optionLabelOrNull(page, /blobs-100x5/))) await addDataset(page, 'blobs-100x5-k2.csv', 100, 5);
    await createJob(page, { dataset: /blobs-100x5/, algorithm: 'DBSKMEANS_PQC', k: 2 });
    expect(await page.getByTestId('leakage-profile').textContent()).toContain('no acknowledgement is needed');
    expect(await page.getByTestId('leakage-profile').textContent()).toContain('public key (cannot decrypt)');
    const audit = recordRequests(page);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await approveUntilDone(page, 240_000);
    const requests = await audit.stop();
    expect(await status(page)).toBe('completed');
    const result = await downloadResult(page);
    expect(result.labels).toHaveLength(100);
    expect(result.verification.ok).toBe(true);
    expect(requests.some((r) => r.url.endsWith('/clustering/pqc/dbskmeans'))).toBe(true);
    // D4: exactly the data ciphertexts, the FDHOPE objects and the public CKKS objects — no secret key.
    const balls = uploadedBalls(requests);
    const p = balls.find((b) => b.startsWith('encrypted'))!.slice('encrypted'.length);
    const c = balls.find((b) => b.endsWith('pubkey'))!.slice(0, -'pubkey'.length);
    expect(c).toMatch(/^ckks[0-9a-f]{32}$/);
    expect(balls).toEqual([`${c}ctx`, `${c}pubkey`, `${c}relinkey`, `${p}encryptedudm`, `${p}initsm`, `${p}shiftmatrixope`, `encrypted${p}`].sort());
    expect(auditFindings(requests, await datasetNeedles('blobs-100x5-k2.csv'))).toEqual([]);
    // The job created a CKKS key set, listed on the Keys page with this job as a user.
    await page.goto(`${app.url}/keys/`);
    await page.getByText('CKKS default-128 (created for a job)').first().waitFor();
  });

  it('DBSNNC-PQC on blobs: one call, no approval, no CKKS key objects sent, no dataset value in any request', async () => {
    const { page } = app;
    await createJob(page, { dataset: /blobs-100x5/, algorithm: 'DBSNNC_PQC', threshold: 0.5 });
    const audit = recordRequests(page);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.locator('[data-testid="job-status"][data-status="completed"]').waitFor({ timeout: 120_000 });
    const requests = await audit.stop();
    expect(requests.some((r) => r.url.endsWith('/clustering/pqc/dbsnnc'))).toBe(true);
    const balls = uploadedBalls(requests);
    expect(balls.some((b) => b.startsWith('ckks'))).toBe(false);
    expect(balls).toHaveLength(2);
    expect(auditFindings(requests, await datasetNeedles('blobs-100x5-k2.csv'))).toEqual([]);
  });

  it('SKNN-PQC on the classification split: acknowledgement, one approval, accuracy and confusion matrix shown', async () => {
    const { page } = app;
    for (const [file, rows] of [
      ['classification-train', 200],
      ['classification-test', 50],
    ] as const) {
      await addDataset(page, `${file}.csv`, rows, 5);
      await page.getByLabel('Attach labels file').setInputFiles(join(SHARED, 'datasets', `${file}.labels.csv`));
      await page.getByText(`Labels attached from ${file}.labels.csv.`).waitFor();
    }
    await createJob(page, { dataset: /classification-train/, algorithm: 'SKNN_PQC_PREDICT', testDataset: /classification-test/ });
    expect(await page.getByRole('button', { name: 'Run', exact: true }).isDisabled()).toBe(true);
    await page.getByRole('checkbox').check();
    const audit = recordRequests(page);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const clicks = await approveUntilDone(page, 240_000);
    const requests = await audit.stop();
    expect(await status(page)).toBe('completed');
    expect(clicks).toBe(1);
    expect(requests.some((r) => r.url.endsWith('/classification/pqc/sknn/predict'))).toBe(true);
    const result = (await downloadResult(page)) as unknown as { labels: number[]; accuracy: number };
    expect(result.labels).toHaveLength(50);
    expect(result.accuracy).toBeGreaterThan(0.8);
    await page.getByTestId('confusion').waitFor();
    // Test records leave only as CKKS ciphertexts: no test value appears in any request.
    expect(auditFindings(requests, await datasetNeedles('classification-test.csv'))).toEqual([]);
  });
});

async function optionLabelOrNull(page: Page, pattern: RegExp) {
  await page.goto(`${app.url}/jobs/`);
  await page.getByLabel(/^Dataset/).locator('option').first().waitFor({ state: 'attached', timeout: 10_000 }).catch(() => undefined);
  return (await optionLabel(page, /^Dataset/, pattern).catch(() => undefined)) ?? null;
}
