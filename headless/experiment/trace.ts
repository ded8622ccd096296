/**
 * @module headless/experiment/trace
 * What `rory experiment` writes (pure): the trace (one row per event per run) and the summary
 * (per algorithm, dataset and parameters: the median and spread of the job time and its parts),
 * as CSV (RFC 4180 quoting) and as an aligned text table.
 *
 * Time split of a run (the same categories as the former bench/jobs.ts): crypto = Liu/CKKS
 * encryption and decryption, UDM/DM, FDHOPE key generation and encryption, verification;
 * transfer = the client's puts and gets; worker = the HTTP time of the worker steps (RUN1, RUN2).
 * Spread: interquartile range (numpy's default linear quantiles), minimum and maximum.
 */
import type { JobLogEvent } from '@/lib/rory/kit';
import { bytesOf } from '../jobs/events';

export const TRACE_COLUMNS = ['experiment_id', 'repetition', 'algorithm', 'dataset', 'n', 'a', 'k', 'params', 'event', 'round', 'duration', 'bytes'] as const;

export const SUMMARY_COLUMNS = [
  'experiment_id',
  'algorithm',
  'dataset',
  'n',
  'a',
  'k',
  'params',
  'runs',
  'failed',
  'median_s',
  'iqr_s',
  'min_s',
  'max_s',
  'median_iterations',
  'median_crypto_s',
  'median_transfer_s',
  'median_worker_s',
  'median_mb_up',
  'median_mb_down',
  'median_client_cpu_s',
] as const;

export const CRYPTO_EVENTS = ['SEGMENT.ENCRYPT', 'UDM.GENERATION', 'DM.GENERATION', 'FDHOPE.KEYGEN', 'FDHOPE.ENCRYPT', 'DECRYPT', 'VERIFY'];
export const TRANSFER_EVENTS = ['PUT', 'GET'];
export const WORKER_EVENTS = ['RUN1', 'RUN2'];

/** One run of a case, as the runner records it. */
export interface RunRecord {
  readonly experimentId: string;
  readonly repetition: number;
  readonly algorithm: string;
  readonly dataset: string;
  readonly n: number;
  readonly a: number;
  readonly k?: number;
  readonly params: string;
  readonly events: readonly JobLogEvent[];
  readonly ok: boolean;
  /** Job time (the runner's own total), ms; undefined for a failed run. */
  readonly totalMs?: number;
  readonly iterations?: number;
  readonly cpuMs: number;
}

/** RFC 4180: quote fields holding a comma, quote or line break. */
export function csvField(v: string | number | undefined | null): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(cells: readonly (string | number | undefined | null)[]): string {
  return cells.map(csvField).join(',') + '\n';
}

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms * 1000) / 1e6);

/** The trace rows of one run. */
export function traceRows(r: RunRecord): string {
  return r.events
    .map((e) =>
      csvLine([r.experimentId, r.repetition, r.algorithm, r.dataset, r.n, r.a, r.k, r.params, e.name, e.round === undefined ? undefined : e.round + 1, seconds(e.durationMs ?? 0), bytesOf(e)]),
    )
    .join('');
}

/** numpy's default (linear) quantile of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function median(values: readonly number[]): number {
  return quantile([...values].sort((x, y) => x - y), 0.5);
}

const sumOf = (events: readonly JobLogEvent[], names: readonly string[]) => events.filter((e) => names.includes(e.name)).reduce((s, e) => s + (e.durationMs ?? 0), 0);
const bytesSum = (events: readonly JobLogEvent[], name: string) => events.filter((e) => e.name === name).reduce((s, e) => s + (bytesOf(e) ?? 0), 0);

export type SummaryRow = Readonly<Record<(typeof SUMMARY_COLUMNS)[number], string | number | undefined>>;

const round3 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : undefined);

/** One summary row per (algorithm, dataset, k, params), in first-seen order. Failed runs count in `failed` only. */
export function summarize(records: readonly RunRecord[]): SummaryRow[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of records) {
    const key = JSON.stringify([r.algorithm, r.dataset, r.k ?? null, r.params]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((rs) => {
    const ok = rs.filter((r) => r.ok && r.totalMs !== undefined);
    const totals = ok.map((r) => r.totalMs! / 1000).sort((x, y) => x - y);
    const med = (f: (r: RunRecord) => number | undefined) => {
      const v = ok.map(f).filter((x): x is number => x !== undefined);
      return v.length ? round3(median(v)) : undefined;
    };
    const first = rs[0];
    return {
      experiment_id: first.experimentId,
      algorithm: first.algorithm,
      dataset: first.dataset,
      n: first.n,
      a: first.a,
      k: first.k,
      params: first.params,
      runs: rs.length,
      failed: rs.length - ok.length,
      median_s: round3(quantile(totals, 0.5)),
      iqr_s: round3(quantile(totals, 0.75) - quantile(totals, 0.25)),
      min_s: round3(totals[0]),
      max_s: round3(totals[totals.length - 1]),
      median_iterations: med((r) => r.iterations),
      median_crypto_s: med((r) => sumOf(r.events, CRYPTO_EVENTS) / 1000),
      median_transfer_s: med((r) => sumOf(r.events, TRANSFER_EVENTS) / 1000),
      median_worker_s: med((r) => sumOf(r.events, WORKER_EVENTS) / 1000),
      median_mb_up: med((r) => bytesSum(r.events, 'PUT') / 1e6),
      median_mb_down: med((r) => bytesSum(r.events, 'GET') / 1e6),
      median_client_cpu_s: med((r) => r.cpuMs / 1000),
    };
  });
}

export function summaryCsv(rows: readonly SummaryRow[]): string {
  return csvLine(SUMMARY_COLUMNS) + rows.map((r) => csvLine(SUMMARY_COLUMNS.map((c) => r[c]))).join('');
}

/** The summary as an aligned table for a terminal (the main columns). */
export function summaryTable(rows: readonly SummaryRow[]): string {
  const cols = ['algorithm', 'dataset', 'n', 'a', 'k', 'params', 'runs', 'failed', 'median_s', 'iqr_s', 'min_s', 'max_s', 'median_iterations', 'median_crypto_s', 'median_transfer_s', 'median_worker_s', 'median_mb_up', 'median_client_cpu_s'] as const;
  const head = ['algorithm', 'dataset', 'n', 'a', 'k', 'params', 'runs', 'fail', 'median s', 'IQR s', 'min s', 'max s', 'iter', 'crypto s', 'transfer s', 'worker s', 'MB up', 'CPU s'];
  const cells = rows.map((r) => cols.map((c) => (r[c] === undefined ? '-' : String(r[c]))));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (xs: string[]) => xs.map((x, i) => (i < 2 || i === 5 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  return [line(head), ...cells.map(line)].join('\n');
}
