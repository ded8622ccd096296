/**
 * @module data/prepare
 * From a column table (`data/table`) and the user's choices — column roles (`data/columns`) and
 * what to do with missing cells (`data/missing`) — to the dataset that is stored: the feature
 * matrix in the file's own units, integer class labels with their names kept, and notes on what
 * was left out or changed (issue #14 items 1–4). Scaling is not applied here: it is stored with
 * the dataset and applied when a job loads it (`data/scaling`, `datasets/store`). Pure.
 *
 * Errors keep the strict format's wording and locations (`shared/datasets/README.md`, bad
 * fixtures): the first problem in file order among the feature (and label) columns — a text
 * cell, a missing cell while missing values are refused, a value beyond ±1e15 — is reported
 * with its line and column.
 */
import { AppError } from '@/lib/errors';
import { cellError, toLabelArray, type CsvDelimiter } from './csv';
import { columnDisplayName, type ColumnRole } from './columns';
import { plainMatrix, type PlainMatrix } from './matrix';
import { fillValue, type MissingStrategy } from './missing';
import { magnitudeError } from './stats';
import { CELL_MISSING, CELL_NUMBER, type RawColumn, type RawTable } from './table';

/** The user's choices for one table. */
export interface DatasetPlan {
  /** One role per column of the table. */
  readonly roles: readonly ColumnRole[];
  readonly missing: MissingStrategy;
}

export interface MissingColumnCount {
  /** 0-based column of the file. */
  readonly column: number;
  readonly name: string;
  readonly count: number;
}

export interface MissingSummary {
  readonly strategy: MissingStrategy;
  /** Missing cells in the feature and label columns. */
  readonly cells: number;
  /** Records with at least one of them. */
  readonly rows: number;
  /** Columns with missing cells (feature and label columns only), in file order. */
  readonly perColumn: readonly MissingColumnCount[];
  /** Records dropped (strategy `drop`). */
  readonly dropped: number;
}

export interface PreparedDataset {
  /** n×a features in the file's units, after missing-value handling. */
  readonly matrix: PlainMatrix;
  readonly rows: number;
  readonly cols: number;
  /** 0-based file columns of the features, in matrix order. */
  readonly featureColumns: readonly number[];
  /** Display names of the features (`alcohol`, or `Column 3` when unnamed). */
  readonly featureNames: readonly string[];
  /** Integer class ids (text labels: ids of `labelNames`), or the label column's numbers. */
  readonly labels?: Int32Array | Float64Array;
  /** Class names by id, when the label column holds text. */
  readonly labelNames?: readonly string[];
  readonly labelColumn?: number;
  readonly labelName?: string;
  /** Data rows (0-based) of the file kept, when records were dropped. */
  readonly keptRows?: Int32Array;
  readonly missing: MissingSummary;
  /** What was left out or changed, in the user's terms. */
  readonly notes: readonly string[];
}

// ---------------------------------------------------------------------------------------------

/** Compares text the way people sort class names: `class_2` before `class_10`. Deterministic (no locale). */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** Missing cells per feature / label column, and the records that have any. */
export function countMissing(table: RawTable, roles: readonly ColumnRole[], strategy: MissingStrategy = 'refuse'): MissingSummary {
  const used = table.columns.filter((c) => roles[c.index] === 'feature' || roles[c.index] === 'label');
  const perColumn = used.filter((c) => c.missing > 0).map((c) => ({ column: c.index, name: columnDisplayName(c.name, c.index), count: c.missing }));
  let cells = 0;
  for (const c of perColumn) cells += c.count;
  let rows = 0;
  if (cells > 0) {
    const withMissing = used.filter((c) => c.missing > 0);
    for (let i = 0; i < table.rows; i++) {
      for (const c of withMissing) {
        if (c.kinds[i] === CELL_MISSING) {
          rows++;
          break;
        }
      }
    }
  }
  return { strategy, cells, rows, perColumn, dropped: 0 };
}

/** `Column “alcohol”`, or `Column 33 (unnamed)`. */
function columnPhrase(c: RawColumn): string {
  return c.name === '' ? `Column ${c.index + 1} (unnamed)` : `Column “${c.name}”`;
}

interface Problem {
  readonly row: number;
  readonly column: number;
  readonly error: () => AppError;
}

function location(table: RawTable, row: number, column: number): { line?: number; row?: number; column: number } {
  return table.lines ? { line: table.lines[row], column: column + 1 } : { row: row + 1, column: column + 1 };
}

