/**
 * @module data/table
 * Reads a real-world CSV file (issue #14) into a column table: header names, and for every
 * column each cell classified as a number (in the file's locale), a missing value or text, with
 * the distinct text values kept for label columns. Nothing is refused here except what makes the
 * file unreadable as a table (empty or binary input, bad quotes, ragged rows, a header without
 * data); which columns become features or labels, and what happens to missing cells, is decided
 * afterwards (`data/columns`, `data/prepare`) so the user can change it without reading the
 * file again. Streams through `data/csv`'s slicer, so it runs in a worker with progress and
 * abort. The arrays are typed arrays, transferable from a worker. Pure.
 *
 * Rules beyond `data/csv`'s: the delimiter and decimal separator come from `data/locale`'s
 * detection over the first lines (or are given), and a first line whose fields are all text
 * (or empty) is the header, as in `parseCsv`.
 */
import { AppError } from '@/lib/errors';
import { streamCsvRows, type CsvInput, type CsvStreamOptions } from './csv';
import { detectFormat, isHeaderRow, NumberReader, type CsvFormat, type FormatDetection } from './locale';
import type { PlainMatrix } from './matrix';
import { isMissingToken } from './missing';
import { parseNpyBlob } from './npy';
import { MAX_ABS_VALUE } from './stats';
import { Growable } from '@/lib/util/growable';

export const CELL_NUMBER = 0;
export const CELL_MISSING = 1;
export const CELL_TEXT = 2;

/** Distinct text values kept per column; a column with more cannot be a label column. */
export const MAX_TEXT_VALUES = 1000;

/** Where a cell is: its data row (0-based) and the trimmed token (for error messages only). */
export interface CellRef {
  readonly row: number;
  readonly token: string;
}

export interface RawColumn {
  /** 0-based field index in the file. */
  readonly index: number;
  /** Header cell, trimmed; '' when unnamed or when the file has no header. */
  readonly name: string;
  /** Value per row: the number, or NaN for missing and text cells. */
  readonly values: Float64Array;
  /** CELL_NUMBER, CELL_MISSING or CELL_TEXT per row. */
  readonly kinds: Uint8Array;
  readonly numbers: number;
  readonly missing: number;
  readonly text: number;
  /** Numbers written with thousands separators. */
  readonly thousands: number;
  /** Distinct text values in first-seen order, or undefined when there are none or too many. */
  readonly textValues?: readonly string[];
  /** Per row: index into `textValues` for text cells, −1 otherwise (present with `textValues`). */
  readonly textCodes?: Int32Array;
  /** True when the column has more than MAX_TEXT_VALUES distinct text values. */
  readonly textOverflow: boolean;
  readonly firstText?: CellRef;
  readonly firstMissing?: CellRef;
  /** First row whose number is beyond ±MAX_ABS_VALUE (or overflows to ±Infinity). */
  readonly firstHuge?: number;
}

export interface RawTable {
  readonly sourceFormat: 'csv' | 'npy';
  /** How the CSV was read. */
  readonly format?: CsvFormat;
  /** What detection found (absent when the format was given). */
  readonly detection?: FormatDetection;
  readonly bom: boolean;
  readonly newline?: '\n' | '\r\n' | '\r';
  /** True when the first line was a header. */
  readonly header: boolean;
  readonly headerLine?: number;
  readonly rows: number;
  /** Physical line (1-based) of each data row (CSV only). */
  readonly lines?: Int32Array;
  readonly columns: readonly RawColumn[];
}

export interface ReadTableOptions extends CsvStreamOptions {
  /** Read with this delimiter and decimal separator instead of detecting them. */
  readonly format?: CsvFormat;
}

// ---------------------------------------------------------------------------------------------

class ColumnBuilder {
  values: Growable<Float64Array>;
  kinds: Growable<Uint8Array>;
  codes?: Growable<Int32Array>;
  dict?: Map<string, number>;
  textOverflow = false;
  numbers = 0;
  missing = 0;
  text = 0;
  thousands = 0;
  firstText?: CellRef;
  firstMissing?: CellRef;
  firstHuge?: number;

