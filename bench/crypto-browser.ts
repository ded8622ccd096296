/**
 * Crypto throughput in Chromium through the real worker pool (workers/crypto-client.ts: webpack
 * worker chunk, node-seal WASM), driven through the keys page's self-test (spec/crypto.md §2 Liu,
 * §3 FDHOPE, §5 CKKS at N = 8192):
 * - Liu encrypt / decrypt, scalars/s (level 128, m = 3);
 * - FDHOPE encrypt, values/s (sens 0);
 * - CKKS encrypt / decrypt, ms per ciphertext (default-128: N = 8192, q = [60,40,40,60], one
 *   ciphertext per 8-value row), and the time to generate a CKKS key set in the browser.
 * Each figure is the best of `--reps` warm runs (after one warm-up run of the same size, so the
 * workers are started and compiled), for each pool size in `--workers` (MAX_WORKERS is set through
 * the served /config.json). Keys come from a backup made here in Node and imported through the
 * page, so every pool size uses the same keys.
 *
 * For comparison it also prints, per pool size, the cost of first touching a fresh result array of
 * the same size on the page (the floor for any engine that returns a new Float64Array: page faults,
 * see docs/perf-crypto-browser.md), and the same operations in Node on one thread (the pure
 * functions of bench/crypto-liu-fdhope.ts), once into a fresh result each time as the engine
 * returns one, once into a reused result as bench/crypto-liu-fdhope.ts measures.
 *
 * Needs a built export (`npm run build`) and Debian Chromium; same launch flags as the e2e harness.
 *   npx tsx bench/crypto-browser.ts [--workers 1,2] [--reps 3] [--liu 1000000] [--fdhope 1000000] [--ckks-rows 64 (0: no CKKS)]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import * as fdhope from '@/lib/crypto/fdhope';
import * as liu from '@/lib/crypto/liu';
import { fillUniform, secureRandomBytes } from '@/lib/crypto/random';
import { LABELS, makeBackup, openKeysPage, selfTest, type Timing } from './shared/keys-page';
import { benchOptions } from './shared/options';

const { workers: POOLS, reps: REPS, liu: LIU_N, fdhope: FDHOPE_N, 'ckks-rows': CKKS_ROWS } = benchOptions({ workers: [1, 2], reps: 3, liu: 1_000_000, fdhope: 1_000_000, 'ckks-rows': 64 });
const CKKS_COLS = 8; // values per ciphertext in the self-test (workers/self-test.ts)

async function best(page: Page, label: string, count: number): Promise<Timing> {
  await selfTest(page, label, count); // warm-up at full size: every worker started and compiled
  let enc = Infinity;
  let dec = Infinity;
  let n = 0;
  for (let i = 0; i < REPS; i++) {
    const t = await selfTest(page, label, count);
    enc = Math.min(enc, t.encryptMs);
    dec = Math.min(dec, t.decryptMs);
    n = t.count;
  }
  return { count: n, encryptMs: enc, decryptMs: dec };
}

/** Best time (ms) to allocate and first touch `doubles` float64s on the page: the result-array floor. */
async function firstTouchMs(page: Page, doubles: number): Promise<number> {
  return page.evaluate((n) => {
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      new Float64Array(n).fill(1);
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  }, doubles);
}

interface PoolResult {
  readonly size: number;
  readonly liu: Timing;
  readonly fd: Timing;
  readonly ck: Timing | null;
  readonly keygenMs: number;
  /** First touch of a fresh Liu-128 result (n·3 doubles) and of an n-double result, on the page. */
  readonly touchLiuMs: number;
  readonly touchFdMs: number;
}

async function runPool(size: number, backup: { path: string; keys: number }): Promise<PoolResult> {
  const app = await openKeysPage(size, backup);
  try {
    const { page } = app;
    const liuT = await best(page, LABELS.liu, LIU_N);
    const fdT = await best(page, LABELS.fdhope, FDHOPE_N);
    let ckT: Timing | null = null;
    let keygenMs = Number.NaN;
    if (CKKS_ROWS > 0) {
      await selfTest(page, LABELS.ckks, 8); // compile SEAL before measuring
      ckT = await best(page, LABELS.ckks, CKKS_ROWS * CKKS_COLS);
      await page.getByLabel('CKKS key label').fill('bench keygen');
      const t0 = performance.now();
      await page.getByRole('button', { name: 'Generate CKKS key set' }).click();
      await page.getByText('Generated CKKS key set “bench keygen”.').waitFor({ timeout: 300_000 });
      keygenMs = performance.now() - t0;
    }
    const touchLiuMs = await firstTouchMs(page, liuT.count * 3);
    const touchFdMs = await firstTouchMs(page, fdT.count);
    return { size, liu: liuT, fd: fdT, ck: ckT, keygenMs, touchLiuMs, touchFdMs };
  } finally {
    await app.close();
  }
}

interface NodeRates {
  /** Into a fresh result array each time, as the engine returns one (ms for the whole input). */
  readonly fresh: { liuEnc: number; liuDec: number; fd: number };
  /** Into one reused result array (bench/crypto-liu-fdhope.ts measures this way). */
  readonly reused: { liuEnc: number; liuDec: number; fd: number };
}

