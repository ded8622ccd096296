import type { JobStatus } from '@/lib/jobs/types';

export const STATUS_STYLE: Record<JobStatus, { label: string; className: string }> = {
  draft: { label: 'Ready to run', className: 'bg-slate-100 text-slate-700' },
  running: { label: 'Running', className: 'bg-sky-100 text-sky-800' },
  'awaiting-approval': { label: 'Waiting for your approval', className: 'bg-amber-100 text-amber-900' },
  completed: { label: 'Completed', className: 'bg-emerald-100 text-emerald-800' },
  failed: { label: 'Failed', className: 'bg-red-100 text-red-800' },
  denied: { label: 'Stopped: decryption denied', className: 'bg-orange-100 text-orange-800' },
  cancelled: { label: 'Cancelled', className: 'bg-slate-200 text-slate-700' },
  interrupted: { label: 'Interrupted', className: 'bg-orange-100 text-orange-800' },
};

export function StatusBadge({ status }: { status: JobStatus }) {
  const s = STATUS_STYLE[status];
  return (
    <span data-testid="job-status" data-status={status} className={`rounded-full px-2 py-0.5 text-xs font-medium ${s.className}`}>
      {s.label}
    </span>
  );
}
