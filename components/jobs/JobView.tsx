'use client';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { memo, useDeferredValue, useState } from 'react';
import { toAppError } from '@/lib/errors';
import { isTerminal, phaseName } from '@/lib/jobs/status';
import type { JobRecord } from '@/lib/jobs/types';
import { algorithmSpec, jobLeakageProfile } from '@/lib/rory/algorithms/registry';
import { useJob, useJobActions, useJobProgress, useJobRunning } from '@/lib/queries/jobs';
import { Alert } from '../ui/Alert';
import { Button } from '../ui/Button';
import { Card, PageHeader } from '../ui/Card';
import { ProgressBar } from '../ui/Progress';
import { ApprovalCard } from './ApprovalCard';
import { JobResults } from './JobResults';
import { LeakagePanel } from './LeakagePanel';
import { StatusBadge } from './labels';

export function JobView({ id }: { id: string }) {
  const { data: job, isPending, error } = useJob(id);
  if (isPending) return <p className="text-sm text-slate-500">Loading job…</p>;
  if (error) return <Alert tone="error">{toAppError(error).userMessage}</Alert>;
  if (!job)
    return (
      <Alert tone="warning" title="No such job">
        It may have been deleted. <Link className="underline" href="/jobs/">Back to jobs</Link>
      </Alert>
    );
  return <JobDetail job={job} />;
}

function JobDetail({ job }: { job: JobRecord }) {
  const router = useRouter();
  const actions = useJobActions();
  const running = useJobRunning(job.id);
  const [ackChecked, setAckChecked] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const profile = jobLeakageProfile(job.algorithm);
  const spec = algorithmSpec(job.algorithm);
  const pending = job.approvals.find((a) => !a.decision);
  const canRun = !running && (job.status === 'draft' || isTerminal(job.status));
  const needsAck = profile.requiresAcknowledgement && !job.acknowledgement;
  // Results render in a deferred (interruptible, time-sliced) pass, so the page stays responsive
  // when a large job's results appear.
  const resultJob = useDeferredValue(job.result ? job : null);

  const run = async () => {
    setActionError(null);
    try {
      if (needsAck) await actions.acknowledge.mutateAsync(job.id);
      void actions.start.mutateAsync(job.id).catch((e) => setActionError(toAppError(e).userMessage));
    } catch (e) {
      setActionError(toAppError(e).userMessage);
    }
  };

  return (
    <>
      <PageHeader
        title={job.name}
        subtitle={
          <span className="flex flex-wrap items-center gap-2">
            <StatusBadge status={job.status} />
            <span className="font-mono text-xs">{job.algorithm}</span>
            {spec.fields.includes('k') ? (
              <span className="text-xs">k = {job.params.k ?? 3}</span>
            ) : (
              <span className="text-xs">threshold {job.result?.threshold ?? (job.params.threshold === undefined || job.params.threshold === -1 ? 'automatic' : job.params.threshold)}</span>
            )}
            <span className="text-xs">storage id {job.storageId}</span>
          </span>
        }
        actions={
          <>
            <Link href="/jobs/" className="rounded-md border border-slate-300 px-3 py-1.5 text-sm">
              All jobs
            </Link>
            {running && (
              <Button variant="danger" onClick={() => actions.cancel(job.id)}>
                Cancel
              </Button>
            )}
            {!running && job.status !== 'draft' && (
              <Button
                title="Remove this job's objects (ciphertexts, matrices) from MictlanX; upstream never deletes them"
                disabled={actions.deleteObjects.isPending}
                onClick={async () => {
                  setActionError(null);
                  setNotice(null);
                  try {
                    const n = await actions.deleteObjects.mutateAsync(job.id);
                    setNotice(`Deleted ${n} chunk${n === 1 ? '' : 's'} of this job from cloud storage.`);
                  } catch (e) {
                    setActionError(toAppError(e).userMessage);
                  }
                }}
              >
                Delete from cloud storage
              </Button>
            )}
            {!running && (
              <Button
                onClick={async () => {
                  if (window.confirm(`Delete job “${job.name}” and its event log from this browser?`)) {
                    await actions.remove.mutateAsync(job.id);
                    router.push('/jobs/');
                  }
                }}
              >
                Delete
              </Button>
            )}
          </>
        }
      />
      <div className="space-y-4">
        {pending && running && (
          <ApprovalCard
            approval={pending}
            jobName={job.name}
            busy={actions.decide.isPending}
            onDecide={(decision) => actions.decide.mutate({ jobId: job.id, approvalId: pending.id, decision })}
          />
        )}
        {job.error && (
          <Alert tone={job.status === 'failed' ? 'error' : 'warning'} title={job.status === 'denied' ? 'Stopped' : job.status === 'interrupted' ? 'Interrupted' : 'The job did not finish'}>
            <span data-testid="job-error">{job.error.userMessage}</span>
          </Alert>
        )}
        {actionError && <Alert tone="error">{actionError}</Alert>}
        {notice && <Alert tone="info">{notice}</Alert>}

        {canRun && (
          <Card title={job.status === 'draft' ? 'Run this job' : 'Run again'}>
            <LeakagePanel algorithm={job.algorithm} storageId={job.storageId} />
            {profile.requiresAcknowledgement && (
              <label className="mt-3 flex items-start gap-2 text-sm">
                <input type="checkbox" className="mt-1" checked={!!job.acknowledgement || ackChecked} disabled={!!job.acknowledgement} onChange={(e) => setAckChecked(e.target.checked)} />
                <span>
                  I understand that the objects marked <b>PLAINTEXT</b> above will be uploaded unencrypted and can be read by anyone with access to the storage and by the workers.
                </span>
              </label>
            )}
            <div className="mt-3">
              <Button variant="primary" disabled={needsAck && !ackChecked} onClick={run}>
                {job.status === 'draft' ? 'Run' : 'Run again'}
              </Button>
            </div>
          </Card>
        )}

        {(running || job.status === 'awaiting-approval') && <ProgressCard job={job} />}

        {job.result && resultJob?.result && <JobResults job={resultJob} />}
        <RoundTimeline events={job.events} approvals={job.approvals} />
        <EventLog events={job.events} />
      </div>
    </>
  );
}