  constructor(
    readonly index: number,
    readonly name: string,
    capacity: number,
  ) {
    this.values = new Growable(Float64Array, capacity);
    this.kinds = new Growable(Uint8Array, capacity);
  }

  /** Preallocates room for `n` rows (only while empty). */
  reserve(n: number): void {
    if (this.values.length > 0) return;
    this.values = new Growable(Float64Array, n);
    this.kinds = new Growable(Uint8Array, n);
  }

  add(token: string, row: number, reader: NumberReader): void {
    if (isMissingToken(token)) {
      this.values.push(NaN);
      this.kinds.push(CELL_MISSING);
      this.codes?.push(-1);
      if (this.missing++ === 0) this.firstMissing = { row, token };
      return;
    }
    const v = reader.read(token);
    if (v === v) {
      this.values.push(v);
      this.kinds.push(CELL_NUMBER);
      this.codes?.push(-1);
      this.numbers++;
      if (reader.thousands) this.thousands++;
      if (this.firstHuge === undefined && (v > MAX_ABS_VALUE || v < -MAX_ABS_VALUE)) this.firstHuge = row;
      return;
    }
    this.values.push(NaN);
    this.kinds.push(CELL_TEXT);
    if (this.text++ === 0) this.firstText = { row, token };
    if (this.textOverflow) return;
    if (!this.codes) {
      this.codes = new Growable(Int32Array, Math.max(16, this.kinds.data.length));
      for (let i = 0; i < row; i++) this.codes.push(-1);
      this.dict = new Map();
    }
    let code = this.dict!.get(token);
    if (code === undefined) {
      if (this.dict!.size >= MAX_TEXT_VALUES) {
        this.textOverflow = true;
        this.codes = undefined;
        this.dict = undefined;
        return;
      }
      code = this.dict!.size;
      this.dict!.set(token, code);
    }
    this.codes.push(code);
  }

  finish(): RawColumn {
    return {
      index: this.index,
      name: this.name,
      values: this.values.finish(),
      kinds: this.kinds.finish(),
      numbers: this.numbers,
      missing: this.missing,
      text: this.text,
      thousands: this.thousands,
      ...(this.dict && this.codes ? { textValues: [...this.dict.keys()], textCodes: this.codes.finish() } : {}),
      textOverflow: this.textOverflow,
      ...(this.firstText ? { firstText: this.firstText } : {}),
      ...(this.firstMissing ? { firstMissing: this.firstMissing } : {}),
      ...(this.firstHuge !== undefined ? { firstHuge: this.firstHuge } : {}),
    };
  }
}

function csvError(message: string, userMessage: string, line: number): AppError {
  return new AppError('CSV_INVALID', message, { userMessage, details: { line } });
}

/** Trims only when needed (most cells have no surrounding whitespace). */
function trimmed(t: string): string {
  if (t.length === 0) return t;
  const c0 = t.charCodeAt(0);
  const cl = t.charCodeAt(t.length - 1);
  return c0 <= 32 || cl <= 32 || c0 === 0xfeff || c0 === 160 || cl === 160 ? t.trim() : t;
}

/**
 * Reads a CSV file (string, Blob or File) into a column table.
 *
 * @throws AppError CSV_INVALID (`details.line`) for an empty or binary file, bad quotes, a row
 *   with a different number of fields than the first, a header without data; ABORTED.
 * @example
 *   const t = await readCsvTable(file);            // wine-pandas.csv
 *   t.columns.map((c) => c.name)                     // ['', 'alcohol', …, 'cultivar']
 *   t.columns[14].textValues                          // ['class_0', 'class_1', 'class_2']
 */
