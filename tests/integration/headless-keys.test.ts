/**
 * `rory keys` (headless/cli/keys.ts, headless/keys/file-store.ts) as the real command: the key
 * store in KEYS_PATH is encrypted with the passphrase and IS a browser key backup
 * (lib/keystore/backup.ts), so it opens with the browser's own import code, and a backup made by
 * the browser's export code is imported by `rory keys import`; real Pyfhel key files
 * (../shared/vectors/ckks-pyfhel) are imported, and `export --pyfhel` writes only the public
 * files, byte for byte. Missing or wrong passphrases fail with what to do. A job's CKKS key set
 * is chosen by the app's rule: one made for another data shape is not reused.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessEngine } from '@/lib/engine/in-process';
import { importBackup, parseBackup } from '@/lib/keystore/backup';
import { createMemoryKeyStore } from '@/lib/keystore/memory';
import type { KeyRecord } from '@/lib/keystore/types';
import { algorithmSpec } from '@/lib/rory/algorithms/registry';
import { chooseCkks } from '@/headless/keys/choose';
import { rejection } from '../helpers/errors';
import { runRory } from '../helpers/headless';

const PYFHEL = new URL('../../../shared/vectors/ckks-pyfhel/', import.meta.url).pathname;
const PASS = 'correct horse battery staple';

let root: string;
let env: Record<string, string>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rory-keys-'));
  await writeFile(join(root, 'pass'), `${PASS}\n`);
  env = { KEYS_PATH: join(root, 'keys'), RORY_KEYS_PASSPHRASE_FILE: join(root, 'pass') };
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function list(): Promise<KeyRecord[]> {
  const r = await runRory(['keys', 'list', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as KeyRecord[];
}

describe('rory keys', () => {
  it('refuses to work without a passphrase, saying what to set', async () => {
    const r = await runRory(['keys', 'generate', '--scheme', 'liu'], { KEYS_PATH: join(root, 'keys') });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/RORY_KEYS_PASSPHRASE/);
  });

  it('generate liu and ckks; the key file is a browser backup, mode 0600, that lib/ opens with the passphrase', async () => {
    expect((await runRory(['keys', 'generate', '--scheme', 'liu', '--level', '192', '--label', 'headless liu'], env)).code).toBe(0);
    const g = await runRory(['keys', 'generate', '--scheme', 'ckks', '--galois-steps', '8,16', '--label', 'headless ckks'], env);
    expect(g.code, g.stderr).toBe(0);
    const keys = await list();
    expect(keys.map((k) => [k.scheme, k.label]).sort()).toEqual([
      ['ckks', 'headless ckks'],
      ['liu', 'headless liu'],
    ]);
    const ck = keys.find((k) => k.scheme === 'ckks')!;
    expect(ck.scheme === 'ckks' && ck.params.galoisSteps).toEqual([8, 16]);
    const file = join(root, 'keys', 'rory-keys.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(parseBackup(text).format).toBe('rory-keys-backup');
    expect(text).not.toContain('headless liu');
    const browser = createMemoryKeyStore();
    const report = await importBackup(browser, text, PASS);
    expect(report.added.map((r) => r.id).sort()).toEqual(keys.map((k) => k.id).sort());
    // The Liu key really is one: the browser's engine encrypts and decrypts with it.
    const engine = createInProcessEngine({ keys: browser });
    const liu = keys.find((k) => k.scheme === 'liu')!.id;
    const x = Float64Array.of(1.5, -2.25, 1000);
    expect(Array.from(await engine.liuDecrypt(liu, await engine.liuEncrypt(liu, x)))).toEqual(Array.from(x).map((v) => expect.closeTo(v, 6)));
    engine.dispose();
  });

  it('imports a backup exported by the browser code, with its own passphrase', async () => {
    const browser = createMemoryKeyStore();
    const engine = createInProcessEngine({ keys: browser });
    const made = await engine.createLiuKey(128, { label: 'from the browser' });
    const backup = await engine.exportBackup('another passphrase 42');
    engine.dispose();
    await writeFile(join(root, 'browser.json'), backup);
    await writeFile(join(root, 'pass2'), 'another passphrase 42');
    const wrong = await runRory(['keys', 'import', join(root, 'browser.json')], env);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/Wrong passphrase/);
    const r = await runRory(['keys', 'import', join(root, 'browser.json'), '--backup-passphrase-file', join(root, 'pass2')], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/imported 1 key/);
    expect((await list()).map((k) => k.id)).toContain(made.id);
  });

  it('imports real Pyfhel key files and exports only their public files, byte for byte (D4)', async () => {
    const r = await runRory(['keys', 'import', '--pyfhel', PYFHEL, '--label', 'pyfhel vectors'], env);
    expect(r.code, r.stderr).toBe(0);
    const rec = (await list()).find((k) => k.label === 'pyfhel vectors')!;
    expect(rec).toMatchObject({ scheme: 'ckks', origin: 'pyfhel' });
    const out = join(root, 'pyfhel-out');
    const e = await runRory(['keys', 'export', '--pyfhel', out, '--id', rec.id], env);
    expect(e.code, e.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['ctx', 'pubkey', 'relinkey']);
    for (const f of ['ctx', 'pubkey', 'relinkey']) expect(Buffer.compare(await readFile(join(out, f)), await readFile(join(PYFHEL, f))), f).toBe(0);
  });

  it('exports a backup under a new passphrase that the browser code imports', async () => {
    await writeFile(join(root, 'pass3'), 'a third passphrase here');
    const out = join(root, 'export.json');
    const r = await runRory(['keys', 'export', '--out', out, '--new-passphrase-file', join(root, 'pass3')], env);
    expect(r.code, r.stderr).toBe(0);
    const report = await importBackup(createMemoryKeyStore(), await readFile(out, 'utf8'), 'a third passphrase here');
    expect(report.added.map((k) => k.id).sort()).toEqual((await list()).map((k) => k.id).sort());
  });

  it('a wrong store passphrase is refused', async () => {
    await writeFile(join(root, 'bad'), 'not the passphrase at all');
    const r = await runRory(['keys', 'list'], { ...env, RORY_KEYS_PASSPHRASE_FILE: join(root, 'bad') });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Wrong passphrase/);
  });
});

describe('CKKS key choice for a job (headless/keys/choose.ts)', () => {
  it('a set made for one data shape is reused for that shape and not chosen for another (the app’s rule, ckksKeyFits)', async () => {
    const keys = createMemoryKeyStore();
    const engine = createInProcessEngine({ keys });
    try {
      const spec = algorithmSpec('PKMEANS');
      const blobs = await chooseCkks(engine, keys, spec, { shape: { rows: 100, cols: 5 } });
      expect(blobs.created).toBeDefined();
      expect(await chooseCkks(engine, keys, spec, { shape: { rows: 100, cols: 5 } })).toEqual({ id: blobs.id });
      const iris = await chooseCkks(engine, keys, spec, { shape: { rows: 150, cols: 4 } });
      expect(iris.created).toBeDefined();
      expect(iris.id).not.toBe(blobs.id);
      const named = await rejection(chooseCkks(engine, keys, spec, { ckksKeyId: blobs.id, shape: { rows: 150, cols: 4 } }));
      expect(named.code).toBe('INVALID_KEY');
      expect(named.userMessage).toMatch(/rotation \(Galois\) keys for 150 × 4 data/);
    } finally {
      engine.dispose();
    }
  });
});
