import type { ReactNode } from 'react';
import { HeaderCells } from './Table';

/** The app's list of records (datasets, jobs, keys): a header row of column names, then the rows. */
export function ListTable({ label, columns, children }: { label?: string; columns: readonly string[]; children: ReactNode }) {
  return (
    <div className="overflow-x-auto rounded-xl border border-slate-200 bg-white shadow-sm">
      <table aria-label={label} className="w-full text-left text-sm">
        <thead className="bg-slate-50 text-xs text-slate-600">
          <tr>
            <HeaderCells names={columns} className="px-3 py-2" />
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
