/** Display formats for the Datasets page. */

/** `150 × 4` (records × attributes). */
export function formatShape(rows: number, cols: number): string {
  return `${rows} × ${cols}`;
}

/** A data value exactly as parsed (shortest round-trip form, e.g. `5.1`). */
export function formatValue(v: number): string {
  return String(v);
}

/** A derived statistic (mean, std): six significant digits, exponent form for extremes. */
export function formatStat(v: number): string {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e9 || a < 1e-4)) return v.toExponential(5).replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(6)));
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

export function formatDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** Header name of feature column `j` (0-based), or `Column j+1`. */
export function columnName(header: readonly string[] | undefined, j: number): string {
  return header?.[j] ?? `Column ${j + 1}`;
}
