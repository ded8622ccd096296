/**
 * Keys in use through the in-process `CryptoEngine` (lib/engine/in-process.ts), the Node twin of
 * the browser worker pool: keys named by id and loaded from the key store inside the engine,
 * chunked Liu/FDHOPE round trips with progress and abort, CKKS with the real Pyfhel key files
 * (../shared/vectors/ckks-pyfhel) imported through the engine, the self-test and the "Try" sample format. The browser pool itself is covered by tests/e2e/keys.test.ts.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import * as ckks from '@/lib/crypto/ckks';
import { CKKS_DEFAULT_PARAMS } from '@/lib/crypto/ckks';
import * as fdhope from '@/lib/crypto/fdhope';
import * as liu from '@/lib/crypto/liu';
import { DEFAULT_KEY_FILE_NAMES, type CkksKeyRecord, type KeyRecord, type LiuKeyRecord } from '@/lib/keystore';
import { decryptSample, encryptSample, parseSampleValues } from '@/lib/engine/sample';
import { runSelfTest } from '@/lib/engine/self-test';
import type { Progress } from '@/lib/engine/types';
import { testEngine } from '../helpers/engine';

const PYFHEL = new URL('../../../shared/vectors/ckks-pyfhel/', import.meta.url);
const file = async (name: string) => new Uint8Array(await readFile(new URL(name, PYFHEL)));
const t = testEngine({ seed: 1 });
const { engine, keys } = t;
afterAll(() => engine.dispose());

async function pyfhelFiles() {
  return [
    { name: 'ctx', bytes: await file('ctx') },
    { name: 'pubkey', bytes: await file('pubkey') },
    { name: 'secretkey', bytes: await file('secretkey') },
    { name: 'relinkey', bytes: await file('relinkey') },
  ];
}

let pyfhel: CkksKeyRecord | undefined;
/** The Pyfhel vector key set, imported once through the engine. */
async function pyfhelKey(): Promise<CkksKeyRecord> {
  return (pyfhel ??= await engine.importCkksFiles(await pyfhelFiles(), DEFAULT_KEY_FILE_NAMES, 'pyfhel vectors'));
}

const liuRecord = (id: string) => keys.get(id) as Promise<LiuKeyRecord>;

