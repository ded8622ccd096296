/**
 * @module data/csv
 * CSV → float64 matrix, validating every cell. Implements the dataset format and the handling
 * of every malformed fixture in `shared/datasets/README.md`, and reads what the upstream client
 * reads with pandas `header=None` (spec/protocol.md §6).
 *
 * Rules:
 * - UTF-8; a leading BOM is dropped. Newline `\n`, `\r\n` or `\r`, decided from the first line.
 * - Delimiter `,` `;` or tab, decided from the first non-blank line (the candidate occurring most
 *   often outside quotes; ties prefer `,` then `;`). Papaparse is never asked to guess.
 * - RFC 4180 quoting (papaparse tokenises). Cells are trimmed.
 * - A first line whose fields are all non-numeric text is a header (names kept). A header with
 *   no data rows is rejected. Blank lines are skipped, as pandas does.
 * - Each cell must be a decimal number: the value is exactly `Number(token)`, but the
 *   non-decimal forms `Number` also accepts (`0x1f`, `0b1`, `0o7`, `Infinity`) are refused, as
 *   pandas would refuse them. Empty cells, NaN / NA markers and infinities are errors.
 * - |x| ≤ `MAX_ABS_VALUE` (1e15, see `data/stats`) or DATA_MAGNITUDE.
 * - Every error carries the 1-based physical line and column (`details: {line, column}`).
 *   Messages never echo a value that could be data: a token is quoted only when it contains no
 *   digit (e.g. `abc`, `NaN`).
 *
 * Large inputs are processed in slices of about 2 MiB (a `Blob`/`File` is read with
 * `slice().arrayBuffer()`, which works in browsers, workers and Node; papaparse's own file
 * streamer needs `FileReader`, which Node lacks). Each slice is cut at the last row boundary
 * outside quotes and tokenised by papaparse, so memory stays near the size of the result.
 * `streamCsvRows` is that slicer on its own (the slice size is injectable, and a property test
 * checks it against `Papa.parse` on the whole text); `data/table` builds on it to read real-world
 * files (headers, text columns, locales, missing values), while `parseCsv` stays the strict
 * reader of the numeric format above.
 */
import Papa from 'papaparse';
import { AppError } from '@/lib/errors';
import { plainMatrix, type PlainMatrix } from '@/lib/data/matrix';
import { MAX_ABS_VALUE, magnitudeError } from '@/lib/data/stats';
import { Growable } from '@/lib/util/growable';

export type CsvDelimiter = ',' | ';' | '\t';
export type Newline = '\n' | '\r\n' | '\r';

export interface ParsedTable {
  /** n×a float64 features (the label column, if any, removed). */
  readonly matrix: PlainMatrix;
  /** Values of the label column: Int32Array when all are integers in int32 range, else Float64Array. */
  readonly labels?: Int32Array | Float64Array;
  /** Feature column names from a header line (length `cols`). */
  readonly header?: string[];
  /** Name of the label column from the header line. */
  readonly labelHeader?: string;
  /** 0-based index of the label column among the file's fields. */
  readonly labelColumn?: number;
  readonly delimiter: CsvDelimiter;
  readonly rows: number;
  readonly cols: number;
}

export interface ParseCsvOptions extends CsvStreamOptions {
  /** 0-based field index of a label column, `'last'`, or null/undefined for none. */
  readonly labelColumn?: number | 'last' | null;
}

export type CsvInput = string | Blob;

/** Characters of a string, or bytes of a Blob, handled per slice. */
const SLICE_SIZE = 2 * 1024 * 1024;
/** A single row larger than this (e.g. an unclosed quote) is refused rather than buffered. */
const MAX_ROW_CHARS = 256 * 1024 * 1024;
const DELIMITER_NAMES: Record<CsvDelimiter, string> = { ',': 'comma', ';': 'semicolon', '\t': 'tab' };

/** pandas' default NA markers, plus the spellings of infinity Python accepts. */
const MISSING_WORDS = new Set(
  ['', '#n/a', '#n/a n/a', '#na', '-1.#ind', '-1.#qnan', '-nan', '1.#ind', '1.#qnan', '<na>', 'n/a', 'na', 'null', 'nan', 'none', '+nan'],
);
const INFINITY_RE = /^[+-]?(inf|infinity)$/i;