/** The same operations in Node on one thread, with the pure functions of lib/crypto. */
function nodeFigures(): NodeRates {
  const sk = liu.keygen(128);
  const values = fillUniform(secureRandomBytes, new Float64Array(LIU_N)).map((u) => (u * 2 - 1) * 1000);
  const fk = fdhope.keygen(values.map(Math.abs));
  const fdValues = fillUniform(secureRandomBytes, new Float64Array(FDHOPE_N)).map((u) => (u * 2 - 1) * 1000);
  const time = (f: () => void) => {
    f();
    let t = Infinity;
    for (let i = 0; i < Math.max(REPS, 3); i++) {
      const t0 = performance.now();
      f();
      t = Math.min(t, performance.now() - t0);
    }
    return t;
  };
  const ct = new Float64Array(LIU_N * sk.m);
  const back = new Float64Array(LIU_N);
  const fdOut = new Float64Array(FDHOPE_N);
  return {
    fresh: {
      liuEnc: time(() => liu.encryptInto(sk, values, new Float64Array(LIU_N * sk.m), secureRandomBytes)),
      liuDec: time(() => liu.decryptInto(sk, ct, new Float64Array(LIU_N))),
      fd: time(() => fdhope.encryptInto(fk, fdValues, new Float64Array(FDHOPE_N), 0)),
    },
    reused: {
      liuEnc: time(() => liu.encryptInto(sk, values, ct, secureRandomBytes)),
      liuDec: time(() => liu.decryptInto(sk, ct, back)),
      fd: time(() => fdhope.encryptInto(fk, fdValues, fdOut, 0)),
    },
  };
}

const rate = (n: number, ms: number) => (n / ms) * 1000;
const mps = (r: number) => `${(r / 1e6).toFixed(1)} M/s`;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rory-bench-keys-'));
  try {
    const backup = await makeBackup(dir, { ckks: CKKS_ROWS > 0 });
    const rows: PoolResult[] = [];
    for (const size of POOLS) rows.push(await runPool(size, backup));
    const node = nodeFigures();
    console.log(`\nCrypto in Chromium through the worker pool (keys page self-test, warm, best of ${REPS}), and Node on one thread\n`);
    const one = rows.find((r) => r.size === 1);
    const perRow = (name: string, f: (r: PoolResult) => number, nodeMs: (r: NodeRates['fresh']) => number, n: number, floor: (r: PoolResult) => number) => {
      const line: Record<string, string> = { operation: name };
      for (const r of rows) line[`${r.size} worker${r.size > 1 ? 's' : ''}`] = mps(f(r));
      for (const r of rows) if (one && r.size > 1) line[`${r.size}w / 1w`] = `${(f(r) / f(one)).toFixed(2)}×`;
      line['first touch of the result'] = rows.map((r) => mps(floor(r))).join(' / ');
      line['Node: fresh / reused result'] = `${mps(rate(n, nodeMs(node.fresh)))} / ${mps(rate(n, nodeMs(node.reused)))}`;
      return line;
    };
    console.table([
      perRow(`Liu-128 encrypt, ${LIU_N.toLocaleString('en')} scalars`, (r) => rate(r.liu.count, r.liu.encryptMs), (t) => t.liuEnc, LIU_N, (r) => rate(r.liu.count, r.touchLiuMs)),
      perRow(`Liu-128 decrypt, ${LIU_N.toLocaleString('en')} scalars`, (r) => rate(r.liu.count, r.liu.decryptMs), (t) => t.liuDec, LIU_N, (r) => rate(r.liu.count, r.touchFdMs * (r.liu.count / r.fd.count))),
      perRow(`FDHOPE encrypt, ${FDHOPE_N.toLocaleString('en')} values`, (r) => rate(r.fd.count, r.fd.encryptMs), (t) => t.fd, FDHOPE_N, (r) => rate(r.fd.count, r.touchFdMs)),
    ]);
    const ckksRows = rows.filter((r): r is PoolResult & { ck: Timing } => r.ck !== null);
    if (ckksRows.length > 0) {
      console.table(
        ckksRows.flatMap((r) => [
          { workers: r.size, operation: `CKKS N=8192 encrypt (${r.ck.count / CKKS_COLS} ciphertexts)`, result: `${(r.ck.encryptMs / (r.ck.count / CKKS_COLS)).toFixed(2)} ms/ciphertext` },
          { workers: r.size, operation: `CKKS N=8192 decrypt (${r.ck.count / CKKS_COLS} ciphertexts)`, result: `${(r.ck.decryptMs / (r.ck.count / CKKS_COLS)).toFixed(2)} ms/ciphertext` },
          { workers: r.size, operation: 'CKKS N=8192 key generation (incl. relin keys, store)', result: `${(r.keygenMs / 1000).toFixed(2)} s` },
        ]),
      );
    }
    console.log(
      '"first touch of the result": allocating and filling a fresh result array of that size on the page, per pool size; ' +
        'an engine that returns a new array cannot be faster than this (page faults; docs/perf-crypto-browser.md).',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