export async function readCsvTable(input: CsvInput, opts: ReadTableOptions = {}): Promise<RawTable> {
  let detection: FormatDetection | undefined;
  let format: CsvFormat | undefined = opts.format;
  let reader = new NumberReader(format?.decimal ?? '.');
  let size = 0;
  let bom = false;
  let newline: RawTable['newline'];
  let expected = -1;
  let header = false;
  let headerLine: number | undefined;
  let columns: ColumnBuilder[] = [];
  let lines = new Growable(Int32Array, 0);
  let rows = 0;

  await streamCsvRows(input, opts, {
    delimiter(_first, sample) {
      if (!format) {
        detection = detectFormat(sample);
        format = detection.format;
        reader = new NumberReader(format.decimal);
      }
      return format.delimiter;
    },
    start(info) {
      size = info.size;
      bom = info.bom;
      newline = info.newline;
    },
    row(fields, line) {
      if (expected < 0) {
        expected = fields.length;
        const cells = fields.map((f) => f.trim());
        header = isHeaderRow(cells, reader);
        columns = cells.map((t, j) => new ColumnBuilder(j, header ? t : '', 0));
        if (header) {
          headerLine = line;
          return;
        }
      }
      if (rows === 0) {
        // Size the arrays from the first record's length (a header may be much shorter).
        const estRows = Math.min(1 << 24, Math.ceil(size / Math.max(1, fields.join(',').length + 1)) + 16);
        for (const c of columns) c.reserve(estRows);
        lines = new Growable(Int32Array, estRows);
      }
      if (fields.length !== expected) {
        const source = header ? 'the header' : 'the first row';
        throw csvError(
          `line ${line} has ${fields.length} fields, expected ${expected}`,
          `Line ${line} has ${fields.length} fields, expected ${expected} (as in ${source}). Every row must have the same number of values: fix that line and upload again.`,
          line,
        );
      }
      for (let j = 0; j < expected; j++) columns[j].add(trimmed(fields[j]), rows, reader);
      lines.push(line);
      rows++;
    },
  });
  if (rows === 0) {
    throw csvError(
      'no numeric rows (header only)',
      'The file has a header line but no numeric rows (a header is not data). Add the data rows below the header and upload again.',
      headerLine ?? 1,
    );
  }
  return {
    sourceFormat: 'csv',
    format: format!,
    ...(detection ? { detection } : {}),
    bom,
    newline,
    header,
    ...(headerLine !== undefined ? { headerLine } : {}),
    rows,
    lines: lines.finish(),
    columns: columns.map((c) => c.finish()),
  };
}

/** A numeric matrix (e.g. from an NPY file) as a table: one number column per matrix column, no header. */
export function tableFromMatrix(m: PlainMatrix): RawTable {
  const [rows, cols] = m.shape;
  const columns: RawColumn[] = [];
  for (let j = 0; j < cols; j++) {
    const values = new Float64Array(rows);
    let firstHuge: number | undefined;
    for (let i = 0; i < rows; i++) {
      const v = m.data[i * cols + j];
      values[i] = v;
      if (firstHuge === undefined && !(Math.abs(v) <= MAX_ABS_VALUE)) firstHuge = i;
    }
    columns.push({
      index: j,
      name: '',
      values,
      kinds: new Uint8Array(rows),
      numbers: rows,
      missing: 0,
      text: 0,
      thousands: 0,
      textOverflow: false,
      ...(firstHuge !== undefined ? { firstHuge } : {}),
    });
  }
  return { sourceFormat: 'npy', bom: false, header: false, rows, columns };
}

/** Every transferable buffer of a table (to post it from a worker without copying). */
export function tableBuffers(t: RawTable): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  if (t.lines) out.add(t.lines.buffer as ArrayBuffer);
  for (const c of t.columns) {
    out.add(c.values.buffer as ArrayBuffer);
    out.add(c.kinds.buffer as ArrayBuffer);
    if (c.textCodes) out.add(c.textCodes.buffer as ArrayBuffer);
  }
  return [...out];
}

/**
 * Reads an uploaded file as a table: NPY when it starts with the NPY magic (whatever its name),
 * CSV otherwise (`readCsvTable`). This is what the parse worker runs.
 * @throws AppError CSV_INVALID / NPY_INVALID / DATA_MAGNITUDE / ABORTED
 */
export async function readTable(file: Blob, opts: ReadTableOptions = {}): Promise<RawTable> {
  const npy = await parseNpyBlob(file, opts);
  return npy ? tableFromMatrix(npy.matrix) : readCsvTable(file, opts);
}