describe('in-process crypto engine', () => {
  it('Liu: chunked encryption equals the scalar definition of decryption, with progress', async () => {
    const id = await t.liuKey(192);
    const key = ((await keys.loadMaterial(id)) as { key: liu.LiuSecretKey }).key;
    const plain = Float64Array.from({ length: 50_001 }, (_, i) => Math.sin(i) * 1e3);
    const events: Progress[] = [];
    const ct = await engine.liuEncrypt(id, plain, { onProgress: (p) => events.push(p) });
    expect(ct.length).toBe(plain.length * 4);
    expect(events.length).toBeGreaterThan(1);
    expect(events.at(-1)).toEqual({ done: plain.length, total: plain.length, stage: undefined });
    // Spot-check against the library's scalar decryption (not only our own round trip).
    for (const j of [0, 4095, 4096, 50_000]) expect(liu.decrypt(key, ct.subarray(j * 4, j * 4 + 4))).toBeCloseTo(plain[j], 8);
    const back = await engine.liuDecrypt(id, ct);
    let max = 0;
    for (let i = 0; i < plain.length; i++) max = Math.max(max, Math.abs(back[i] - plain[i]));
    expect(max).toBeLessThan(1e-9);
    expect(await engine.liuDecrypt(id, ct.subarray(0, 7)).catch((e: AppError) => e.code)).toBe('SHAPE_MISMATCH');
  });

  it('refuses an unknown key id and a key of the wrong scheme', async () => {
    await expect(engine.liuEncrypt('nokey', Float64Array.of(1))).rejects.toMatchObject({ code: 'INVALID_KEY' });
    const fk = await engine.createFdhopeKey(Float64Array.from({ length: 10 }, (_, i) => i), { label: 'f' });
    await expect(engine.liuEncrypt(fk.id, Float64Array.of(1))).rejects.toMatchObject({ code: 'INVALID_KEY' });
  });

  it('honours an AbortSignal between chunks', async () => {
    const id = await t.liuKey(128);
    const ctrl = new AbortController();
    const p = engine.liuEncrypt(id, new Float64Array(200_000), { signal: ctrl.signal, onProgress: () => ctrl.abort() });
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    ctrl.abort();
    await expect(engine.createLiuKey(128, { label: 'x' }, { signal: ctrl.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('FDHOPE keygen and encryption keep order; the key is stored with its dataset', async () => {
    const values = Float64Array.from({ length: 400 }, (_, i) => Math.abs(Math.cos(i)) * 9);
    const rec = await engine.createFdhopeKey(values, { label: 'FDHOPE test', datasetId: 'ds0000000000000001' });
    expect(rec.params).toMatchObject({ datasetId: 'ds0000000000000001' });
    const mat = await keys.loadMaterial(rec.id);
    expect(mat.scheme === 'fdhope' && fdhope.validateKey(mat.key)).toBeTruthy();
    const sorted = Float64Array.from(values).sort();
    const ct = await engine.fdhopeEncrypt(rec.id, sorted, 0);
    for (let i = 1; i < ct.length; i++) expect(ct[i]).toBeGreaterThanOrEqual(ct[i - 1]);
  });

  it('CKKS: the imported Pyfhel key set encrypts (seeded symmetric: about half the bytes of public-key ones) and decrypts, also Pyfhel ciphertexts', async () => {
    const rec = await pyfhelKey();
    const rows = Float64Array.from([0.5, -1.25, 2, 10, 0, -0.001, 3.75, 42, -42]);
    const sym = await engine.ckksEncryptRows(rec.id, rows, 3);
    expect(sym).toHaveLength(3);
    const back = await engine.ckksDecryptRows(rec.id, sym, 3);
    for (let i = 0; i < rows.length; i++) expect(Math.abs(back[i] - rows[i])).toBeLessThan(1e-6);
    // What a holder of only the public bundle would send: a public-key ciphertext, twice as large.
    const pub = await ckks.openKeySet((await engine.ckksPublic(rec.id)).bundle);
    try {
      const pk = pub.encryptRow(rows.subarray(0, 3));
      expect(sym[0].length).toBeLessThan(pk.length * 0.55);
      expect(Array.from(await engine.ckksDecryptRows(rec.id, [pk], 3)).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([0.5, -1.25, 2]);
    } finally {
      pub.dispose();
    }
    // A Pyfhel ciphertext (E3 row 0, bytes 10..131195 of the pickle) decrypts too.
    const e3 = await file('e3_matrix_rows.pkl');
    const row0 = await engine.ckksDecryptRows(rec.id, [e3.slice(10, 10 + 131185)], 5);
    [0.5, -1.25, 2.0, 3.75, -4.5].forEach((v, i) => expect(Math.abs(row0[i] - v)).toBeLessThan(1e-6));
  });

  it('imports upstream key files after checking them, and refuses a secret key of another key set', async () => {
    const rec = await pyfhelKey();
    expect(rec.params).toEqual({ parameterSet: 'default-128', polyModulusDegree: 8192, coeffModulusBits: [60, 40, 40, 60], scaleBits: 40, hasRelinKeys: true, hasGaloisKeys: false });
    expect(rec.origin).toBe('pyfhel');
    const pub = await engine.ckksPublic(rec.id);
    expect(pub.slots).toBe(4096);
    expect('secretKey' in pub.bundle).toBe(false);

    const other = testEngine();
    const otherRec = await other.engine.createCkksKey({ params: CKKS_DEFAULT_PARAMS, relinKeys: false }, { label: 'other' });
    const otherSecret = ((await other.keys.loadMaterial(otherRec.id)) as { secretKey: Uint8Array }).secretKey;
    const mixed = (await pyfhelFiles()).map((f) => (f.name === 'secretkey' ? { name: 'secretkey', bytes: otherSecret } : f));
    const before = (await keys.list()).length;
    const err = await engine.importCkksFiles(mixed, DEFAULT_KEY_FILE_NAMES, 'mixed').catch((e: AppError) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('INVALID_KEY');
    expect((await keys.list()).length).toBe(before);
    await expect(engine.importCkksFiles((await pyfhelFiles()).slice(0, 2), DEFAULT_KEY_FILE_NAMES, 'short')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  }, 120_000);

  it('self-test reports small errors for working keys and catches a wrong key', async () => {
    const id = await t.liuKey(256);
    const record = await liuRecord(id);
    const ok = await runSelfTest(engine, record, 5000);
    expect(ok.ok).toBe(true);
    expect(ok.maxError).toBeLessThan(1e-9);
    expect(ok.summary).toMatch(/^OK: max error .* over 5,000 values/);
    // An engine that decrypts with a different key must fail the test.
    const other = await t.liuKey(256);
    const broken = { ...engine, liuDecrypt: (_k: string, c: Float64Array) => engine.liuDecrypt(other, c) };
    expect((await runSelfTest(broken, record, 100)).ok).toBe(false);
    const ck = await runSelfTest(engine, await pyfhelKey(), 40);
    expect(ck.ok).toBe(true);
    expect(ck.maxError).toBeLessThan(1e-4);
    const fk = await engine.createFdhopeKey(Float64Array.from({ length: 100 }, (_, i) => i), { label: 'f' });
    expect((await runSelfTest(engine, fk, 500)).ok).toBe(true);
  });

  it('sample ciphertext text decrypts with the same key only', async () => {
    const a = await liuRecord(await t.liuKey(128));
    const b = await liuRecord(await t.liuKey(128));
    const values = parseSampleValues('1.5, -2.25 3.125\n1e3');
    const text = await encryptSample(engine, a, values);
    expect(text).not.toMatch(/1\.5|2\.25/);
    expect(Array.from(await decryptSample(engine, a, text)).map((v) => Number(v.toFixed(9)))).toEqual([1.5, -2.25, 3.125, 1000]);
    await expect(decryptSample(engine, b, text)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(decryptSample(engine, a, '{"format":"x"}')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => parseSampleValues('1, two')).toThrow(/value 2 is not a number/);
    const ckRec: KeyRecord = await pyfhelKey();
    const ckText = await encryptSample(engine, ckRec, Float64Array.from([0.25, -8]));
    const ck = await decryptSample(engine, ckRec, ckText);
    expect(Math.abs(ck[0] - 0.25) + Math.abs(ck[1] + 8)).toBeLessThan(1e-6);
  });

  it('exports and re-imports a backup of keys it holds, and forgets a deleted key', async () => {
    const id = await t.liuKey(128);
    const ct = await engine.liuEncrypt(id, Float64Array.of(3, -4));
    const backup = await engine.exportBackup('correct horse battery staple', [id]);
    expect(backup).not.toContain('triples');
    const fresh = testEngine();
    const report = await fresh.engine.importBackup(backup, 'correct horse battery staple');
    expect(report.added.map((r) => r.id)).toEqual([id]);
    expect(Array.from(await fresh.engine.liuDecrypt(id, ct)).map((v) => Math.round(v))).toEqual([3, -4]);
    await keys.delete(id);
    await engine.forget(id);
    await expect(engine.liuDecrypt(id, ct)).rejects.toMatchObject({ code: 'INVALID_KEY' });
  });
});
