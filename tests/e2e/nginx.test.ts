/**
 * The app behind Debian's nginx with the repository's configuration (issue 16; deploy/README.md):
 * nginx serves out/ and proxies the local cloud (started as separate processes, as compose
 * runs it) under path prefixes of one origin. Checks the response headers (per-page CSP with
 * connect-src 'self' built by lib/security/csp.ts, anti-framing, nosniff, referrer, COOP,
 * caching, compression, body limits), the proxy's own guards (foreign origins, cross-site
 * fetches, unknown workers, the registration route, unknown Host names), then runs one
 * interactive Liu job (DBSKMeans, approvals clicked), one CKKS job (DBSKMeans-PQC: key objects
 * uploaded through the proxy) and one one-shot job (DBSNNC) through the UI, with zero CSP
 * violations (page events and nginx's report log) and no request leaving the nginx origin.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appSecurityHeaders, buildCsp, CSP_REPORT_PATH, pageHashes } from '@/lib/security/csp';
import { CHROMIUM_FLAGS, OUT_DIR, SHARED } from './harness';
import { startNginx, startServices, type NginxUnderTest, type Services } from './nginx-harness';

let services: Services;
let nginx: NginxUnderTest;
let context: BrowserContext;
let page: Page;
let dataDir: string;
let profile: string;
const violations: string[] = [];
/** How many of nginx's logged CSP reports were already checked. */
let reportsChecked = 0;
/** Every URL the browser requested (pages, Web Workers), from the context's network events. */
const requested: string[] = [];

const sha256 = (t: string) => createHash('sha256').update(t, 'utf8').digest('base64');

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'rory-nginx-cloud-'));
  services = await startServices(dataDir);
  nginx = await startNginx({ root: OUT_DIR, services });
  profile = await mkdtemp(join(tmpdir(), 'rory-nginx-e2e-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_FLAGS,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
  });
  context.on('request', (r) => requested.push(r.url()));
  await context.exposeBinding('__roryCspViolation', (_s, text: string) => void violations.push(text));
  await context.addInitScript(() => {
    window.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __roryCspViolation(t: string): void }).__roryCspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline code'} on ${e.documentURI}`);
    });
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('worker', (w) => w.on('close', () => undefined));
});

afterEach(async () => {
  // Reports travel asynchronously: give them a moment, then fail on any (page events or nginx's log).
  await new Promise((r) => setTimeout(r, 300));
  const reports = (await nginx.cspReports()).slice(reportsChecked);
  reportsChecked += reports.length;
  expect([...violations.splice(0), ...reports], 'Content-Security-Policy violations').toEqual([]);
});

afterAll(async () => {
  await context?.close();
  await nginx?.close();
  await services?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function htmlPages(dir = OUT_DIR): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await htmlPages(p)));
    else if (e.name.endsWith('.html')) out.push(`/${relative(OUT_DIR, p).split(sep).join('/')}`);
  }
  return out;
}

