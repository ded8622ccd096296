/**
 * CKKS key custody (D4; lib/rory/ckks-custody.ts; docs/protocol-additions.md §1): only the public
 * objects are uploaded, under a content-addressed id the worker verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ckks from '@/lib/crypto/ckks';
import { AppError } from '@/lib/errors';
import { ckksKeysId, ckksKeyObjectKeys, isCkksKeysId, loadCkksPublicBundle, uploadCkksPublicKeys } from '@/lib/rory/ckks-custody';
import { MemoryStore } from '../helpers/memory-store';

let keys: ckks.CkksKeySet;
let full: ckks.CkksKeySetBytes;

beforeAll(async () => {
  keys = await ckks.generateKeySet(ckks.CKKS_DEFAULT_PARAMS, { relinKeys: true });
  full = keys.toBytes();
});
afterAll(() => keys?.dispose());

const bytesOf = (s: MemoryStore, key: string) => {
  const e = s.entries.get(key);
  return e && e.kind === 'blob' ? ((e.value as { data: Uint8Array }).data as Uint8Array) : undefined;
};

describe('CKKS public key objects', () => {
  it('uploads ctx, pubkey and relinkey under a content-addressed id, and never the secret key', async () => {
    const store = new MemoryStore();
    // The full key set (with its secret key) is passed on purpose: the secret part must be ignored.
    const { id, uploaded } = await uploadCkksPublicKeys(store, full);
    expect(isCkksKeysId(id)).toBe(true);
    expect(id).toBe(await ckksKeysId(keys.publicBundle()));
    expect(uploaded.sort()).toEqual([`${id}ctx`, `${id}pubkey`, `${id}relinkey`].sort());
    expect([...store.entries.keys()].sort()).toEqual(uploaded.sort());
    expect(bytesOf(store, `${id}pubkey`)).toEqual(full.publicKey);
    const sk = full.secretKey.subarray(16, 80);
    for (const [, e] of store.entries) {
      const data = (e.value as { data: Uint8Array }).data;
      expect(Buffer.from(data).includes(Buffer.from(sk))).toBe(false);
    }
    expect(ckksKeyObjectKeys(id)).toEqual(expect.arrayContaining(uploaded));
  });

  it('a second upload of the same keys writes nothing; other keys get another id', async () => {
    const store = new MemoryStore();
    const a = await uploadCkksPublicKeys(store, full);
    const again = await uploadCkksPublicKeys(store, full);
    expect(again).toEqual({ id: a.id, uploaded: [] });
    const other = await ckks.generateKeySet(ckks.CKKS_DEFAULT_PARAMS, { relinKeys: true });
    try {
      expect(await ckksKeysId(other.publicBundle())).not.toBe(a.id);
    } finally {
      other.dispose();
    }
  });

  it('the worker side loads a bundle that evaluates, and refuses swapped objects or a bad id', async () => {
    const store = new MemoryStore();
    const { id } = await uploadCkksPublicKeys(store, full);
    const bundle = await loadCkksPublicBundle(store, id);
    expect(bundle).not.toHaveProperty('secretKey');
    const ev = await ckks.CkksEvaluator.fromPublicBundle(bundle);
    try {
      const x = Float64Array.of(1.5, -2, 3);
      const prod = ev.scoped(() => ev.save(ev.multiply(ev.load(keys.encryptRow(x)), ev.load(keys.encryptRow(x)))));
      const back = keys.decryptRows([prod], 3).data;
      for (let i = 0; i < 3; i++) expect(back[i]).toBeCloseTo(x[i] * x[i], 4);
    } finally {
      ev.dispose();
    }

    // Another key set's public key under this id: the digest no longer matches.
    const other = await ckks.generateKeySet(ckks.CKKS_DEFAULT_PARAMS, { relinKeys: false });
    try {
      const pk = other.publicBundle().publicKey;
      await store.putBlob(`${id}pubkey`, { dtype: 'uint8', shape: [pk.length], data: pk });
    } finally {
      other.dispose();
    }
    await expect(loadCkksPublicBundle(store, id)).rejects.toMatchObject({ code: 'INVALID_KEY' });
    await expect(loadCkksPublicBundle(store, 'ckks00')).rejects.toBeInstanceOf(AppError);
    await expect(loadCkksPublicBundle(new MemoryStore(), id)).rejects.toMatchObject({ code: 'INVALID_KEY' });
  });
});