// ---------------------------------------------------------------------------------------------
// Errors

function csvError(message: string, userMessage: string, line: number, column?: number): AppError {
  const details: Record<string, number> = { line };
  if (column !== undefined) details.column = column;
  return new AppError('CSV_INVALID', message, { userMessage, details });
}

/** Quote a token in a message only if it cannot be (part of) a data value. */
function safeToken(token: string): string | undefined {
  if (token.length > 32 || /[0-9]/.test(token)) return undefined;
  return JSON.stringify(token);
}

export function cellError(token: string, line: number, column: number, delimiter: CsvDelimiter): AppError {
  const at = `line ${line}, column ${column}`;
  const lower = token.toLowerCase();
  if (token === '') {
    return csvError(`${at}: empty cell`, `Line ${line}, column ${column} is empty. Every record needs a number in every column: fill in or remove incomplete records and upload again.`, line, column);
  }
  if (MISSING_WORDS.has(lower) || INFINITY_RE.test(token)) {
    return csvError(
      `${at}: missing or non-finite value ${JSON.stringify(token)}`,
      `Line ${line}, column ${column}: ${JSON.stringify(token)} is a missing or non-finite value. ` +
        'Liu, UDM and FDHOPE need finite real numbers: fill in or remove incomplete records and upload again.',
      line,
      column,
    );
  }
  const shown = safeToken(token);
  let hint = '';
  for (const d of [',', ';', '\t'] as const) {
    if (d !== delimiter && token.includes(d)) {
      hint = ` The cell contains a ${DELIMITER_NAMES[d]} while the first line is ${DELIMITER_NAMES[delimiter]}-separated: use one delimiter throughout.`;
      break;
    }
  }
  const what = shown === undefined ? 'is not a number' : `${shown} is not a number`;
  return csvError(
    `${at}: ${shown === undefined ? 'not a number' : `${shown} is not a number`}`,
    `Line ${line}, column ${column}: ${what}. Every value must be a decimal number such as 3.5 or -1.2e-3.${hint} Fix the value and upload again.`,
    line,
    column,
  );
}

function raggedError(line: number, got: number, expected: number, headerLine?: number): AppError {
  const msg = `line ${line} has ${got} fields, expected ${expected}`;
  const source = headerLine !== undefined ? 'the header' : 'the first row';
  return csvError(msg, `Line ${line} has ${got} fields, expected ${expected} (as in ${source}). Every row must have the same number of values: fix that line and upload again.`, line);
}

function aborted(): AppError {
  return new AppError('ABORTED', 'CSV parsing aborted', { userMessage: 'Reading the file was cancelled.' });
}

// ---------------------------------------------------------------------------------------------
// Text sources

interface TextSource {
  /** Next slice of text, or null at the end. */
  next(): Promise<string | null>;
  /** Fraction of the input read so far. */
  progress(): number;
}

function stringSource(s: string, sliceSize: number): TextSource {
  let off = s.charCodeAt(0) === 0xfeff ? 1 : 0;
  return {
    async next() {
      if (off >= s.length) return null;
      const end = Math.min(s.length, off + sliceSize);
      const piece = s.slice(off, end);
      off = end;
      return piece;
    },
    progress: () => (s.length === 0 ? 1 : off / s.length),
  };
}

function blobSource(b: Blob, sliceSize: number): TextSource {
  // TextDecoder drops a leading BOM by default (ignoreBOM: false) and, in stream mode, keeps
  // multi-byte sequences split across slices intact.
  const decoder = new TextDecoder('utf-8');
  let off = 0;
  let done = false;
  return {
    async next() {
      if (done) return null;
      if (off >= b.size) {
        done = true;
        const tail = decoder.decode();
        return tail === '' ? null : tail;
      }
      const end = Math.min(b.size, off + sliceSize);
      const bytes = new Uint8Array(await b.slice(off, end).arrayBuffer());
      off = end;
      return decoder.decode(bytes, { stream: true });
    },
    progress: () => (b.size === 0 ? 1 : off / b.size),
  };
}