describe('nginx in front of the app and the cloud', () => {
  it('serves every page with its own CSP (connect-src self only) and the security headers of server/static.ts', async () => {
    const pages = await htmlPages();
    expect(pages).toContain('/index.html');
    for (const path of pages) {
      const html = await readFile(join(OUT_DIR, path), 'utf8');
      const expected = buildCsp({ connectSrc: [], reportUri: CSP_REPORT_PATH, ...pageHashes(html, sha256) }, 'header');
      const urls = path === '/index.html' ? ['/', '/index.html'] : path.endsWith('/index.html') ? [path.slice(0, -'index.html'.length), path] : [path];
      for (const u of urls) {
        const res = await fetch(`${nginx.url}${u}`);
        await res.arrayBuffer();
        expect([200, 404], u).toContain(res.status);
        for (const [name, value] of Object.entries(appSecurityHeaders(expected))) expect(res.headers.get(name), `${name} of ${u}`).toBe(value);
        expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(res.headers.get('cache-control'), u).toBe('no-cache');
      }
    }
    const csp = (await fetch(`${nginx.url}/jobs/`)).headers.get('content-security-policy')!;
    expect(csp).toContain("connect-src 'self';");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/'unsafe-inline'|'unsafe-eval'/);
  });

  it('caches hashed assets for a year, never config.json, and compresses text', async () => {
    const chunks = await readdir(join(OUT_DIR, '_next', 'static', 'chunks'));
    const js = chunks.find((f) => f.endsWith('.js'))!;
    const asset = await fetch(`${nginx.url}/_next/static/chunks/${js}`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('x-content-type-options')).toBe('nosniff');
    expect(asset.headers.get('content-security-policy')).toBe(buildCsp({ connectSrc: [], reportUri: CSP_REPORT_PATH }, 'header'));
    // Node's fetch decompresses: the body must equal the file byte for byte.
    expect(Buffer.from(await asset.arrayBuffer()).equals(await readFile(join(OUT_DIR, '_next', 'static', 'chunks', js)))).toBe(true);
    const big = chunks.filter((f) => f.endsWith('.js')).sort()[0];
    const gz = await fetch(`${nginx.url}/_next/static/chunks/${big}`, { headers: { 'Accept-Encoding': 'gzip' } });
    await gz.arrayBuffer();
    if (Number((await readFile(join(OUT_DIR, '_next', 'static', 'chunks', big))).length) >= 1024) expect(gz.headers.get('content-encoding')).toBe('gzip');
    if (existsSync('/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so')) {
      const br = await fetch(`${nginx.url}/index.html`, { headers: { 'Accept-Encoding': 'br' } });
      await br.arrayBuffer();
      expect(br.headers.get('content-encoding')).toBe('br');
    }

    const cfg = await fetch(`${nginx.url}/config.json`);
    expect(cfg.headers.get('cache-control')).toBe('no-store');
    const text = await cfg.text();
    const settings = (JSON.parse(text) as { settings: Record<string, unknown> }).settings;
    expect(settings).toMatchObject({
      RORY_MANAGER_URL: '/rory/manager',
      RORY_WORKER_URL_TEMPLATE: '/rory/workers/{worker_id}/{worker_port}',
      MICTLANX_ROUTER_URLS: 'mictlanx-router-0=/mictlanx/mictlanx-router-0',
    });
    // The registration token is a secret of the cloud: never in what the browser gets.
    expect(text).not.toContain(services.registrationToken);
    expect((await readdir(nginx.confDir)).length).toBeGreaterThan(0);
    for (const f of await readdir(nginx.confDir)) expect(await readFile(join(nginx.confDir, f), 'utf8'), f).not.toContain(services.registrationToken);
  });

  it('proxies only what the browser needs, only for this site, with the cloud’s headers', async () => {
    const u = nginx.url;
    const test = await fetch(`${u}/rory/manager/clustering/test`);
    expect(await test.json()).toEqual({ component_type: 'manager' });
    expect(test.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'; sandbox");
    expect(test.headers.get('x-content-type-options')).toBe('nosniff');
    expect(test.headers.get('cache-control')).toBe('no-store');
    expect(test.headers.get('access-control-allow-origin')).toBeNull();
    const secure = (await (await fetch(`${u}/rory/manager/clustering/secure`, { headers: { Algorithm: 'DBSNNC' } })).json()) as { worker_id: string; worker_port: number };
    expect(secure.worker_id).toMatch(/^rory-worker-[01]$/);
    const worker = await fetch(`${u}/rory/workers/${secure.worker_id}/${secure.worker_port}/clustering/test`, { method: 'POST', headers: { Origin: u } });
    expect(worker.status).toBe(200);
    expect(await worker.json()).toMatchObject({ component_type: 'worker' });
    expect((await fetch(`${u}/mictlanx/mictlanx-router-0/api/v4/peers/stats`)).status).toBe(200);

    const status = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(`${u}${path}`, init);
      await res.arrayBuffer();
      return res.status;
    };
    // A foreign page (Origin) or a cross-site fetch gets nothing, with or without a preflight.
    expect(await status('/rory/manager/clustering/secure', { headers: { Origin: 'https://evil.example' } })).toBe(403);
    expect(await status(`/rory/workers/${secure.worker_id}/${secure.worker_port}/clustering/test`, { method: 'POST', headers: { Origin: 'https://evil.example' } })).toBe(403);
    expect(await status('/mictlanx/mictlanx-router-0/api/v4/buckets/rory/metadata', { headers: { 'Sec-Fetch-Site': 'cross-site' } })).toBe(403);
    expect(await status('/mictlanx/mictlanx-router-0/api/v4/buckets/rory/bid/x', { method: 'OPTIONS', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'DELETE' } })).toBe(403);
    // Registration stays on the deployment network; the Manager answers only GET.
    expect(await status('/rory/manager/workers/started', { method: 'POST' })).toBe(404);
    expect(await status('/rory/manager/workers')).toBe(404);
    expect(await status('/rory/manager/clustering/secure', { method: 'POST' })).toBe(403);
    // No open proxy: only worker ids of the configured pattern, only worker routes.
    expect(await status(`/rory/workers/evil.example/${secure.worker_port}/clustering/test`)).toBe(404);
    expect(await status(`/rory/workers/${secure.worker_id}/${secure.worker_port}/workers`)).toBe(404);
    expect(await status('/mictlanx/other-router/api/v4/peers/stats')).toBe(404);
    expect(await status('/mictlanx/mictlanx-router-0/docs')).toBe(404);
    // DNS rebinding: a Host name that is not configured is refused.
    const rebinding = await new Promise<number>((resolve, reject) => {
      import('node:http').then(({ request }) => {
        const req = request(`${u}/`, { headers: { Host: 'evil.example' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      }, reject);
    });
    expect(rebinding).toBe(421);
    // Body limits: metadata over 1 MiB is refused by nginx before the router sees it.
    expect(await status('/mictlanx/mictlanx-router-0/api/v4/buckets/rory/metadata', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: 'x'.repeat(1024 * 1024 + 1) })).toBe(413);
  });
});

