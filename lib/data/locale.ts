/**
 * @module data/locale
 * Numbers as spreadsheets in different locales write them (issue #14 item 3): the decimal
 * separator (`.` or `,`), thousands separators (inside quoted cells when the delimiter is the
 * same character), and the detection of a file's delimiter + decimal separator from its first
 * lines — with the competing readings kept when the text does not decide (then the user picks
 * one in one click). Pure.
 *
 * A number is a decimal literal (`12`, `-3.5`, `.5`, `1e-3`, `1,5` with a decimal comma) or a
 * literal whose integer part is grouped by threes with one thousands separator used throughout
 * (`1,234,567.5`, `1 234,5`, `1.234.567` with a decimal comma, `1'234`). The hexadecimal, binary
 * and octal forms `Number()` also accepts, and the words `Infinity` / `inf`, are not numbers
 * (pandas would not read them either).
 */
import Papa from 'papaparse';
import { detectDelimiter, type CsvDelimiter } from './csv';
import { isMissingToken } from './missing';

export type DecimalSeparator = '.' | ',';

/** How a CSV file writes its fields and numbers. */
export interface CsvFormat {
  readonly delimiter: CsvDelimiter;
  readonly decimal: DecimalSeparator;
}

export const DELIMITER_NAMES: Readonly<Record<CsvDelimiter, string>> = { ',': 'comma', ';': 'semicolon', '\t': 'tab' };

/** "semicolon-separated, decimal comma" */
export function describeFormat(f: CsvFormat): string {
  return `${DELIMITER_NAMES[f.delimiter]}-separated, decimal ${f.decimal === ',' ? 'comma' : 'point'}`;
}

export function sameFormat(a: CsvFormat, b: CsvFormat): boolean {
  return a.delimiter === b.delimiter && a.decimal === b.decimal;
}

