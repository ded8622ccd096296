'use client';
/**
 * What a job will build and move, shown in the jobs form before "Create job" (issue #13 item 3):
 * the largest object with its formula and figure, the total, and — beyond the size budget — why the
 * job is refused and the linear alternative (private k-means), with a button to switch to it.
 */
import type { JobSize } from '@/lib/jobs/budget';
import { Alert } from '../ui/Alert';
import { Button } from '../ui/Button';

export function JobSizePanel({ size, onUseAlternative, canSwitch }: { size: JobSize; onUseAlternative?: () => void; canSwitch: boolean }) {
  if (size.ok) {
    return (
      <p className="rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-xs text-slate-700" data-testid="job-size" data-ok="true">
        <span className="font-medium">Size: </span>
        {size.summary}
      </p>
    );
  }
  return (
    <Alert tone="error" title="Too large for this browser">
      <span data-testid="job-size" data-ok="false">
        {size.message}
      </span>
      {canSwitch && onUseAlternative && (
        <span className="mt-2 block">
          <Button type="button" onClick={onUseAlternative}>
            Switch to private k-means
          </Button>
        </span>
      )}
    </Alert>
  );
}
