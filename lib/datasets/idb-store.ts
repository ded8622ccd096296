/**
 * @module datasets/idb-store
 * `DatasetStore` over IndexedDB through idb-keyval's named store
 * (`createStore('rory-datasets', 'datasets')`). Multi-key writes run in a single readwrite
 * transaction (see `datasets/store` for the layout), so a failed write — quota included —
 * leaves nothing half-stored. Quota errors become AppError QUOTA_EXCEEDED.
 */
import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import { AppError } from '@/lib/errors';
import { isDatasetId, validateDatasetName, assertLabelsMatch, type Dataset, type DatasetRecord } from '@/lib/data/dataset';
import {
  decodeDataset,
  decodeSource,
  encodeLabels,
  encodeMatrix,
  encodeSource,
  isMetaEnvelope,
  labelsKey,
  mapStoreError,
  matrixKey,
  META_PREFIX,
  metaKey,
  notFound,
  sortRecords,
  sourceKey,
  validateDataset,
  withNewLabels,
  type DatasetLabels,
  type DatasetStore,
  type MetaEnvelope,
  type SaveOptions,
} from '@/lib/datasets/store';

export const DATASET_DB_NAME = 'rory-datasets';
export const DATASET_STORE_NAME = 'datasets';

export interface IdbDatasetStoreOptions {
  /** Database name (default `rory-datasets`); tests use a fresh one each. */
  readonly dbName?: string;
  /** Object store name (default `datasets`). */
  readonly storeName?: string;
  /** A ready-made idb-keyval store (overrides the names), e.g. to inject failures in tests. */
  readonly useStore?: UseStore;
}

async function guarded<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    throw mapStoreError(e);
  }
}

/**
 * Reads a record inside a readwrite transaction and writes the changes `change` asks for, all
 * in that transaction. `change` throws to abort without writing.
 */
function rewrite(
  useStore: UseStore,
  id: string,
  change: (meta: MetaEnvelope, store: IDBObjectStore) => MetaEnvelope,
): Promise<DatasetRecord> {
  return useStore('readwrite', (store) => {
    return new Promise<DatasetRecord>((resolve, reject) => {
      const req = store.get(metaKey(id));
      req.onerror = () => reject(req.error);
      req.onsuccess = () => {
        try {
          if (req.result === undefined) throw notFound(id);
          if (!isMetaEnvelope(req.result)) throw new AppError('STORAGE_INTEGRITY', `dataset ${id}: unknown record format`);
          const next = change(req.result, store);
          store.put(next, metaKey(id));
          promisifyRequest(store.transaction).then(() => resolve(next.record), reject);
        } catch (e) {
          reject(e);
        }
      };
    });
  });
}

/** The app's dataset store (IndexedDB). The database opens lazily, on first use. */
export function createIdbDatasetStore(opts: IdbDatasetStoreOptions = {}): DatasetStore {
  let lazy: UseStore | undefined = opts.useStore;
  const useStore: UseStore = (mode, cb) => {
    lazy ??= createStore(opts.dbName ?? DATASET_DB_NAME, opts.storeName ?? DATASET_STORE_NAME);
    return lazy(mode, cb);
  };

  return {
    list: () =>
      guarded(async () => {
        const all = await useStore('readonly', (s) =>
          promisifyRequest(s.getAll(IDBKeyRange.bound(META_PREFIX, `${META_PREFIX}\uffff`))),
        );
        // Records in an unknown format (e.g. written by a newer version) are left out, not fatal.
        return sortRecords((all as unknown[]).filter(isMetaEnvelope).map((m) => m.record));
      }),

    get: (id) =>
      guarded(async () => {
        if (!isDatasetId(id)) return undefined;
        const m: unknown = await useStore('readonly', (s) => promisifyRequest(s.get(metaKey(id))));
        return isMetaEnvelope(m) ? m.record : undefined;
      }),

    load: (id) =>
      guarded(async () => {
        if (!isDatasetId(id)) throw notFound(id);
        // One readonly transaction: a consistent snapshot of the three keys.
        const [meta, mat, lab] = await useStore('readonly', (s) =>
          Promise.all([metaKey(id), matrixKey(id), labelsKey(id)].map((k) => promisifyRequest(s.get(k) as IDBRequest<unknown>))),
        );
        return decodeDataset(id, meta, mat, lab);
      }),

    loadSource: (id) =>
      guarded(async () => {
        if (!isDatasetId(id)) throw notFound(id);
        const [meta, src] = await useStore('readonly', (s) =>
          Promise.all([metaKey(id), sourceKey(id)].map((k) => promisifyRequest(s.get(k) as IDBRequest<unknown>))),
        );
        if (!isMetaEnvelope(meta)) throw notFound(id);
        return decodeSource(src);
      }),

    save: (ds: Dataset, options: SaveOptions = {}) =>
      guarded(async () => {
        validateDataset(ds, options);
        const id = ds.record.id;
        const matrix = encodeMatrix(ds);
        const labels = ds.labels ? encodeLabels(ds.labels) : undefined;
        const source = encodeSource(options);
        const meta: MetaEnvelope = { v: 1, record: ds.record };
        await useStore('readwrite', (s) => {
          s.put(matrix, matrixKey(id));
          if (labels) s.put(labels, labelsKey(id));
          else s.delete(labelsKey(id));
          if (source) s.put(source, sourceKey(id));
          else s.delete(sourceKey(id));
          s.put(meta, metaKey(id)); // the record last: it is what list() sees
          return promisifyRequest(s.transaction);
        });
      }),

    setLabels: (id, labels: DatasetLabels | null) =>
      guarded(async () => {
        if (!isDatasetId(id)) throw notFound(id);
        const env = labels ? encodeLabels(labels) : undefined;
        return rewrite(useStore, id, (meta, s) => {
          if (labels) assertLabelsMatch(meta.record.rows, labels);
          if (env) s.put(env, labelsKey(id));
          else s.delete(labelsKey(id));
          return { v: 1, record: withNewLabels(meta.record, labels !== null) };
        });
      }),

    rename: (id, name) =>
      guarded(async () => {
        const clean = validateDatasetName(name);
        if (!isDatasetId(id)) throw notFound(id);
        return rewrite(useStore, id, (meta) => ({ v: 1, record: { ...meta.record, name: clean } }));
      }),

    delete: (id) =>
      guarded(async () => {
        if (!isDatasetId(id)) return false;
        return useStore('readwrite', (s) => {
          const count = s.count(metaKey(id));
          s.delete(metaKey(id));
          s.delete(matrixKey(id));
          s.delete(labelsKey(id));
          s.delete(sourceKey(id));
          return promisifyRequest(s.transaction).then(() => count.result > 0);
        });
      }),
  };
}
