/**
 * The key store (lib/keystore): one contract suite over the in-memory and the IndexedDB backend
 * (fake-indexeddb under Node), then at-rest wrapping, tamper detection, persistence across
 * instances ("reload"), usage tracking and deletion reporting, Pyfhel file mapping and codecs.
 * CKKS material comes from the real Pyfhel files in ../shared/vectors/ckks-pyfhel (no SEAL needed
 * to store bytes).
 */
import 'fake-indexeddb/auto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import * as fdhope from '@/lib/crypto/fdhope';
import * as liu from '@/lib/crypto/liu';
import { seededRandomBytes } from '@/lib/crypto/random';
import {
  createIdbKeyStore,
  createKeyStore,
  createMemoryKeyStore,
  memoryBackend,
  upstreamKeySetFromFiles,
  upstreamPublicFiles,
  type CkksMaterial,
  type KeyMaterial,
  type KeyStore,
  type NewKeyRecord,
} from '@/lib/keystore';
import { decodeParts, encodeParts, fromBase64, toBase64 } from '@/lib/keystore/codec';
import { createWrappingKey, recordAad, unwrapSecret, wrapSecret } from '@/lib/keystore/envelope';
import { decodeMaterial, encodeMaterial } from '@/lib/keystore/material';

const PYFHEL = new URL('../../../shared/vectors/ckks-pyfhel/', import.meta.url);
const sameBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
  a !== undefined && b !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const sameBundle = (a: CkksMaterial['publicBundle'], b: CkksMaterial['publicBundle']) =>
  Object.keys(a).sort().join() === Object.keys(b).sort().join() &&
  (['ctx', 'publicKey', 'relinKeys', 'galoisKeys'] as const).every((k) => (a[k] === undefined && b[k] === undefined) || sameBytes(a[k], b[k]));
const pyfhelFile = async (name: string) => new Uint8Array(await readFile(new URL(name, PYFHEL)));

async function ckksMaterial(): Promise<CkksMaterial> {
  return {
    scheme: 'ckks',
    publicBundle: { ctx: await pyfhelFile('ctx'), publicKey: await pyfhelFile('pubkey'), relinKeys: await pyfhelFile('relinkey') },
    secretKey: await pyfhelFile('secretkey'),
  };
}

const liuKey = (seed = 1, level: 128 | 192 | 256 = 128) => liu.keygen(level, seededRandomBytes(seed));
const liuRecord = (label = 'liu key', level: 128 | 192 | 256 = 128): NewKeyRecord => ({
  scheme: 'liu',
  label,
  origin: 'generated',
  params: { level, m: liu.LIU_LEVELS[level].m, nbits: liu.LIU_LEVELS[level].nbits },
});
const fdhopeKey = () =>
  fdhope.keygen(
    Float64Array.from({ length: 60 }, (_, i) => Math.sin(i) * 5),
    { rb: seededRandomBytes(7) },
  );

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected a rejection');
}

let db = 0;
const freshDb = () => `rory-keys-test-${++db}-${Math.random().toString(36).slice(2)}`;

/** A clock that advances one second per reading: keys get distinct, ordered dates without sleeping. */
const tick = () => {
  let t = Date.UTC(2026, 0, 1);
  return () => (t += 1000);
};

const backends: [string, () => KeyStore][] = [
  ['memory', () => createMemoryKeyStore({ now: tick() })],
  ['indexeddb', () => createIdbKeyStore(freshDb(), undefined, { now: tick() })],
];

