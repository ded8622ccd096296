/**
 * @module datasets/memory-store
 * In-memory `DatasetStore` for tests and for browsers without IndexedDB. Behaves like the
 * IndexedDB store: values are copied in and out (as structured clone would), writes are
 * all-or-nothing, and an optional byte quota reproduces QUOTA_EXCEEDED.
 */
import { AppError } from '@/lib/errors';
import { isDatasetId, validateDatasetName, assertLabelsMatch, type Dataset, type DatasetRecord } from '@/lib/data/dataset';
import {
  decodeDataset,
  encodeLabels,
  encodeMatrix,
  encodeSource,
  notFound,
  QUOTA_USER_MESSAGE,
  sortRecords,
  validateDataset,
  withNewLabels,
  type DatasetStore,
  type LabelsEnvelope,
  type MatrixEnvelope,
  type MetaEnvelope,
  type SaveOptions,
  type SourceEnvelope,
} from '@/lib/datasets/store';

export interface MemoryDatasetStoreOptions {
  /** Total bytes of matrices + labels + source files allowed; a save beyond it throws QUOTA_EXCEEDED. */
  readonly quotaBytes?: number;
}

interface Entry {
  meta: MetaEnvelope;
  matrix: MatrixEnvelope;
  labels?: LabelsEnvelope;
  source?: SourceEnvelope;
}

export function createMemoryDatasetStore(opts: MemoryDatasetStoreOptions = {}): DatasetStore {
  const entries = new Map<string, Entry>();
  const clone = <T>(v: T): T => structuredClone(v);
  const bytesOf = (e: Entry) => e.matrix.data.byteLength + (e.labels?.data.byteLength ?? 0) + (e.source?.blob.size ?? 0);
  const checkQuota = (id: string, next: Entry) => {
    if (opts.quotaBytes === undefined) return;
    let used = bytesOf(next);
    for (const [k, e] of entries) if (k !== id) used += bytesOf(e);
    if (used > opts.quotaBytes) {
      throw new AppError('QUOTA_EXCEEDED', 'memory dataset store quota exceeded', { userMessage: QUOTA_USER_MESSAGE });
    }
  };
  const entry = (id: string): Entry => {
    const e = isDatasetId(id) ? entries.get(id) : undefined;
    if (!e) throw notFound(id);
    return e;
  };

  return {
    async list() {
      return sortRecords([...entries.values()].map((e) => clone(e.meta.record)));
    },
    async get(id) {
      const e = isDatasetId(id) ? entries.get(id) : undefined;
      return e ? clone(e.meta.record) : undefined;
    },
    async load(id) {
      const e = entry(id);
      return decodeDataset(id, clone(e.meta), clone(e.matrix), e.labels ? clone(e.labels) : undefined);
    },
    async loadSource(id) {
      // Blobs are immutable: no copy needed.
      return entry(id).source?.blob;
    },
    async save(ds: Dataset, options: SaveOptions = {}) {
      validateDataset(ds, options);
      const next: Entry = {
        meta: { v: 1, record: clone(ds.record) },
        matrix: encodeMatrix(ds),
        labels: ds.labels ? encodeLabels(ds.labels) : undefined,
        source: encodeSource(options),
      };
      checkQuota(ds.record.id, next);
      entries.set(ds.record.id, next);
    },
    async setLabels(id, labels) {
      const e = entry(id);
      if (labels) assertLabelsMatch(e.meta.record.rows, labels);
      const next: Entry = {
        meta: { v: 1, record: withNewLabels(e.meta.record, labels !== null) },
        matrix: e.matrix,
        labels: labels ? encodeLabels(labels) : undefined,
        source: e.source,
      };
      checkQuota(id, next);
      entries.set(id, next);
      return clone(next.meta.record);
    },
    async rename(id, name) {
      const clean = validateDatasetName(name);
      const e = entry(id);
      const record: DatasetRecord = { ...e.meta.record, name: clean };
      entries.set(id, { ...e, meta: { v: 1, record } });
      return clone(record);
    },
    async delete(id) {
      return isDatasetId(id) ? entries.delete(id) : false;
    },
  };
}
