/**
 * The local dataset store (lib/datasets): one contract suite run against the in-memory store
 * and the IndexedDB store (fake-indexeddb under Node), plus IndexedDB-specific checks:
 * atomic writes, quota errors, damaged records.
 */
import 'fake-indexeddb/auto';
import { createStore, set, type UseStore } from 'idb-keyval';
import { describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { seededRandomBytes } from '@/lib/crypto/random';
import { plainMatrix } from '@/lib/data/matrix';
import { createDatasetRecord, newDatasetId, type Dataset } from '@/lib/data/dataset';
import { createIdbDatasetStore, createMemoryDatasetStore, type DatasetStore } from '@/lib/datasets';

let dbCounter = 0;
const freshDbName = () => `rory-datasets-test-${++dbCounter}-${Math.random().toString(36).slice(2)}`;

let clock = Date.UTC(2025, 0, 1);
function makeDataset(rows: number, cols: number, opts: { labels?: Int32Array | Float64Array; name?: string; seed?: number } = {}): Dataset {
  const data = Float64Array.from({ length: rows * cols }, (_, i) => (i % 7) * 0.1 - i / 3 + (i === 1 ? -0 : 0));
  const matrix = plainMatrix(data, rows, cols);
  clock += 1000;
  const record = createDatasetRecord(
    { matrix, labels: opts.labels, sourceFormat: 'csv', rows, cols },
    { name: opts.name ?? `d${rows}x${cols}`, rng: seededRandomBytes(opts.seed ?? clock), now: () => new Date(clock) },
  );
  return opts.labels ? { record, matrix, labels: opts.labels } : { record, matrix };
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

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>) {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Object.is(a[i], b[i])).toBe(true);
}

const STORES: [string, () => DatasetStore][] = [
  ['memory', () => createMemoryDatasetStore()],
  ['IndexedDB', () => createIdbDatasetStore({ dbName: freshDbName() })],
];

