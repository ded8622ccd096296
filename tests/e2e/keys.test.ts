/**
 * Keys page end to end, in Chromium through the real crypto Web Workers (webpack worker chunk,
 * node-seal WASM): generate Liu and CKKS keys, reload, self-test, keep ciphertexts made before a
 * backup, delete (the dialog names what becomes undecryptable), refuse a wrong passphrase and a
 * foreign file, restore from the backup and decrypt the old ciphertexts; and a behaviour test that
 * encrypting 200 000 Liu scalars through the worker pool causes no long task on the main thread.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type AppUnderTest } from './harness';

let app: AppUnderTest;
let dir: string;
const PASS = 'violet kettle harbour 1987 lantern';

beforeAll(async () => {
  app = await startApp();
  dir = await mkdtemp(join(tmpdir(), 'rory-keys-e2e-'));
});
afterAll(async () => {
  await app?.close();
});

const row = (page: Page, label: string) => page.getByTestId('key-row').filter({ has: page.getByText(label, { exact: true }) });

async function openKeys(page: Page): Promise<void> {
  await page.goto(`${app.url}/keys/`);
  await page.getByRole('heading', { level: 1, name: 'Keys' }).waitFor();
  await page.getByText(/No keys yet|Keys in this browser/).first().waitFor();
}

async function generateLiu(page: Page, label: string): Promise<void> {
  await page.getByLabel('Liu key label').fill(label);
  await page.getByRole('button', { name: 'Generate Liu key (legacy)' }).click();
  await page.getByText(`Generated Liu key “${label}”.`).waitFor();
}

async function selfTest(page: Page, label: string, timeout = 60_000): Promise<string> {
  await page.getByRole('button', { name: `Test ${label}` }).click();
  const result = row(page, label).getByTestId('self-test-result');
  await result.waitFor({ timeout });
  expect(await result.getAttribute('data-ok')).toBe('true');
  return (await result.textContent()) ?? '';
}

async function sampleEncrypt(page: Page, label: string, values: string): Promise<string> {
  await page.getByRole('button', { name: `Try ${label}` }).click();
  await page.getByRole('heading', { name: new RegExp(`Try .* key “${label}”`) }).waitFor();
  await page.getByLabel('Values to encrypt').fill(values);
  const ct = page.getByLabel('Ciphertext', { exact: true });
  await ct.fill('');
  await page.getByRole('button', { name: 'Encrypt', exact: true }).click();
  await expect.poll(async () => (await ct.inputValue()) || (await errorText(page)), { timeout: 30_000 }).not.toBe('');
  expect(await errorText(page)).toBe('');
  return ct.inputValue();
}

/** The error notice's text, or '' (so a failed step reports the app's message instead of timing out). */
async function errorText(page: Page): Promise<string> {
  const alert = page.getByRole('alert');
  return (await alert.count()) > 0 ? ((await alert.first().textContent()) ?? '') : '';
}

async function sampleDecrypt(page: Page, label: string, ciphertext: string): Promise<number[]> {
  await page.getByRole('button', { name: `Try ${label}` }).click();
  await page.getByRole('heading', { name: new RegExp(`Try .* key “${label}”`) }).waitFor();
  await page.getByLabel('Ciphertext', { exact: true }).fill(ciphertext);
  await page.getByRole('button', { name: 'Decrypt', exact: true }).click();
  const out = page.getByTestId('sample-decrypted');
  await out.waitFor({ timeout: 30_000 });
  return ((await out.textContent()) ?? '').split(',').map((s) => Number(s.trim()));
}