function missingError(table: RawTable, c: RawColumn, summary: MissingSummary): AppError {
  const ref = c.firstMissing!;
  const loc = location(table, ref.row, c.index);
  const at = loc.line !== undefined ? `Line ${loc.line}, column ${loc.column}` : `Row ${loc.row}, column ${loc.column}`;
  const what = ref.token === '' ? `${at} is empty.` : `${at}: ${JSON.stringify(ref.token)} is a missing or non-finite value.`;
  const total = `The file has ${summary.cells} missing cell${summary.cells === 1 ? '' : 's'} in ${summary.rows} record${summary.rows === 1 ? '' : 's'}`;
  return new AppError('CSV_INVALID', `${at.toLowerCase()}: missing value (${summary.cells} missing cells)`, {
    userMessage:
      `${what} Liu, UDM and FDHOPE need finite real numbers: fill in or remove incomplete records and upload again. ` +
      `${total}: you can also drop those records or fill the cells with the column mean or median.`,
    details: { ...(loc.line !== undefined ? { line: loc.line } : { row: loc.row! }), column: loc.column, reason: 'missing', missingCells: summary.cells, missingRows: summary.rows },
  });
}

function textError(table: RawTable, c: RawColumn): AppError {
  const ref = c.firstText!;
  const loc = location(table, ref.row, c.index);
  if (loc.line !== undefined) return cellError(ref.token, loc.line, loc.column, (table.format?.delimiter ?? ',') as CsvDelimiter);
  return new AppError('CSV_INVALID', `row ${loc.row}, column ${loc.column}: not a number`, { details: { row: loc.row!, column: loc.column } });
}

function earliest(problems: Problem[]): Problem | undefined {
  let best: Problem | undefined;
  for (const p of problems) if (!best || p.row < best.row || (p.row === best.row && p.column < best.column)) best = p;
  return best;
}

function invalid(message: string, userMessage: string): AppError {
  return new AppError('INVALID_ARGUMENT', message, { userMessage });
}

/**
 * Builds the dataset a table and a plan describe.
 *
 * @throws AppError CSV_INVALID (`details: {line, column}`; `details.reason === 'missing'` when
 *   missing values are refused), DATA_MAGNITUDE, INVALID_ARGUMENT (no feature column, an
 *   unusable label column, every record dropped).
 */
