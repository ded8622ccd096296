/**
 * Helpers for the Chromium crypto benches (bench/crypto-browser*.ts): a key backup made in Node,
 * the built app's keys page opened in Debian Chromium with MAX_WORKERS set through the served
 * /config.json and the backup imported, and one run of a key's self-test (workers/self-test.ts),
 * which goes through the real worker pool (workers/crypto-client.ts). Not a bench itself: bench/run.ts
 * only runs the files directly in bench/.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CKKS_DEFAULT_PARAMS, generateKeySet } from '@/lib/crypto/ckks';
import * as fdhope from '@/lib/crypto/fdhope';
import * as liu from '@/lib/crypto/liu';
import { DEFAULT_SETTINGS } from '@/lib/config';
import { ckksKeyParams, createMemoryKeyStore, exportBackup } from '@/lib/keystore';
import { startStaticServer } from '@/server/static';
import { CHROMIUM_FLAGS } from '../../tests/e2e/chromium';

/** The built export to serve: out/, or RORY_OUT (e.g. to compare two builds side by side). */
export const OUT = process.env.RORY_OUT ?? join(process.cwd(), 'out');
const PASS = 'benchmark passphrase, not secret';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Key labels in the backup. */
export const LABELS = { liu: 'bench liu', fdhope: 'bench fdhope', ckks: 'bench ckks' } as const;

export interface Timing {
  readonly count: number;
  readonly encryptMs: number;
  readonly decryptMs: number;
}

/** Writes a passphrase-protected backup with a Liu-128, an FDHOPE and (optionally) a CKKS key. */
export async function makeBackup(dir: string, opts: { ckks?: boolean } = {}): Promise<{ path: string; keys: number }> {
  const store = createMemoryKeyStore();
  const { m, nbits } = liu.LIU_LEVELS[128];
  await store.add({ scheme: 'liu', label: LABELS.liu, origin: 'generated', params: { level: 128, m, nbits } }, { scheme: 'liu', key: liu.keygen(128) });
  const fk = fdhope.keygen(Float64Array.from({ length: 10_000 }, (_, i) => Math.abs(Math.sin(i)) * 100));
  await store.add({ scheme: 'fdhope', label: LABELS.fdhope, origin: 'generated', params: { intervals: fk.messagespace.length } }, { scheme: 'fdhope', key: fk });
  let keys = 2;
  if (opts.ckks ?? true) {
    const ks = await generateKeySet(CKKS_DEFAULT_PARAMS, { relinKeys: true });
    const { secretKey, ...publicBundle } = ks.toBytes();
    ks.dispose();
    await store.add(
      { scheme: 'ckks', label: LABELS.ckks, origin: 'generated', params: ckksKeyParams(CKKS_DEFAULT_PARAMS, true, false) },
      { scheme: 'ckks', publicBundle, secretKey },
    );
    keys++;
  }
  const path = join(dir, 'bench-keys.json');
  await writeFile(path, await exportBackup(store, PASS));
  return { path, keys };
}

export interface KeysPage {
  readonly page: Page;
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Serves out/ with MAX_WORKERS = `workers`, opens the keys page in a fresh profile and imports the backup. */
export async function openKeysPage(workers: number, backup: { path: string; keys: number }): Promise<KeysPage> {
  if (!existsSync(join(OUT, 'index.html'))) throw new Error('out/ is missing: run `npm run build` first.');
  const server = await startStaticServer({ root: OUT, config: () => ({ ...DEFAULT_SETTINGS, MAX_WORKERS: workers }) });
  const profile = await mkdtemp(join(tmpdir(), 'rory-bench-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
  const close = async () => {
    await context.close();
    await server.close();
    await rm(profile, { recursive: true, force: true });
  };
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${server.url}/keys/`);
    await page.getByLabel('Backup file').setInputFiles(backup.path);
    await page.getByLabel('Passphrase for import').fill(PASS);
    await page.getByRole('button', { name: 'Import backup' }).click();
    await page.getByText(new RegExp(`Imported ${backup.keys} key\\(s\\)`)).waitFor({ timeout: 120_000 });
    return { page, context, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Runs the self-test of the key labelled `label` on `count` values; throws if it fails. */
export async function selfTest(page: Page, label: string, count: number): Promise<Timing> {
  await page.getByLabel('Self-test values').fill(String(count));
  await page.getByRole('button', { name: `Test ${label}`, exact: true }).click();
  const result = page.getByTestId('key-row').filter({ has: page.getByText(label, { exact: true }) }).getByTestId('self-test-result');
  await result.waitFor({ timeout: 600_000 });
  if ((await result.getAttribute('data-ok')) !== 'true') throw new Error(`self-test of ${label} failed: ${await result.textContent()}`);
  return {
    count: Number(await result.getAttribute('data-count')),
    encryptMs: Number(await result.getAttribute('data-encrypt-ms')),
    decryptMs: Number(await result.getAttribute('data-decrypt-ms')),
  };
}
