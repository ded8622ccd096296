/**
 * Jobs end to end in Chromium against the real local Rory cloud on loopback: add a dataset through
 * the UI, create and run SKMeans / DBSKMeans / DBSNNC jobs and their CKKS (PQC) variants and
 * SKNN-PQC, click every approval, deny one, reload mid-run, and audit every request the page makes
 * for plaintext (D3) and for what reaches the worker (D4: only the public CKKS objects).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page, Request, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '@/server/cloud';
import { kmeansReference } from '../helpers/datasets';
import { SHARED, startApp, type AppUnderTest } from './harness';

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
});

afterAll(async () => {
  await app?.close();
  await cloud?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function addDataset(page: Page, file: string, rows: number, cols: number) {
  await page.goto(`${app.url}/datasets/`);
  await page.getByLabel('Add dataset file').setInputFiles(join(SHARED, 'datasets', file));
  await page.getByText(`${rows} × ${cols}`).first().waitFor({ timeout: 30_000 });
  // Adding is two steps: review, then save (nothing is stored before).
  await page.getByRole('button', { name: 'Save dataset' }).click();
  await page.waitForURL(/\/datasets\/\?id=ds/);
}

async function createJob(
  page: Page,
  opts: { dataset: RegExp; algorithm: string; k?: number; maxIterations?: number; threshold?: number; testDataset?: RegExp },
) {
  await page.goto(`${app.url}/jobs/`);
  await page.getByLabel(/^Dataset/).locator('option').first().waitFor({ state: 'attached' });
  await page.getByLabel(/^Dataset/).selectOption({ label: (await optionLabel(page, /^Dataset/, opts.dataset))! });
  await page.getByLabel('Algorithm').selectOption(opts.algorithm);
  if (opts.testDataset) await page.getByLabel(/^Test dataset/).selectOption({ label: (await optionLabel(page, /^Test dataset/, opts.testDataset))! });
  if (opts.k !== undefined) await page.getByLabel('Clusters (k)').fill(String(opts.k));
  if (opts.threshold !== undefined) await page.getByLabel(/^Threshold/).fill(String(opts.threshold));
  if (opts.maxIterations) await page.getByLabel('Max iterations').fill(String(opts.maxIterations));
  await page.getByRole('button', { name: 'Create job' }).click();
  await page.getByRole('button', { name: 'Run', exact: true }).waitFor();
  return new URL(page.url()).searchParams.get('id')!;
}

async function optionLabel(page: Page, select: RegExp, pattern: RegExp) {
  const labels = await page.getByLabel(select).locator('option').allTextContents();
  return labels.find((l) => pattern.test(l));
}

async function status(page: Page) {
  return page.getByTestId('job-status').getAttribute('data-status');
}

/** Clicks "Approve" on every approval card until the job leaves the running states. */
async function approveUntilDone(page: Page, timeoutMs = 120_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let clicks = 0;
  for (;;) {
    const s = await status(page);
    if (s && !['running', 'awaiting-approval', 'draft'].includes(s)) return clicks;
    if (Date.now() > deadline) {
      await page.screenshot({ path: '/tmp/jobs-timeout.png', fullPage: true }).catch(() => undefined);
      throw new Error(`job still ${s} after ${timeoutMs} ms`);
    }
    const approve = page.getByRole('region', { name: 'Decryption approval' }).getByRole('button', { name: 'Approve', exact: true });
    if (await approve.isVisible().catch(() => false)) {
      expect(await page.getByTestId('approval-explanation').textContent({ timeout: 2_000 }).catch(() => 'gone')).toMatch(/\w+/);
      // The card re-renders as the job record updates; a click that loses the race is retried.
      if (await approve.click({ timeout: 2_000 }).then(() => true, () => false)) clicks++;
    } else await page.waitForTimeout(100);
  }
}

async function downloadResult(page: Page): Promise<{ labels: number[]; iterations: number; verification: { ok: boolean } }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON' }).click()]);
  const chunks = await (await download.createReadStream()).toArray();
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Every request the page sends, with its body and (for storage uploads) the object it belongs to.
 * The task id of each metadata answer is read through a route handler (Chromium's DevTools may drop
 * response bodies of streamed reads, so `response.json()` is not reliable).
 */