/** True when a Blob starts with the UTF-8 BOM (EF BB BF), or a string with U+FEFF. */
async function startsWithBom(input: CsvInput): Promise<boolean> {
  if (typeof input === 'string') return input.charCodeAt(0) === 0xfeff;
  if (input.size < 3) return false;
  const b = new Uint8Array(await input.slice(0, 3).arrayBuffer());
  return b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
}

// ---------------------------------------------------------------------------------------------
// Delimiter and newline detection

/** Counts `,` `;` and tabs outside double quotes in one line and picks the most frequent. */
export function detectDelimiter(line: string): CsvDelimiter {
  let comma = 0;
  let semi = 0;
  let tab = 0;
  let inQuote = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 34) inQuote = !inQuote;
    else if (inQuote) continue;
    else if (c === 44) comma++;
    else if (c === 59) semi++;
    else if (c === 9) tab++;
  }
  if (semi > comma && semi >= tab) return ';';
  if (tab > comma && tab > semi) return '\t';
  return ',';
}

function detectNewline(text: string): Newline {
  const lf = text.indexOf('\n');
  if (lf === -1) return text.includes('\r') ? '\r' : '\n';
  const cr = text.indexOf('\r');
  if (cr !== -1 && cr < lf - 1) return '\r'; // an old-Mac file: a CR long before any LF
  return lf > 0 && text.charCodeAt(lf - 1) === 13 ? '\r\n' : '\n';
}

/** Index of the first non-whitespace character, or -1. */
function firstContent(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13 && c !== 0xfeff) return i;
  }
  return -1;
}

/** The first non-blank line, if it is complete (terminated, or `eof`). */
function firstLine(text: string, eof: boolean): string | undefined {
  const start = firstContent(text);
  if (start === -1) return undefined;
  const lineStart = Math.max(text.lastIndexOf('\n', start), text.lastIndexOf('\r', start)) + 1;
  let end = lineStart;
  while (end < text.length && text.charCodeAt(end) !== 10 && text.charCodeAt(end) !== 13) end++;
  if (end === text.length && !eof) return undefined;
  return text.slice(lineStart, end);
}

// ---------------------------------------------------------------------------------------------
// The streaming row reader (shared by the strict matrix parser and the table reader)

/** What the reader found before the first row: the layout, and the text read so far. */
export interface CsvStreamStart {
  readonly delimiter: CsvDelimiter;
  readonly newline: Newline;
  /** Size of the input (characters of a string, bytes of a Blob). */
  readonly size: number;
  /** True when the input started with a byte-order mark (it is dropped). */
  readonly bom: boolean;
}

/** Receives every non-blank row of a CSV input, in order. */
export interface CsvRowReader {
  /**
   * Picks the delimiter from the first non-blank line and the text read so far (at least
   * `CSV_SAMPLE_CHARS` characters when the input is that long; BOM removed). Default:
   * `detectDelimiter(firstLine)`.
   */
  delimiter?(firstLine: string, sample: string): CsvDelimiter;
  /** Called once, before the first row. */
  start?(info: CsvStreamStart): void;
  /** One non-blank row: its fields (as papaparse returns them, untrimmed) and its first physical line (1-based). */
  row(fields: string[], line: number): void;
}

export interface CsvStreamOptions {
  /** Characters of a string, or bytes of a Blob, read per slice (default 2 MiB). Tests use tiny slices. */
  readonly sliceSize?: number;
  /** Called with the fraction of the input consumed, in [0, 1]. */
  readonly onProgress?: (fraction: number) => void;
  readonly signal?: AbortSignal;
}

/** The reader looks at least this much text (or the whole input) before choosing the delimiter. */
export const CSV_SAMPLE_CHARS = 64 * 1024;

/**
 * Where the text `buf[scanPos…]` can be cut: the position of the last row-ending newline
 * outside quoted fields (the `\n` of a CRLF), or -1. `state` (scan position and quote state)
 * carries across calls as the buffer grows. As papaparse does, a `"` opens a quoted field only
 * at the start of a field (after the delimiter, a newline or at the start of the buffer, which
 * always starts a row); inside a quoted field `""` is an escaped quote. A quote at the very end
 * of the buffer is left for the next call, since the character after it decides what it means.
 * With CRLF newlines a lone LF (and with CR newlines an LF) is data, not a row boundary.
 */
