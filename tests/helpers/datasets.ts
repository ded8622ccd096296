/**
 * Test fixtures: the shared datasets (../shared/datasets, trivial split parser — the files are
 * plain float CSVs without header) and kmeans-reference.json (../shared/vectors).
 */
import { readFileSync } from 'node:fs';
import { matrix, type Matrix } from '@/lib/data/matrix';

const SHARED = new URL('../../../shared/', import.meta.url);

/** A labels file of the shared datasets (one integer per line). */
export function labelsOf(name: string): Int32Array {
  const text = readFileSync(new URL(`datasets/${name}`, SHARED), 'utf8');
  return Int32Array.from(text.split('\n').filter(Boolean).map(Number));
}

export function loadCsv(name: string): Matrix {
  const text = readFileSync(new URL(`datasets/${name}`, SHARED), 'utf8');
  const rows = text.split('\n').filter((l) => l.trim() !== '');
  const cols = rows[0].split(',').length;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((line, i) => {
    const cells = line.split(',');
    if (cells.length !== cols) throw new Error(`${name}: line ${i + 1} has ${cells.length} fields`);
    cells.forEach((c, j) => (data[i * cols + j] = Number(c)));
  });
  return matrix(data, [rows.length, cols]);
}

export interface ReferenceRun {
  readonly dataset: string;
  readonly k: number;
  readonly labels: number[];
  readonly iterations: number;
  readonly converged: boolean;
  readonly final_centroids: number[][];
  readonly max_abs_shift_per_iteration: number[];
}

/** kmeans-reference.json entries by dataset file name (e.g. `iris.csv`). */
export function kmeansReference(): Record<string, ReferenceRun> {
  const j = JSON.parse(readFileSync(new URL('vectors/kmeans-reference.json', SHARED), 'utf8')) as { datasets: ReferenceRun[] };
  return Object.fromEntries(j.datasets.map((d) => [d.dataset, d]));
}
