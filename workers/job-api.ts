/**
 * @module workers/job-api
 * The job Web Worker's API (issue #13 item 1), served with comlink by workers/job.worker.ts and, in
 * tests, over a MessageChannel in Node: the JobController with its stores and crypto engine runs
 * here — protocol runners, the MictlanX client (hashing, codecs), UDM/DM construction — and the page
 * only sends commands and renders the records it is sent.
 *
 * `connect()` subscribes the page to every job change (jobs/live.ts: state changes at once,
 * progress coalesced) and sends the list of jobs, all on the worker's own channel (`post`), so
 * messages and comlink replies keep their order. Errors cross as `{code, message, userMessage}`
 * (AppError.toJSON) and the client rebuilds them.
 */
import { toAppError } from '@/lib/errors';
import type { JobController, NewJobInput } from '@/lib/jobs/controller';
import { broadcastChanges, JOBS_MESSAGE, type JobsMessage } from '@/lib/jobs/live';
import type { JobRecord } from '@/lib/jobs/types';
import type { ApprovalDecision } from '@/lib/rory/kit';

export interface JobWorkerDeps {
  /** The controller and a promise that settles once interrupted jobs are marked. */
  readonly open: () => { controller: JobController; ready: Promise<void> };
  /** Posts a message to the page on the channel comlink uses. */
  readonly post: (m: JobsMessage) => void;
  /** Live messages per running job at most every this many ms (default jobs/live.ts). */
  readonly liveIntervalMs?: number;
}

export function createJobWorkerApi(deps: JobWorkerDeps) {
  let opened: { controller: JobController; ready: Promise<void> } | undefined;
  let connected = false;
  const controller = async (): Promise<JobController> => {
    opened ??= deps.open();
    await opened.ready;
    return opened.controller;
  };
  const guarded = async <T>(f: (c: JobController) => Promise<T> | T): Promise<T> => {
    try {
      return await f(await controller());
    } catch (e) {
      throw toAppError(e).toJSON();
    }
  };

  return {
    /** Starts forwarding job changes to the page, then sends the full list. Idempotent. */
    async connect(): Promise<void> {
      try {
        const c = await controller();
        if (!connected) {
          broadcastChanges((l) => c.subscribe(l), deps.post, deps.liveIntervalMs);
          connected = true;
        }
        const jobs = await c.list();
        deps.post({ kind: JOBS_MESSAGE, type: 'reset', jobs, running: c.running() });
      } catch (e) {
        const error = toAppError(e, 'JOBSTORE_FAILURE').toJSON();
        deps.post({ kind: JOBS_MESSAGE, type: 'failed', error });
        throw error;
      }
    },
    create: (input: NewJobInput): Promise<JobRecord> => guarded((c) => c.create(input)),
    acknowledge: (jobId: string): Promise<JobRecord> => guarded((c) => c.acknowledge(jobId)),
    start: (jobId: string): Promise<JobRecord> => guarded((c) => c.start(jobId)),
    decide: (jobId: string, approvalId: string, decision: ApprovalDecision): Promise<void> => guarded((c) => c.decide(jobId, approvalId, decision)),
    cancel: (jobId: string): Promise<void> => guarded((c) => c.cancel(jobId)),
    remove: (jobId: string): Promise<void> => guarded((c) => c.remove(jobId)),
    deleteObjects: (jobId: string): Promise<number> => guarded((c) => c.deleteObjects(jobId)),
  };
}

export type JobWorkerApi = ReturnType<typeof createJobWorkerApi>;