export function scanRowBoundary(buf: string, state: { scanPos: number; inQuote: boolean }, delimiter: CsvDelimiter, newline: Newline): number {
  const delimiterCode = delimiter.charCodeAt(0);
  const crlf = newline === '\r\n';
  const nlChar = newline === '\r' ? '\r' : '\n';
  const nlCode = nlChar.charCodeAt(0);
  /** True when position `i` starts a field. */
  const fieldStart = (i: number) => {
    if (i === 0) return true;
    const prev = buf.charCodeAt(i - 1);
    if (prev === delimiterCode) return true;
    if (prev !== nlCode) return false;
    return !crlf || (i >= 2 && buf.charCodeAt(i - 2) === 13);
  };
  let cut = -1;
  let { scanPos, inQuote } = state;
  while (scanPos < buf.length) {
    const q = buf.indexOf('"', scanPos);
    if (!inQuote) {
      const end = q === -1 ? buf.length : q;
      if (end > scanPos) {
        let nl = buf.lastIndexOf(nlChar, end - 1);
        if (crlf) while (nl >= scanPos && (nl === 0 || buf.charCodeAt(nl - 1) !== 13)) nl = nl === 0 ? -1 : buf.lastIndexOf(nlChar, nl - 1);
        if (nl >= scanPos) cut = nl;
      }
      if (q === -1) {
        scanPos = buf.length;
        break;
      }
      if (fieldStart(q)) inQuote = true;
      scanPos = q + 1;
    } else {
      if (q === -1) {
        scanPos = buf.length;
        break;
      }
      if (q + 1 >= buf.length) {
        scanPos = q; // decide with the next slice
        break;
      }
      if (buf.charCodeAt(q + 1) === 34) {
        scanPos = q + 2;
        continue;
      }
      inQuote = false;
      scanPos = q + 1;
    }
  }
  state.scanPos = scanPos;
  state.inQuote = inQuote;
  return cut;
}

function quoteError(code: string, line: number): AppError {
  if (code === 'MissingQuotes') {
    return csvError(
      `line ${line}: quoted field is not closed`,
      `Line ${line}: a quoted field is opened with " but never closed. Fix the quotes and upload again.`,
      line,
    );
  }
  return csvError(
    `line ${line}: malformed quotes (${code})`,
    `Line ${line}: a quoted field is malformed (text after the closing quote). Fix the quotes and upload again.`,
    line,
  );
}

/**
 * Reads a CSV input slice by slice and hands every non-blank row to `reader` with its physical
 * line number. Each slice is cut at the last row boundary outside quotes (`scanRowBoundary`)
 * and tokenised by papaparse with the detected delimiter and newline, so the rows are exactly
 * those papaparse finds in the whole text, whatever the slice size.
 *
 * @throws AppError CSV_INVALID for an empty or binary input, bad quotes and over-long rows;
 *   ABORTED when `signal` fires; whatever `reader.row` throws.
 */
