/**
 * @module data/dataset
 * The dataset record kept in the browser and the helpers that build it from an uploaded file.
 * Format rules: `shared/datasets/README.md`; ids follow the MictlanX key rule of
 * spec/protocol.md §7 ("use ids matching [A-Za-z0-9]+…; plain alphanumerics are safest").
 * Pure: reading a `Blob` is the only asynchronous step; persistence lives in `lib/datasets`.
 */
import { AppError } from '@/lib/errors';
import { randomInt, secureRandomBytes, type RandomBytes } from '@/lib/crypto/random';
import type { PlainMatrix } from '@/lib/data/matrix';
import { parseCsv, type CsvDelimiter, type ParseCsvOptions } from '@/lib/data/csv';
import { parseNpy } from '@/lib/data/npy';
import { columnStats, type DatasetStats } from '@/lib/data/stats';

export type SourceFormat = 'csv' | 'npy';

export interface DatasetRecord {
  /** `ds` + 16 lowercase base-36 characters: alphanumeric, safe as (part of) a MictlanX key. */
  readonly id: string;
  /** User-visible name (1–120 characters, no control characters). */
  readonly name: string;
  /** ISO 8601 creation time. */
  readonly createdAt: string;
  readonly rows: number;
  readonly cols: number;
  /** Feature column names, when the CSV had a header line. */
  readonly header?: readonly string[];
  /** 0-based index of the CSV field that held the labels (removed from the matrix). */
  readonly labelColumn?: number;
  readonly hasLabels: boolean;
  readonly sourceFormat: SourceFormat;
  readonly stats: DatasetStats;
  /** Size of the uploaded file in bytes. */
  readonly bytes?: number;
}

/** A record with its data. */
export interface Dataset {
  readonly record: DatasetRecord;
  readonly matrix: PlainMatrix;
  /** One label per row (from a label column or a separate labels file). */
  readonly labels?: Int32Array | Float64Array;
}

/** What a parsed upload yields, CSV or NPY alike. */
export interface ParsedDataset {
  readonly matrix: PlainMatrix;
  readonly labels?: Int32Array | Float64Array;
  readonly header?: readonly string[];
  readonly labelColumn?: number;
  readonly sourceFormat: SourceFormat;
  readonly rows: number;
  readonly cols: number;
  /** The CSV delimiter that was detected. */
  readonly delimiter?: CsvDelimiter;
}

export const DATASET_ID_PATTERN = /^ds[0-9a-z]{16}$/;
export const DATASET_NAME_MAX = 120;
const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A fresh dataset id, e.g. `ds0k3v9x2m1q7a8b4c` (≈ 82 random bits). */
export function newDatasetId(rng: RandomBytes = secureRandomBytes): string {
  let s = 'ds';
  for (let i = 0; i < 16; i++) s += BASE36[randomInt(rng, 0, 35)];
  return s;
}

export function isDatasetId(s: unknown): s is string {
  return typeof s === 'string' && DATASET_ID_PATTERN.test(s);
}

export function assertDatasetId(s: unknown): asserts s is string {
  if (!isDatasetId(s)) throw new AppError('INVALID_ARGUMENT', 'invalid dataset id', { userMessage: 'That dataset id is not valid.' });
}

/** Trims and checks a dataset name; returns the trimmed name. */
export function validateDatasetName(name: unknown): string {
  const n = typeof name === 'string' ? name.trim() : '';
  // eslint-disable-next-line no-control-regex
  if (n === '' || n.length > DATASET_NAME_MAX || /[\u0000-\u001f\u007f]/.test(n)) {
    throw new AppError('INVALID_ARGUMENT', 'invalid dataset name', {
      userMessage: `A dataset name must be 1 to ${DATASET_NAME_MAX} characters long, without line breaks or control characters.`,
    });
  }
  return n;
}

/** A default name from a file name: the base name without `.csv` / `.npy`. */
export function defaultDatasetName(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  const stem = base.replace(/\.(csv|tsv|txt|npy)$/i, '').trim();
  return (stem === '' ? 'dataset' : stem).slice(0, DATASET_NAME_MAX);
}

