/**
 * @module jobs/types
 * A job as the app keeps it in IndexedDB: what was asked, what the user acknowledged (D3), the
 * protocol machine's last persisted state, the event log, pending approvals and the result.
 * Records are plain JSON (no typed arrays) so they survive structured cloning and export.
 */
import type { SerializedError } from '../errors';

/** The algorithms a job runs, by the name its record keeps (rory/algorithms/ids.ts). */
export { JOB_ALGORITHMS, type JobAlgorithm } from '../rory/algorithms/ids';
export type { JobParams } from '../rory/algorithms/spec';
import type { JobAlgorithm } from '../rory/algorithms/ids';
import type { JobParams } from '../rory/algorithms/spec';

export type JobStatus =
  | 'draft' // created, not started
  | 'running'
  | 'awaiting-approval'
  | 'completed'
  | 'failed'
  | 'denied' // the user denied a decryption; stopped cleanly
  | 'cancelled'
  | 'interrupted'; // the page was closed or reloaded mid-run

export interface JobEvent {
  readonly at: number;
  readonly name: string;
  readonly durationMs?: number;
  readonly round?: number;
  readonly detail?: string;
  readonly level?: 'info' | 'warn' | 'error';
}

export interface ApprovalRecord {
  readonly id: string;
  readonly round: number;
  readonly objectKey: string;
  readonly shape: readonly number[];
  readonly explanation: string;
  readonly requestedAt: number;
  readonly decision?: 'approve' | 'deny' | 'approve-all';
  readonly decidedAt?: number;
}

export interface Acknowledgement {
  readonly at: number;
  /** The exact list of objects the user agreed to upload in plaintext or plaintext-derived form. */
  readonly objects: readonly string[];
}

export interface JobResult {
  readonly labels: readonly number[];
  readonly iterations?: number;
  readonly converged?: boolean;
  readonly verified?: { readonly ok: boolean; readonly maxError: number; readonly detail?: string; readonly tolerance?: number };
  readonly metrics?: Readonly<Record<string, number>>;
  readonly accuracy?: number;
  readonly confusion?: readonly (readonly number[])[];
  /** Label values of the confusion matrix rows/columns. */
  readonly confusionLabels?: readonly number[];
  readonly timings?: Readonly<Record<string, number>>;
  /** Decrypted final centroids (k×a), plain numbers. */
  readonly centroids?: { readonly shape: readonly number[]; readonly data: readonly number[] };
  readonly maxShiftPerRound?: readonly number[];
  /** NNC family: the distance threshold used. */
  readonly threshold?: number;
}

export interface JobRecord {
  readonly id: string;
  readonly name: string;
  readonly algorithm: JobAlgorithm;
  readonly datasetId: string;
  readonly params: JobParams;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly status: JobStatus;
  readonly acknowledgement?: Acknowledgement;
  /** Storage id `P` (or model/test ids) used for every MictlanX key of this job. */
  readonly storageId: string;
  readonly round: number;
  readonly progress: Readonly<Record<string, number>>;
  readonly events: readonly JobEvent[];
  readonly approvals: readonly ApprovalRecord[];
  readonly autoApprove: boolean;
  /** Serialized protocol state after the last completed effect (for resume). */
  readonly machine?: unknown;
  readonly result?: JobResult;
  readonly error?: SerializedError;
}