export async function streamCsvRows(input: CsvInput, opts: CsvStreamOptions, reader: CsvRowReader): Promise<void> {
  const { signal } = opts;
  if (typeof input !== 'string' && !(typeof Blob !== 'undefined' && input instanceof Blob)) {
    throw new AppError('INVALID_ARGUMENT', 'CSV input must be a string, Blob or File');
  }
  const sliceSize = opts.sliceSize ?? SLICE_SIZE;
  if (!Number.isInteger(sliceSize) || sliceSize < 1) throw new AppError('INVALID_ARGUMENT', `slice size must be a positive integer, got ${sliceSize}`);
  const bom = await startsWithBom(input);
  const source = typeof input === 'string' ? stringSource(input, sliceSize) : blobSource(input, sliceSize);
  const size = typeof input === 'string' ? input.length : input.size;
  const check = () => {
    if (signal?.aborted) throw aborted();
  };
  check();

  // Read until the first non-blank line is complete and the sample is long enough.
  let buf = '';
  let eof = false;
  let first: string | undefined;
  while ((first = firstLine(buf, eof)) === undefined || (!eof && buf.length < CSV_SAMPLE_CHARS)) {
    if (eof) break;
    const next = await source.next();
    if (next === null) eof = true;
    else buf += next;
    check();
  }
  if (buf.charCodeAt(0) === 0xfeff) buf = buf.slice(1);
  if (first === undefined) {
    throw csvError('file is empty', 'The file is empty. Choose a CSV file with one record per line.', 1);
  }
  if (buf.slice(0, 4096).includes('\0')) {
    throw csvError('file is binary, not text', 'This file is not a text CSV file (it contains binary data). If it is a NumPy array, save it with the .npy extension.', 1);
  }
  const delimiter = reader.delimiter ? reader.delimiter(first, buf) : detectDelimiter(first);
  const newline = detectNewline(buf);
  const nlChar = newline === '\r' ? '\r' : '\n';
  reader.start?.({ delimiter, newline, size, bom });
  const papaConfig = {
    delimiter,
    newline,
    quoteChar: '"',
    escapeChar: '"',
    header: false,
    dynamicTyping: false,
    skipEmptyLines: false,
  } as const;

  let line = 1;
  const parsePiece = (piece: string) => {
    if (piece === '') {
      line++; // a blank line
      return;
    }
    const hasQuote = piece.indexOf('"') !== -1;
    const r = Papa.parse<string[]>(piece, { ...papaConfig, fastMode: hasQuote ? false : true });
    // Newlines inside quoted fields (or lone LFs in a CRLF file) count as physical lines.
    const scanFields = hasQuote || newline === '\r\n';
    let errRow = Infinity;
    let errCode = '';
    for (const e of r.errors) {
      const row = e.row ?? r.data.length - 1;
      if (row < errRow) {
        errRow = row;
        errCode = e.code;
      }
    }
    const data = r.data;
    for (let i = 0; i < data.length; i++) {
      const fields = data[i];
      const at = line;
      if (i === errRow) throw quoteError(errCode, at);
      if (scanFields) {
        for (const f of fields) {
          for (let k = f.indexOf(nlChar); k !== -1; k = f.indexOf(nlChar, k + 1)) line++;
        }
      }
      line++;
      if (fields.length === 1 && fields[0].trim() === '') continue; // blank line (pandas skips them)
      reader.row(fields, at);
    }
  };

  const state = { scanPos: 0, inQuote: false };
  for (;;) {
    const cut = scanRowBoundary(buf, state, delimiter, newline);
    if (cut >= 0) {
      const pieceEnd = newline === '\r\n' && cut > 0 && buf.charCodeAt(cut - 1) === 13 ? cut - 1 : cut;
      parsePiece(buf.slice(0, pieceEnd));
      buf = buf.slice(cut + 1);
      state.scanPos -= cut + 1;
    }
    opts.onProgress?.(Math.min(1, source.progress()));
    if (buf.length > MAX_ROW_CHARS) {
      throw csvError(`line ${line}: row too long or quote not closed`, `Line ${line} is too long to be a record (is a quote left open?). Fix the file and upload again.`, line);
    }
    check();
    if (eof) break;
    const next = await source.next();
    if (next === null) eof = true;
    else buf += next;
    // In a worker, let an abort message arrive between slices.
    if (signal) await new Promise((resolve) => setTimeout(resolve, 0));
    check();
  }
  if (buf.length > 0) {
    if (newline === '\r\n' && buf.endsWith('\r')) buf = buf.slice(0, -1);
    parsePiece(buf);
  }
  opts.onProgress?.(1);
}

// ---------------------------------------------------------------------------------------------
// Rows → matrix

type CellKind = 'feature' | 'label' | 'integer-label';

