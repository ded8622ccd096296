/**
 * @module datasets/store
 * The local dataset store: the interface shared by the IndexedDB implementation (the app) and
 * the in-memory one (tests), the versioned envelopes written to IndexedDB, and the checks both
 * implementations apply. Datasets never leave the browser through this module (they are the
 * Data Owner's plaintext); see `lib/data/dataset.ts` for the record itself.
 *
 * Layout in one object store (keys are strings):
 *   `meta:<id>`   → { v: 1, record }                        (small; listed without touching data)
 *   `matrix:<id>` → { v: 1, rows, cols, data: ArrayBuffer }  (float64, C order, little-endian host)
 *   `labels:<id>` → { v: 1, dtype: 'int32'|'float64', data: ArrayBuffer }   (optional)
 *   `source:<id>` → { v: 1, name, blob: Blob }              (optional: the uploaded CSV file, for
 *                                                             the labelled CSV of results, issue #14)
 * Every write that touches several keys happens in one readwrite transaction, so a dataset is
 * stored whole or not at all.
 *
 * The stored matrix is in the file's units; `load` returns the matrix to encrypt, with the
 * record's scaling applied (`data/scaling`), and the stored one as `original`. Records carry
 * their own version (`recordVersion`, see `data/dataset`); the envelope stays `v: 1`.
 */
import { AppError, toAppError } from '@/lib/errors';
import { plainMatrix, type PlainMatrix } from '@/lib/data/matrix';
import { applyScaling } from '@/lib/data/scaling';
import {
  assertDatasetId,
  assertLabelsMatch,
  validateDatasetName,
  type Dataset,
  type DatasetRecord,
} from '@/lib/data/dataset';

export type DatasetLabels = Int32Array | Float64Array;

export interface DatasetStore {
  /** All records, newest first. Never loads matrices. */
  list(): Promise<DatasetRecord[]>;
  /** The record, or undefined when absent (or when `id` is not a dataset id). */
  get(id: string): Promise<DatasetRecord | undefined>;
  /** Record + matrix + labels. @throws AppError STORAGE_NOT_FOUND, STORAGE_INTEGRITY */
  load(id: string): Promise<Dataset>;
  /**
   * Stores a dataset atomically (replacing one with the same id), with the uploaded file when
   * `options.source` is given (`record.hasSource` must then be true).
   * @throws AppError QUOTA_EXCEEDED when the browser has no space left, SHAPE_MISMATCH /
   *   INVALID_ARGUMENT when the record does not describe the matrix.
   */
  save(dataset: Dataset, options?: SaveOptions): Promise<void>;
  /** The uploaded file stored with the dataset, or undefined. @throws AppError STORAGE_NOT_FOUND */
  loadSource(id: string): Promise<Blob | undefined>;
  /** Sets (or, with null, removes) the labels and updates `hasLabels`. @throws STORAGE_NOT_FOUND, SHAPE_MISMATCH */
  setLabels(id: string, labels: DatasetLabels | null): Promise<DatasetRecord>;
  /** @throws AppError STORAGE_NOT_FOUND, INVALID_ARGUMENT (bad name) */
  rename(id: string, name: string): Promise<DatasetRecord>;
  /** Deletes record and data; returns whether the dataset existed. */
  delete(id: string): Promise<boolean>;
}

export interface SaveOptions {
  /** The uploaded file, kept for the labelled CSV of results. */
  readonly source?: Blob;
  /** Its file name. */
  readonly sourceName?: string;
}

// ---------------------------------------------------------------------------------------------
// Envelopes

export const ENVELOPE_VERSION = 1;

export interface MetaEnvelope {
  readonly v: 1;
  readonly record: DatasetRecord;
}
export interface MatrixEnvelope {
  readonly v: 1;
  readonly rows: number;
  readonly cols: number;
  readonly data: ArrayBuffer;
}
export interface LabelsEnvelope {
  readonly v: 1;
  readonly dtype: 'int32' | 'float64';
  readonly data: ArrayBuffer;
}

export interface SourceEnvelope {
  readonly v: 1;
  readonly name: string;
  readonly blob: Blob;
}

export const metaKey = (id: string) => `meta:${id}`;
export const sourceKey = (id: string) => `source:${id}`;
export const matrixKey = (id: string) => `matrix:${id}`;
export const labelsKey = (id: string) => `labels:${id}`;
export const META_PREFIX = 'meta:';

/** An exact copy of a typed array's bytes (never the larger buffer it may view). */
function copyBuffer(a: Float64Array | Int32Array): ArrayBuffer {
  return a.slice().buffer as ArrayBuffer;
}

/** Checks that the record matches the data (and the source option). @throws AppError */
export function validateDataset(ds: Dataset, options: SaveOptions = {}): void {
  if ((options.source !== undefined) !== (ds.record.hasSource === true)) {
    throw new AppError('INVALID_ARGUMENT', `record.hasSource is ${ds.record.hasSource === true} but a source is ${options.source ? 'given' : 'absent'}`);
  }
  const { record, matrix, labels } = ds;
  assertDatasetId(record.id);
  validateDatasetName(record.name);
  if (matrix.shape.length !== 2 || matrix.shape[0] !== record.rows || matrix.shape[1] !== record.cols) {
    throw new AppError('SHAPE_MISMATCH', `record says ${record.rows}x${record.cols}, matrix is (${matrix.shape.join(', ')})`);
  }
  if (record.rows < 1 || record.cols < 1) throw new AppError('SHAPE_MISMATCH', 'a dataset needs at least one row and one column');
  if (labels) assertLabelsMatch(record.rows, labels);
  if (record.hasLabels !== (labels !== undefined)) {
    throw new AppError('INVALID_ARGUMENT', `record.hasLabels is ${record.hasLabels} but labels are ${labels ? 'present' : 'absent'}`);
  }
}

