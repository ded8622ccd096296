/** TanStack Query hooks for jobs; the controller's change notifications invalidate the cache. */
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { browserJobController } from '../jobs/browser';
import type { NewJobInput } from '../jobs/controller';
import { createIdbJobStore } from '../jobs/store';
import type { ApprovalDecision } from '../rory/kit';

const store = createIdbJobStore();

async function ready() {
  const s = browserJobController();
  await s.ready;
  return s.controller;
}

export const jobsQueryOptions = () => queryOptions({ queryKey: ['jobs'], queryFn: async () => (await ready(), store.list()) });
export const jobQueryOptions = (id: string) =>
  queryOptions({ queryKey: ['jobs', id], queryFn: async () => (await ready(), (await store.get(id)) ?? null) });

/** Keeps job queries fresh while the controller runs jobs in this page. */
function useJobUpdates() {
  const qc = useQueryClient();
  useEffect(() => {
    const { controller } = browserJobController();
    let scheduled = false;
    return controller.subscribe(() => {
      if (scheduled) return;
      scheduled = true;
      // Coalesce bursts of progress events into one refetch per animation frame.
      requestAnimationFrame(() => {
        scheduled = false;
        void qc.invalidateQueries({ queryKey: ['jobs'] });
      });
    });
  }, [qc]);
}

export function useJobs() {
  useJobUpdates();
  return useQuery(jobsQueryOptions());
}

export function useJob(id: string) {
  useJobUpdates();
  return useQuery(jobQueryOptions(id));
}

export function useJobRunning(id: string): boolean {
  return browserJobController().controller.isRunning(id);
}

export function useJobActions() {
  const qc = useQueryClient();
  const invalidate = () => qc.invalidateQueries({ queryKey: ['jobs'] });
  return {
    create: useMutation({ mutationFn: async (input: NewJobInput) => (await ready()).create(input), onSuccess: invalidate }),
    acknowledge: useMutation({ mutationFn: async (id: string) => (await ready()).acknowledge(id), onSuccess: invalidate }),
    // Resolves when the job ends; the job record (not this promise) carries the outcome.
    start: useMutation({ mutationFn: async (id: string) => (await ready()).start(id), onSettled: invalidate }),
    decide: useMutation({
      mutationFn: async (v: { jobId: string; approvalId: string; decision: ApprovalDecision }) => (await ready()).decide(v.jobId, v.approvalId, v.decision),
      onSuccess: invalidate,
    }),
    cancel: (id: string) => browserJobController().controller.cancel(id),
    remove: useMutation({ mutationFn: async (id: string) => (await ready()).remove(id), onSuccess: invalidate }),
    deleteObjects: useMutation({ mutationFn: async (id: string) => (await ready()).deleteObjects(id), onSuccess: invalidate }),
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