describe.each(backends)('KeyStore contract (%s)', (_name, make) => {
  it('adds, lists newest first, and returns the exact material', async () => {
    const store = make();
    const k1 = liuKey(1);
    const r1 = await store.add(liuRecord('first'), { scheme: 'liu', key: k1 });
    const fk = fdhopeKey();
    const r2 = await store.add(
      { scheme: 'fdhope', label: 'udm key', origin: 'generated', params: { datasetId: 'ds-1', intervals: fk.messagespace.length }, usedBy: [{ kind: 'dataset', id: 'ds-1' }] },
      { scheme: 'fdhope', key: fk },
    );
    expect(r1.id).toMatch(/^liu-/);
    expect(r2.id).toMatch(/^fdhope-/);
    expect(r1.id).not.toBe(r2.id);
    expect((await store.list()).map((r) => r.label)).toEqual(['udm key', 'first']);
    expect(await store.get(r1.id)).toEqual(r1);
    const m1 = await store.loadMaterial(r1.id);
    expect(m1).toEqual({ scheme: 'liu', key: k1 });
    const m2 = await store.loadMaterial(r2.id);
    expect(m2.scheme).toBe('fdhope');
    expect(fdhope.serialize((m2 as { key: fdhope.FdhopeKey }).key)).toBe(fdhope.serialize(fk));
  });

  it('stores a CKKS key set: public bundle without unwrapping, secret key only through loadMaterial', async () => {
    const store = make();
    const material = await ckksMaterial();
    const rec = await store.add(
      {
        scheme: 'ckks',
        label: 'pyfhel',
        origin: 'pyfhel',
        params: { parameterSet: 'default-128', polyModulusDegree: 8192, coeffModulusBits: [60, 40, 40, 60], scaleBits: 40, hasRelinKeys: true, hasGaloisKeys: false },
      },
      material,
    );
    const pub = await store.loadPublicBundle(rec.id);
    expect(sameBundle(pub, material.publicBundle)).toBe(true);
    expect('secretKey' in pub).toBe(false);
    const loaded = (await store.loadMaterial(rec.id)) as CkksMaterial;
    expect(loaded.scheme).toBe('ckks');
    expect(sameBytes(loaded.secretKey, material.secretKey)).toBe(true);
    expect(sameBundle(loaded.publicBundle, material.publicBundle)).toBe(true);
  });

  it('refuses material of another scheme and unknown ids', async () => {
    const store = make();
    expect((await rejection(store.add(liuRecord(), { scheme: 'fdhope', key: fdhopeKey() }))).code).toBe('INVALID_ARGUMENT');
    const missing = await rejection(store.loadMaterial('liu-does-not-exist'));
    expect(missing.code).toBe('INVALID_KEY');
    expect(missing.userMessage).toMatch(/no longer in this browser/);
    const rec = await store.add(liuRecord(), { scheme: 'liu', key: liuKey() });
    expect((await rejection(store.loadPublicBundle(rec.id))).code).toBe('INVALID_ARGUMENT');
  });

  it('tracks usage idempotently and reports what deletion makes undecryptable', async () => {
    const store = make();
    const rec = await store.add(liuRecord('shared key'), { scheme: 'liu', key: liuKey() });
    expect((await store.deletionImpact(rec.id)).undecryptable).toEqual([]);
    await store.addUsage(rec.id, { kind: 'job', id: 'job-1', label: 'iris k-means' });
    await store.addUsage(rec.id, { kind: 'job', id: 'job-1', label: 'iris k-means (renamed)' });
    await Promise.all([store.addUsage(rec.id, { kind: 'job', id: 'job-2' }), store.addUsage(rec.id, { kind: 'dataset', id: 'ds-9', label: 'wine' })]);
    const impact = await store.deletionImpact(rec.id);
    expect(impact.undecryptable.map((u) => `${u.kind}:${u.id}`).sort()).toEqual(['dataset:ds-9', 'job:job-1', 'job:job-2']);
    expect(impact.undecryptable.find((u) => u.id === 'job-1')?.label).toBe('iris k-means (renamed)');
    expect(impact.summary).toMatch(/can no longer be decrypted: .*job “iris k-means \(renamed\)”/);
    await store.removeUsage(rec.id, { kind: 'job', id: 'job-2' });
    const deleted = await store.delete(rec.id);
    expect(deleted.record.id).toBe(rec.id);
    expect(deleted.undecryptable.map((u) => u.id).sort()).toEqual(['ds-9', 'job-1']);
    expect(await store.get(rec.id)).toBeUndefined();
    expect(await store.list()).toEqual([]);
    expect((await rejection(store.loadMaterial(rec.id))).code).toBe('INVALID_KEY');
    expect((await rejection(store.delete(rec.id))).code).toBe('INVALID_KEY');
  });

  it('restore keeps id and date, and does not overwrite an existing key', async () => {
    const store = make();
    const key = liuKey(3);
    const rec = await store.add(liuRecord('original'), { scheme: 'liu', key });
    const other = createMemoryKeyStore();
    expect(await other.restore(rec, { scheme: 'liu', key })).toBe('added');
    expect(await other.get(rec.id)).toEqual(rec);
    expect(await store.restore({ ...rec, label: 'changed' }, { scheme: 'liu', key: liuKey(4) })).toBe('exists');
    expect((await store.get(rec.id))?.label).toBe('original');
    expect(await store.loadMaterial(rec.id)).toEqual({ scheme: 'liu', key });
  });

  it('renames with a cleaned label', async () => {
    const store = make();
    const rec = await store.add(liuRecord('  a  '), { scheme: 'liu', key: liuKey() });
    expect(rec.label).toBe('a');
    expect((await store.rename(rec.id, '   ')).label).toBe('Unnamed key');
  });
});

