/**
 * Keys in use through the in-process `CryptoEngine` (workers/engine.ts), the Node twin of the
 * browser worker pool: chunked Liu/FDHOPE round trips with progress and abort, CKKS with the real
 * Pyfhel key files (../shared/vectors/ckks-pyfhel), upstream import through `ckksInspect`, the
 * self-test and the "Try" sample format. The browser pool itself is covered by tests/e2e/keys.test.ts.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { CKKS_DEFAULT_PARAMS } from '@/lib/crypto/ckks';
import * as fdhope from '@/lib/crypto/fdhope';
import * as liu from '@/lib/crypto/liu';
import { seededRandomBytes } from '@/lib/crypto/random';
import { createMemoryKeyStore, importUpstreamKeySet, upstreamKeySetFromFiles, type CkksMaterial } from '@/lib/keystore';
import { createInlineCryptoEngine, type Progress } from '@/workers/engine';
import { decryptSample, encryptSample, parseSampleValues } from '@/workers/sample';
import { runSelfTest } from '@/workers/self-test';

const PYFHEL = new URL('../../../shared/vectors/ckks-pyfhel/', import.meta.url);
const file = async (name: string) => new Uint8Array(await readFile(new URL(name, PYFHEL)));
const engine = createInlineCryptoEngine();
afterAll(() => engine.dispose());

async function pyfhelMaterial(): Promise<CkksMaterial> {
  return {
    scheme: 'ckks',
    publicBundle: { ctx: await file('ctx'), publicKey: await file('pubkey'), relinKeys: await file('relinkey') },
    secretKey: await file('secretkey'),
  };
}

describe('inline crypto engine', () => {
  it('Liu: chunked encryption equals the scalar definition of decryption, with progress', async () => {
    const key = liu.keygen(192, seededRandomBytes(1));
    const plain = Float64Array.from({ length: 50_001 }, (_, i) => Math.sin(i) * 1e3);
    const events: Progress[] = [];
    const ct = await engine.liuEncrypt(key, plain, { onProgress: (p) => events.push(p) });
    expect(ct.length).toBe(plain.length * 4);
    expect(events.length).toBeGreaterThan(1);
    expect(events.at(-1)).toEqual({ done: plain.length, total: plain.length, stage: undefined });
    // Spot-check against the library's scalar decryption (not only our own round trip).
    for (const j of [0, 4095, 4096, 50_000]) expect(liu.decrypt(key, ct.subarray(j * 4, j * 4 + 4))).toBeCloseTo(plain[j], 8);
    const back = await engine.liuDecrypt(key, ct);
    let max = 0;
    for (let i = 0; i < plain.length; i++) max = Math.max(max, Math.abs(back[i] - plain[i]));
    expect(max).toBeLessThan(1e-9);
    expect(await engine.liuDecrypt(key, ct.subarray(0, 7)).catch((e: AppError) => e.code)).toBe('SHAPE_MISMATCH');
  });

  it('honours an AbortSignal between chunks', async () => {
    const key = liu.keygen(128, seededRandomBytes(2));
    const ctrl = new AbortController();
    const p = engine.liuEncrypt(key, new Float64Array(200_000), { signal: ctrl.signal, onProgress: () => ctrl.abort() });
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    ctrl.abort();
    await expect(engine.liuKeygen(128, { signal: ctrl.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('FDHOPE keygen and encryption keep order', async () => {
    const values = Float64Array.from({ length: 400 }, (_, i) => Math.abs(Math.cos(i)) * 9);
    const key = await engine.fdhopeKeygen(values);
    expect(fdhope.validateKey(key)).toBeTruthy();
    const sorted = Float64Array.from(values).sort();
    const ct = await engine.fdhopeEncrypt(key, sorted, 0);
    for (let i = 1; i < ct.length; i++) expect(ct[i]).toBeGreaterThanOrEqual(ct[i - 1]);
  });

  it('CKKS: encrypts rows with the Pyfhel public bundle and decrypts with the Pyfhel secret key', async () => {
    const m = await pyfhelMaterial();
    const rows = Float64Array.from([0.5, -1.25, 2, 10, 0, -0.001, 3.75, 42, -42]);
    const cts = await engine.ckksEncryptRows(m.publicBundle, rows, 3);
    expect(cts).toHaveLength(3);
    const back = await engine.ckksDecryptRows(m, cts, 3);
    for (let i = 0; i < rows.length; i++) expect(Math.abs(back[i] - rows[i])).toBeLessThan(1e-6);
    // A Pyfhel ciphertext (E3 row 0, bytes 10..131195 of the pickle) decrypts too.
    const e3 = await file('e3_matrix_rows.pkl');
    const row0 = await engine.ckksDecryptRows(m, [e3.slice(10, 10 + 131185)], 5);
    [0.5, -1.25, 2.0, 3.75, -4.5].forEach((v, i) => expect(Math.abs(row0[i] - v)).toBeLessThan(1e-6));
  });

  it('CKKS: given the secret material, encrypts symmetrically (seeded: about half the bytes) and decrypts the same', async () => {
    const m = await pyfhelMaterial();
    const rows = Float64Array.from([0.5, -1.25, 2, 10, 0, -0.001]);
    const pub = await engine.ckksEncryptRows(m.publicBundle, rows, 3);
    const sym = await engine.ckksEncryptRows(m, rows, 3);
    for (let i = 0; i < 2; i++) expect(sym[i].length).toBeLessThan(pub[i].length * 0.55);
    const back = await engine.ckksDecryptRows(m, sym, 3);
    for (let i = 0; i < rows.length; i++) expect(Math.abs(back[i] - rows[i])).toBeLessThan(1e-6);
  });

  it('imports upstream key files after checking them, and refuses a secret key of another key set', async () => {
    const store = createMemoryKeyStore();
    const m = await pyfhelMaterial();
    const files = [
      { name: 'ctx', bytes: m.publicBundle.ctx },
      { name: 'pubkey', bytes: m.publicBundle.publicKey },
      { name: 'secretkey', bytes: m.secretKey },
      { name: 'relinkey', bytes: m.publicBundle.relinKeys! },
    ];
    const rec = await importUpstreamKeySet(store, upstreamKeySetFromFiles(files), (b) => engine.ckksInspect(b), 'upstream');
    expect(rec.params).toEqual({ parameterSet: 'default-128', polyModulusDegree: 8192, coeffModulusBits: [60, 40, 40, 60], scaleBits: 40, hasRelinKeys: true, hasGaloisKeys: false });
    expect(rec.origin).toBe('pyfhel');

    const other = await engine.ckksKeygen({ params: CKKS_DEFAULT_PARAMS, relinKeys: false });
    const mixed = files.map((f) => (f.name === 'secretkey' ? { name: 'secretkey', bytes: other.secretKey } : f));
    const err = await importUpstreamKeySet(store, upstreamKeySetFromFiles(mixed), (b) => engine.ckksInspect(b), 'mixed').catch((e: AppError) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('INVALID_KEY');
    expect((await store.list()).map((r) => r.label)).toEqual(['upstream']);
  }, 120_000);

  it('self-test reports small errors for working keys and catches a wrong key', async () => {
    const key = liu.keygen(256, seededRandomBytes(4));
    const ok = await runSelfTest(engine, { scheme: 'liu', key }, 5000);
    expect(ok.ok).toBe(true);
    expect(ok.maxError).toBeLessThan(1e-9);
    expect(ok.summary).toMatch(/^OK: max error .* over 5,000 values/);
    // An engine that decrypts with a different key must fail the test.
    const other = liu.keygen(256, seededRandomBytes(5));
    const broken = { ...engine, liuDecrypt: (_k: liu.LiuSecretKey, c: Float64Array) => engine.liuDecrypt(other, c) };
    expect((await runSelfTest(broken, { scheme: 'liu', key }, 100)).ok).toBe(false);
    const ck = await runSelfTest(engine, await pyfhelMaterial(), 40);
    expect(ck.ok).toBe(true);
    expect(ck.maxError).toBeLessThan(1e-4);
    const fk = await engine.fdhopeKeygen(Float64Array.from({ length: 100 }, (_, i) => i));
    expect((await runSelfTest(engine, { scheme: 'fdhope', key: fk }, 500)).ok).toBe(true);
  });

  it('sample ciphertext text decrypts with the same key only', async () => {
    const key = liu.keygen(128, seededRandomBytes(6));
    const values = parseSampleValues('1.5, -2.25 3.125\n1e3');
    const text = await encryptSample(engine, 'liu-a', { scheme: 'liu', key }, values);
    expect(text).not.toMatch(/1\.5|2\.25/);
    expect(Array.from(await decryptSample(engine, 'liu-a', { scheme: 'liu', key }, text)).map((v) => Number(v.toFixed(9)))).toEqual([1.5, -2.25, 3.125, 1000]);
    await expect(decryptSample(engine, 'liu-b', { scheme: 'liu', key }, text)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(decryptSample(engine, 'liu-a', { scheme: 'liu', key }, '{"format":"x"}')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => parseSampleValues('1, two')).toThrow(/value 2 is not a number/);
    const m = await pyfhelMaterial();
    const ckText = await encryptSample(engine, 'ckks-a', m, Float64Array.from([0.25, -8]));
    const ck = await decryptSample(engine, 'ckks-a', m, ckText);
    expect(Math.abs(ck[0] - 0.25) + Math.abs(ck[1] + 8)).toBeLessThan(1e-6);
  });
});
