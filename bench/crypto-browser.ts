/**
 * Crypto throughput in Chromium through the real worker pool (workers/crypto-client.ts: webpack
 * worker chunk, node-seal WASM), driven through the keys page's self-test (spec/crypto.md §2 Liu,
 * §3 FDHOPE, §5 CKKS at N = 8192):
 * - Liu encrypt / decrypt, scalars/s (level 128, m = 3);
 * - FDHOPE encrypt, values/s (sens 0);
 * - CKKS encrypt / decrypt, ms per ciphertext (default-128: N = 8192, q = [60,40,40,60], one
 *   ciphertext per 8-value row), and the time to generate a CKKS key set in the browser.
 * Each figure is the best of `--reps` runs, for each pool size in `--workers` (MAX_WORKERS is set
 * through the served /config.json). Keys come from a backup made here in Node and imported
 * through the page, so every pool size uses the same keys.
 *
 * Needs a built export (`npm run build`) and Debian Chromium; same launch flags as the e2e harness.
 *   npx tsx bench/crypto-browser.ts [--workers 1,2] [--reps 3] [--liu 1000000] [--fdhope 1000000] [--ckks-rows 64]
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { CKKS_DEFAULT_PARAMS, generateKeySet } from '@/lib/crypto/ckks';
import * as fdhope from '@/lib/crypto/fdhope';
import * as liu from '@/lib/crypto/liu';
import { DEFAULT_SETTINGS } from '@/lib/config';
import { ckksKeyParams, createMemoryKeyStore, exportBackup } from '@/lib/keystore';
import { startStaticServer } from '@/server/static';
import { CHROMIUM_FLAGS } from '../tests/e2e/harness';

const { values: args } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,2' },
    reps: { type: 'string', default: '3' },
    liu: { type: 'string', default: '1000000' },
    fdhope: { type: 'string', default: '1000000' },
    'ckks-rows': { type: 'string', default: '64' },
  },
});
const POOLS = (args.workers ?? '1,2').split(',').map(Number);
const REPS = Number(args.reps);
const LIU_N = Number(args.liu);
const FDHOPE_N = Number(args.fdhope);
const CKKS_ROWS = Number(args['ckks-rows']);
const CKKS_COLS = 8; // values per ciphertext in the self-test (workers/self-test.ts)
const PASS = 'benchmark passphrase, not secret';
const OUT = join(process.cwd(), 'out');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

interface Timing {
  readonly count: number;
  readonly encryptMs: number;
  readonly decryptMs: number;
}

async function makeBackup(dir: string): Promise<string> {
  const store = createMemoryKeyStore();
  const { m, nbits } = liu.LIU_LEVELS[128];
  await store.add({ scheme: 'liu', label: 'bench liu', origin: 'generated', params: { level: 128, m, nbits } }, { scheme: 'liu', key: liu.keygen(128) });
  const fk = fdhope.keygen(Float64Array.from({ length: 10_000 }, (_, i) => Math.abs(Math.sin(i)) * 100));
  await store.add({ scheme: 'fdhope', label: 'bench fdhope', origin: 'generated', params: { intervals: fk.messagespace.length } }, { scheme: 'fdhope', key: fk });
  const ks = await generateKeySet(CKKS_DEFAULT_PARAMS, { relinKeys: true });
  const { secretKey, ...publicBundle } = ks.toBytes();
  ks.dispose();
  await store.add(
    { scheme: 'ckks', label: 'bench ckks', origin: 'generated', params: ckksKeyParams(CKKS_DEFAULT_PARAMS, true, false) },
    { scheme: 'ckks', publicBundle, secretKey },
  );
  const path = join(dir, 'bench-keys.json');
  await writeFile(path, await exportBackup(store, PASS));
  return path;
}

async function selfTest(page: Page, label: string, count: number): Promise<Timing> {
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

async function best(page: Page, label: string, count: number): Promise<Timing> {
  let enc = Infinity;
  let dec = Infinity;
  let n = 0;
  for (let i = 0; i < REPS; i++) {
    await page.reload();
    await page.getByTestId('key-row').first().waitFor();
    const t = await selfTest(page, label, count);
    enc = Math.min(enc, t.encryptMs);
    dec = Math.min(dec, t.decryptMs);
    n = t.count;
  }
  return { count: n, encryptMs: enc, decryptMs: dec };
}

async function runPool(size: number, backup: string): Promise<{ size: number; liu: Timing; fd: Timing; ck: Timing; keygenMs: number }> {
  const server = await startStaticServer({ root: OUT, config: () => ({ ...DEFAULT_SETTINGS, MAX_WORKERS: size }) });
  const profile = await mkdtemp(join(tmpdir(), 'rory-bench-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${server.url}/keys/`);
    await page.getByLabel('Backup file').setInputFiles(backup);
    await page.getByLabel('Passphrase for import').fill(PASS);
    await page.getByRole('button', { name: 'Import backup' }).click();
    await page.getByText(/Imported 3 key\(s\)/).waitFor({ timeout: 120_000 });
    // Warm-up: start the workers and compile SEAL before measuring.
    await selfTest(page, 'bench liu', 1000);
    await selfTest(page, 'bench ckks', 8);

    const liuT = await best(page, 'bench liu', LIU_N);
    const fdT = await best(page, 'bench fdhope', FDHOPE_N);
    const ckT = await best(page, 'bench ckks', CKKS_ROWS * CKKS_COLS);

    await page.getByLabel('CKKS key label').fill('bench keygen');
    const t0 = performance.now();
    await page.getByRole('button', { name: 'Generate CKKS key set' }).click();
    await page.getByText('Generated CKKS key set “bench keygen”.').waitFor({ timeout: 300_000 });
    const keygenMs = performance.now() - t0;
    return { size, liu: liuT, fd: fdT, ck: ckT, keygenMs };
  } finally {
    await context.close();
    await server.close();
    await rm(profile, { recursive: true, force: true });
  }
}

const perSecond = (n: number, ms: number) => `${((n / ms) * 1000 / 1e6).toFixed(2)} M/s`;

async function main(): Promise<void> {
  if (!existsSync(join(OUT, 'index.html'))) throw new Error('out/ is missing: run `npm run build` first.');
  const dir = await mkdtemp(join(tmpdir(), 'rory-bench-keys-'));
  try {
    const backup = await makeBackup(dir);
    const rows = [];
    for (const size of POOLS) rows.push(await runPool(size, backup));
    console.log(`\nCrypto in Chromium through the worker pool (best of ${REPS}; page main thread only slices and assembles)\n`);
    const table = rows.flatMap((r) => [
      { workers: r.size, operation: `Liu-128 encrypt (${r.liu.count.toLocaleString('en')} scalars)`, result: perSecond(r.liu.count, r.liu.encryptMs) + ' scalars' },
      { workers: r.size, operation: `Liu-128 decrypt (${r.liu.count.toLocaleString('en')} scalars)`, result: perSecond(r.liu.count, r.liu.decryptMs) + ' scalars' },
      { workers: r.size, operation: `FDHOPE encrypt (${r.fd.count.toLocaleString('en')} values)`, result: perSecond(r.fd.count, r.fd.encryptMs) + ' values' },
      { workers: r.size, operation: `CKKS N=8192 encrypt (${r.ck.count / CKKS_COLS} ciphertexts)`, result: `${(r.ck.encryptMs / (r.ck.count / CKKS_COLS)).toFixed(2)} ms/ciphertext` },
      { workers: r.size, operation: `CKKS N=8192 decrypt (${r.ck.count / CKKS_COLS} ciphertexts)`, result: `${(r.ck.decryptMs / (r.ck.count / CKKS_COLS)).toFixed(2)} ms/ciphertext` },
      { workers: r.size, operation: 'CKKS N=8192 key generation (incl. relin keys, store)', result: `${(r.keygenMs / 1000).toFixed(2)} s` },
    ]);
    console.table(table);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
