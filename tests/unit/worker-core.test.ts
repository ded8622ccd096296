/**
 * The local worker: its pure algorithms (server/worker/algorithms, spec/crypto.md §4.2, §4.3,
 * §7.1, §0.1 C1/C2) and its route logic's status codes and storage keys (spec/protocol.md
 * §5.2, §5.3, §11), with the in-memory store.
 */
import { describe, expect, it } from 'vitest';
import { matrix } from '@/lib/data/matrix';
import { assign, encryptedMeans, shiftIsZero, step1, updateUdm } from '@/server/worker/algorithms/interactive-kmeans/compute';
import { liuKmeansRoutes } from '@/server/worker/algorithms/interactive-kmeans/liu';
import { testReply } from '@/server/worker/kit';
import { MemoryStore } from '../helpers/memory-store';

/** Plain UDM U[x][y][z] = D[x][z] − D[y][z]. */
function udmOf(d: number[][]) {
  const n = d.length;
  const a = d[0].length;
  const out = new Float64Array(n * n * a);
  for (let x = 0; x < n; x++) for (let y = 0; y < n; y++) for (let z = 0; z < a; z++) out[(x * n + y) * a + z] = d[x][z] - d[y][z];
  return matrix(out, [n, n, a]);
}

/** A fake "ciphertext" with m=2: [v, 2v] — linear, so means and differences behave like Liu. */
function fakeEnc(d: number[][]) {
  const n = d.length;
  const a = d[0].length;
  const out = new Float64Array(n * a * 2);
  d.flat().forEach((v, i) => {
    out[2 * i] = v;
    out[2 * i + 1] = 2 * v;
  });
  return matrix(out, [n, a, 2]);
}

const D = [
  [0, 0],
  [10, 10],
  [1, 0],
  [0, 1],
  [9, 10],
  [11, 9],
];