describe('wrapping at rest', () => {
  it('stores only ciphertext under a non-extractable AES-GCM key', async () => {
    const store = createMemoryKeyStore();
    const key = liuKey(11, 256);
    const rec = await store.add(liuRecord('x', 256), { scheme: 'liu', key });
    const kek = store.backend.entries.get('kek:v1') as CryptoKey;
    expect(kek).toBeInstanceOf(CryptoKey);
    expect(kek.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('raw', kek)).rejects.toThrow();
    const env = store.backend.entries.get(`sec:${rec.id}`) as { v: number; alg: string; iv: Uint8Array; ct: Uint8Array };
    expect(env.v).toBe(1);
    expect(env.alg).toBe('AES-GCM');
    expect(env.iv.byteLength).toBe(12);
    // No key component appears in the stored bytes, as text or as bytes of the plaintext encoding.
    const plain = encodeMaterial({ scheme: 'liu', key }).secret;
    const ctText = Buffer.from(env.ct).toString('latin1');
    for (const t of key.triples) for (const c of t) expect(ctText.includes(String(c))).toBe(false);
    expect(Buffer.from(env.ct).includes(Buffer.from(plain.subarray(8, 40)))).toBe(false);
    expect(JSON.stringify(store.backend.entries.get(`rec:${rec.id}`))).not.toMatch(/triples/);
  });

  it('the KEK is created once and survives a new store instance over the same database', async () => {
    const name = freshDb();
    const a = createIdbKeyStore(name);
    const key = liuKey(21);
    const rec = await a.add(liuRecord('persisted'), { scheme: 'liu', key });
    const b = createIdbKeyStore(name); // a page reload
    expect((await b.list()).map((r) => r.id)).toEqual([rec.id]);
    expect(await b.loadMaterial(rec.id)).toEqual({ scheme: 'liu', key });
  });

  it('concurrent first use by two instances installs one KEK', async () => {
    const backend = memoryBackend();
    const a = createKeyStore(backend);
    const b = createKeyStore(backend);
    const [ra, rb] = await Promise.all([
      a.add(liuRecord('a'), { scheme: 'liu', key: liuKey(1) }),
      b.add(liuRecord('b'), { scheme: 'liu', key: liuKey(2) }),
    ]);
    expect(await b.loadMaterial(ra.id)).toEqual({ scheme: 'liu', key: liuKey(1) });
    expect(await a.loadMaterial(rb.id)).toEqual({ scheme: 'liu', key: liuKey(2) });
  });

  it('detects a flipped bit, an envelope moved to another record, and unknown versions', async () => {
    const store = createMemoryKeyStore();
    const r1 = await store.add(liuRecord('one'), { scheme: 'liu', key: liuKey(1) });
    const r2 = await store.add(liuRecord('two'), { scheme: 'liu', key: liuKey(2) });
    const entries = store.backend.entries;
    const env1 = entries.get(`sec:${r1.id}`) as { v: number; iv: Uint8Array; ct: Uint8Array };
    const env2 = entries.get(`sec:${r2.id}`);

    const flipped = { ...env1, ct: env1.ct.slice() };
    flipped.ct[5] ^= 0x01;
    entries.set(`sec:${r1.id}`, flipped);
    const e1 = await rejection(store.loadMaterial(r1.id));
    expect(e1.code).toBe('KEYSTORE_FAILURE');
    expect(e1.userMessage).toMatch(/damaged or was changed/);

    entries.set(`sec:${r1.id}`, env2); // swapped between records: AAD binds the id
    expect((await rejection(store.loadMaterial(r1.id))).code).toBe('KEYSTORE_FAILURE');

    entries.set(`sec:${r1.id}`, { ...env1, v: 2 });
    expect((await rejection(store.loadMaterial(r1.id))).message).toMatch(/unknown version/);

    entries.set(`sec:${r1.id}`, env1);
    expect(await store.loadMaterial(r1.id)).toEqual({ scheme: 'liu', key: liuKey(1) });
    expect(await store.loadMaterial(r2.id)).toEqual({ scheme: 'liu', key: liuKey(2) });
  });

  it('an envelope wrapped under another KEK does not open', async () => {
    const aad = recordAad('liu-x', 'liu');
    const env = await wrapSecret(await createWrappingKey(), new Uint8Array([1, 2, 3]), aad);
    expect(await unwrapSecret(await createWrappingKey(), env, aad).catch((e: AppError) => e.code)).toBe('KEYSTORE_FAILURE');
  });

  it('a damaged stored record is skipped by list() instead of breaking it', async () => {
    const store = createMemoryKeyStore();
    await store.add(liuRecord('ok'), { scheme: 'liu', key: liuKey() });
    store.backend.entries.set('rec:junk', { id: 'junk', scheme: 'rsa' });
    expect((await store.list()).map((r) => r.label)).toEqual(['ok']);
  });
});

