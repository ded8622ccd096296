import { matrix, type Matrix } from '@/lib/data/matrix';

/** A headerless numeric CSV (the bench datasets and generated blobs). */
export function parseNumericCsv(text: string): Matrix {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const cols = lines[0].split(',').length;
  const data = new Float64Array(lines.length * cols);
  lines.forEach((l, i) => l.split(',').forEach((c, j) => (data[i * cols + j] = Number(c))));
  return matrix(data, [lines.length, cols]);
}