for (const [kind, make] of STORES) {
  describe(`DatasetStore contract (${kind})`, () => {
    it('saves and loads a dataset bit for bit, labels included', async () => {
      const s = make();
      const ds = makeDataset(5, 3, { labels: Int32Array.from([0, 1, 2, 1, 0]) });
      await s.save(ds);
      const back = await s.load(ds.record.id);
      expect(back.record).toEqual(ds.record);
      expect(back.matrix.shape).toEqual([5, 3]);
      sameBits(back.matrix.data, ds.matrix.data);
      expect(back.labels).toBeInstanceOf(Int32Array);
      expect(Array.from(back.labels!)).toEqual([0, 1, 2, 1, 0]);
      expect(await s.get(ds.record.id)).toEqual(ds.record);
    });

    it('keeps float labels as Float64Array and stores no labels when there are none', async () => {
      const s = make();
      const f = makeDataset(2, 2, { labels: Float64Array.from([0.5, -1]) });
      const none = makeDataset(2, 2);
      await s.save(f);
      await s.save(none);
      expect((await s.load(f.record.id)).labels).toEqual(Float64Array.from([0.5, -1]));
      expect((await s.load(none.record.id)).labels).toBeUndefined();
    });

    it('copies data in and out (no aliasing with the caller)', async () => {
      const s = make();
      const ds = makeDataset(2, 2);
      await s.save(ds);
      ds.matrix.data[0] = 99;
      const a = await s.load(ds.record.id);
      expect(a.matrix.data[0]).not.toBe(99);
      a.matrix.data[1] = 77;
      expect((await s.load(ds.record.id)).matrix.data[1]).not.toBe(77);
    });

    it('stores only the viewed part of a subarray matrix', async () => {
      const s = make();
      const base = makeDataset(2, 2);
      const big = new Float64Array(10);
      big.set([1, 2, 3, 4], 3);
      const ds = { record: base.record, matrix: plainMatrix(big.subarray(3, 7), 2, 2) };
      await s.save(ds);
      expect(Array.from((await s.load(base.record.id)).matrix.data)).toEqual([1, 2, 3, 4]);
    });

    it('lists records newest first', async () => {
      const s = make();
      const a = makeDataset(1, 1, { name: 'a' });
      const b = makeDataset(1, 1, { name: 'b' });
      const c = makeDataset(1, 1, { name: 'c' });
      await s.save(b);
      await s.save(a);
      await s.save(c);
      expect((await s.list()).map((r) => r.name)).toEqual(['c', 'b', 'a']);
    });

    it('renames, validating the name', async () => {
      const s = make();
      const ds = makeDataset(1, 2);
      await s.save(ds);
      const r = await s.rename(ds.record.id, '  Iris (copy) ');
      expect(r.name).toBe('Iris (copy)');
      expect((await s.get(ds.record.id))?.name).toBe('Iris (copy)');
      expect((await rejection(s.rename(ds.record.id, ' '))).code).toBe('INVALID_ARGUMENT');
      expect((await s.get(ds.record.id))?.name).toBe('Iris (copy)');
    });

    it('sets and removes labels, keeping hasLabels in step', async () => {
      const s = make();
      const ds = makeDataset(3, 1);
      await s.save(ds);
      expect((await s.setLabels(ds.record.id, Int32Array.from([2, 0, 1]))).hasLabels).toBe(true);
      expect(Array.from((await s.load(ds.record.id)).labels!)).toEqual([2, 0, 1]);
      const e = await rejection(s.setLabels(ds.record.id, Int32Array.from([1])));
      expect(e.code).toBe('SHAPE_MISMATCH');
      expect(Array.from((await s.load(ds.record.id)).labels!)).toEqual([2, 0, 1]);
      expect((await s.setLabels(ds.record.id, null)).hasLabels).toBe(false);
      expect((await s.load(ds.record.id)).labels).toBeUndefined();
    });

    it('deletes record and data', async () => {
      const s = make();
      const ds = makeDataset(2, 2, { labels: Int32Array.from([1, 0]) });
      await s.save(ds);
      expect(await s.delete(ds.record.id)).toBe(true);
      expect(await s.delete(ds.record.id)).toBe(false);
      expect(await s.get(ds.record.id)).toBeUndefined();
      expect(await s.list()).toEqual([]);
      expect((await rejection(s.load(ds.record.id))).code).toBe('STORAGE_NOT_FOUND');
    });

    it('reports missing datasets and tolerates non-ids', async () => {
      const s = make();
      const id = newDatasetId();
      expect(await s.get(id)).toBeUndefined();
      expect(await s.get('../etc')).toBeUndefined();
      expect(await s.delete('nope')).toBe(false);
      for (const op of [() => s.load(id), () => s.load('nope'), () => s.rename(id, 'x'), () => s.setLabels(id, null)]) {
        expect((await rejection(op())).code).toBe('STORAGE_NOT_FOUND');
      }
    });

    it('refuses records that do not describe the data', async () => {
      const s = make();
      const ds = makeDataset(2, 3);
      const cases: [Dataset, string][] = [
        [{ ...ds, record: { ...ds.record, rows: 3 } }, 'SHAPE_MISMATCH'],
        [{ ...ds, record: { ...ds.record, id: 'bad id' } }, 'INVALID_ARGUMENT'],
        [{ ...ds, record: { ...ds.record, name: '' } }, 'INVALID_ARGUMENT'],
        [{ ...ds, labels: Int32Array.from([1, 2]) }, 'INVALID_ARGUMENT'], // hasLabels false
        [{ ...ds, record: { ...ds.record, hasLabels: true }, labels: Int32Array.from([1]) }, 'SHAPE_MISMATCH'],
      ];
      for (const [bad, code] of cases) expect((await rejection(s.save(bad))).code).toBe(code);
      expect(await s.list()).toEqual([]);
    });
  });
}

