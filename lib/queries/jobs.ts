/**
 * Hooks for jobs (issue #13 item 1). Jobs run in the job Web Worker; the page follows them through
 * the platform's JobService: records live in memory (jobs/live.ts JobMirror) and reach components
 * through `useSyncExternalStore`, fed by the worker's messages (state changes at once, progress at
 * most ten times a second). Nothing here reads or writes job records in IndexedDB. Commands are
 * TanStack mutations so components get `isPending` and errors.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useSyncExternalStore } from 'react';
import { toAppError, type AppError } from '../errors';
import type { NewJobInput } from '../jobs/controller';
import { CONNECTING, type JobsSnapshot } from '../jobs/live';
import type { JobRecord } from '../jobs/types';
import { platform } from '../platform';
import type { ApprovalDecision } from '../rory/kit';

const service = () => platform().jobs();
const subscribe = (listener: () => void) => service().subscribe(listener);
const snapshot = () => service().snapshot();
/** Static export pre-rendering: no worker, nothing loaded yet. */
const serverSnapshot = (): JobsSnapshot => CONNECTING;

function useJobsSnapshot(): JobsSnapshot {
  return useSyncExternalStore(subscribe, snapshot, serverSnapshot);
}

export interface LiveQuery<T> {
  readonly data: T | undefined;
  readonly isPending: boolean;
  readonly error: AppError | null;
}

function errorOf(s: JobsSnapshot): AppError | null {
  return s.status === 'failed' && s.error ? toAppError(s.error) : null;
}

/** Every job, newest first. */
export function useJobs(): LiveQuery<readonly JobRecord[]> {
  const s = useJobsSnapshot();
  return { data: s.status === 'ready' ? s.jobs : undefined, isPending: s.status === 'connecting', error: errorOf(s) };
}

/**
 * One job (`null` when there is no such job), as of its last change other than progress: the
 * component re-renders on status, approvals, events, results — not on every progress tick (see
 * `useJobProgress`).
 */
export function useJob(id: string): LiveQuery<JobRecord | null> {
  const get = useCallback(() => snapshot().stableById.get(id), [id]);
  const job = useSyncExternalStore(subscribe, get, () => undefined);
  const status = useSyncExternalStore(subscribe, statusOf, () => CONNECTING.status);
  const failure = useSyncExternalStore(subscribe, failureOf, () => undefined);
  return {
    data: status === 'ready' ? (job ?? null) : undefined,
    isPending: status === 'connecting',
    error: status === 'failed' && failure ? toAppError(failure) : null,
  };
}

const statusOf = () => snapshot().status;
const failureOf = () => snapshot().error;

/** A running job's live round and progress (the latest record's; re-renders on every tick). */
export function useJobProgress(id: string): Pick<JobRecord, 'round' | 'progress'> | undefined {
  const get = useCallback(() => snapshot().byId.get(id), [id]);
  return useSyncExternalStore(subscribe, get, () => undefined);
}

/** Whether the job is running in this page's job worker. */
export function useJobRunning(id: string): boolean {
  const get = useCallback(() => snapshot().running.has(id), [id]);
  return useSyncExternalStore(subscribe, get, () => false);
}

export function useJobActions() {
  const qc = useQueryClient();
  // A job may create keys (Liu, FDHOPE, CKKS) for itself: the keys page lists them.
  const keysChanged = () => qc.invalidateQueries({ queryKey: ['keys'] });
  return {
    create: useMutation({ mutationFn: (input: NewJobInput) => service().create(input) }),
    acknowledge: useMutation({ mutationFn: (id: string) => service().acknowledge(id) }),
    // Resolves when the job ends; the job record (not this promise) carries the outcome.
    start: useMutation({ mutationFn: (id: string) => service().start(id), onSettled: keysChanged }),
    decide: useMutation({
      mutationFn: (v: { jobId: string; approvalId: string; decision: ApprovalDecision }) => service().decide(v.jobId, v.approvalId, v.decision),
    }),
    cancel: (id: string) => void service().cancel(id).catch(() => undefined),
    remove: useMutation({ mutationFn: (id: string) => service().remove(id), onSettled: keysChanged }),
    deleteObjects: useMutation({ mutationFn: (id: string) => service().deleteObjects(id) }),
  };
}

/** Datasets a new job can use (metadata only). */
export function useDatasetChoices() {
  return useQuery({
    queryKey: ['datasets', 'choices'],
    queryFn: async () => (await import('../datasets')).createIdbDatasetStore().list(),
  });
}

/** The plaintext dataset of a finished job, for local result views (PCA scatter); never uploaded. */
export function useDatasetMatrix(id: string | undefined) {
  return useQuery({
    queryKey: ['datasets', 'matrix', id],
    queryFn: async () => (await import('../datasets')).createIdbDatasetStore().load(id!),
    enabled: !!id,
    staleTime: Infinity,
    gcTime: 0,
  });
}
