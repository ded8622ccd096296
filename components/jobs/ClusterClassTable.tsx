'use client';
/**
 * The cluster-by-class table (issue #14 item 6): how the records of each cluster are spread over
 * the dataset's known classes, under the class names of the file (e.g. cultivar class_0 …
 * class_2). Computed in this browser (lib/data/profiles); the labels never leave it.
 */
import { useMemo } from 'react';
import { labelName, type Dataset } from '@/lib/data/dataset';
import { crossTab } from '@/lib/data/profiles';
import { NamedRow } from '../ui/Table';

/** Beyond this many clusters only the largest are listed. */
const MAX_ROWS = 30;

export function ClusterClassTable({ dataset, clusters }: { dataset: Dataset; clusters: readonly number[] }) {
  const labels = dataset.labels;
  const table = useMemo(() => (labels instanceof Int32Array && labels.length === clusters.length ? crossTab(clusters, labels) : null), [labels, clusters]);
  if (!table || table.cols.length > 50) return null;
  const what = dataset.record.labelName ?? 'class';
  const totals = table.counts.map((r) => r.reduce((a, b) => a + b, 0));
  const order = table.rows.map((_, i) => i).sort((a, b) => totals[b] - totals[a] || a - b).slice(0, MAX_ROWS).sort((a, b) => a - b);
  return (
    <div>
      <h3 className="mb-1 text-sm font-medium">Clusters by {what}</h3>
      <p className="mb-2 text-xs text-slate-500">Records of each cluster per known {what} (the dataset’s labels, kept in this browser).</p>
      <div className="overflow-x-auto rounded-lg border border-slate-200">
        <table aria-label={`Clusters by ${what}`} className="min-w-full text-xs" data-testid="cluster-class-table">
          <thead className="bg-slate-50 text-slate-600">
            <tr>
              <th className="px-2 py-1 text-left font-medium">cluster \ {what}</th>
              {table.cols.map((c) => (
                <th key={c} className="px-2 py-1 text-right font-medium">
                  {labelName(dataset.record, c)}
                </th>
              ))}
              <th className="px-2 py-1 text-right font-medium">total</th>
            </tr>
          </thead>
          <tbody>
            {order.map((i) => {
              const max = Math.max(...table.counts[i]);
              return (
                <NamedRow key={table.rows[i]} name={<>cluster {table.rows[i]}</>} className="px-2 py-1 text-left">
                  {table.counts[i].map((n, j) => (
                    <td key={j} className={`px-2 py-1 text-right tabular-nums ${n === max && n > 0 ? 'font-semibold text-emerald-700' : ''}`}>
                      {n}
                    </td>
                  ))}
                  <td className="px-2 py-1 text-right tabular-nums text-slate-500">{totals[i]}</td>
                </NamedRow>
              );
            })}
          </tbody>
        </table>
      </div>
      {table.rows.length > order.length && <p className="mt-1 text-xs text-slate-500">The {order.length} largest of {table.rows.length} clusters.</p>}
    </div>
  );
}