describe('IndexedDB specifics', () => {
  /**
   * A store whose read-write transactions fail at commit with QuotaExceededError (as a full disk
   * does) whenever they write a record (`meta:` key). An implementation that wrote the matrix in
   * an earlier, separate transaction would leave it behind; ours must leave nothing.
   */
  function quotaFailing(real: UseStore): UseStore {
    return (mode, cb) =>
      real(mode, async (store) => {
        if (mode !== 'readwrite') return cb(store);
        let full = false;
        const spy = new Proxy(store, {
          get(target, prop) {
            const v = Reflect.get(target, prop, target);
            if (prop !== 'put') return typeof v === 'function' ? v.bind(target) : v;
            return (value: unknown, key: IDBValidKey) => {
              const req = target.put(value, key);
              if (String(key).startsWith('meta:')) {
                full = true;
                target.transaction.abort(); // roll back everything this transaction wrote
              }
              return req;
            };
          },
        });
        try {
          return await cb(spy);
        } catch (e) {
          if (full) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          throw e;
        }
      }) as never;
  }

  it('maps quota errors to QUOTA_EXCEEDED and stores nothing half-way', async () => {
    const dbName = freshDbName();
    const real = createStore(dbName, 'datasets');
    const ok = createIdbDatasetStore({ useStore: real });
    const full = createIdbDatasetStore({ useStore: quotaFailing(real) });
    const first = makeDataset(3, 2, { labels: Int32Array.from([0, 1, 0]) });
    await ok.save(first);

    const second = makeDataset(4, 2, { labels: Int32Array.from([1, 1, 0, 0]) });
    const e = await rejection(full.save(second));
    expect(e.code).toBe('QUOTA_EXCEEDED');
    expect(e.userMessage).toMatch(/no storage space/);
    // Neither the record nor the matrix nor the labels of the failed save exist.
    const keys = (await real('readonly', (s) => new Promise<IDBValidKey[]>((res) => {
      const r = s.getAllKeys();
      r.onsuccess = () => res(r.result);
    }))).map(String);
    expect(keys.sort()).toEqual([`labels:${first.record.id}`, `matrix:${first.record.id}`, `meta:${first.record.id}`]);
    expect((await ok.list()).map((r) => r.id)).toEqual([first.record.id]);
    // Failed rename / setLabels leave the stored dataset unchanged.
    expect((await rejection(full.rename(first.record.id, 'other'))).code).toBe('QUOTA_EXCEEDED');
    expect((await rejection(full.setLabels(first.record.id, null))).code).toBe('QUOTA_EXCEEDED');
    const back = await ok.load(first.record.id);
    expect([back.record.name, Array.from(back.labels!)]).toEqual([first.record.name, [0, 1, 0]]);
  });

  it('maps other IndexedDB failures to STORAGE_FAILURE', async () => {
    const broken: UseStore = () => Promise.reject(new DOMException('blocked', 'InvalidStateError'));
    const s = createIdbDatasetStore({ useStore: broken });
    const e = await rejection(s.list());
    expect(e.code).toBe('STORAGE_FAILURE');
    expect(e.userMessage).toMatch(/IndexedDB/);
  });

  it('reports damaged data as STORAGE_INTEGRITY and leaves unknown records out of the list', async () => {
    const dbName = freshDbName();
    const real = createStore(dbName, 'datasets');
    const s = createIdbDatasetStore({ useStore: real });
    const ds = makeDataset(2, 2);
    await s.save(ds);
    await set(`matrix:${ds.record.id}`, { v: 1, rows: 2, cols: 2, data: new ArrayBuffer(24) }, real);
    expect((await rejection(s.load(ds.record.id))).code).toBe('STORAGE_INTEGRITY');
    await set(`meta:${newDatasetId()}`, { v: 2, something: 'newer' }, real);
    expect((await s.list()).map((r) => r.id)).toEqual([ds.record.id]);
  });

  it('uses the named database rory-datasets / datasets by default', async () => {
    const s = createIdbDatasetStore();
    const ds = makeDataset(1, 3);
    await s.save(ds);
    const raw = createStore('rory-datasets', 'datasets');
    const meta = await new Promise<unknown>((resolve) =>
      raw('readonly', (st) => {
        const r = st.get(`meta:${ds.record.id}`);
        r.onsuccess = () => resolve(r.result);
      }),
    );
    expect(meta).toEqual({ v: 1, record: ds.record });
  });
});

describe('memory store quota', () => {
  it('throws QUOTA_EXCEEDED beyond its byte budget and keeps earlier data', async () => {
    const s = createMemoryDatasetStore({ quotaBytes: 100 });
    const small = makeDataset(2, 2); // 32 bytes
    await s.save(small);
    const e = await rejection(s.save(makeDataset(5, 2))); // 80 more bytes
    expect(e.code).toBe('QUOTA_EXCEEDED');
    expect((await s.list()).map((r) => r.id)).toEqual([small.record.id]);
    // Replacing a dataset counts only the new copy.
    await s.save(makeDataset(2, 2, { seed: 1 }));
    await s.save({ ...small });
  });
});
