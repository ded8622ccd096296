'use client';
import type { ApprovalRecord } from '@/lib/jobs/types';
import { Button } from '../ui/Button';

/** One decryption the protocol needs, shown before anything is decrypted. */
export function ApprovalCard({
  approval,
  jobName,
  onDecide,
  busy,
}: {
  approval: ApprovalRecord;
  jobName: string;
  onDecide: (d: 'approve' | 'deny' | 'approve-all') => void;
  busy: boolean;
}) {
  return (
    <section role="region" aria-label="Decryption approval" className="rounded-xl border-2 border-amber-300 bg-amber-50 p-4">
      <p className="font-medium text-amber-950">Approve a decryption — {jobName}, round {approval.round}</p>
      <dl className="mt-2 grid grid-cols-[8rem_1fr] gap-1 text-sm">
        <dt className="text-amber-900">Object</dt>
        <dd>
          <code>{approval.objectKey}</code>
        </dd>
        <dt className="text-amber-900">Shape</dt>
        <dd className="font-mono">({approval.shape.join(', ')})</dd>
        <dt className="text-amber-900">What the worker learns</dt>
        <dd data-testid="approval-explanation">{approval.explanation}</dd>
      </dl>
      <div className="mt-3 flex flex-wrap gap-2">
        <Button variant="primary" disabled={busy} onClick={() => onDecide('approve')}>
          Approve
        </Button>
        <Button variant="danger" disabled={busy} onClick={() => onDecide('deny')}>
          Deny and stop
        </Button>
        <Button disabled={busy} onClick={() => onDecide('approve-all')}>
          Approve all for this job
        </Button>
      </div>
    </section>
  );
}
