'use client';
/**
 * What a version 2 dataset record says about how its file was read (issue #14): the CSV format,
 * which columns are features, the label column and its class names, what was ignored, the
 * missing-value choice, the scaling applied before encryption, and notes. Nothing for version 1
 * records beyond what they hold.
 */
import type { DatasetRecord } from '@/lib/data/dataset';
import { describeFormat } from '@/lib/data/locale';
import { MISSING_STRATEGY_NAMES } from '@/lib/data/missing';
import { SCALING_NAMES } from '@/lib/data/scaling';
import { columnName } from './format';

const DT = 'text-xs text-slate-500';

function missingText(r: DatasetRecord): string {
  const m = r.missing!;
  if (m.cells === 0) return 'none found';
  const found = `${m.cells} cell${m.cells === 1 ? '' : 's'} in ${m.rows} record${m.rows === 1 ? '' : 's'}`;
  if (m.strategy === 'drop') return `${found}: those records were dropped (${r.rows} of ${r.fileRows ?? r.rows + m.dropped} kept)`;
  if (m.strategy === 'mean' || m.strategy === 'median') return `${found}: ${MISSING_STRATEGY_NAMES[m.strategy].toLowerCase()}`;
  return found;
}

export function DatasetFacts({ record }: { record: DatasetRecord }) {
  if (record.recordVersion !== 2) return null;
  const ignored = (record.columns ?? []).flatMap((c, j) => (c.role === 'ignore' ? [c.name === '' ? `Column ${j + 1}` : c.name] : []));
  const features = Array.from({ length: record.cols }, (_, j) => columnName(record.header, j));
  return (
    <div className="mt-4 space-y-3 border-t border-slate-100 pt-4 text-sm">
      <dl className="grid gap-x-8 gap-y-3 sm:grid-cols-2">
        {record.csvFormat && (
          <div>
            <dt className={DT}>Read as</dt>
            <dd data-testid="dataset-format">
              {describeFormat(record.csvFormat)}
              {record.csvFormat.header ? ', header line' : ', no header line'}
              {record.csvFormat.bom ? ', UTF-8 with BOM' : ''}
            </dd>
          </div>
        )}
        <div>
          <dt className={DT}>Missing values</dt>
          <dd data-testid="dataset-missing">{record.missing ? missingText(record) : 'none found'}</dd>
        </div>
        <div>
          <dt className={DT}>Scaling before encryption</dt>
          <dd data-testid="dataset-scaling">{SCALING_NAMES[record.scaling?.method ?? 'none']}</dd>
        </div>
        {record.labelName && (
          <div>
            <dt className={DT}>Label column</dt>
            <dd data-testid="dataset-label-column">
              {record.labelName}
              {record.labelNames ? ` (${record.labelNames.length} classes: ${record.labelNames.join(', ')})` : ''}
            </dd>
          </div>
        )}
        <div className="sm:col-span-2">
          <dt className={DT}>Features ({features.length})</dt>
          <dd data-testid="dataset-features">{features.join(', ')}</dd>
        </div>
        {ignored.length > 0 && (
          <div className="sm:col-span-2">
            <dt className={DT}>Ignored columns</dt>
            <dd data-testid="dataset-ignored">{ignored.join(', ')}</dd>
          </div>
        )}
      </dl>
      {record.notes && record.notes.length > 0 && (
        <ul className="list-disc pl-5 text-xs text-slate-600" data-testid="dataset-notes">
          {record.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