describe('material encoding', () => {
  it('round-trips every scheme and validates on decode', async () => {
    const materials: KeyMaterial[] = [{ scheme: 'liu', key: liuKey(5, 192) }, { scheme: 'fdhope', key: fdhopeKey() }, await ckksMaterial()];
    for (const m of materials) {
      const { secret, publicPart } = encodeMaterial(m);
      const back = decodeMaterial(m.scheme, secret, publicPart);
      if (m.scheme === 'ckks' && back.scheme === 'ckks') {
        expect(sameBytes(back.secretKey, m.secretKey) && sameBundle(back.publicBundle, m.publicBundle)).toBe(true);
      } else {
        expect(back).toEqual(m);
      }
    }
    const { secret } = encodeMaterial({ scheme: 'liu', key: liuKey() });
    expect(() => decodeMaterial('fdhope', secret)).toThrow(AppError);
    const badKey = encodeParts({ scheme: 'liu', key: { level: 128, m: 3, nbits: 15, triples: [[0, 0, 0], [0, 0, 0], [0, 0, 0]] } });
    expect(() => decodeMaterial('liu', badKey)).toThrow(/cannot decrypt/);
    expect(() => decodeMaterial('ckks', new Uint8Array(40), encodeMaterial(materials[2]).publicPart)).toThrow(AppError);
  });
});

describe('upstream key files', () => {
  it('maps Pyfhel files by name (settings names, paths ignored) and names what is missing', async () => {
    const m = await ckksMaterial();
    const files = [
      { name: 'keys128/ctx', bytes: m.publicBundle.ctx },
      { name: 'keys128/pk.bin', bytes: m.publicBundle.publicKey },
      { name: 'keys128/sk.bin', bytes: m.secretKey },
      { name: 'keys128/relinkey', bytes: m.publicBundle.relinKeys! },
      { name: 'README.md', bytes: new Uint8Array(3) },
    ];
    const set = upstreamKeySetFromFiles(files, { pubkey: 'pk.bin', secretkey: 'sk.bin' });
    expect(set.secretKey).toBe(m.secretKey);
    expect(sameBundle(set.publicBundle, m.publicBundle)).toBe(true);
    const err = (() => {
      try {
        upstreamKeySetFromFiles(files.slice(0, 2), { pubkey: 'pk.bin', secretkey: 'sk.bin' });
      } catch (e) {
        return e as AppError;
      }
    })();
    expect(err?.userMessage).toMatch(/Missing: sk\.bin/);
  });

  it('exports public files only, with the configured public key name', async () => {
    const m = await ckksMaterial();
    const files = upstreamPublicFiles({ ...m.publicBundle, galoisKeys: new Uint8Array([9]) }, { pubkey: 'public.key' });
    expect(files.map((f) => f.name)).toEqual(['ctx', 'public.key', 'relinkey', 'rotatekey']);
    for (const f of files) expect(Buffer.from(f.bytes).equals(Buffer.from(m.secretKey))).toBe(false);
  });
});

describe('codec', () => {
  it('base64 matches Node and rejects malformed input', () => {
    const rb = seededRandomBytes(3);
    for (const len of [0, 1, 2, 3, 4, 5, 100, 70000]) {
      const b = new Uint8Array(len);
      rb(b);
      const s = toBase64(b);
      expect(s).toBe(Buffer.from(b).toString('base64'));
      expect(fromBase64(s)).toEqual(b);
    }
    for (const bad of ['a', 'ab=c', 'ab!d', 'abc=====', 'ä000']) expect(fromBase64(bad)).toBeNull();
  });

  it('parts containers reject truncation and trailing bytes', () => {
    const packed = encodeParts({ a: 1 }, { x: new Uint8Array([1, 2, 3]), y: new Uint8Array(0) });
    const parts = decodeParts(packed)!;
    expect(parts.json).toEqual({ a: 1 });
    expect([...parts.blobs.x]).toEqual([1, 2, 3]);
    expect(parts.blobs.y.length).toBe(0);
    expect(decodeParts(packed.subarray(0, packed.length - 1))).toBeNull();
    expect(decodeParts(Uint8Array.from([...packed, 0]))).toBeNull();
    expect(decodeParts(new Uint8Array([1, 2, 3]))).toBeNull();
  });
});
