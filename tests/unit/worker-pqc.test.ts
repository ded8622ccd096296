/**
 * The worker's CKKS routes in-process (server/worker/algorithms/*-pqc; docs/protocol-additions.md §1–4):
 * real CKKS, in-memory storage. Whole jobs run against the real cloud in
 * tests/integration/cloud-pqc.test.ts; here: one step's arithmetic and the error contract.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ckks from '@/lib/crypto/ckks';
import { matrix } from '@/lib/data/matrix';
import { udm } from '@/lib/data/udm';
import { uploadCkksPublicKeys } from '@/lib/rory/ckks-custody';
import { CiphertextCache } from '@/server/worker/ckks';
import { assign } from '@/server/worker/algorithms/interactive-kmeans/compute';
import type { RouteHandler } from '@/server/worker/kit';
import { workerRoutes } from '../helpers/in-process-worker';
import { MemoryStore } from '../helpers/memory-store';

let keys: ckks.CkksKeySet;
let store: MemoryStore;
let keysId: string;
let routes: { skmeans: RouteHandler; sknn: RouteHandler };

// 8 records, 3 attributes; the k = 2 seeds are records 0 and 1 (both near the origin).
const D = matrix(Float64Array.from([0, 0, 1, 0.5, 0.2, 1, 0.1, 0.1, 0.9, 10, 10, 9, 10.5, 9.8, 9, 9.9, 10.2, 9.5, 0.3, 0.1, 1.2, 10.1, 9.9, 9.1]), [8, 3]);
const P = 'Ptest';

const reader = (h: Record<string, string>) => (name: string) => {
  const k = Object.keys(h).find((x) => x.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : h[k];
};

beforeAll(async () => {
  keys = await ckks.generateKeySet(ckks.CKKS_DEFAULT_PARAMS, { relinKeys: true });
  store = new MemoryStore();
  keysId = (await uploadCkksPublicKeys(store, keys.publicBundle())).id;
  await store.putBytesList(`encrypted${P}`, keys.encryptRows(D));
  await store.putNdarray(`${P}udm`, { dtype: 'float64', shape: [8, 8, 3], data: udm(D).data });
  const all = workerRoutes(store);
  routes = { skmeans: all.get('/clustering/pqc/skmeans')!, sknn: all.get('/classification/pqc/sknn/predict')! };
});
afterAll(() => {
  keys?.dispose();
});

const step1Headers = (extra: Record<string, string> = {}) => ({
  'Step-Index': '1',
  'Clustering-Status': '1',
  'Plaintext-Matrix-Id': P,
  'Encrypted-Matrix-Shape': '(8, 3)',
  'Encrypted-Matrix-Dtype': 'float32',
  'Num-Chunks': '2',
  K: '2',
  Iterations: '0',
  'Ckks-Keys-Id': keysId,
  ...extra,
});

describe('SKMeans-PQC step 1', () => {
  it('labels as the Liu worker on the same UDM; the shift decrypts to seeds − member means', async () => {
    const reply = await routes.skmeans(reader(step1Headers()));
    expect(reply.status).toBe(200);
    const body = reply.body as { label_vector: number[]; encrypted_shift_matrix_id: string };
    const labels = assign(udm(D), 2);
    expect(body.label_vector).toEqual(Array.from(labels));
    expect(body.encrypted_shift_matrix_id).toBe(`${P}encryptedshiftmatrix`);
    const shift = keys.decryptRows(await store.getBytesList(`${P}encryptedshiftmatrix`), 3);
    for (let y = 0; y < 2; y++) {
      const members = [...labels.keys()].filter((x) => labels[x] === y);
      for (let z = 0; z < 3; z++) {
        const mean = members.reduce((s, x) => s + D.data[x * 3 + z], 0) / members.length;
        expect(Math.abs(shift.data[y * 3 + z] - (D.data[y * 3 + z] - mean))).toBeLessThan(1e-5);
      }
    }
  });

  it('needs Ckks-Keys-Id (400, says it never loads a secret key) and refuses ids that are not content-addressed', async () => {
    const h = step1Headers();
    delete (h as Record<string, string>)['Ckks-Keys-Id'];
    const r = await routes.skmeans(reader(h));
    expect(r.status).toBe(400);
    expect(r.headers?.['Error-Message']).toMatch(/never loads a secret key/);
    expect((await routes.skmeans(reader(step1Headers({ 'Ckks-Keys-Id': 'secretkey' })))).status).toBe(400);
    expect((await routes.skmeans(reader(step1Headers({ 'Ckks-Keys-Id': `ckks${'0'.repeat(32)}` })))).status).toBe(400);
  });

  it('a shape header that does not match the stored ciphertexts is a 500; a missing Num-Chunks a 503', async () => {
    expect((await routes.skmeans(reader(step1Headers({ 'Encrypted-Matrix-Shape': '(9, 3)' })))).status).toBe(500);
    const h = step1Headers();
    delete (h as Record<string, string>)['Num-Chunks'];
    expect((await routes.skmeans(reader(h))).status).toBe(503);
  });
});

describe('SKMeans-PQC step 2', () => {
  const step2 = (extra: Record<string, string>) => ({ 'Step-Index': '2', 'Plaintext-Matrix-Id': P, K: '2', 'Num-Chunks': '2', ...extra });
  it('Is-Zero is required (503); "1" completes (204, status 0)', async () => {
    expect((await routes.skmeans(reader(step2({})))).status).toBe(503);
    const done = await routes.skmeans(reader(step2({ 'Is-Zero': '1' })));
    expect(done.status).toBe(204);
    expect(done.headers?.['Clustering-Status']).toBe('0');
  });
});

describe('SKNN-PQC', () => {
  it('packed distances decrypt to squared Euclidean distances; indices map to labels; a bad index is a 503', async () => {
    const model = matrix(D.data.slice(0, 7 * 3), [7, 3]);
    const test = matrix(Float64Array.from([0.2, 0.1, 1, 10, 10, 9.4]), [2, 3]);
    const R = 3; // forced small: blocks of 3, 3, 1 records
    const B = Math.ceil(7 / R);
    const blocks = new Float64Array(B * R * 3);
    blocks.set(model.data);
    const reps = new Float64Array(2 * R * 3);
    for (let i = 0; i < 2; i++) for (let r = 0; r < R; r++) reps.set(test.data.subarray(i * 3, i * 3 + 3), (i * R + r) * 3);
    await store.putBytesMatrix('encryptedMm', keys.encryptRows(matrix(blocks, [B, R * 3])).map((c) => [c]));
    await store.putBytesMatrix('encryptedMt', keys.encryptRows(matrix(reps, [2, R * 3])).map((c) => [c]));
    await store.putNdarray('Mmlabels', { dtype: 'float64', shape: [1, 7], data: Float64Array.from([0, 0, 0, 1, 1, 1, 0]) });
    const h = {
      'Step-Index': '1',
      'Model-Id': 'Mm',
      'Records-Test-Id': 'Mt',
      'Encrypted-Model-Shape': '(7, 3)',
      'Encrypted-Model-Dtype': 'float64',
      'Encrypted-Records-Shape': '(2, 3)',
      'Encrypted-Records-Dtype': 'float64',
      'Num-Chunks': '2',
      'Ckks-Keys-Id': keysId,
      'Ckks-Rows-Per-Ciphertext': String(R),
    };
    const r1 = await routes.sknn(reader(h));
    expect(r1.status).toBe(200);
    expect(r1.body).toMatchObject({ distances_id: 'distancesMt', distances_shape: '(2, 7)' });
    const dist = await store.getBytesMatrix('distancesMt');
    expect(dist.map((row) => row.length)).toEqual([B, B]);
    for (let i = 0; i < 2; i++) {
      const plain = keys.decryptRows(dist[i], R * 3);
      for (let j = 0; j < 7; j++) {
        const b = Math.floor(j / R);
        let d = 0;
        let want = 0;
        for (let z = 0; z < 3; z++) {
          d += plain.data[b * R * 3 + (j - b * R) * 3 + z];
          want += (test.data[i * 3 + z] - model.data[j * 3 + z]) ** 2;
        }
        expect(Math.abs(d - want)).toBeLessThan(1e-4);
      }
    }
    expect((await routes.sknn(reader({ ...h, 'Ckks-Rows-Per-Ciphertext': '2' }))).status).toBe(503); // wrong block count
    await store.putNdarray('distancesindexMt', { dtype: 'int64', shape: [1, 2], data: BigInt64Array.from([2n, 4n]) });
    const r2 = await routes.sknn(reader({ 'Step-Index': '2', 'Model-Id': 'Mm', 'Records-Test-Id': 'Mt' }));
    expect(r2.body).toMatchObject({ label_vector: [0, 1] });
    await store.putNdarray('distancesindexMt', { dtype: 'int64', shape: [1, 2], data: BigInt64Array.from([2n, 7n]) });
    expect((await routes.sknn(reader({ 'Step-Index': '2', 'Model-Id': 'Mm', 'Records-Test-Id': 'Mt' }))).status).toBe(503);
  });
});

describe('CiphertextCache (the CKKS dataset between rounds)', () => {
  /** A memory store that versions each ball, as MictlanX's full_checksum does. */
  class VersionedStore extends MemoryStore {
    readonly versions = new Map<string, number>();
    reads = 0;
    override async putBytesList(ballId: string, items: readonly Uint8Array[], opts?: Parameters<MemoryStore['putBytesList']>[2]) {
      this.versions.set(ballId, (this.versions.get(ballId) ?? 0) + 1);
      return super.putBytesList(ballId, items, opts);
    }
    override async getBytesList(ballId: string, opts?: Parameters<MemoryStore['getBytesList']>[1]) {
      this.reads++;
      return super.getBytesList(ballId, opts);
    }
    async fullChecksum(ballId: string) {
      const v = this.versions.get(ballId);
      return v === undefined ? undefined : `v${v}`;
    }
  }

  it('reuses a list while its checksum is unchanged, rereads after it changes, and respects its byte budget', async () => {
    const s = new VersionedStore();
    const a = [Uint8Array.of(1, 2, 3)];
    await s.putBytesList('ball', a);
    const cache = new CiphertextCache(s, 1024);
    expect(await cache.getBytesList('ball')).toEqual(a);
    expect(await cache.getBytesList('ball')).toEqual(a);
    expect(s.reads).toBe(1);
    expect([cache.hits, cache.misses]).toEqual([1, 1]);
    const b = [Uint8Array.of(9)];
    await s.putBytesList('ball', b);
    expect(await cache.getBytesList('ball')).toEqual(b);
    expect(s.reads).toBe(2);
    // Larger than the budget: never cached.
    await s.putBytesList('big', [new Uint8Array(2048)]);
    await cache.getBytesList('big');
    await cache.getBytesList('big');
    expect(s.reads).toBe(4);
    // Off (budget 0) or a store without checksums: always reads.
    const off = new CiphertextCache(s, 0);
    await off.getBytesList('ball');
    await off.getBytesList('ball');
    expect(s.reads).toBe(6);
  });
});