function recordRequests(page: Page) {
  type Seen = { url: string; headers: Record<string, string>; body: Buffer; ball?: string };
  const seen: Seen[] = [];
  const ballOfTask = new Map<string, string>();
  const onRequest = (r: Request) => {
    const entry: Seen = { url: r.url(), headers: r.headers(), body: r.postDataBuffer() ?? Buffer.alloc(0) };
    seen.push(entry);
    if (r.method() === 'POST' && METADATA.test(entry.url)) entry.ball = JSON.parse(entry.body.toString('utf8')).ball_id as string;
  };
  const METADATA = /\/api\/v4\/buckets\/[^/]+\/metadata$/;
  const onMetadata = async (route: Route) => {
    const req = route.request();
    if (req.method() !== 'POST') return route.continue();
    const res = await route.fetch();
    const text = await res.text();
    if (res.ok()) {
      const ball = JSON.parse(req.postDataBuffer()?.toString('utf8') ?? '{}').ball_id as string;
      const task = (JSON.parse(text) as { tasks_ids?: string[] }).tasks_ids?.[0];
      if (task) ballOfTask.set(task, ball);
    }
    await route.fulfill({ response: res, body: text });
  };
  page.on('request', onRequest);
  const routed = page.route(METADATA, onMetadata);
  return {
    seen,
    async stop() {
      await routed;
      page.off('request', onRequest);
      await page.unroute(METADATA, onMetadata);
      for (const e of seen) {
        const m = /\/buckets\/data\/([^/]+)\/chunked$/.exec(e.url);
        if (m) e.ball = ballOfTask.get(m[1]) ?? '(unknown upload)';
      }
      return seen;
    },
  };
}

async function datasetNeedles(file: string) {
  const text = await readFile(join(SHARED, 'datasets', file), 'utf8');
  const tokens = text.split(/[\n,]/).filter((t) => t.trim() !== '');
  const f64 = tokens.map((t) => {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(Number(t));
    return b;
  });
  return { tokens, f64 };
}

const BROWSER_HEADERS = new Set(['user-agent', 'accept', 'accept-language', 'accept-encoding', 'referer', 'origin', 'connection', 'host', 'cache-control', 'pragma']);

/**
 * Where the dataset's values appear in the page's requests. Requests to the app's own origin are
 * static-file GETs without bodies: only their URLs are checked. Binary bodies are checked for the
 * values' float64 bytes; URLs, headers and text bodies also for their decimal text.
 */
function auditFindings(requests: { url: string; headers: Record<string, string>; body: Buffer; ball?: string }[], needles: { tokens: string[]; f64: Buffer[] }) {
  const findings: { where: string; ball?: string }[] = [];
  for (const r of requests) {
    const own = r.url.startsWith(app.url);
    const binary = (r.headers['content-type'] ?? '').includes('octet-stream');
    const u = new URL(r.url);
    const target = u.pathname + u.search; // the host (127.0.0.1) is not data
    // Headers the browser itself sets (User-Agent says "Mozilla/5.0 … Chrome/156.0…") carry no data.
    const appHeaders = Object.entries(r.headers).filter(([h]) => !BROWSER_HEADERS.has(h) && !h.startsWith('sec-'));
    const text = own ? target : `${target}\n${JSON.stringify(appHeaders)}\n${binary ? '' : r.body.toString('utf8')}`;
    // Whole numeric literals only: "3.8" must not match inside a timestamp like 1763940923.8123.
    const literals = new Set(text.match(/(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])/gi) ?? []);
    for (const t of needles.tokens) if (literals.has(t)) findings.push({ where: `decimal ${t} in ${r.url}`, ball: r.ball });
    if (!own) for (const b of needles.f64) if (r.body.includes(b)) findings.push({ where: `float64 bytes in ${r.url}`, ball: r.ball });
  }
  return findings;
}

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
    expect(requests.filter((r) => r.url.includes('/chunked')).every((r) => r.ball && r.ball !== '(unknown upload)')).toBe(true);
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
