/**
 * @module data/profiles
 * Results in the user's own terms (issue #14 item 6): cluster profiles (per-cluster mean of every
 * feature, in the file's units), the cluster-by-class table when the dataset has labels, and the
 * "labelled CSV" — the file's own rows (its columns, its text) with a `cluster` (or `predicted`)
 * column appended. Pure: the labelled CSV streams the stored source through `data/csv`.
 */
import { AppError } from '@/lib/errors';
import { streamCsvRows, type CsvDelimiter, type CsvInput } from './csv';
import type { Matrix } from './matrix';
import { isMissingToken } from './missing';

export interface ClusterProfile {
  readonly cluster: number;
  readonly size: number;
  /** Mean of every column over the cluster's records. */
  readonly means: readonly number[];
}

/**
 * Per-cluster size and column means of `m` (n×a), clusters in ascending id order.
 * @throws AppError SHAPE_MISMATCH when `clusters` does not have one id per row.
 */
export function clusterProfiles(m: Matrix, clusters: ArrayLike<number>): ClusterProfile[] {
  const [rows, cols] = m.shape;
  if (clusters.length !== rows) throw new AppError('SHAPE_MISMATCH', `${clusters.length} cluster ids for ${rows} rows`);
  const sums = new Map<number, { n: number; sum: Float64Array }>();
  for (let i = 0; i < rows; i++) {
    const c = clusters[i];
    let s = sums.get(c);
    if (!s) sums.set(c, (s = { n: 0, sum: new Float64Array(cols) }));
    s.n++;
    for (let j = 0; j < cols; j++) s.sum[j] += m.data[i * cols + j];
  }
  return [...sums.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([cluster, s]) => ({ cluster, size: s.n, means: Array.from(s.sum, (v) => v / s.n) }));
}

export interface CrossTab {
  /** Row keys (cluster ids, ascending). */
  readonly rows: readonly number[];
  /** Column keys (class ids, ascending). */
  readonly cols: readonly number[];
  /** counts[i][j]: records of cluster rows[i] with class cols[j]. */
  readonly counts: readonly (readonly number[])[];
}

/** Counts of (cluster, class) pairs. @throws AppError SHAPE_MISMATCH */
export function crossTab(clusters: ArrayLike<number>, classes: ArrayLike<number>): CrossTab {
  if (clusters.length !== classes.length) throw new AppError('SHAPE_MISMATCH', `${clusters.length} clusters for ${classes.length} labels`);
  const rowIds = [...new Set(Array.from(clusters))].sort((a, b) => a - b);
  const colIds = [...new Set(Array.from(classes))].sort((a, b) => a - b);
  const ri = new Map(rowIds.map((v, i) => [v, i]));
  const ci = new Map(colIds.map((v, i) => [v, i]));
  const counts = rowIds.map(() => new Array<number>(colIds.length).fill(0));
  for (let i = 0; i < clusters.length; i++) counts[ri.get(clusters[i])!][ci.get(classes[i])!]++;
  return { rows: rowIds, cols: colIds, counts };
}

// ---------------------------------------------------------------------------------------------
// Labelled CSV

/** Quotes a field when CSV needs it (delimiter, quote, CR/LF, or spaces at either end). */
export function csvField(value: string, delimiter: string): string {
  if (value.includes(delimiter) || value.includes('"') || value.includes('\n') || value.includes('\r') || value.trim() !== value) {
    return `"${value.replaceAll('"', '""')}"`;
  }
  return value;
}

/** A column name not already in `names`: `cluster`, else `cluster_2`, `cluster_3`… */
export function freshColumnName(names: readonly string[], base: string): string {
  const taken = new Set(names.map((n) => n.trim()));
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
}

export interface LabelledSource {
  /** The file as uploaded. */
  readonly source: CsvInput;
  readonly delimiter: CsvDelimiter;
  /** True when the file's first line is a header. */
  readonly header: boolean;
  /** Records with a missing cell in these 0-based columns were dropped from the dataset. */
  readonly droppedIfMissingIn?: readonly number[];
}

/**
 * The file's own rows, each with `values[i]` appended under `column` — header and cells exactly
 * as the file has them (re-quoted only where CSV needs it), in the file's delimiter, with a BOM
 * when the file had one. Records dropped for missing values (see `droppedIfMissingIn`) are left
 * out, so the rows line up with the dataset's.
 *
 * @throws AppError STORAGE_INTEGRITY when the file's records do not match `values` in number.
 */
export async function labelledCsvFromSource(src: LabelledSource, column: string, values: readonly (string | number)[]): Promise<string> {
  const out: string[] = [];
  const d = src.delimiter;
  let first = true;
  let bom = false;
  let eol = '\n';
  let r = 0;
  const drop = src.droppedIfMissingIn ?? [];
  await streamCsvRows(
    src.source,
    {},
    {
      delimiter: () => d,
      start: (info) => {
        bom = info.bom;
        eol = info.newline;
      },
      row: (fields) => {
        if (first && src.header) {
          first = false;
          out.push([...fields.map((f) => csvField(f, d)), csvField(freshColumnName(fields, column), d)].join(d));
          return;
        }
        first = false;
        if (drop.some((j) => isMissingToken((fields[j] ?? '').trim()))) return;
        if (r >= values.length) {
          r++;
          return;
        }
        out.push([...fields.map((f) => csvField(f, d)), csvField(String(values[r]), d)].join(d));
        r++;
      },
    },
  );
  if (r !== values.length) {
    throw new AppError('STORAGE_INTEGRITY', `source has ${r} records, result has ${values.length}`, {
      userMessage: `The stored copy of the file has ${r} records but the result has ${values.length}. Download the plain labels CSV instead.`,
    });
  }
  return (bom ? '\ufeff' : '') + out.join(eol) + eol;
}

/**
 * The labelled CSV of a dataset without its source file (NPY, or stored before sources were
 * kept): a header of the feature names, the values in shortest round-trip form, and `column`.
 */
export function labelledCsvFromMatrix(m: Matrix, names: readonly string[], column: string, values: readonly (string | number)[]): string {
  const [rows, cols] = m.shape;
  if (values.length !== rows) throw new AppError('SHAPE_MISMATCH', `${values.length} values for ${rows} rows`);
  const lines = [[...names, freshColumnName(names, column)].map((n) => csvField(n, ',')).join(',')];
  for (let i = 0; i < rows; i++) {
    const cells: string[] = [];
    for (let j = 0; j < cols; j++) cells.push(String(m.data[i * cols + j]));
    cells.push(csvField(String(values[i]), ','));
    lines.push(cells.join(','));
  }
  return lines.join('\n') + '\n';
}