/**
 * The live progress of a running job: the only part of the job page that re-renders on a progress
 * tick (the rest follows `useJob`, which changes on state changes only; issue #13 item 1).
 */
function ProgressCard({ job }: { job: JobRecord }) {
  const spec = algorithmSpec(job.algorithm);
  const live = useJobProgress(job.id) ?? job;
  const transfers = Object.entries(live.progress).filter(([k]) => k.startsWith('transfer:'));
  return (
    <Card title={spec.kind === 'clustering' && spec.fields.includes('maxIterations') ? `Progress — round ${live.round} of at most ${job.params.maxIterations ?? 10}` : 'Progress'}>
      <p className="mb-3 text-xs text-slate-600" data-testid="job-phase">
        Current step: {phaseName(live.progress.phase)}
      </p>
      <div className="grid gap-3 md:grid-cols-2">
        <ProgressBar label="Encryption" value={live.progress.encrypt ?? 0} />
        {spec.needs.fdhope && <ProgressBar label="FDHOPE encryption" value={live.progress.fdhope ?? 0} />}
        {transfers.slice(-2).map(([k, v]) => (
          <ProgressBar key={k} label={`Transfer ${k.slice('transfer:'.length)}`} value={v} />
        ))}
      </div>
    </Card>
  );
}

// Memoised on the events and approvals, which keep their identity across progress ticks
// (lib/jobs/live.ts), so a running job's progress re-renders only the progress card.
const RoundTimeline = memo(function RoundTimeline({ events, approvals: approvalList }: { events: JobRecord['events']; approvals: JobRecord['approvals'] }) {
  const rounds = new Map<number, { events: string[]; ms: number }>();
  for (const e of events) {
    if (e.round === undefined) continue;
    const r = rounds.get(e.round) ?? { events: [], ms: 0 };
    r.events.push(e.name);
    r.ms += e.durationMs ?? 0;
    rounds.set(e.round, r);
  }
  if (rounds.size === 0) return null;
  const approvals = new Map(approvalList.map((a) => [a.round, a]));
  return (
    <Card title="Rounds">
      <ol className="flex flex-wrap gap-2" aria-label="Round timeline">
        {[...rounds.entries()].map(([r, info]) => {
          const a = approvals.get(r + 1);
          return (
            <li key={r} className="rounded-lg border border-slate-200 px-3 py-2 text-xs">
              <p className="font-medium">Round {r + 1}</p>
              <p className="text-slate-500">{(info.ms / 1000).toFixed(2)} s</p>
              {a && <p className={a.decision === 'deny' ? 'text-red-700' : 'text-emerald-700'}>{a.decision ? `decryption ${a.decision}` : 'awaiting approval'}</p>}
            </li>
          );
        })}
      </ol>
    </Card>
  );
});

const EventLog = memo(function EventLog({ events }: { events: JobRecord['events'] }) {
  if (events.length === 0) return null;
  return (
    <Card title="Event log">
      <div className="max-h-80 overflow-auto">
        {/* Fixed layout: the browser sizes columns from the header, not from every row, so a long log stays cheap to lay out. */}
        <table className="w-full table-fixed text-xs" data-testid="event-log">
          <thead className="text-left text-slate-500">
            <tr>
              <th className="w-24 py-1">Time</th>
              <th className="w-44">Event</th>
              <th className="w-14">Round</th>
              <th className="w-20 text-right">Duration</th>
              <th className="pl-3">Detail</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e, i) => (
              <tr key={i} className={`border-t border-slate-100 ${e.level === 'error' ? 'text-red-700' : e.level === 'warn' ? 'text-amber-800' : ''}`}>
                <td className="py-1 tabular-nums">{new Date(e.at).toLocaleTimeString()}</td>
                <td className="break-words font-mono">{e.name}</td>
                <td>{e.round === undefined ? '' : e.round + 1}</td>
                <td className="text-right tabular-nums">{e.durationMs === undefined ? '' : `${e.durationMs.toFixed(0)} ms`}</td>
                <td className="break-words pl-3 text-slate-600">{e.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
});
