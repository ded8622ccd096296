/**
 * @module jobs/service
 * What the page can do with jobs (issue #13 item 1): follow them (`subscribe`/`snapshot`, for
 * `useSyncExternalStore`) and send commands. In the browser it is the job Web Worker's client
 * (workers/job-client.ts, installed through lib/platform.ts): the JobController runs in the
 * worker, the page only renders the records it is sent and posts commands.
 */
import type { NewJobInput } from './controller';
import type { JobsSnapshot } from './live';
import type { JobRecord } from './types';
import type { ApprovalDecision } from '../rory/kit';

export interface JobService {
  subscribe(listener: () => void): () => void;
  snapshot(): JobsSnapshot;
  create(input: NewJobInput): Promise<JobRecord>;
  acknowledge(jobId: string): Promise<JobRecord>;
  /** Starts a job; resolves when it ends (the record carries the outcome). */
  start(jobId: string): Promise<JobRecord>;
  decide(jobId: string, approvalId: string, decision: ApprovalDecision): Promise<void>;
  /** Cancels a running job: its crypto work is terminated and nothing more is uploaded. */
  cancel(jobId: string): Promise<void>;
  remove(jobId: string): Promise<void>;
  deleteObjects(jobId: string): Promise<number>;
}
