'use client';
/** Confirmation before deleting a dataset from this browser. */
import type { DatasetRecord } from '@/lib/data/dataset';
import { Button } from '../ui/Button';
import { formatShape } from './format';

export function DeleteDatasetDialog({ record, busy, onCancel, onConfirm }: { record: DatasetRecord; busy: boolean; onCancel: () => void; onConfirm: () => void }) {
  return (
    <div className="fixed inset-0 z-50 flex items-center justify-center bg-slate-900/40 p-4" onKeyDown={(e) => e.key === 'Escape' && !busy && onCancel()}>
      <div role="dialog" aria-modal="true" aria-labelledby="delete-dataset-title" className="w-full max-w-lg rounded-xl bg-white p-6 shadow-xl">
        <h2 id="delete-dataset-title" className="text-lg font-semibold">
          Delete dataset “{record.name}”?
        </h2>
        <p className="mt-3 text-sm text-slate-600">
          Its {formatShape(record.rows, record.cols)} matrix{record.hasLabels ? ' and its labels are' : ' is'} removed from this browser
          {record.hasSource ? ', with the copy of the file kept for labelled downloads' : ''}. This cannot be undone: to use it again, add the file
          again.
        </p>
        <div className="mt-6 flex justify-end gap-2">
          <Button autoFocus onClick={onCancel} disabled={busy}>
            Cancel
          </Button>
          <Button variant="danger" onClick={onConfirm} disabled={busy}>
            {busy ? 'Deleting…' : 'Delete dataset'}
          </Button>
        </div>
      </div>
    </div>
  );
}
