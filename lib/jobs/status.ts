/**
 * @module jobs/status
 * Job statuses and protocol phases as the page shows them: which statuses are final, and the phase
 * names a record's `progress.phase` index stands for. Kept apart from the controller so the page
 * bundle does not pull the job runner in (jobs run in the job worker, issue #13 item 1).
 */
import type { JobStatus } from './types';

const TERMINAL: readonly JobStatus[] = ['completed', 'failed', 'denied', 'cancelled', 'interrupted'];

export const PHASES = [
  'idle', 'encrypting', 'computingUdm', 'fdhopeKeygen', 'encryptingUdm', 'uploadingMatrix', 'uploadingUdm', 'gettingWorker', 'step1',
  'fetchingShift', 'awaitingApproval', 'decrypting', 'encryptingShift', 'uploadingShift', 'step2', 'verifying', 'done', 'failed',
  // Appended, so indices persisted in older job records keep their meaning.
  'uploadingInitsm', 'uploadingKeys',
] as const;
export type Phase = (typeof PHASES)[number];

/** What each phase is doing, in the words the progress card shows. */
export const PHASE_LABELS = Object.freeze({
  idle: 'Starting',
  encrypting: 'Encrypting your dataset',
  computingUdm: 'Building the difference matrix',
  fdhopeKeygen: 'Making the FDHOPE key for this job',
  encryptingUdm: 'Encrypting the difference matrix (FDHOPE)',
  uploadingMatrix: 'Uploading the encrypted dataset',
  uploadingUdm: 'Uploading the encrypted difference matrix',
  gettingWorker: 'Asking the Manager for a worker',
  step1: 'The worker is computing',
  fetchingShift: 'Downloading the worker’s result',
  awaitingApproval: 'Waiting for your approval to decrypt',
  decrypting: 'Decrypting the worker’s result',
  encryptingShift: 'Encrypting the shift matrix',
  uploadingShift: 'Uploading the encrypted shift matrix',
  step2: 'The worker is updating the clusters',
  verifying: 'Checking the result against your data',
  done: 'Done',
  failed: 'Failed',
  uploadingInitsm: 'Uploading the initial shift matrix',
  uploadingKeys: 'Uploading the public CKKS keys',
} satisfies Record<Phase, string>);

/** The words for a record's `progress.phase` index ('' when unknown). */
export function phaseName(index: number | undefined): string {
  const phase = index === undefined ? undefined : PHASES[index];
  return phase === undefined ? '' : PHASE_LABELS[phase];
}

export function isTerminal(s: JobStatus): boolean {
  return TERMINAL.includes(s);
}