export function prepareDataset(table: RawTable, plan: DatasetPlan): PreparedDataset {
  const { roles } = plan;
  if (roles.length !== table.columns.length) throw new AppError('INVALID_ARGUMENT', `${roles.length} roles for ${table.columns.length} columns`);
  const features = table.columns.filter((c) => roles[c.index] === 'feature');
  const labelCol = table.columns.find((c) => roles[c.index] === 'label');
  if (roles.filter((r) => r === 'label').length > 1) throw new AppError('INVALID_ARGUMENT', 'more than one label column');
  if (features.length === 0) {
    throw invalid('no feature columns', 'No column is a feature. Make at least one numeric column a feature.');
  }
  const summary = countMissing(table, roles, plan.missing);

  // The first problem in file order among the columns used.
  const problems: Problem[] = [];
  for (const c of features) {
    if (c.firstText) problems.push({ row: c.firstText.row, column: c.index, error: () => textError(table, c) });
    if (c.firstHuge !== undefined) problems.push({ row: c.firstHuge, column: c.index, error: () => magnitudeError(location(table, c.firstHuge!, c.index)) });
    if (plan.missing === 'refuse' && c.firstMissing) problems.push({ row: c.firstMissing.row, column: c.index, error: () => missingError(table, c, summary) });
  }
  if (labelCol && plan.missing === 'refuse' && labelCol.firstMissing) {
    problems.push({ row: labelCol.firstMissing.row, column: labelCol.index, error: () => missingError(table, labelCol, summary) });
  }
  const first = earliest(problems);
  if (first) throw first.error();

  const notes: string[] = [];
  const labelName = labelCol ? columnDisplayName(labelCol.name, labelCol.index) : undefined;
  if (labelCol) {
    if (labelCol.numbers > 0 && labelCol.text > 0) {
      const ref = labelCol.firstText!;
      const loc = location(table, ref.row, labelCol.index);
      throw invalid('label column mixes numbers and text', `The label column “${labelName}” mixes numbers and text (first text at ${loc.line !== undefined ? `line ${loc.line}` : `row ${loc.row}`}). Choose another label column, or none.`);
    }
    if (labelCol.text > 0 && !labelCol.textValues) {
      throw invalid('label column has too many distinct values', `The label column “${labelName}” has too many distinct values to be class labels. Choose another label column, or none.`);
    }
    if (labelCol.missing > 0 && (plan.missing === 'mean' || plan.missing === 'median')) {
      throw invalid(
        'missing labels cannot be filled',
        `The label column “${labelName}” has ${labelCol.missing} missing cell${labelCol.missing === 1 ? '' : 's'}, and a class cannot be filled with a mean or median. Drop the records with missing values, or choose another label column.`,
      );
    }
  }

  // Rows kept.
  let keptRows: Int32Array | undefined;
  const usedWithMissing = [...features, ...(labelCol ? [labelCol] : [])].filter((c) => c.missing > 0);
  if (plan.missing === 'drop' && usedWithMissing.length > 0) {
    const keep: number[] = [];
    for (let i = 0; i < table.rows; i++) {
      let ok = true;
      for (const c of usedWithMissing) {
        if (c.kinds[i] === CELL_MISSING) {
          ok = false;
          break;
        }
      }
      if (ok) keep.push(i);
    }
    if (keep.length === 0) {
      throw invalid('every record has a missing value', 'Every record has a missing value in a feature or label column, so dropping them leaves nothing. Fill the missing cells instead, or leave out the columns that have them.');
    }
    keptRows = Int32Array.from(keep);
    notes.push(`${table.rows - keep.length} of ${table.rows} records had missing values and were dropped.`);
  }
  const n = keptRows ? keptRows.length : table.rows;
  const a = features.length;

  // Features.
  const data = new Float64Array(n * a);
  const filled: string[] = [];
  features.forEach((c, j) => {
    let fill = NaN;
    if (c.missing > 0 && (plan.missing === 'mean' || plan.missing === 'median')) {
      fill = fillValue(c.values, (i) => c.kinds[i] === CELL_NUMBER, plan.missing);
      if (fill !== fill) {
        throw invalid('column has no values to fill from', `Column “${columnDisplayName(c.name, c.index)}” has no values to compute a ${plan.missing} from. Leave it out.`);
      }
      filled.push(columnDisplayName(c.name, c.index));
    }
    const v = c.values;
    for (let r = 0; r < n; r++) {
      const i = keptRows ? keptRows[r] : r;
      data[r * a + j] = c.kinds[i] === CELL_NUMBER ? v[i] : fill;
    }
  });
  if (filled.length > 0) notes.push(`${summary.cells} missing cell${summary.cells === 1 ? ' was' : 's were'} filled with the column ${plan.missing} (${filled.join(', ')}).`);

  // Labels.
  let labels: Int32Array | Float64Array | undefined;
  let labelNames: string[] | undefined;
  if (labelCol) {
    if (labelCol.text > 0) {
      const names = [...labelCol.textValues!].sort(naturalCompare);
      const idOf = new Int32Array(labelCol.textValues!.length);
      labelCol.textValues!.forEach((name, code) => (idOf[code] = names.indexOf(name)));
      labels = new Int32Array(n);
      const codes = labelCol.textCodes!;
      for (let r = 0; r < n; r++) labels[r] = idOf[codes[keptRows ? keptRows[r] : r]];
      labelNames = names;
    } else {
      const values = new Float64Array(n);
      for (let r = 0; r < n; r++) values[r] = labelCol.values[keptRows ? keptRows[r] : r];
      labels = toLabelArray(values);
    }
  }

  // Notes on what was left out or read specially.
  for (const c of table.columns) {
    if (c.numbers === 0 && c.text === 0) notes.push(`${columnPhrase(c)} is empty on every record and was left out.`);
  }
  for (const c of features) {
    if (c.thousands > 0) {
      const example = table.format?.decimal === ',' ? '1.234 → 1234' : '1,234 → 1234';
      notes.push(`${columnPhrase(c)}: ${c.thousands} value${c.thousands === 1 ? '' : 's'} written with thousands separators ${c.thousands === 1 ? 'was' : 'were'} read as whole numbers (${example}).`);
    }
  }

  return {
    matrix: plainMatrix(data, n, a),
    rows: n,
    cols: a,
    featureColumns: features.map((c) => c.index),
    featureNames: features.map((c) => columnDisplayName(c.name, c.index)),
    ...(labels ? { labels } : {}),
    ...(labelNames ? { labelNames } : {}),
    ...(labelCol ? { labelColumn: labelCol.index, labelName } : {}),
    ...(keptRows ? { keptRows } : {}),
    missing: { ...summary, dropped: keptRows ? table.rows - keptRows.length : 0 },
    notes,
  };
}