// ---------------------------------------------------------------------------------------------
// Jobs through the UI, all on the nginx origin.

async function addDataset(file: string, rows: number, cols: number) {
  await page.goto(`${nginx.url}/datasets/`);
  await page.getByLabel('Add dataset file').setInputFiles(join(SHARED, 'datasets', file));
  await page.getByText(`${rows} × ${cols}`).first().waitFor({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Save dataset' }).click();
  await page.waitForURL(/\/datasets\/\?id=ds/);
}

async function createJob(opts: { dataset: RegExp; algorithm: string; k?: number; threshold?: number }) {
  await page.goto(`${nginx.url}/jobs/`);
  const select = page.getByLabel(/^Dataset/);
  await select.locator('option').first().waitFor({ state: 'attached' });
  const label = (await select.locator('option').allTextContents()).find((l) => opts.dataset.test(l));
  await select.selectOption({ label: label! });
  await page.getByLabel('Algorithm').selectOption(opts.algorithm);
  if (opts.k !== undefined) await page.getByLabel('Clusters (k)').fill(String(opts.k));
  if (opts.threshold !== undefined) await page.getByLabel(/^Threshold/).fill(String(opts.threshold));
  await page.getByRole('button', { name: 'Create job' }).click();
  await page.getByRole('button', { name: 'Run', exact: true }).waitFor();
}

const jobStatus = () => page.getByTestId('job-status').getAttribute('data-status');

async function runToCompletion(timeoutMs: number): Promise<number> {
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const deadline = Date.now() + timeoutMs;
  let clicks = 0;
  for (;;) {
    const s = await jobStatus();
    if (s && !['running', 'awaiting-approval', 'draft'].includes(s)) break;
    if (Date.now() > deadline) throw new Error(`job still ${s} after ${timeoutMs} ms\n${await nginx.errorLog()}`);
    const approve = page.getByRole('region', { name: 'Decryption approval' }).getByRole('button', { name: 'Approve', exact: true });
    if (await approve.isVisible().catch(() => false)) {
      if (await approve.click({ timeout: 2_000 }).then(() => true, () => false)) clicks++;
    } else await page.waitForTimeout(100);
  }
  const final = await jobStatus();
  if (final !== 'completed') throw new Error(`job ended ${final}: ${await page.getByTestId('job-error').textContent().catch(() => '')}`);
  return clicks;
}

async function downloadResult(): Promise<{ labels: number[]; verification?: { ok: boolean } }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON' }).click()]);
  return JSON.parse(Buffer.concat(await (await download.createReadStream()).toArray()).toString('utf8'));
}

/** Requests made since `from`, that did not go to the nginx origin. */
const offOrigin = (from: number) => requested.slice(from).filter((u) => !u.startsWith(`${nginx.url}/`) && !u.startsWith('data:') && !u.startsWith('blob:'));

describe('jobs through nginx', () => {
  it('the violation detector works: a blocked connection shows as a page event and in nginx\'s report log', async () => {
    await page.goto(`${nginx.url}/status/`);
    await page.evaluate(() => fetch('https://rory-cloud.invalid/x').catch(() => undefined));
    // The report (POST to nginx) and the page event (a binding call) arrive independently: wait for both.
    const deadline = Date.now() + 10_000;
    let reports: unknown[] = [];
    while (Date.now() < deadline) {
      reports = (await nginx.cspReports()).slice(reportsChecked);
      if (reports.length > 0 && violations.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(JSON.stringify(reports)).toContain('rory-cloud.invalid');
    expect(JSON.stringify(reports)).toContain('connect-src');
    expect(violations.join('\n')).toContain('connect-src blocked https://rory-cloud.invalid/x');
    violations.splice(0);
    reportsChecked += reports.length;
  });

  it('the Status page shows the proxied addresses, all reachable', async () => {
    await page.goto(`${nginx.url}/status/`);
    const manager = page.getByTestId('status-manager');
    await manager.locator('[data-state="ok"]').waitFor({ timeout: 30_000 });
    expect(await manager.textContent()).toContain(`${nginx.url}/rory/manager`);
    expect(await manager.getByTestId('via-proxy').textContent()).toContain(`${new URL(services.managerUrl).hostname}:${new URL(services.managerUrl).port}`);
    const router = page.getByTestId('status-router-mictlanx-router-0');
    await router.locator('[data-state="ok"]').waitFor({ timeout: 30_000 });
    expect(await router.textContent()).toContain(`${nginx.url}/mictlanx/mictlanx-router-0`);
    expect(await page.getByTestId('status-workers').textContent()).toContain(`${nginx.url}/rory/workers/{worker_id}/{worker_port}`);
  });

  it('DBSKMeans (interactive, Liu): every round approved, completes and verifies; no request leaves the origin', async () => {
    const from = requested.length;
    await addDataset('blobs-100x5-k2.csv', 100, 5);
    await createJob({ dataset: /blobs-100x5/, algorithm: 'DBSKMEANS', k: 2 });
    const clicks = await runToCompletion(180_000);
    expect(clicks).toBeGreaterThanOrEqual(1);
    const result = await downloadResult();
    expect(result.labels).toHaveLength(100);
    expect(result.verification?.ok).toBe(true);
    const seen = requested.slice(from);
    expect(seen.some((x) => x.startsWith(`${nginx.url}/rory/manager/clustering/secure`))).toBe(true);
    expect(seen.some((x) => /\/rory\/workers\/rory-worker-[01]\/\d+\/clustering\/dbskmeans$/.test(x))).toBe(true);
    expect(seen.some((x) => x.startsWith(`${nginx.url}/mictlanx/mictlanx-router-0/api/v4/buckets/data/`))).toBe(true);
    expect(offOrigin(from)).toEqual([]);
  });

  it('DBSKMeans-PQC (CKKS): key objects and ciphertexts uploaded through the proxy, rounds approved, completes', async () => {
    const from = requested.length;
    await createJob({ dataset: /blobs-100x5/, algorithm: 'DBSKMEANS_PQC', k: 2 });
    await runToCompletion(280_000);
    const result = await downloadResult();
    expect(result.labels).toHaveLength(100);
    expect(result.verification?.ok).toBe(true);
    expect(requested.slice(from).some((x) => x.endsWith('/clustering/pqc/dbskmeans'))).toBe(true);
    expect(offOrigin(from)).toEqual([]);
  });

  it('DBSNNC (one call): completes with clusters shown; no request leaves the origin', async () => {
    const from = requested.length;
    await createJob({ dataset: /blobs-100x5/, algorithm: 'DBSNNC', threshold: 0.5 });
    await runToCompletion(120_000);
    expect(await page.getByTestId('result-clusters').textContent()).toMatch(/^\d+$/);
    expect(requested.slice(from).some((x) => x.endsWith('/clustering/dbsnnc'))).toBe(true);
    expect(offOrigin(from)).toEqual([]);
    // Over the whole suite too: every request the browser made went to the nginx origin.
    expect(offOrigin(0)).toEqual([]);
    expect(requested.length).toBeGreaterThan(50);
  });
});
