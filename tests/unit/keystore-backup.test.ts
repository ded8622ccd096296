/**
 * Passphrase-protected key backups (lib/keystore/backup.ts): round trip of every scheme into a
 * fresh store (as after clearing the browser), the envelope format, wrong passphrase, corrupted
 * and foreign files, and the passphrase rules.
 */
import 'fake-indexeddb/auto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import * as fdhope from '@/lib/crypto/fdhope';
import * as liu from '@/lib/crypto/liu';
import { seededRandomBytes } from '@/lib/crypto/random';
import {
  BACKUP_PBKDF2_ITERATIONS,
  createIdbKeyStore,
  createMemoryKeyStore,
  exportBackup,
  importBackup,
  parseBackup,
  passphraseStrength,
  type BackupEnvelope,
  type CkksMaterial,
  type KeyStore,
} from '@/lib/keystore';
import { fromBase64, toBase64 } from '@/lib/keystore/codec';

const PASS = 'correct horse battery staple';
const PYFHEL = new URL('../../../shared/vectors/ckks-pyfhel/', import.meta.url);
const file = async (name: string) => new Uint8Array(await readFile(new URL(name, PYFHEL)));
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

async function populated(): Promise<{ store: KeyStore; ids: string[]; liuKey: liu.LiuSecretKey; fdKey: fdhope.FdhopeKey; ckks: CkksMaterial }> {
  const store = createMemoryKeyStore();
  const liuKey = liu.keygen(192, seededRandomBytes(42));
  const fdKey = fdhope.keygen(Float64Array.from({ length: 50 }, (_, i) => (i * 7) % 13), { rb: seededRandomBytes(5) });
  const ckks: CkksMaterial = {
    scheme: 'ckks',
    publicBundle: { ctx: await file('ctx'), publicKey: await file('pubkey'), relinKeys: await file('relinkey') },
    secretKey: await file('secretkey'),
  };
  const a = await store.add(
    { scheme: 'liu', label: 'legacy', origin: 'generated', params: { level: 192, m: 4, nbits: 16 }, usedBy: [{ kind: 'job', id: 'job-7', label: 'wine' }] },
    { scheme: 'liu', key: liuKey },
  );
  const b = await store.add({ scheme: 'fdhope', label: 'udm', origin: 'generated', params: { datasetId: 'ds-2', intervals: fdKey.messagespace.length } }, { scheme: 'fdhope', key: fdKey });
  const c = await store.add(
    {
      scheme: 'ckks',
      label: 'upstream',
      origin: 'pyfhel',
      params: { parameterSet: 'default-128', polyModulusDegree: 8192, coeffModulusBits: [60, 40, 40, 60], scaleBits: 40, hasRelinKeys: true, hasGaloisKeys: false },
    },
    ckks,
  );
  return { store, ids: [a.id, b.id, c.id], liuKey, fdKey, ckks };
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected a rejection');
}