/** Validates one trimmed token; returns exactly `Number(token)`. */
function cellValue(token: string, kind: CellKind, line: number, column: number, delimiter: CsvDelimiter): number {
  const v = +token;
  if (token === '' || v !== v) throw cellError(token, line, column, delimiter);
  if (v === Infinity || v === -Infinity) {
    // `Infinity` itself, or a decimal literal beyond float64's range (e.g. 1e400).
    if (INFINITY_RE.test(token)) throw cellError(token, line, column, delimiter);
    if (kind === 'feature') throw magnitudeError({ line, column });
    throw cellError(token, line, column, delimiter);
  }
  // Number() also reads 0x.., 0b.., 0o.. (never signed); pandas would not.
  if (token.length > 2 && token.charCodeAt(0) === 48) {
    const p = token.charCodeAt(1) | 0x20;
    if (p === 120 || p === 98 || p === 111) throw cellError(token, line, column, delimiter);
  }
  if (kind === 'feature' && (v > MAX_ABS_VALUE || v < -MAX_ABS_VALUE)) throw magnitudeError({ line, column });
  if (kind === 'integer-label' && !(Number.isInteger(v) && v >= -2147483648 && v <= 2147483647)) {
    throw csvError(
      `line ${line}, column ${column}: label is not an integer in int32 range`,
      `Line ${line}: a class label must be a whole number (such as 0, 1 or 2). Fix the labels file and upload again.`,
      line,
      column,
    );
  }
  return v;
}

function isNumericLike(token: string): boolean {
  if (token === '') return false;
  const v = +token;
  return v === v || MISSING_WORDS.has(token.toLowerCase()) || INFINITY_RE.test(token);
}

interface CoreOptions extends CsvStreamOptions {
  readonly labelColumn?: number | 'last' | null;
  readonly labelsFile?: boolean;
}

/** Strict rows → float64 matrix (every cell a finite decimal number). */
class TableBuilder implements CsvRowReader {
  delim: CsvDelimiter = ',';
  size = 0;
  lastLine = 1;
  headerFields?: string[];
  headerLine?: number;
  expected = -1;
  labelIdx = -1;
  values: Growable<Float64Array>;
  labels?: Growable<Float64Array>;
  rows = 0;

  constructor(readonly opts: CoreOptions) {
    this.values = new Growable(Float64Array, 0);
  }

  start(info: CsvStreamStart): void {
    this.delim = info.delimiter;
    this.size = info.size;
  }

  private first(fields: string[], line: number): boolean {
    const trimmed = fields.map((f) => f.trim());
    const isHeader = trimmed.some((t) => t !== '') && trimmed.every((t) => !isNumericLike(t));
    this.expected = fields.length;
    const lc = this.opts.labelColumn;
    if (lc !== undefined && lc !== null) {
      const idx = lc === 'last' ? fields.length - 1 : lc;
      if (!Number.isInteger(idx) || idx < 0 || idx >= fields.length) {
        throw new AppError('INVALID_ARGUMENT', `label column ${String(lc)} out of range for ${fields.length} fields`, {
          userMessage: `The chosen label column does not exist: the file has ${fields.length} column(s). Pick another label column.`,
        });
      }
      if (fields.length < 2) {
        throw new AppError('INVALID_ARGUMENT', 'label column leaves no feature columns', {
          userMessage: 'The file has a single column, so it cannot hold both features and a label column. Choose "no label column".',
        });
      }
      this.labelIdx = idx;
      this.labels = new Growable(Float64Array, 0);
    }
    if (this.opts.labelsFile && fields.length !== 1) {
      throw csvError(
        `line ${line} has ${fields.length} fields, expected 1 in a labels file`,
        `Line ${line} has ${fields.length} fields, but a labels file holds exactly one integer label per line. Choose the right file.`,
        line,
      );
    }
    const cols = fields.length - (this.labelIdx >= 0 ? 1 : 0);
    // Size the buffer from the first line's length to avoid most regrowth.
    const estRows = Math.ceil(this.size / Math.max(1, fields.join(',').length + 1));
    this.values = new Growable(Float64Array, (estRows + 16) * cols);
    if (isHeader) {
      this.headerFields = trimmed.map((t, j) => (t === '' ? `column ${j + 1}` : t));
      this.headerLine = line;
    }
    return isHeader;
  }

