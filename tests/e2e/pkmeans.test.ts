/**
 * Private k-means through the UI in Chromium against the real local cloud (two workers): the
 * default algorithm of the jobs form; labels and iteration counts equal
 * ../shared/vectors/lloyd-reference.json on iris, blobs-100x5-k2 and blobs-1000x8-k4; one approval
 * per round (or "Approve all"); results with centroids in the user's units; and a network audit:
 * only CKKS ciphertexts and public key objects leave the browser — no dataset value, no label
 * vector, no centroid in any request.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '@/server/cloud';
import { SHARED, startApp, type AppUnderTest } from './harness';
import { addDataset, approveUntilDone, auditFindings, createJob, datasetNeedles, downloadResult, recordRequests, status, useApp } from './job-helpers';

interface LloydRun {
  readonly dataset: string;
  readonly k: number;
  readonly iterations: number;
  readonly labels: number[];
  readonly centroids: number[][];
}

let cloud: LocalCloud;
let app: AppUnderTest;
let dataDir: string;
let lloyd: Record<string, LloydRun>;

beforeAll(async () => {
  lloyd = JSON.parse(await readFile(join(SHARED, 'vectors', 'lloyd-reference.json'), 'utf8'));
  dataDir = await mkdtemp(join(tmpdir(), 'rory-e2e-pk-'));
  cloud = await startLocalCloud({ dataDir, workerPorts: [0, 0] });
  const router = new URL(cloud.routerUrl);
  const manager = new URL(cloud.managerUrl);
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

/** Bytes that must never leave: the float64 of every value of `values`. */
function float64Needles(values: readonly number[]): ReturnType<typeof Buffer.alloc>[] {
  return values.map((v) => {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    return b;
  });
}

describe('private k-means through the UI', () => {
  it('is the default, recommended algorithm of the jobs form, with nothing to acknowledge', async () => {
    const { page } = app;
    await addDataset(page, 'blobs-100x5-k2.csv', 100, 5);
    await page.goto(`${app.url}/jobs/`);
    const select = page.getByLabel('Algorithm');
    await select.locator('option').first().waitFor({ state: 'attached' });
    expect(await select.inputValue()).toBe('PKMEANS');
    expect(await select.locator('option').first().textContent()).toMatch(/Private k-means.*recommended/);
    expect(await page.getByTestId('leakage-profile').textContent()).toContain('no acknowledgement is needed');
  });

  for (const [key, file, rows, cols, approveAll] of [
    ['blobs100', 'blobs-100x5-k2.csv', 100, 5, false],
    ['iris', 'iris.csv', 150, 4, true],
    ['blobs1000', 'blobs-1000x8-k4.csv', 1000, 8, true],
  ] as const) {
    it(`${file}: labels and iterations equal the Lloyd reference; only ciphertexts and public keys leave`, async () => {
      const ref = lloyd[key];
      const { page } = app;
      if (key !== 'blobs100') await addDataset(page, file, rows, cols);
      await createJob(page, { dataset: new RegExp(file.replace('.csv', '').replace(/[-.]/g, '.')), algorithm: 'PKMEANS', k: ref.k, maxIterations: 20 });
      const audit = recordRequests(page);
      await page.getByRole('button', { name: 'Run', exact: true }).click();
      let clicks: number;
      if (approveAll) {
        const all = page.getByRole('region', { name: 'Decryption approval' }).getByRole('button', { name: 'Approve all' });
        await all.waitFor({ timeout: 120_000 });
        await all.click();
        clicks = await approveUntilDone(page, 240_000);
      } else {
        clicks = await approveUntilDone(page, 240_000);
        expect(clicks).toBe(ref.iterations + 1);
      }
      const requests = await audit.stop();
      expect(await status(page)).toBe('completed');
      expect(clicks).toBeLessThanOrEqual(ref.iterations + 1);
      const result = await downloadResult(page);
      expect(result.labels).toEqual(ref.labels);
      expect(result.iterations).toBe(ref.iterations);
      expect(result.verification.ok).toBe(true);
      const centroids = (result as unknown as { centroids: { shape: number[]; data: number[] } }).centroids;
      expect(centroids.shape).toEqual([ref.k, cols]);
      centroids.data.forEach((v, i) => expect(Math.abs(v - ref.centroids.flat()[i])).toBeLessThan(1e-9 * Math.max(1, Math.abs(v))));
      // Results in the user's terms: sizes, centroids table, scatter.
      await page.getByText('Cluster sizes').first().waitFor();

      // Audit: what was uploaded is exactly the packed dataset, the masks and the public key objects.
      const balls = new Set(requests.filter((r) => r.ball && r.url.endsWith('/metadata')).map((r) => r.ball!));
      const p = [...balls].find((b) => b.startsWith('encrypted'))!.slice('encrypted'.length);
      const allowed = (b: string) => b === `encrypted${p}` || /^.+masksw\d+$/.test(b) || /^ckks[0-9a-f]{32}(ctx|pubkey|relinkey|rotatekey)$/.test(b);
      expect([...balls].filter((b) => !allowed(b))).toEqual([]);
      expect(requests.filter((r) => r.url.includes('/chunked')).every((r) => r.ball && r.ball !== '(unknown upload)' && r.body.length > 0)).toBe(true);
      // No dataset value, no centroid, no label vector in any request (URLs, headers, bodies).
      const needles = await datasetNeedles(file);
      needles.f64.push(...float64Needles(centroids.data));
      // Public key objects are made from randomness alone, before any record is read (their
      // coefficients can coincide with a float64 such as 1.0, a value iris contains): not data.
      const isKey = (b?: string) => !!b && /^ckks[0-9a-f]{32}(ctx|pubkey|relinkey|rotatekey)$/.test(b);
      expect(auditFindings(requests, needles).filter((f) => !isKey(f.ball))).toEqual([]);
      const labelText = JSON.stringify(ref.labels.slice(0, 30)).slice(1, -1);
      expect(requests.filter((r) => r.body.toString('latin1').includes(labelText) || r.url.includes(labelText))).toEqual([]);
      // The secret key never leaves: only public key objects were uploaded (names checked above).
      expect(requests.some((r) => /secret/i.test(r.url) || /secretkey/i.test(r.body.toString('latin1').slice(0, 2000)))).toBe(false);
    });
  }
});