/**
 * The record after its labels were replaced by a labels file (or removed): the class names of a
 * former text label column no longer apply.
 */
export function withNewLabels(record: DatasetRecord, hasLabels: boolean): DatasetRecord {
  const { labelNames: _names, labelName: _name, ...rest } = record;
  void _names;
  void _name;
  return { ...rest, hasLabels };
}

export function encodeMatrix(ds: Dataset): MatrixEnvelope {
  return { v: 1, rows: ds.record.rows, cols: ds.record.cols, data: copyBuffer(ds.matrix.data) };
}

export function encodeSource(options: SaveOptions): SourceEnvelope | undefined {
  return options.source ? { v: 1, name: options.sourceName ?? '', blob: options.source } : undefined;
}

/** The Blob of a source envelope read back, or undefined. */
export function decodeSource(v: unknown): Blob | undefined {
  const e = v as SourceEnvelope | undefined;
  return e && e.v === 1 && typeof Blob !== 'undefined' && e.blob instanceof Blob ? e.blob : undefined;
}

export function encodeLabels(labels: DatasetLabels): LabelsEnvelope {
  return { v: 1, dtype: labels instanceof Int32Array ? 'int32' : 'float64', data: copyBuffer(labels) };
}

function integrity(id: string, what: string): AppError {
  return new AppError('STORAGE_INTEGRITY', `dataset ${id}: ${what}`, {
    userMessage: 'This dataset is damaged in the browser storage. Delete it and upload the file again.',
  });
}

export function notFound(id: string): AppError {
  return new AppError('STORAGE_NOT_FOUND', `dataset ${id} not found`, {
    userMessage: 'This dataset no longer exists in this browser. It may have been deleted; upload it again.',
  });
}

export function isMetaEnvelope(v: unknown): v is MetaEnvelope {
  return typeof v === 'object' && v !== null && (v as MetaEnvelope).v === 1 && typeof (v as MetaEnvelope).record?.id === 'string';
}

function scaledMatrix(id: string, matrix: PlainMatrix, record: DatasetRecord): PlainMatrix {
  try {
    return applyScaling(matrix, record.scaling);
  } catch {
    throw integrity(id, 'scaling does not match the matrix');
  }
}

/** Rebuilds a dataset from its envelopes, checking every length; `matrix` has the record's scaling applied. */
export function decodeDataset(id: string, meta: unknown, mat: unknown, lab: unknown): Dataset {
  if (meta === undefined) throw notFound(id);
  if (!isMetaEnvelope(meta)) throw integrity(id, 'unknown record format');
  const record = meta.record;
  const m = mat as MatrixEnvelope | undefined;
  if (!m || m.v !== 1 || !(m.data instanceof ArrayBuffer)) throw integrity(id, 'matrix missing');
  if (m.rows !== record.rows || m.cols !== record.cols || m.data.byteLength !== record.rows * record.cols * 8) {
    throw integrity(id, 'matrix size does not match the record');
  }
  const matrix = plainMatrix(new Float64Array(m.data), record.rows, record.cols);
  let labels: DatasetLabels | undefined;
  if (record.hasLabels) {
    const l = lab as LabelsEnvelope | undefined;
    if (!l || l.v !== 1 || !(l.data instanceof ArrayBuffer)) throw integrity(id, 'labels missing');
    labels = l.dtype === 'int32' ? new Int32Array(l.data) : new Float64Array(l.data);
    if (labels.length !== record.rows || labels.byteLength !== l.data.byteLength) throw integrity(id, 'labels length does not match');
  }
  const scaled = scaledMatrix(id, matrix, record);
  return labels ? { record, matrix: scaled, labels, original: matrix } : { record, matrix: scaled, original: matrix };
}

export function sortRecords(records: DatasetRecord[]): DatasetRecord[] {
  return records.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? -1 : 1));
}

export const QUOTA_USER_MESSAGE =
  'The browser has no storage space left for this app. Delete old datasets or jobs (or allow more site storage) and try again.';

/** Maps storage failures: quota → QUOTA_EXCEEDED, other non-AppErrors → STORAGE_FAILURE. */
export function mapStoreError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  const name = (e as { name?: unknown } | null)?.name;
  if (name === 'QuotaExceededError') {
    return new AppError('QUOTA_EXCEEDED', 'IndexedDB quota exceeded', { userMessage: QUOTA_USER_MESSAGE, cause: e });
  }
  const err = toAppError(e, 'STORAGE_FAILURE');
  if (err.code !== 'STORAGE_FAILURE') return err;
  return new AppError('STORAGE_FAILURE', `dataset store: ${err.message}`, {
    userMessage: 'The browser storage (IndexedDB) is unavailable, e.g. in private mode or with site storage disabled. Allow site storage and reload.',
    cause: e,
  });
}