async function isNpyBlob(file: Blob): Promise<boolean> {
  if (file.size < 6) return false;
  const head = new Uint8Array(await file.slice(0, 6).arrayBuffer());
  return head[0] === 0x93 && String.fromCharCode(...head.subarray(1)) === 'NUMPY';
}

/**
 * Parses an uploaded file: NPY when it starts with the NPY magic (whatever its name), CSV
 * otherwise. See `parseCsv` and `parseNpy` for the errors thrown.
 */
export async function parseDatasetFile(file: Blob, opts: ParseCsvOptions = {}): Promise<ParsedDataset> {
  if (await isNpyBlob(file)) {
    if (opts.signal?.aborted) throw new AppError('ABORTED', 'aborted', { userMessage: 'Reading the file was cancelled.' });
    const p = parseNpy(new Uint8Array(await file.arrayBuffer()));
    opts.onProgress?.(1);
    return { matrix: p.matrix, sourceFormat: 'npy', rows: p.rows, cols: p.cols };
  }
  const t = await parseCsv(file, opts);
  return {
    matrix: t.matrix,
    labels: t.labels,
    header: t.header,
    labelColumn: t.labelColumn,
    sourceFormat: 'csv',
    rows: t.rows,
    cols: t.cols,
    delimiter: t.delimiter,
  };
}

/** Checks that `labels` has one entry per row. @throws AppError SHAPE_MISMATCH */
export function assertLabelsMatch(rows: number, labels: ArrayLike<number>): void {
  if (labels.length !== rows) {
    throw new AppError('SHAPE_MISMATCH', `labels length ${labels.length} != rows ${rows}`, {
      userMessage: `The labels file has ${labels.length} labels but the dataset has ${rows} records. Choose the labels file that belongs to this dataset.`,
      details: { labels: labels.length, rows },
    });
  }
}

/**
 * k-means style algorithms need at least k records (bad/one-row.csv: 1 × 4 parses, but k ≥ 2
 * must be refused). @throws AppError INVALID_ARGUMENT
 */
export function assertClusterable(rows: number, k: number): void {
  if (!Number.isInteger(k) || k < 1) {
    throw new AppError('INVALID_ARGUMENT', `k must be a positive integer`, { userMessage: 'The number of clusters k must be a whole number of at least 1.' });
  }
  if (k > rows) {
    throw new AppError('INVALID_ARGUMENT', `k=${k} exceeds the number of rows (${rows})`, {
      userMessage: `The number of clusters k (${k}) must not exceed the number of records (${rows}). Choose a smaller k or a larger dataset.`,
      details: { k, rows },
    });
  }
}

export interface CreateRecordOptions {
  readonly name: string;
  /** Size of the source file. */
  readonly bytes?: number;
  readonly rng?: RandomBytes;
  readonly now?: () => Date;
  readonly id?: string;
}

/** Builds the record (id, stats, shape) for a parsed upload. */
export function createDatasetRecord(parsed: ParsedDataset, opts: CreateRecordOptions): DatasetRecord {
  const name = validateDatasetName(opts.name);
  const id = opts.id ?? newDatasetId(opts.rng);
  assertDatasetId(id);
  if (parsed.labels) assertLabelsMatch(parsed.rows, parsed.labels);
  if (parsed.header && parsed.header.length !== parsed.cols) {
    throw new AppError('SHAPE_MISMATCH', `header has ${parsed.header.length} names for ${parsed.cols} columns`);
  }
  return {
    id,
    name,
    createdAt: (opts.now ?? (() => new Date()))().toISOString(),
    rows: parsed.rows,
    cols: parsed.cols,
    ...(parsed.header ? { header: [...parsed.header] } : {}),
    ...(parsed.labelColumn !== undefined ? { labelColumn: parsed.labelColumn } : {}),
    hasLabels: parsed.labels !== undefined,
    sourceFormat: parsed.sourceFormat,
    stats: columnStats(parsed.matrix),
    ...(opts.bytes !== undefined ? { bytes: opts.bytes } : {}),
  };
}
