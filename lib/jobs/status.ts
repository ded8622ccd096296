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

export function phaseName(index: number | undefined): string {
  return index === undefined ? '' : (PHASES[index] ?? '');
}

export function isTerminal(s: JobStatus): boolean {
  return TERMINAL.includes(s);
}