const DECIMAL_POINT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DECIMAL_COMMA_RE = /^[+-]?(?:\d+,?\d*|,\d+)(?:[eE][+-]?\d+)?$/;
/** Grouped integer part; `\1` is the separator, the same throughout. */
const GROUPED_POINT_RE = /^[+-]?\d{1,3}([, \u00a0\u202f'])\d{3}(?:\1\d{3})*(?:\.\d*)?$/;
const GROUPED_COMMA_RE = /^[+-]?\d{1,3}([. \u00a0\u202f'])\d{3}(?:\1\d{3})*(?:,\d*)?$/;

/**
 * Reads numbers in one decimal style. `read` returns the value, or NaN when the token is not a
 * number; `thousands` tells whether the last number read used thousands separators. A literal
 * beyond float64's range reads as ±Infinity (the caller reports it as too large).
 */
export class NumberReader {
  thousands = false;
  constructor(readonly decimal: DecimalSeparator) {}

  read(token: string): number {
    this.thousands = false;
    if (token === '') return NaN;
    const c0 = token.charCodeAt(0);
    // Fast path: the common decimal-point literal (Number() accepts a superset, checked below).
    if (this.decimal === '.') {
      if ((c0 >= 48 && c0 <= 57) || c0 === 45 || c0 === 43 || c0 === 46) {
        if (DECIMAL_POINT_RE.test(token)) return +token;
        if (GROUPED_POINT_RE.test(token)) return this.grouped(token);
      }
      return NaN;
    }
    if ((c0 >= 48 && c0 <= 57) || c0 === 45 || c0 === 43 || c0 === 44) {
      if (DECIMAL_COMMA_RE.test(token)) return +token.replace(',', '.');
      if (GROUPED_COMMA_RE.test(token)) return this.grouped(token);
    }
    return NaN;
  }

  private grouped(token: string): number {
    this.thousands = true;
    const cleaned = token.replace(/[., \u00a0\u202f']/g, (ch) => (ch === this.decimal ? '.' : ''));
    return +cleaned;
  }
}

/** True when the trimmed token is a number, a missing marker or an infinity (i.e. not text). */
export function isNumericOrMissing(token: string, reader: NumberReader): boolean {
  if (isMissingToken(token)) return true;
  const v = reader.read(token);
  if (v === v) return true; // not NaN
  return /^[+-]?(inf|infinity)$/i.test(token);
}

/**
 * A first line is a header when it has some text and every field is text or empty (a number or a
 * missing marker such as `NaN` makes it data, as in `parseCsv`). Fields are trimmed.
 */
export function isHeaderRow(cells: readonly string[], reader: NumberReader): boolean {
  return cells.some((t) => t !== '') && cells.every((t) => t === '' || !isNumericOrMissing(t, reader));
}

// ---------------------------------------------------------------------------------------------
// Detection

/** Every reading the detector considers, in order of preference when the text does not decide. */
export const CANDIDATE_FORMATS: readonly CsvFormat[] = [
  { delimiter: ',', decimal: '.' },
  { delimiter: ';', decimal: ',' },
  { delimiter: ';', decimal: '.' },
  { delimiter: '\t', decimal: '.' },
  { delimiter: '\t', decimal: ',' },
];

export interface FormatDetection {
  /** The reading used. */
  readonly format: CsvFormat;
  /**
   * Other readings that fit the first lines just as well but give different numbers or columns
   * (e.g. `1,5` as one value 1.5 or as two values 1 and 5). Empty when the text decides.
   */
  readonly alternatives: readonly CsvFormat[];
  /** Fraction of non-header, non-missing cells of the sample that are numbers in `format`. */
  readonly numericShare: number;
}

/** Lines the detector looks at. */
const SAMPLE_ROWS = 200;
const SAMPLE_CHARS = 64 * 1024;

function firstLineOf(text: string): string {
  return text.replace(/^\s+/, '').split(/\r\n|\r|\n/, 1)[0];
}

interface Reading {
  readonly format: CsvFormat;
  readonly consistent: boolean;
  readonly cols: number;
  readonly share: number;
  /** Column count and every cell's value (NaN for text): two readings agree when equal. */
  readonly signature: string;
}

function readSample(rows: string[][], format: CsvFormat): Reading {
  const cols = rows[0]?.length ?? 0;
  const consistent = rows.length > 0 && rows.every((r) => r.length === cols);
  const reader = new NumberReader(format.decimal);
  const first = rows[0]?.map((t) => t.trim()) ?? [];
  const header = isHeaderRow(first, reader);
  let numbers = 0;
  let text = 0;
  const values: number[] = [];
  for (let i = header ? 1 : 0; i < rows.length; i++) {
    for (const cell of rows[i]) {
      const t = cell.trim();
      if (isMissingToken(t)) {
        values.push(NaN);
        continue;
      }
      const v = reader.read(t);
      values.push(v);
      if (v === v) numbers++;
      else text++;
    }
  }
  const share = numbers + text === 0 ? 0 : numbers / (numbers + text);
  return { format, consistent, cols, share, signature: `${cols}:${values.join(',')}` };
}

/**
 * Picks the delimiter and decimal separator from the first lines of a file (`sample`, BOM
 * removed). A reading must give every sample line the same number of fields; among those, the
 * one under which most cells are numbers wins, with ties going to the earlier entry of
 * `CANDIDATE_FORMATS`. Tied readings that would give different values are returned as
 * `alternatives` for the user to choose from. When no reading finds numbers, the strict rule
 * applies (`detectDelimiter` on the first line, decimal point).
 *
 * @example
 *   detectFormat('a;b\n5,1;3,5\n').format // { delimiter: ';', decimal: ',' }
 *   detectFormat('1,5\n2,5\n').alternatives // [{ delimiter: ';', decimal: ',' }]: 1.5 or 1 and 5?
 */
export function detectFormat(sample: string): FormatDetection {
  let text = sample.charCodeAt(0) === 0xfeff ? sample.slice(1) : sample;
  if (text.length > SAMPLE_CHARS) text = text.slice(0, SAMPLE_CHARS);
  // Whole lines only: the sample may end inside a line, which would have too few fields.
  const cut = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
  if (cut > 0 && cut < text.length - 1) text = text.slice(0, cut);
  const readings: Reading[] = [];
  for (const format of CANDIDATE_FORMATS) {
    const parsed = Papa.parse<string[]>(text, { delimiter: format.delimiter, quoteChar: '"', escapeChar: '"', preview: SAMPLE_ROWS, skipEmptyLines: 'greedy' });
    readings.push(readSample(parsed.data, format));
  }
  const valid = readings.filter((r) => r.consistent);
  let best = valid[0];
  for (const r of valid) if (r.share > best.share + 1e-12) best = r;
  if (!best || best.share === 0) {
    // No reading finds numbers in every line alike (e.g. ragged rows, or text only): read as the
    // strict format does (delimiter from the first line, decimal point), so the row that does
    // not fit is reported by line.
    return { format: { delimiter: detectDelimiter(firstLineOf(text)), decimal: '.' }, alternatives: [], numericShare: best?.share ?? 0 };
  }
  const seen = new Set([best.signature]);
  const alternatives: CsvFormat[] = [];
  for (const r of valid) {
    if (r === best || Math.abs(r.share - best.share) > 1e-12 || seen.has(r.signature)) continue;
    // A reading that finds no numbers at all is not a real competitor.
    if (r.share === 0) continue;
    seen.add(r.signature);
    alternatives.push(r.format);
  }
  return { format: best.format, alternatives, numericShare: best.share };
}
