/**
 * @module headless/jobs/run-job
 * Runs one job headless, through the algorithm registry exactly as the browser's job controller
 * does (lib/rory/algorithms/registry.ts → `spec.run`): the same runners, crypto engine, storage
 * client, decryption guards and D8 verification. What differs is who answers:
 * - **D3**: a job whose protocol uploads plaintext-derived data runs only when the operator
 *   acknowledged its algorithm in the configuration (`RORY_ACKNOWLEDGE`); otherwise it is refused
 *   with ACK_REQUIRED before anything is read or uploaded, listing what would leave.
 * - **Approvals** are given by policy: every decryption the protocol needs is approved (and logged
 *   as APPROVAL by the runner), but only after the runner's guards accepted the object, and
 *   nothing derived leaves before the D8 checks pass — a worker that lies still stops the job.
 * - Per-job keys (Liu, FDHOPE) are dropped when the job ends; the job's objects are deleted from
 *   MictlanX unless RORY_KEEP_OBJECTS=1 (upstream never deletes, spec/protocol.md §7.5).
 */
import { AppError } from '@/lib/errors';
import type { Matrix } from '@/lib/data/matrix';
import { acknowledgeJob, algorithmSpec, jobLeakageProfile } from '@/lib/rory/algorithms/registry';
import type { JobAlgorithm } from '@/lib/rory/algorithms/ids';
import type { JobOutcome, JobParams } from '@/lib/rory/algorithms/spec';
import type { JobLogEvent, JobProgress, RunContext } from '@/lib/rory/kit';
import type { LeakageProfile } from '@/lib/rory/leakage';
import { chooseKeys } from '../keys/choose';
import type { Runtime } from './runtime';

export interface HeadlessJob {
  readonly algorithm: JobAlgorithm;
  readonly jobId: string;
  /** Storage id `P` (unique per job, so concurrent jobs never share objects). */
  readonly storageId: string;
  readonly datasetName: string;
  readonly data: Matrix;
  readonly labels?: ArrayLike<number>;
  readonly test?: Matrix;
  readonly params: JobParams;
  /** Whether the operator acknowledged this algorithm's plaintext uploads. */
  readonly acknowledged: boolean;
  readonly keys?: { readonly liu?: string; readonly ckks?: string };
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: JobLogEvent) => void;
  readonly onProgress?: (p: JobProgress) => void;
}

export interface HeadlessJobResult {
  readonly outcome: JobOutcome;
  readonly events: readonly JobLogEvent[];
}

/** The refusal of a plaintext-uploading job that was not acknowledged (D3): names every item. */
export function ackRequired(p: LeakageProfile, how: string): AppError {
  const items = p.items.filter((i) => i.needsAck);
  return new AppError('ACK_REQUIRED', `${p.algorithm} uploads plaintext-derived data and was not acknowledged`, {
    userMessage: `${p.algorithm} sends data to the cloud without encryption: ${items.map((i) => i.key).join(', ')}. Nothing was read or sent. ${how}`,
    details: { algorithm: p.algorithm, objects: items.map((i) => i.key).join(',') },
  });
}

/** How the operator acknowledges `algorithm` (for error messages). */
export function acknowledgeHint(family: string): string {
  return `If that is acceptable, add ${family} to RORY_ACKNOWLEDGE (e.g. RORY_ACKNOWLEDGE=${family}) and try again, or use an algorithm that encrypts everything (PKMEANS, DBSKMEANS, DBSNNC, SKNN…).`;
}

export async function runHeadlessJob(rt: Runtime, job: HeadlessJob): Promise<HeadlessJobResult> {
  const spec = algorithmSpec(job.algorithm);
  const profile = jobLeakageProfile(spec.id);
  if (profile.requiresAcknowledgement && !job.acknowledged) throw ackRequired(profile, acknowledgeHint(spec.id.replace(/_PREDICT$/, '')));
  const [rows, cols] = job.data.shape;
  spec.validate(job.params, {
    rows,
    cols,
    hasLabels: job.labels !== undefined,
    test: job.test ? { rows: job.test.shape[0], cols: job.test.shape[1], hasLabels: false } : undefined,
  });
  const events: JobLogEvent[] = [];
  const emit = (e: JobLogEvent) => {
    events.push(e);
    job.onEvent?.(e);
  };
  const usedBy = { kind: 'job' as const, id: job.jobId, label: `${spec.id} on ${job.datasetName}` };
  const s = rt.settings;
  try {
    const chosen = await chooseKeys(rt.engine, rt.keys, spec, {
      liuLevel: s.LIU_SECURITY_LEVEL as 128 | 192 | 256,
      liuKeyId: job.keys?.liu,
      ckksKeyId: job.keys?.ckks,
      usedBy,
      shape: { rows, cols },
      signal: job.signal,
    });
    for (const c of chosen.created) emit({ name: 'KEYGEN', at: Date.now(), durationMs: c.ms, detail: { what: c.what } });
    const ctx: RunContext = {
      store: rt.store,
      manager: rt.manager,
      workerFor: rt.workerFor,
      engine: rt.engine,
      approve: async () => 'approve',
      onEvent: emit,
      onProgress: job.onProgress,
      signal: job.signal,
    };
    const outcome = await spec.run(
      {
        jobId: job.jobId,
        storageId: job.storageId,
        datasetName: job.datasetName,
        data: job.data,
        labels: job.labels,
        test: job.test,
        params: job.params,
        keys: { liu: chosen.liu, ckks: chosen.ckks },
        acknowledgement: profile.requiresAcknowledgement ? acknowledgeJob(spec.id) : undefined,
        numChunks: s.NUM_CHUNKS,
        maxIterations: s.MAX_ITERATIONS,
        workerTimeoutMs: s.WORKER_TIMEOUT * 1000,
        usedBy: [usedBy],
      },
      ctx,
    );
    return { outcome, events };
  } finally {
    for (const id of await rt.keys.dropJobKeys(job.jobId).catch(() => [])) await rt.engine.forget(id);
    if (!rt.config.extras.keepObjects) {
      const t = performance.now();
      let n = 0;
      for (const key of spec.objectKeys(job.storageId)) n += await rt.store.deleteBall(key).catch(() => 0);
      emit({ name: 'OBJECTS.DELETED', at: Date.now(), durationMs: performance.now() - t, detail: { chunks: n } });
    }
  }
}