describe('worker algorithms', () => {
  it('assigns by Manhattan distance to the seeds, first minimum on ties', () => {
    expect(Array.from(assign(udmOf(D), 2))).toEqual([0, 1, 0, 0, 1, 1]);
    // Record 2 is equidistant from identical seeds 0 and 1: the lower index wins.
    expect(Array.from(assign(udmOf([[1, 1], [1, 1], [1, 1]]), 2))).toEqual([0, 0, 0]);
  });

  it('computes encrypted means, zeros for an empty cluster, and the shift prev − new', () => {
    const enc = fakeEnc(D);
    const labels = Int32Array.from([0, 1, 0, 0, 1, 1]);
    const means = encryptedMeans(enc, labels, 3);
    expect(Array.from(means.data.slice(0, 4))).toEqual([1 / 3, 2 / 3, 1 / 3, 2 / 3]);
    expect(Array.from(means.data.slice(8))).toEqual([0, 0, 0, 0]);
    const out = step1({ encrypted: enc, udm: udmOf(D), k: 2 });
    expect(Array.from(out.labels)).toEqual([0, 1, 0, 0, 1, 1]);
    expect(Array.from(out.centPrev.data)).toEqual([0, 0, 0, 0, 10, 20, 10, 20]);
    for (let i = 0; i < out.shift.data.length; i++) expect(out.shift.data[i]).toBeCloseTo(out.centPrev.data[i] - out.centNew.data[i], 12);
  });

  it('updates the UDM with the corrected rule (C2): n×n×a → n×k×a, then in place', () => {
    const u = udmOf(D);
    const s = matrix(Float64Array.from([-1 / 3, -1 / 3, 0, 1 / 3]), [2, 2]);
    const u1 = updateUdm(u, s, 2);
    expect(u1.shape).toEqual([6, 2, 2]);
    // U[x][y] = D[x] − C_new[y] with C_new = [(1/3, 1/3), (10, 29/3)].
    const c = [
      [1 / 3, 1 / 3],
      [10, 29 / 3],
    ];
    for (let x = 0; x < 6; x++) for (let y = 0; y < 2; y++) for (let z = 0; z < 2; z++) expect(u1.data[(x * 2 + y) * 2 + z]).toBeCloseTo(D[x][z] - c[y][z], 12);
    const before = u1.data[0];
    const u2 = updateUdm(u1, matrix(Float64Array.from([1, 0, 0, 0]), [2, 2]), 2);
    expect(u2).toBe(u1);
    expect(u2.data[0]).toBe(before + 1);
    expect(() => updateUdm(u1, matrix(new Float64Array(6), [3, 2]), 2)).toThrowError(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(shiftIsZero(matrix(Float64Array.from([1e-7, -1e-7]), [1, 2]), 1e-6)).toBe(true);
    expect(shiftIsZero(matrix(Float64Array.from([1e-5, 0]), [1, 2]), 1e-6)).toBe(false);
    expect(shiftIsZero(matrix(Float64Array.from([Number.NaN]), [1, 1]), 1e-6)).toBe(false);
  });
});

describe('worker routes (core)', () => {
  async function seeded() {
    const store = new MemoryStore();
    await store.putNdarray('encryptedP', { dtype: 'float64', shape: [6, 2, 2], data: fakeEnc(D).data });
    await store.putNdarray('Pudm', { dtype: 'float64', shape: [6, 6, 2], data: udmOf(D).data });
    await store.putNdarray('Pencryptedudm', { dtype: 'float64', shape: [6, 6, 2], data: udmOf(D).data });
    return { store, core: { test: testReply, ...liuKmeansRoutes({ store, log: () => {} }) } };
  }
  const h = (o: Record<string, string>) => (name: string) => {
    const key = Object.keys(o).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : o[key];
  };
  const step1Headers = {
    'Step-Index': '1',
    'Clustering-Status': '1',
    'Plaintext-Matrix-Id': 'P',
    'Encrypted-Matrix-Id': 'encryptedP',
    'Encrypted-Matrix-Shape': '(6, 2, 2)',
    'Encrypted-Matrix-Dtype': 'float32',
    'Num-Chunks': '4',
    K: '2',
    M: '2',
    Iterations: '0',
  };

  it('answers /test as a worker', async () => {
    const { core } = await seeded();
    expect(core.test()).toMatchObject({ status: 200, body: { component_type: 'worker' }, headers: { 'Component-Type': 'worker' } });
  });

  it('runs SKMeans step 1 and writes centi, centj and the encrypted shift', async () => {
    const { store, core } = await seeded();
    const r = await core.skmeans(h(step1Headers));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ label_vector: [0, 1, 0, 0, 1, 1], n_iterations: 1, encrypted_shift_matrix_id: 'Pencryptedshiftmatrix' });
    expect(r.headers).toMatchObject({ 'Udm-Matrix-Shape': '(6, 6, 2)', 'Encrypted-Matrix-Shape': '(6, 2, 2)' });
    for (const k of ['Pcenti', 'Pcentj', 'Pencryptedshiftmatrix']) expect(store.entries.get(k)?.value).toMatchObject({ shape: [2, 2, 2] });
    expect(store.entries.get('Pcenti')?.numChunks).toBe(2);
    expect(store.entries.get('Pencryptedshiftmatrix')?.numChunks).toBe(4);
  });

  it('C1: a step 1 in progress starts from {P}centj', async () => {
    const { store, core } = await seeded();
    await core.skmeans(h(step1Headers));
    const centj = Array.from((await store.getNdarray('Pcentj')).data as Float64Array);
    await store.putNdarray('Pudm', { dtype: 'float64', shape: [6, 2, 2], data: new Float64Array(24) });
    const r = await core.skmeans(h({ ...step1Headers, 'Clustering-Status': '2', Iterations: '1' }));
    expect(r.status).toBe(200);
    expect(Array.from((await store.getNdarray('Pcenti')).data as Float64Array)).toEqual(centj);
  });

  it('SKMeans step 2: updates the UDM unless the client says it converged', async () => {
    const { store, core } = await seeded();
    await store.putNdarray('Pshiftmatrix', { dtype: 'float64', shape: [2, 2], data: Float64Array.from([1, 1, 1, 1]) });
    const s2 = { ...step1Headers, 'Step-Index': '2', 'Clustering-Status': '2', 'Shift-Matrix-Id': 'Pshiftmatrix' };
    const r = await core.skmeans(h(s2));
    expect(r.status).toBe(204);
    expect(r.headers?.['Clustering-Status']).toBe('2');
    expect(store.entries.get('Pudm')?.value).toMatchObject({ shape: [6, 2, 2] });
    const done = await core.skmeans(h({ ...s2, 'Is-Zero': '1' }));
    expect(done).toMatchObject({ status: 204, headers: { 'Clustering-Status': '0' } });
    await store.putNdarray('Pshiftmatrix', { dtype: 'float64', shape: [2, 2], data: new Float64Array(4) });
    expect((await core.skmeans(h(s2))).headers?.['Clustering-Status']).toBe('0');
    expect((await core.skmeans(h({ ...s2, 'Is-Zero': '0' }))).headers?.['Clustering-Status']).toBe('2');
  });

  it('uses upstream status codes with an Error-Message header', async () => {
    const { core } = await seeded();
    const without = (name: string, extra: Record<string, string> = {}) => {
      const o: Record<string, string> = { ...step1Headers, ...extra };
      delete o[name];
      return h(o);
    };
    const cases: [Promise<{ status: number; headers?: Record<string, string> }>, number][] = [
      [core.skmeans(without('Num-Chunks')), 503],
      [core.skmeans(without('Encrypted-Matrix-Shape')), 500],
      [core.skmeans(without('Plaintext-Matrix-Id')), 500],
      [core.skmeans(h({ ...step1Headers, 'Plaintext-Matrix-Id': 'Q' })), 500],
      [core.skmeans(h({ ...step1Headers, 'Encrypted-Matrix-Shape': '__import__("os")' })), 500],
      [core.skmeans(h({ ...step1Headers, 'Step-Index': '2', 'Plaintext-Matrix-Id': 'P', 'Shift-Matrix-Id': 'missing' })), 503],
      [core.dbskmeans(h(step1Headers)), 400],
      [core.dbskmeans(h({ ...step1Headers, 'Encrypted-Udm-Dtype': 'float64', 'Encrypted-Udm-Shape': '(6, 6, 2)', 'Num-Chunks': '' })), 503],
      [core.dbskmeans(h({ ...step1Headers, 'Step-Index': '2' })), 500],
      [core.dbskmeans(h({ ...step1Headers, 'Step-Index': '7' })), 400],
    ];
    for (const [p, status] of cases) {
      const r = await p;
      expect(r.status).toBe(status);
      expect(r.headers?.['Error-Message']).toMatch(/\S/);
      expect(r.headers?.['Error-Message']).not.toMatch(/[\r\n]/);
    }
    expect(await core.skmeans(h({ ...step1Headers, 'Step-Index': '7' }))).toMatchObject({ status: 200, body: null });
  });

  it('DBSKMeans: step 1 echoes the UDM shape, step 2 answers 200 with the new shape', async () => {
    const { store, core } = await seeded();
    const d1 = { ...step1Headers, 'Encrypted-Udm-Shape': '(6, 6, 2)', 'Encrypted-Udm-Dtype': 'float64' };
    const r1 = await core.dbskmeans(h(d1));
    expect(r1.status).toBe(200);
    expect(r1.body).toMatchObject({ n_iterations: 0, encrypted_shift_matrix_id: 'Pencryptedshiftmatrix' });
    expect(r1.headers).toMatchObject({ Iterations: '1', 'Encrypted-Udm-Shape': '(6, 6, 2)', 'Encrypted-Shift-Matrix-Id': 'Pencryptedshiftmatrix' });
    expect(store.entries.get('Pencryptedshiftmatrix')?.numChunks).toBe(2);
    await store.putNdarray('Pshiftmatrixope', { dtype: 'float64', shape: [2, 2], data: Float64Array.from([1, 2, 3, 4]) });
    const r2 = await core.dbskmeans(h({ ...d1, 'Step-Index': '2', 'Clustering-Status': '2', 'Shift-Matrix-Ope-Id': 'Pshiftmatrixope' }));
    expect(r2).toMatchObject({ status: 200, body: { encrypted_udm_shape: '(6, 2, 2)' }, headers: { 'Clustering-Status': '2' } });
    const wrong = await core.dbskmeans(h({ ...d1, 'Clustering-Status': '2' }));
    expect(wrong.status).toBe(500);
  });
});
