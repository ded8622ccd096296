'use client';
/** The datasets stored in this browser (records only), with the first-visit empty state. */
import Link from 'next/link';
import { toAppError } from '@/lib/errors';
import { useDatasets } from '@/lib/queries/datasets';
import { ListTable } from '../ui/ListTable';
import { Alert } from '../ui/Alert';
import { EmptyState } from '../ui/Card';
import { formatDate, formatShape } from './format';

export function DatasetList() {
  const { data: records, isPending, error } = useDatasets();
  if (isPending) return <p className="text-sm text-slate-500">Loading datasets…</p>;
  if (error) return <Alert tone="error" title="Datasets unavailable">{toAppError(error).userMessage}</Alert>;
  if (records.length === 0) {
    return (
      <EmptyState title="No datasets yet">
        <p>
          Start here: add a CSV or NPY file above (or drop it on the box), one record per line — for example <code>iris.csv</code>, or a pandas,
          Excel or Kaggle export with a header, an index or id column and a class column. You will see how it was read, the role of every column,
          its shape, first rows and column statistics before saving it.
        </p>
        <p className="mt-2">
          Then create keys on the <Link className="text-brand-700 underline" href="/keys/">Keys</Link> page and run a clustering job on the{' '}
          <Link className="text-brand-700 underline" href="/jobs/">Jobs</Link> page.
        </p>
      </EmptyState>
    );
  }
  return (
    <section>
      <h2 className="mb-2 text-base font-semibold">Datasets in this browser ({records.length})</h2>
      <ListTable label="Datasets in this browser" columns={['Name', 'Shape', 'Labels', 'Added']}>
        {records.map((r) => (
          <tr key={r.id} data-testid="dataset-row" className="border-t border-slate-100">
            <td className="px-3 py-2">
              <Link className="text-brand-700 underline" href={`/datasets/?id=${r.id}`}>
                {r.name}
              </Link>
            </td>
            <td className="px-3 py-2 tabular-nums">{formatShape(r.rows, r.cols)}</td>
            <td className="px-3 py-2">{r.hasLabels ? 'yes' : 'no'}</td>
            <td className="px-3 py-2 text-xs text-slate-500">{formatDate(r.createdAt)}</td>
          </tr>
        ))}
      </ListTable>
    </section>
  );
}