describe('key backup', () => {
  it('round-trips every scheme into a fresh IndexedDB store, then skips duplicates', async () => {
    const { store, ids, liuKey, fdKey, ckks } = await populated();
    const text = await exportBackup(store, PASS);
    const env = JSON.parse(text) as BackupEnvelope;
    expect(Object.keys(env).sort()).toEqual(['cipher', 'ciphertext', 'format', 'kdf', 'version']);
    expect(env.format).toBe('rory-keys-backup');
    expect(env.version).toBe(1);
    expect(env.kdf).toMatchObject({ name: 'PBKDF2', hash: 'SHA-256', iterations: BACKUP_PBKDF2_ITERATIONS });
    expect(env.kdf.iterations).toBeGreaterThanOrEqual(600_000);
    expect(fromBase64(env.kdf.salt)?.length).toBe(16);
    expect(env.cipher.name).toBe('AES-GCM');
    expect(fromBase64(env.cipher.iv)?.length).toBe(12);
    // Labels and usage stay inside the ciphertext: nothing outside it names them, and the
    // ciphertext is base64 of an AES-GCM output (random letters could spell a label by chance).
    const { ciphertext, ...clear } = env;
    expect(JSON.stringify(clear)).not.toMatch(/legacy|wine|upstream|job-7/);
    expect(ciphertext).toMatch(/^[A-Za-z0-9+/]+=*$/);

    const fresh = createIdbKeyStore(`backup-target-${Math.random()}`);
    const report = await importBackup(fresh, text, PASS);
    expect(report.added.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(report.skipped).toEqual([]);
    expect(await fresh.list()).toEqual(await store.list());
    expect(await fresh.loadMaterial(ids[0])).toEqual({ scheme: 'liu', key: liuKey });
    const fd = await fresh.loadMaterial(ids[1]);
    expect(fd.scheme === 'fdhope' && fdhope.serialize(fd.key)).toBe(fdhope.serialize(fdKey));
    const ck = (await fresh.loadMaterial(ids[2])) as CkksMaterial;
    expect(sameBytes(ck.secretKey, ckks.secretKey)).toBe(true);
    expect(sameBytes(ck.publicBundle.relinKeys!, ckks.publicBundle.relinKeys!)).toBe(true);
    expect((await fresh.get(ids[0]))?.usedBy).toEqual([{ kind: 'job', id: 'job-7', label: 'wine' }]);

    // A Liu ciphertext made before the export decrypts with the restored key.
    const ct = liu.encrypt(liuKey, 12.5, seededRandomBytes(9));
    const restored = await fresh.loadMaterial(ids[0]);
    expect(restored.scheme === 'liu' && liu.decrypt(restored.key, ct)).toBeCloseTo(12.5, 9);

    const again = await importBackup(fresh, text, PASS);
    expect(again.added).toEqual([]);
    expect(again.skipped.map((r) => r.id).sort()).toEqual([...ids].sort());
  });

  it('exports a subset by id, and refuses unknown ids', async () => {
    const { store, ids } = await populated();
    const text = await exportBackup(store, PASS, { ids: [ids[1]] });
    const fresh = createMemoryKeyStore();
    expect((await importBackup(fresh, text, PASS)).added.map((r) => r.id)).toEqual([ids[1]]);
    expect((await rejection(exportBackup(store, PASS, { ids: ['liu-nope'] }))).code).toBe('INVALID_KEY');
  });

  it('a wrong passphrase is refused with a clear message and nothing is imported', async () => {
    const { store } = await populated();
    const text = await exportBackup(store, PASS);
    const fresh = createMemoryKeyStore();
    const err = await rejection(importBackup(fresh, text, 'correct horse battery stapler'));
    expect(err.code).toBe('BACKUP_PASSPHRASE');
    expect(err.userMessage).toMatch(/^Wrong passphrase/);
    expect(err.userMessage).toMatch(/case-sensitive/);
    expect(await fresh.list()).toEqual([]);
    // Passphrases are compared after NFC normalisation: a decomposed é matches the composed one.
    const text2 = await exportBackup(store, 'caf\u00e9 au lait, merci');
    expect((await importBackup(createMemoryKeyStore(), text2, 'cafe\u0301 au lait, merci')).added).toHaveLength(3);
  });

  it('corrupted or foreign files are BACKUP_INVALID; modified ciphertext or header fail authentication', async () => {
    const { store } = await populated();
    const text = await exportBackup(store, PASS, { ids: [(await store.list())[2].id] });
    const env = JSON.parse(text) as BackupEnvelope;
    const invalid: [string, string][] = [
      ['not json', text.slice(0, text.length / 2)],
      ['foreign json', JSON.stringify({ name: 'settings', NUM_CHUNKS: 4 })],
      ['array', '[]'],
      ['newer version', JSON.stringify({ ...env, version: 2 })],
      ['weak kdf', JSON.stringify({ ...env, kdf: { ...env.kdf, iterations: 1000 } })],
      ['other kdf', JSON.stringify({ ...env, kdf: { ...env.kdf, name: 'scrypt' } })],
      ['bad salt', JSON.stringify({ ...env, kdf: { ...env.kdf, salt: 'AAAA' } })],
      ['bad iv', JSON.stringify({ ...env, cipher: { ...env.cipher, iv: '!!' } })],
      ['empty ciphertext', JSON.stringify({ ...env, ciphertext: '' })],
      ['ciphertext not base64', JSON.stringify({ ...env, ciphertext: 'abc' })],
    ];
    for (const [what, bad] of invalid) {
      const err = await rejection(importBackup(createMemoryKeyStore(), bad, PASS));
      expect(err.code, what).toBe('BACKUP_INVALID');
      expect(err.userMessage.length, what).toBeGreaterThan(20);
    }
    expect((await rejection(importBackup(createMemoryKeyStore(), JSON.stringify({ ...env, version: 2 }), PASS))).userMessage).toMatch(/newer or unknown version/);

    const ct = fromBase64(env.ciphertext)!;
    ct[ct.length - 40] ^= 0x80;
    const tampered = JSON.stringify({ ...env, ciphertext: toBase64(ct) });
    expect((await rejection(importBackup(createMemoryKeyStore(), tampered, PASS))).code).toBe('BACKUP_PASSPHRASE');
    const truncated = JSON.stringify({ ...env, ciphertext: toBase64(fromBase64(env.ciphertext)!.subarray(0, 120)) });
    expect((await rejection(importBackup(createMemoryKeyStore(), truncated, PASS))).code).toBe('BACKUP_PASSPHRASE');
    // Raising the iteration count is allowed by the format but is authenticated data.
    const moreIterations = JSON.stringify({ ...env, kdf: { ...env.kdf, iterations: env.kdf.iterations + 1 } });
    expect((await rejection(importBackup(createMemoryKeyStore(), moreIterations, PASS))).code).toBe('BACKUP_PASSPHRASE');
    expect(parseBackup(text).format).toBe('rory-keys-backup');
  });

  it('refuses short passphrases and low iteration counts on export', async () => {
    const { store } = await populated();
    const err = await rejection(exportBackup(store, 'short'));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.userMessage).toMatch(/at least 10 characters/);
    expect((await rejection(exportBackup(store, PASS, { iterations: 10_000 }))).code).toBe('INVALID_ARGUMENT');
  });

  it('rates passphrases', () => {
    expect(passphraseStrength('abc').label).toBe('too short');
    expect(passphraseStrength('aaaaaaaaaaaaaaaa').score).toBeLessThanOrEqual(1);
    expect(passphraseStrength('password123').score).toBeLessThanOrEqual(1);
    expect(passphraseStrength('correct horse battery staple').score).toBeGreaterThanOrEqual(3);
    expect(passphraseStrength('Tr0ub4dor&3-Fjord-Kettle-Mango').score).toBe(4);
  });
});