  row(fields: string[], line: number): void {
    this.lastLine = line;
    if (this.expected < 0 && this.first(fields, line)) return;
    if (fields.length !== this.expected) throw raggedError(line, fields.length, this.expected, this.headerLine);
    const delimiter = this.delim;
    const kind: CellKind = this.opts.labelsFile ? 'integer-label' : 'feature';
    const labelIdx = this.labelIdx;
    const vals = this.values;
    vals.reserve(this.expected);
    const buf = vals.data;
    let len = vals.length;
    for (let j = 0; j < fields.length; j++) {
      let t = fields[j];
      // Trim only when needed (most cells have no surrounding whitespace).
      const c0 = t.charCodeAt(0);
      const cl = t.charCodeAt(t.length - 1);
      if (c0 <= 32 || cl <= 32 || c0 === 0xfeff || c0 === 160 || cl === 160) t = t.trim();
      if (j === labelIdx) {
        this.labels!.reserve(1);
        this.labels!.data[this.labels!.length++] = cellValue(t, 'label', line, j + 1, delimiter);
      } else {
        buf[len++] = cellValue(t, kind, line, j + 1, delimiter);
      }
    }
    vals.length = len;
    this.rows++;
  }
}

async function parseCore(input: CsvInput, opts: CoreOptions): Promise<{ t: TableBuilder; delimiter: CsvDelimiter }> {
  const t = new TableBuilder(opts);
  await streamCsvRows(input, opts, t);
  return { t, delimiter: t.delim };
}

/**
 * Parses a CSV dataset into an n×a float64 matrix (plus an optional label column).
 *
 * @throws AppError CSV_INVALID (`details: {line, column?}`) for an empty file, a header without
 *   data, ragged rows, bad quotes and non-numeric / missing / non-finite cells;
 *   DATA_MAGNITUDE (`details: {line, column}`) for |x| > 1e15; INVALID_ARGUMENT for a bad
 *   `labelColumn`; ABORTED when `signal` fires.
 * @example
 *   const t = await parseCsv(file, { onProgress: (f) => setProgress(f) });
 *   t.matrix.shape // [150, 4]
 */
export async function parseCsv(input: CsvInput, opts: ParseCsvOptions = {}): Promise<ParsedTable> {
  const { t } = await parseCore(input, opts);
  if (t.rows === 0) {
    throw csvError(
      'no numeric rows (header only)',
      'The file has a header line but no numeric rows (a header is not data). Add the data rows below the header and upload again.',
      t.headerLine ?? 1,
    );
  }
  const cols = t.expected - (t.labelIdx >= 0 ? 1 : 0);
  const matrix = plainMatrix(t.values.finish(), t.rows, cols);
  let labels: Int32Array | Float64Array | undefined;
  if (t.labels) labels = toLabelArray(t.labels.finish());
  let header: string[] | undefined;
  let labelHeader: string | undefined;
  if (t.headerFields) {
    header = t.headerFields.filter((_, j) => j !== t.labelIdx);
    if (t.labelIdx >= 0) labelHeader = t.headerFields[t.labelIdx];
  }
  return {
    matrix,
    labels,
    header,
    labelHeader,
    labelColumn: t.labelIdx >= 0 ? t.labelIdx : undefined,
    delimiter: t.delim,
    rows: t.rows,
    cols,
  };
}

/** Int32Array when every value is an integer in int32 range, else the Float64Array itself. */
export function toLabelArray(values: Float64Array): Int32Array | Float64Array {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) return values;
  }
  return Int32Array.from(values);
}

/**
 * Parses a labels file (`*.labels.csv`): one integer class label per line (an optional
 * one-word header line is allowed).
 *
 * @throws AppError CSV_INVALID with `details: {line, column}` for non-integers, more than one
 *   field per line, an empty file or a header without labels.
 */
export async function parseLabels(input: CsvInput, opts: Omit<ParseCsvOptions, 'labelColumn'> = {}): Promise<Int32Array> {
  const { t } = await parseCore(input, { ...opts, labelsFile: true });
  if (t.rows === 0) {
    throw csvError('no labels (header only)', 'The labels file has a header line but no labels. Add one integer label per line.', t.headerLine ?? 1);
  }
  return Int32Array.from(t.values.finish());
}
