/**
 * @module data/dataset
 * The dataset record kept in the browser and the helpers that build it from an uploaded file.
 * Format rules: `shared/datasets/README.md` (strict numeric files) and `real/README.md` (files as
 * pandas, Excel and Kaggle write them, issue #14); ids follow the MictlanX key rule of
 * spec/protocol.md §7 ("use ids matching [A-Za-z0-9]+…; plain alphanumerics are safest").
 * Pure: reading a `Blob` is the only asynchronous step; persistence lives in `lib/datasets`.
 *
 * Record versions: version 1 records (no `recordVersion`) hold shape, header, label column and
 * statistics. Version 2 (`recordVersion: 2`, issue #14) adds, all optional: every file column
 * with its role, the label column's name and class names, how the CSV was read (delimiter,
 * decimal separator, header, BOM), the missing-value choice and counts, the scaling applied
 * before encryption, notes, and whether the source file is stored. A version 1 reader ignores
 * the new fields; a version 2 reader treats their absence as "none".
 */
import { AppError } from '@/lib/errors';
import { randomInt, secureRandomBytes, type RandomBytes } from '@/lib/crypto/random';
import type { PlainMatrix } from '@/lib/data/matrix';
import { parseCsv, type CsvDelimiter, type ParseCsvOptions } from '@/lib/data/csv';
import { parseNpyBlob } from '@/lib/data/npy';
import { columnStats, type DatasetStats } from '@/lib/data/stats';
import type { ColumnRole } from '@/lib/data/columns';
import type { CsvFormat } from '@/lib/data/locale';
import type { MissingSummary, PreparedDataset } from '@/lib/data/prepare';
import { fitScaling, type Scaling, type ScalingMethod } from '@/lib/data/scaling';
import type { RawTable } from '@/lib/data/table';

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
  /** Per-column statistics of the matrix in the file's units (before scaling). */
  readonly stats: DatasetStats;
  /** Size of the uploaded file in bytes. */
  readonly bytes?: number;

  // Version 2 (issue #14); see the module doc.
  readonly recordVersion?: 2;
  /** Every column of the file, with its role. */
  readonly columns?: readonly DatasetColumn[];
  /** Name of the label column. */
  readonly labelName?: string;
  /** Class names by label id, when the label column held text. */
  readonly labelNames?: readonly string[];
  /** How the CSV file was read. */
  readonly csvFormat?: CsvFormat & { readonly header: boolean; readonly bom: boolean };
  /** Records in the file (before any were dropped). */
  readonly fileRows?: number;
  /** Missing cells found, and what was done with them. */
  readonly missing?: MissingSummary;
  /** Applied to the stored matrix when a job loads it (`datasets/store`). */
  readonly scaling?: Scaling;
  /** What was left out or read specially, in the user's terms. */
  readonly notes?: readonly string[];
  /** True when the uploaded file itself is stored too (for the labelled CSV download). */
  readonly hasSource?: boolean;
}

export interface DatasetColumn {
  /** Header name ('' when unnamed). */
  readonly name: string;
  readonly role: ColumnRole;
}

/** A record with its data. */
export interface Dataset {
  readonly record: DatasetRecord;
  /**
   * The numeric feature matrix. What a store `load`s is the matrix to encrypt: the stored one with
   * `record.scaling` applied. What is `save`d is the matrix in the file's units.
   */
  readonly matrix: PlainMatrix;
  /** One label per row (from a label column or a separate labels file). */
  readonly labels?: Int32Array | Float64Array;
  /** From a store's `load`: the matrix in the file's units (the same object as `matrix` when not scaled). */
  readonly original?: PlainMatrix;
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

/**
 * Parses an uploaded file: NPY when it starts with the NPY magic (whatever its name), CSV
 * otherwise. See `parseCsv` and `parseNpy` for the errors thrown.
 */
export async function parseDatasetFile(file: Blob, opts: ParseCsvOptions = {}): Promise<ParsedDataset> {
  const p = await parseNpyBlob(file, opts);
  if (p) return { matrix: p.matrix, sourceFormat: 'npy', rows: p.rows, cols: p.cols };
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

/** The user's choices for a file, as stored with the dataset. */
export interface DatasetChoices {
  readonly roles: readonly ColumnRole[];
  readonly scaling: ScalingMethod;
}

export interface CreatePreparedRecordOptions extends CreateRecordOptions {
  /** Labels from a separate labels file (already cut to the records kept), replacing any label column. */
  readonly fileLabels?: Int32Array;
  /** True when the source file is stored with the dataset. */
  readonly hasSource?: boolean;
}

/**
 * Builds a version 2 record for a prepared table (issue #14): roles, names, class names, format,
 * missing-value choice and scaling, fitted here on the matrix in the file's units.
 */
export function createPreparedRecord(table: RawTable, prepared: PreparedDataset, choices: DatasetChoices, opts: CreatePreparedRecordOptions): DatasetRecord {
  const useColumnLabels = !opts.fileLabels && prepared.labels !== undefined;
  const labels = opts.fileLabels ?? prepared.labels;
  // Feature names are kept when the file named them, or when they are not simply columns 1…a.
  const plainColumns = prepared.featureColumns.every((c, j) => c === j);
  const header = table.header || !plainColumns ? prepared.featureNames : undefined;
  const base = createDatasetRecord(
    {
      matrix: prepared.matrix,
      labels,
      header,
      ...(useColumnLabels && prepared.labelColumn !== undefined ? { labelColumn: prepared.labelColumn } : {}),
      sourceFormat: table.sourceFormat,
      rows: prepared.rows,
      cols: prepared.cols,
    },
    opts,
  );
  const roles = choices.roles.map((r) => (r === 'label' && !useColumnLabels ? 'ignore' : r));
  return {
    ...base,
    recordVersion: 2,
    columns: table.columns.map((c) => ({ name: c.name, role: roles[c.index] })),
    ...(useColumnLabels && prepared.labelName !== undefined ? { labelName: prepared.labelName } : {}),
    ...(useColumnLabels && prepared.labelNames ? { labelNames: [...prepared.labelNames] } : {}),
    ...(table.format ? { csvFormat: { ...table.format, header: table.header, bom: table.bom } } : {}),
    fileRows: table.rows,
    missing: prepared.missing,
    scaling: fitScaling(prepared.matrix, choices.scaling),
    notes: [...prepared.notes],
    hasSource: opts.hasSource === true,
  };
}

/** Class name of label `id` (its name when the labels were text, else the number itself). */
export function labelName(record: Pick<DatasetRecord, 'labelNames'> | undefined, id: number): string {
  return record?.labelNames?.[id] ?? String(id);
}
