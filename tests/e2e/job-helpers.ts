/**
 * Shared steps of the jobs e2e suites: add a dataset, create a job through the form, click the
 * approvals, download the JSON result, record every request and audit it for dataset values.
 * `useApp(app)` points the helpers at the app under test.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page, Request, Route } from 'playwright-core';
import { expect } from 'vitest';
import { SHARED, type AppUnderTest } from './harness';

let app: AppUnderTest;

export function useApp(a: AppUnderTest): void {
  app = a;
}

export async function addDataset(page: Page, file: string, rows: number, cols: number) {
  await page.goto(`${app.url}/datasets/`);
  await page.getByLabel('Add dataset file').setInputFiles(join(SHARED, 'datasets', file));
  await page.getByText(`${rows} × ${cols}`).first().waitFor({ timeout: 30_000 });
  // Adding is two steps: review, then save (nothing is stored before).
  await page.getByRole('button', { name: 'Save dataset' }).click();
  await page.waitForURL(/\/datasets\/\?id=ds/);
}

export async function createJob(
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

export async function optionLabel(page: Page, select: RegExp, pattern: RegExp) {
  const labels = await page.getByLabel(select).locator('option').allTextContents();
  return labels.find((l) => pattern.test(l));
}

export async function status(page: Page) {
  return page.getByTestId('job-status').getAttribute('data-status');
}

/** Clicks "Approve" on every approval card until the job leaves the running states. */
export async function approveUntilDone(page: Page, timeoutMs = 120_000): Promise<number> {
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

export async function downloadResult(page: Page): Promise<{ labels: number[]; iterations: number; verification: { ok: boolean } }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON' }).click()]);
  const chunks = await (await download.createReadStream()).toArray();
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Every request the page sends, with its body and (for storage uploads) the object it belongs to.
 * The task id of each metadata answer is read through a route handler (Chromium's DevTools may drop
 * response bodies of streamed reads, so `response.json()` is not reliable).
 * The app sends chunk bodies as Blobs, which DevTools does not show (`postDataBuffer()` is null):
 * each such body is read back from the router it went to (`GET /buckets/{bucket}/{key}`) as soon as
 * its upload finishes (before a later round could replace the key), so the audit sees exactly the
 * bytes that left. A chunk that cannot be read back fails the audit.
 */
export function recordRequests(page: Page) {
  type Seen = { url: string; headers: Record<string, string>; body: Buffer; ball?: string };
  const seen: Seen[] = [];
  const ballOfTask = new Map<string, string>();
  const chunkOfTask = new Map<string, { bucket: string; key: string; size: number }>();
  const entries = new Map<Request, Seen>();
  const onRequest = (r: Request) => {
    const entry: Seen = { url: r.url(), headers: r.headers(), body: r.postDataBuffer() ?? Buffer.alloc(0) };
    seen.push(entry);
    entries.set(r, entry);
    if (r.method() === 'POST' && METADATA.test(entry.url)) entry.ball = JSON.parse(entry.body.toString('utf8')).ball_id as string;
  };
  const METADATA = /\/api\/v4\/buckets\/[^/]+\/metadata$/;
  const onMetadata = async (route: Route) => {
    const req = route.request();
    if (req.method() !== 'POST') return route.continue();
    const res = await route.fetch();
    const text = await res.text();
    if (res.ok()) {
      const meta = JSON.parse(req.postDataBuffer()?.toString('utf8') ?? '{}') as { ball_id: string; bucket_id: string; key: string; size: number };
      const task = (JSON.parse(text) as { tasks_ids?: string[] }).tasks_ids?.[0];
      if (task) {
        ballOfTask.set(task, meta.ball_id);
        chunkOfTask.set(task, { bucket: meta.bucket_id, key: meta.key, size: meta.size });
      }
    }
    await route.fulfill({ response: res, body: text });
  };
  const readBacks: Promise<void>[] = [];
  const onFinished = (r: Request) => {
    const m = /\/buckets\/data\/([^/]+)\/chunked$/.exec(r.url());
    const entry = entries.get(r);
    const chunk = m ? chunkOfTask.get(m[1]!) : undefined;
    if (!entry || !chunk || entry.body.length > 0) return;
    readBacks.push(
      (async () => {
        const res = await fetch(`${new URL(entry.url).origin}/api/v4/buckets/${encodeURIComponent(chunk.bucket)}/${encodeURIComponent(chunk.key)}`);
        entry.body = Buffer.from(await res.arrayBuffer());
        if (!res.ok || entry.body.length !== chunk.size) throw new Error(`chunk ${chunk.key}: read back ${entry.body.length} of ${chunk.size} bytes (HTTP ${res.status})`);
      })(),
    );
  };
  page.on('request', onRequest);
  page.on('requestfinished', onFinished);
  const routed = page.route(METADATA, onMetadata);
  return {
    seen,
    async stop() {
      await routed;
      page.off('request', onRequest);
      page.off('requestfinished', onFinished);
      await Promise.all(readBacks);
      await page.unroute(METADATA, onMetadata);
      for (const e of seen) {
        const m = /\/buckets\/data\/([^/]+)\/chunked$/.exec(e.url);
        if (m) e.ball = ballOfTask.get(m[1]) ?? '(unknown upload)';
      }
      return seen;
    },
  };
}

export async function datasetNeedles(file: string) {
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
export function auditFindings(requests: { url: string; headers: Record<string, string>; body: Buffer; ball?: string }[], needles: { tokens: string[]; f64: Buffer[] }) {
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

