/**
 * @module data/columns
 * Column roles for real-world CSV files (issue #14 item 1): every column of a file is a feature,
 * the label column, or ignored. What each column can be follows from its cells; the defaults
 * follow the common layouts (pandas `to_csv()`, Kaggle downloads, Excel exports):
 *
 * - a column empty on every row is left out, with a note (it cannot be anything else);
 * - an unnamed integer column holding 0…n−1 (or 1…n) in order is the row index: ignored;
 * - a column named like an identifier (`id`, `patient_id`, `ID`, `uuid`, `index`…) is ignored;
 * - the first text column with few distinct values is the label column; other text columns are
 *   ignored (text cannot be encrypted as a feature);
 * - every other column is a feature — including a numeric column with a few stray text cells,
 *   which then fails with the line and column of the first one, as in the strict format.
 *
 * The user can change every role the cells allow before saving. Pure.
 */
import { type RawColumn, type RawTable, MAX_TEXT_VALUES } from './table';

export type ColumnRole = 'feature' | 'label' | 'ignore';

/** What a column's cells are, ignoring missing ones. */
export type ColumnKind = 'numeric' | 'text' | 'mixed' | 'empty';

/** Why a column got its default role (shown next to it). */
export type RoleReason = 'index' | 'id' | 'empty' | 'text' | 'classes';

/** A text column with at most this many distinct values is offered as the label column. */
export const MAX_DEFAULT_CLASSES = 50;

export interface ColumnInfo {
  readonly index: number;
  /** Header name, or '' when unnamed. */
  readonly name: string;
  /** `alcohol`, or `Column 1` for an unnamed column. */
  readonly displayName: string;
  readonly kind: ColumnKind;
  /** Roles the cells allow. */
  readonly allowed: readonly ColumnRole[];
  readonly defaultRole: ColumnRole;
  readonly reason?: RoleReason;
  /** Distinct text values (text columns, up to MAX_TEXT_VALUES). */
  readonly distinct?: number;
}

export const ROLE_REASON_TEXT: Readonly<Record<RoleReason, string>> = {
  index: 'row numbers (an index), not a measurement',
  id: 'an identifier, not a measurement',
  empty: 'empty on every row: left out',
  text: 'text with many distinct values',
  classes: 'text with few distinct values: class labels',
};

/** Display name of column `index` (0-based): its header name, or `Column n`. */
export function columnDisplayName(name: string, index: number): string {
  return name === '' ? `Column ${index + 1}` : name;
}

/** Header names pandas and spreadsheets give an index column. */
const INDEX_NAME_RE = /^(|unnamed: ?\d+|index|idx|#|no\.?|row|row ?(id|number|no\.?))$/i;
const CAMEL_ID_RE = /[a-z]Id$/;

/** Names of identifier columns: `id`, `ID`, `patient_id`, `Sample ID`, `id_code`, `patientId`, `uuid`, `guid`. */
export function isIdName(name: string): boolean {
  const n = name.trim();
  if (n === '') return false;
  if (CAMEL_ID_RE.test(n)) return true;
  return /^(.*[\s_.-])?(id|uuid|guid)$/i.test(n) || /^(id|uuid)[\s_.-]/i.test(n);
}

/** True when the column holds exactly 0, 1, …, n−1 (or 1, …, n) in order, with no gaps. */
export function isRowIndex(c: RawColumn, rows: number): boolean {
  if (c.numbers !== rows || rows < 2) return false;
  const v = c.values;
  const start = v[0];
  if (start !== 0 && start !== 1) return false;
  for (let i = 1; i < rows; i++) if (v[i] !== start + i) return false;
  return true;
}

function kindOf(c: RawColumn): ColumnKind {
  if (c.numbers === 0 && c.text === 0) return 'empty';
  if (c.text === 0) return 'numeric';
  if (c.numbers === 0) return 'text';
  return 'mixed';
}

/** Distinct text values, or Infinity when there are more than MAX_TEXT_VALUES. */
function distinctText(c: RawColumn): number {
  if (c.textOverflow) return Infinity;
  return c.textValues?.length ?? 0;
}

/**
 * What each column of `table` is and can be, with its default role.
 *
 * @example
 *   describeColumns(winePandas).map((c) => c.defaultRole)
 *   // ['ignore' (index), 'feature' × 13, 'label' (cultivar)]
 */
export function describeColumns(table: RawTable): ColumnInfo[] {
  let labelTaken = false;
  return table.columns.map((c): ColumnInfo => {
    const kind = kindOf(c);
    const base = { index: c.index, name: c.name, displayName: columnDisplayName(c.name, c.index), kind };
    switch (kind) {
      case 'empty':
        return { ...base, allowed: ['ignore'], defaultRole: 'ignore', reason: 'empty' };
      case 'text': {
        const distinct = distinctText(c);
        const canLabel = distinct <= MAX_TEXT_VALUES;
        const allowed: ColumnRole[] = canLabel ? ['label', 'ignore'] : ['ignore'];
        const few = distinct <= MAX_DEFAULT_CLASSES && distinct <= Math.max(2, table.rows / 2);
        if (few && !labelTaken && !isIdName(c.name)) {
          labelTaken = true;
          return { ...base, allowed, defaultRole: 'label', reason: 'classes', distinct };
        }
        return { ...base, allowed, defaultRole: 'ignore', reason: isIdName(c.name) ? 'id' : 'text', ...(canLabel ? { distinct } : {}) };
      }
      case 'mixed':
        return { ...base, allowed: ['feature', 'ignore'], defaultRole: 'feature' };
      case 'numeric': {
        const allowed: ColumnRole[] = ['feature', 'label', 'ignore'];
        const unnamed = table.header ? INDEX_NAME_RE.test(c.name.trim()) : c.index === 0 && table.rows >= 3;
        if (unnamed && c.missing === 0 && isRowIndex(c, table.rows)) return { ...base, allowed, defaultRole: 'ignore', reason: 'index' };
        if (isIdName(c.name)) return { ...base, allowed, defaultRole: 'ignore', reason: 'id' };
        return { ...base, allowed, defaultRole: 'feature' };
      }
    }
  });
}

/** The default role of every column. */
export function defaultRoles(infos: readonly ColumnInfo[]): ColumnRole[] {
  return infos.map((c) => c.defaultRole);
}

/**
 * Sets the role of column `index`, keeping at most one label column (a previous label column
 * goes back to its default role, or to `ignore` if that was `label`). Roles the column's cells do
 * not allow are refused (returns the roles unchanged).
 */
export function withRole(roles: readonly ColumnRole[], infos: readonly ColumnInfo[], index: number, role: ColumnRole): ColumnRole[] {
  const info = infos[index];
  if (!info || !info.allowed.includes(role)) return [...roles];
  return roles.map((r, j) => {
    if (j === index) return role;
    if (role === 'label' && r === 'label') {
      const d = infos[j].defaultRole;
      return d === 'label' ? (infos[j].allowed.includes('feature') ? 'feature' : 'ignore') : d;
    }
    return r;
  });
}

/** No label column: the current one goes back to its default role (or feature / ignore if that was label). */
export function withoutLabel(roles: readonly ColumnRole[], infos: readonly ColumnInfo[]): ColumnRole[] {
  return roles.map((r, j) => {
    if (r !== 'label') return r;
    const d = infos[j].defaultRole;
    return d !== 'label' ? d : infos[j].allowed.includes('feature') ? 'feature' : 'ignore';
  });
}

/** Index of the label column, or null. */
export function labelColumnOf(roles: readonly ColumnRole[]): number | null {
  const j = roles.indexOf('label');
  return j < 0 ? null : j;
}
