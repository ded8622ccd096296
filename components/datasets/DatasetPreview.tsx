'use client';
/**
 * Shape, first rows and per-column statistics of a dataset (stored or still a draft), with the
 * file's column names and class names (issue #14 item 2); values in the file's units.
 */
import type { DatasetSummary } from '@/lib/queries/datasets';
import { Alert } from '../ui/Alert';
import { HeaderCells, NamedRow } from '../ui/Table';
import { columnName, formatShape, formatStat, formatValue } from './format';

/** Below this many records the page reminds that clustering needs k ≤ rows. */
const FEW_ROWS = 10;

const TH = 'whitespace-nowrap px-3 py-1.5 text-left font-medium';
const TD = 'px-3 py-1.5 tabular-nums';

export function RowsNote({ rows }: { rows: number }) {
  if (rows >= FEW_ROWS) return null;
  return (
    <Alert tone="warning" title={rows === 1 ? 'Only 1 record' : `Only ${rows} records`}>
      <p data-testid="rows-note">
        Clustering needs k ≤ the number of records ({rows}), so a clustering job on this dataset can use at most k = {rows}
        {rows === 1 ? ': any k ≥ 2 will be refused.' : '.'} You can still store and preview it.
      </p>
    </Alert>
  );
}

export function DatasetPreview({ summary }: { summary: DatasetSummary }) {
  const { rows, cols, header, stats, previewRows, previewLabels, classCounts, labelNames, labelName } = summary;
  const names = Array.from({ length: cols }, (_, j) => columnName(header, j));
  const className = (id: number) => labelNames?.[id] ?? String(id);
  return (
    <div className="space-y-5">
      <dl className="flex flex-wrap gap-x-8 gap-y-2 text-sm">
        <div>
          <dt className="text-xs text-slate-500">Shape (records × attributes)</dt>
          <dd className="text-lg font-semibold tabular-nums" data-testid="dataset-shape">
            {formatShape(rows, cols)}
          </dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Labels</dt>
          <dd className="text-lg font-semibold" data-testid="dataset-labels">
            {previewLabels ? 'yes' : 'no'}
          </dd>
        </div>
        {classCounts && (
          <div>
            <dt className="text-xs text-slate-500">Classes{labelName ? ` in “${labelName}”` : ''} (count)</dt>
            <dd className="tabular-nums" data-testid="class-counts">
              {classCounts.map(([label, n]) => `${className(label)} (${n})`).join(', ')}
            </dd>
          </div>
        )}
        <div>
          <dt className="text-xs text-slate-500">Clustering</dt>
          <dd>k ≤ {rows}</dd>
        </div>
      </dl>
      <RowsNote rows={rows} />

      <div>
        <h3 className="mb-2 text-sm font-semibold">
          First {previewRows.length === rows ? 'and only ' : ''}
          {previewRows.length === 1 ? 'row' : `${previewRows.length} rows`}
        </h3>
        <div className="overflow-x-auto rounded-lg border border-slate-200">
          <table aria-label="First rows" className="min-w-full text-sm">
            <thead className="bg-slate-50 text-xs text-slate-600">
              <tr>
                <th className={TH}>#</th>
                {names.map((n, j) => (
                  <th key={j} className={TH}>
                    {n}
                  </th>
                ))}
                {previewLabels && <th className={TH}>{labelName ? `${labelName} (label)` : 'Label'}</th>}
              </tr>
            </thead>
            <tbody>
              {previewRows.map((r, i) => (
                <tr key={i} className="border-t border-slate-100">
                  <td className={`${TD} text-slate-500`}>{i + 1}</td>
                  {r.map((v, j) => (
                    <td key={j} className={`${TD} font-mono text-xs`}>
                      {formatValue(v)}
                    </td>
                  ))}
                  {previewLabels && <td className={`${TD} font-mono text-xs`}>{className(previewLabels[i])}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>

      <div>
        <h3 className="mb-2 text-sm font-semibold">Column statistics</h3>
        <div className="overflow-x-auto rounded-lg border border-slate-200">
          <table aria-label="Column statistics" className="min-w-full text-sm">
            <thead className="bg-slate-50 text-xs text-slate-600">
              <tr>
                <HeaderCells names={['Column', 'Min', 'Max', 'Mean', 'Std']} className={TH} />
              </tr>
            </thead>
            <tbody>
              {names.map((n, j) => (
                <NamedRow key={j} name={n} className={TH}>
                  <td className={`${TD} font-mono text-xs`}>{formatValue(stats.min[j])}</td>
                  <td className={`${TD} font-mono text-xs`}>{formatValue(stats.max[j])}</td>
                  <td className={`${TD} font-mono text-xs`} title={String(stats.mean[j])}>
                    {formatStat(stats.mean[j])}
                  </td>
                  <td className={`${TD} font-mono text-xs`} title={String(stats.std[j])}>
                    {formatStat(stats.std[j])}
                  </td>
                </NamedRow>
              ))}
            </tbody>
          </table>
        </div>
        <p className="mt-1 text-xs text-slate-500">Std is the population standard deviation (numpy&apos;s default, ddof = 0).</p>
      </div>
    </div>
  );
}