/** Simulates a job that used the key: records are metadata-only in IndexedDB, so a test can add usage directly. */
async function markUsedBy(page: Page, keyId: string, usage: { kind: 'job' | 'dataset'; id: string; label: string }): Promise<void> {
  await page.evaluate(
    ([id, u]) =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('rory-keys');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction('keys', 'readwrite');
          const store = tx.objectStore('keys');
          const get = store.get(`rec:${id}`);
          get.onsuccess = () => store.put({ ...get.result, usedBy: [u] }, `rec:${id}`);
          tx.oncomplete = () => {
            open.result.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
    [keyId, usage] as const,
  );
}

describe('keys page', () => {
  it('generates Liu and CKKS keys that survive a reload and pass their self-test in the worker', async () => {
    const { page } = app;
    await openKeys(page);
    expect(await page.getByTestId('liu-legacy-warning').textContent()).toMatch(/Legacy: leaks order and ratios/);
    await generateLiu(page, 'e2e liu');

    await page.getByLabel('CKKS key label').fill('e2e ckks');
    await page.getByLabel('CKKS parameters').selectOption('default-128');
    await page.getByRole('button', { name: 'Generate CKKS key set' }).click();
    // CKKS key generation takes seconds: a progress indicator is shown meanwhile.
    await page.getByRole('progressbar', { name: /CKKS key generation/ }).waitFor({ timeout: 10_000 });
    await page.getByText('Generated CKKS key set “e2e ckks”.').waitFor({ timeout: 120_000 });

    await page.reload();
    await row(page, 'e2e liu').waitFor();
    await row(page, 'e2e ckks').waitFor();
    expect(await row(page, 'e2e liu').textContent()).toMatch(/level 128 · m = 3 · 15-bit components/);
    expect(await row(page, 'e2e ckks').textContent()).toMatch(/default-128 · N = 8192 · q = \[60, 40, 40, 60\] · scale 2\^40 · relinearization keys/);

    expect(await selfTest(page, 'e2e liu')).toMatch(/^OK: max error \d\.\d\de-\d+ over 1,000 values/);
    expect(await selfTest(page, 'e2e ckks', 120_000)).toMatch(/^OK: max error/);
    expect(app.pageErrors).toEqual([]);
  });

  it('backup → delete → wrong passphrase refused → restore: ciphertexts made before the backup decrypt', async () => {
    const { page } = app;
    await openKeys(page);
    const liuCt = await sampleEncrypt(page, 'e2e liu', '1.5, -2.25, 3.125, 1000000');
    const ckksCt = await sampleEncrypt(page, 'e2e ckks', '0.5, -7.25');
    expect(liuCt).toMatch(/"format":"rory-sample-ciphertext"/);
    expect(liuCt).not.toMatch(/1\.5|2\.25/);

    // Export: passphrase twice, strength hint.
    await page.getByLabel('Backup passphrase').fill('short');
    expect(await page.getByTestId('passphrase-strength').textContent()).toMatch(/too short/);
    expect(await page.getByRole('button', { name: 'Export backup' }).isDisabled()).toBe(true);
    await page.getByLabel('Backup passphrase').fill(PASS);
    await page.getByLabel('Repeat passphrase').fill(`${PASS}x`);
    expect(await page.getByText('The passphrases differ.').isVisible()).toBe(true);
    await page.getByLabel('Repeat passphrase').fill(PASS);
    expect(await page.getByTestId('passphrase-strength').textContent()).toMatch(/Strength: (good|strong)/);
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByRole('button', { name: 'Export backup' }).click()]);
    const backupPath = join(dir, download.suggestedFilename());
    await download.saveAs(backupPath);
    expect(download.suggestedFilename()).toMatch(/^rory-keys-backup-\d{4}-\d\d-\d\d\.json$/);

    // A job used the Liu key: the delete dialog must name it.
    const liuId = (await row(page, 'e2e liu').getAttribute('data-key-id'))!;
    await markUsedBy(page, liuId, { kind: 'job', id: 'job-e2e', label: 'iris SKMeans' });
    await page.reload();
    await row(page, 'e2e liu').waitFor();
    expect(await row(page, 'e2e liu').getByTestId('key-used-by').textContent()).toBe('job iris SKMeans');

    await page.getByRole('button', { name: 'Delete e2e liu' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete Liu key “e2e liu”?' });
    await dialog.waitFor();
    await dialog.getByText('These become undecryptable:').waitFor();
    expect(await dialog.getByRole('listitem').allTextContents()).toEqual(['job iris SKMeans']);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await row(page, 'e2e liu').count()).toBe(1);

    await page.getByRole('button', { name: 'Delete e2e liu' }).click();
    await dialog.getByRole('button', { name: 'Delete key' }).click();
    await page.getByText('Deleted key “e2e liu”. No longer decryptable: job iris SKMeans.').waitFor();
    await page.getByRole('button', { name: 'Delete e2e ckks' }).click();
    await page.getByRole('dialog').getByText('No job or dataset in this browser uses this key.').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete key' }).click();
    await page.getByText('No keys yet').waitFor();

    // Wrong passphrase: refused with a clear message, nothing imported.
    await page.getByLabel('Backup file').setInputFiles(backupPath);
    await page.getByLabel('Passphrase for import').fill('violet kettle harbour 1988 lantern');
    await page.getByRole('button', { name: 'Import backup' }).click();
    await page.getByRole('alert').filter({ hasText: /^Wrong passphrase: this key backup could not be unlocked/ }).waitFor({ timeout: 60_000 });
    expect(await page.getByText('No keys yet').isVisible()).toBe(true);

    // A foreign file is reported as such.
    const foreign = join(dir, 'not-a-backup.json');
    await writeFile(foreign, JSON.stringify({ hello: 'world' }));
    await page.getByLabel('Backup file').setInputFiles(foreign);
    await page.getByLabel('Passphrase for import').fill(PASS);
    await page.getByRole('button', { name: 'Import backup' }).click();
    await page.getByRole('alert').filter({ hasText: /not a readable Rory key backup/ }).waitFor();

    // The right passphrase restores both keys, and the old ciphertexts decrypt.
    await page.getByLabel('Backup file').setInputFiles(backupPath);
    await page.getByLabel('Passphrase for import').fill(PASS);
    await page.getByRole('button', { name: 'Import backup' }).click();
    await page.getByText(/Imported 2 key\(s\) from rory-keys-backup-/).waitFor({ timeout: 60_000 });
    expect(await row(page, 'e2e liu').getAttribute('data-key-id')).toBe(liuId);
    expect(await sampleDecrypt(page, 'e2e liu', liuCt)).toEqual([1.5, -2.25, 3.125, 1000000]);
    const ck = await sampleDecrypt(page, 'e2e ckks', ckksCt);
    expect(Math.abs(ck[0] - 0.5)).toBeLessThan(1e-5);
    expect(Math.abs(ck[1] + 7.25)).toBeLessThan(1e-5);
    // The restored key still refuses a ciphertext of another key.
    await page.getByRole('button', { name: `Try e2e liu` }).click();
    await page.getByLabel('Ciphertext', { exact: true }).fill(ckksCt);
    await page.getByRole('button', { name: 'Decrypt', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'This ciphertext was made with a different key.' }).waitFor();
    expect(app.pageErrors).toEqual([]);
  });

  it('encrypting 200 000 Liu scalars through the worker pool causes no long task on the main thread', async () => {
    const { page } = app;
    await openKeys(page);
    await generateLiu(page, 'perf liu');
    await page.getByLabel('Self-test values').fill('200000');
    // Warm up: start the workers and load their code outside the measured window.
    await page.getByLabel('Self-test values').fill('1000');
    await selfTest(page, 'perf liu');
    await page.getByLabel('Self-test values').fill('200000');

    await page.evaluate(() => {
      const w = window as unknown as { __longTasks: { start: number; duration: number }[] };
      w.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: 'longtask' });
    });
    // Positive control: a deliberate 120 ms block on the main thread must be seen by the observer.
    await page.evaluate(
      () =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            const end = performance.now() + 120;
            while (performance.now() < end) {
              /* busy */
            }
            resolve();
          }, 0),
        ),
    );
    await expect.poll(() => page.evaluate(() => (window as unknown as { __longTasks: unknown[] }).__longTasks.length), { timeout: 5000 }).toBeGreaterThan(0);

    const t0 = await page.evaluate(() => performance.now());
    const summary = await selfTest(page, 'perf liu', 120_000);
    const t1 = await page.evaluate(() => performance.now());
    expect(summary).toMatch(/^OK: .* over 200,000 values/);
    const during = await page.evaluate(
      ([a, b]) => (window as unknown as { __longTasks: { start: number; duration: number }[] }).__longTasks.filter((t) => t.start >= a && t.start <= b),
      [t0, t1] as const,
    );
    expect(during).toEqual([]);
  });

  it('cancelling CKKS key generation terminates its worker, and the pool starts a fresh one for the next call', async () => {
    const { page } = app;
    await openKeys(page);
    const closed: string[] = [];
    page.on('worker', (w) => w.on('close', () => closed.push(w.url())));
    await page.getByLabel('CKKS key label').fill('cancelled ckks');
    await page.getByLabel('CKKS parameters').selectOption('default-192');
    await page.getByRole('button', { name: 'Generate CKKS key set' }).click();
    await page.getByRole('progressbar', { name: /CKKS key generation/ }).waitFor({ timeout: 10_000 });
    // The pool starts its worker lazily, just after the progress bar appears.
    await expect.poll(() => page.workers().length, { timeout: 10_000 }).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.getByText('CKKS key generation cancelled.').waitFor();
    // Idle workers live for a minute: a close within seconds is the abort terminating it.
    await expect.poll(() => closed.length, { timeout: 5000 }).toBeGreaterThan(0);
    await page.reload();
    await row(page, 'perf liu').waitFor();
    expect(await row(page, 'cancelled ckks').count()).toBe(0);
    await page.getByLabel('Self-test values').fill('5000');
    expect(await selfTest(page, 'perf liu')).toMatch(/^OK: .* over 5,000 values/);
    expect(app.pageErrors).toEqual([]);
  });
});
