/**
 * @module data/missing
 * Missing values in real-world CSV files (issue #14 item 4): which cells count as missing, how
 * they are counted, and the three ways to go on — refuse (the default, as for the strict numeric
 * format of `shared/datasets/README.md`, whose `bad/nan.csv` must be refused), drop the rows that
 * have them, or fill each column's holes with its mean or median. Pure.
 */

/**
 * Missing markers, compared lower-cased after trimming: the empty cell, `NA`, `N/A`, `?`, `nan`
 * (issue #14), plus the rest of pandas' default `na_values`, so that whatever `to_csv(na_rep=…)`
 * wrote with a default marker reads back as missing.
 */
export const MISSING_MARKERS: ReadonlySet<string> = new Set([
  '',
  '?',
  'na',
  'n/a',
  'nan',
  '-nan',
  '+nan',
  '#n/a',
  '#n/a n/a',
  '#na',
  '-1.#ind',
  '-1.#qnan',
  '1.#ind',
  '1.#qnan',
  '<na>',
  'null',
  'none',
]);

/** True when a trimmed token marks a missing value. */
export function isMissingToken(token: string): boolean {
  if (token === '') return true;
  return token.length <= 8 && MISSING_MARKERS.has(token.toLowerCase());
}

/** What to do with missing cells in the feature and label columns. */
export type MissingStrategy = 'refuse' | 'drop' | 'mean' | 'median';
export const MISSING_STRATEGIES: readonly MissingStrategy[] = ['refuse', 'drop', 'mean', 'median'];

export const MISSING_STRATEGY_NAMES: Readonly<Record<MissingStrategy, string>> = {
  refuse: 'Refuse the file',
  drop: 'Drop the records that have them',
  mean: 'Fill with the column mean',
  median: 'Fill with the column median',
};

/**
 * Mean or median of the finite values of `values` at the rows where `present` is true.
 * Returns NaN when there are none.
 */
export function fillValue(values: Float64Array, present: (row: number) => boolean, how: 'mean' | 'median'): number {
  if (how === 'mean') {
    let sum = 0;
    let n = 0;
    for (let i = 0; i < values.length; i++) {
      if (!present(i)) continue;
      sum += values[i];
      n++;
    }
    return n === 0 ? NaN : sum / n;
  }
  const kept: number[] = [];
  for (let i = 0; i < values.length; i++) if (present(i)) kept.push(values[i]);
  if (kept.length === 0) return NaN;
  const sorted = Float64Array.from(kept).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
