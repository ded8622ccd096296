'use client';
/** Confirmation before deleting a key, naming what becomes undecryptable (from the key store). */
import type { KeyRecord } from '@/lib/keystore/types';
import { toAppError } from '@/lib/errors';
import { useDeletionImpact } from '@/lib/queries/keys';
import { Alert } from '../ui/Alert';
import { Button } from '../ui/Button';
import { describeUsageRef, SCHEME_LABEL } from './format';

export function DeleteKeyDialog({ record, busy, onCancel, onConfirm }: { record: KeyRecord; busy: boolean; onCancel: () => void; onConfirm: () => void }) {
  const impact = useDeletionImpact(record.id);
  const undecryptable = impact.data?.undecryptable ?? [];

  return (
    <div className="fixed inset-0 z-50 flex items-center justify-center bg-slate-900/40 p-4" onKeyDown={(e) => e.key === 'Escape' && onCancel()}>
      <div role="dialog" aria-modal="true" aria-labelledby="delete-key-title" className="w-full max-w-lg rounded-xl bg-white p-6 shadow-xl">
        <h2 id="delete-key-title" className="text-lg font-semibold">
          Delete {SCHEME_LABEL[record.scheme]} key “{record.label}”?
        </h2>
        <div className="mt-3 space-y-3 text-sm" data-testid="delete-impact">
          {impact.isPending && <p className="text-slate-500">Checking what uses this key…</p>}
          {impact.error && <Alert tone="error">{toAppError(impact.error).userMessage}</Alert>}
          {impact.data && undecryptable.length === 0 && <p>No job or dataset in this browser uses this key.</p>}
          {undecryptable.length > 0 && (
            <>
              <p className="font-medium text-red-800">
                {record.scheme === 'fdhope' ? 'These can no longer be continued:' : 'These become undecryptable:'}
              </p>
              <ul className="list-disc pl-5">
                {undecryptable.map((u) => (
                  <li key={`${u.kind}:${u.id}`}>{describeUsageRef(u)}</li>
                ))}
              </ul>
            </>
          )}
          <p className="text-slate-600">
            Anything encrypted with this key can only be decrypted again if you restore the key from a backup. This cannot be undone.
          </p>
        </div>
        <div className="mt-6 flex justify-end gap-2">
          <Button autoFocus onClick={onCancel} disabled={busy}>
            Cancel
          </Button>
          <Button variant="danger" onClick={onConfirm} disabled={busy || impact.isPending}>
            {busy ? 'Deleting…' : 'Delete key'}
          </Button>
        </div>
      </div>
    </div>
  );
}
