/**
 * @module jobs/controller
 * Runs jobs and keeps their records: creates a job after validating it with its algorithm's spec
 * (`rory/algorithms/registry.ts`), records the user's leakage acknowledgement (D3), picks or
 * creates the keys the algorithm needs (through the crypto engine, so secret material never
 * enters this realm), runs the algorithm, turns each decryption the protocol needs into an
 * approval the user answers, persists events, progress and results, and marks jobs that were
 * running when the page closed as interrupted (nothing is lost: events, approvals and settings of
 * the job stay in the record).
 *
 * While a job runs, its record lives in memory here (issue #13 item 1): progress ticks and log
 * events change only that copy and reach the job store at most every PERSIST_INTERVAL_MS, while
 * every state change (status, approval, acknowledgement, result, error) is written at once, before
 * listeners hear of it. Listeners get the new record with each change, so a page (or the job
 * worker's broadcaster, jobs/live.ts) never has to read the store to follow a job.
 *
 * Jobs beyond the size budget (JOB_SIZE_BUDGET_MB; jobs/budget.ts) are refused at create and at
 * start, before anything is built.
 *
 * In the browser it runs in the job Web Worker (workers/job.worker.ts). Isomorphic: every
 * dependency is injected, so tests run it in Node against the real local cloud.
 */
import { AppError, toAppError } from '../errors';
import { managerUrl, routerEndpoints, workerUrlTemplate, type Settings } from '../config';
import { assertClusterable, type Dataset } from '../data/dataset';
import { accuracy, confusionMatrix, externalMetrics, internalMetrics } from '../data/metrics';
import { unscale } from '../data/scaling';
import type { DatasetStore } from '../datasets/store';
import { CKKS_DEFAULT_PARAMS } from '../crypto/ckks/params';
import type { CryptoEngine, KeyId } from '../engine/types';
import type { CkksKeyRecord, KeyRecord, KeyStore, UsageRef } from '../keystore/types';
import { MictlanxClient } from '../storage/mictlanx-client';
import type { ObjectStore } from '../storage/types';
import { matrixId, newJobId } from '../rory/ids';
import { acknowledgeJob, algorithmSpec, ckksKeyFits, jobLeakageProfile } from '../rory/algorithms/registry';
import type { AlgorithmSpec, JobOutcome } from '../rory/algorithms/spec';
import type { ApprovalDecision, ApprovalRequest, JobLogEvent, JobProgress, RunContext } from '../rory/kit';
import { createManagerClient } from '../rory/manager-client';
import { createWorkerClient } from '../rory/worker-client';
import { assertWithinBudget, sizeInputOf } from './budget';
import { PHASES, type Phase } from './status';
import type { JobStore } from './store';
import type { ApprovalRecord, JobAlgorithm, JobEvent, JobParams, JobRecord, JobResult, JobStatus } from './types';

export { isTerminal, phaseName } from './status';

export interface ControllerDeps {
  readonly jobs: JobStore;
  readonly datasets: DatasetStore;
  /** Key records (metadata): listing, usage. The engine reads material from the same store. */
  readonly keys: KeyStore;
  readonly engine: CryptoEngine;
  /** Current settings (read at job start). */
  readonly settings: () => Promise<Settings> | Settings;
  /** Storage for a job; default: a MictlanX client built from the settings. */
  readonly objectStore?: (s: Settings) => ObjectStore;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

export interface NewJobInput {
  readonly name?: string;
  readonly algorithm: JobAlgorithm;
  readonly datasetId: string;
  readonly params: JobParams;
}

/**
 * What changed: `state` (written to the store before listeners hear of it), `live` (progress and
 * log events of a running job, in memory; persisted at most every PERSIST_INTERVAL_MS) or `removed`.
 */
export type JobChangeKind = 'state' | 'live' | 'removed';

export interface JobChange {
  readonly kind: JobChangeKind;
  /** The record after the change (absent when removed). */
  readonly job?: JobRecord;
  /** Whether the job is running in this controller. */
  readonly running: boolean;
}

type Listener = (jobId: string, change: JobChange) => void;

const EVENT_LIMIT = 2000;
/** A running job's progress and events reach the job store at most this often. */
export const PERSIST_INTERVAL_MS = 1000;

/** The in-memory record of a running job and its pending (throttled) write. */
interface LiveRecord {
  job: JobRecord;
  timer?: ReturnType<typeof setTimeout>;
  removed?: boolean;
}

export class JobController {
  private readonly listeners = new Set<Listener>();
  private readonly live = new Map<string, { abort: AbortController; pending?: { id: string; resolve: (d: ApprovalDecision) => void } }>();
  private readonly records = new Map<string, LiveRecord>();
  private readonly now: () => number;

  constructor(private readonly deps: ControllerDeps) {
    this.now = deps.now ?? Date.now;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  isRunning(jobId: string): boolean {
    return this.live.has(jobId);
  }

  /** The job's record: the live copy of a running job, else the stored one. */
  async get(jobId: string): Promise<JobRecord | undefined> {
    const rec = this.records.get(jobId);
    if (rec) return rec.removed ? undefined : rec.job;
    return this.deps.jobs.get(jobId);
  }

  /** Every job, newest first, running ones as they are in memory. */
  async list(): Promise<JobRecord[]> {
    const stored = await this.deps.jobs.list();
    return stored.map((j) => this.records.get(j.id)?.job ?? j);
  }

  /** Ids of the jobs running in this controller. */
  running(): string[] {
    return [...this.live.keys()];
  }

  private emit(jobId: string, kind: JobChangeKind, job?: JobRecord) {
    const change: JobChange = { kind, job, running: this.live.has(jobId) };
    for (const l of this.listeners) l(jobId, change);
  }

  /**
   * Changes a job's record. A running job's record changes in memory: a `state` change is written
   * to the store before listeners hear of it, a `live` one (progress, events) is written at most
   * every PERSIST_INTERVAL_MS. Other jobs are read, changed and written in the store.
   */
  private async update(jobId: string, fn: (j: JobRecord) => JobRecord, kind: 'state' | 'live' = 'state'): Promise<JobRecord> {
    const rec = this.records.get(jobId);
    if (!rec) {
      const j = await this.deps.jobs.update(jobId, (cur) => ({ ...fn(cur), updatedAt: this.now() }));
      this.emit(jobId, 'state', j);
      return j;
    }
    if (rec.removed) throw new AppError('INVALID_ARGUMENT', `no job ${jobId}`, { userMessage: 'This job no longer exists.' });
    rec.job = { ...fn(rec.job), updatedAt: this.now() };
    const job = rec.job;
    if (kind === 'state') {
      clearTimeout(rec.timer);
      rec.timer = undefined;
      await this.deps.jobs.put(job);
    } else {
      rec.timer ??= setTimeout(() => this.flush(jobId), PERSIST_INTERVAL_MS);
    }
    this.emit(jobId, kind, job);
    return job;
  }

  /** Writes the live record of a running job (the throttled write of progress and events). */
  private flush(jobId: string): void {
    const rec = this.records.get(jobId);
    if (!rec) return;
    rec.timer = undefined;
    // A failed progress write is retried by the next one; state changes surface their own errors.
    if (!rec.removed) void this.deps.jobs.put(rec.job).catch(() => undefined);
  }

  private log(jobId: string, e: Omit<JobEvent, 'at'> & { at?: number }) {
    return this.update(jobId, (j) => ({ ...j, events: [...j.events, { at: this.now(), ...e }].slice(-EVENT_LIMIT) }), 'live');
  }

  /** @throws AppError INVALID_ARGUMENT when the job is beyond the size budget (jobs/budget.ts). */
  private async assertSize(algorithm: JobAlgorithm, datasetId: string, params: JobParams, settings: Settings): Promise<void> {
    const ds = await this.deps.datasets.get(datasetId);
    if (!ds) return; // the run itself reports a missing dataset
    const test = params.testDatasetId ? await this.deps.datasets.get(params.testDatasetId) : undefined;
    assertWithinBudget(algorithm, sizeInputOf(ds, params, settings, test), settings.JOB_SIZE_BUDGET_MB);
  }

  /** Creates a draft job after validating it against its dataset(s). */
  async create(input: NewJobInput): Promise<JobRecord> {
    const spec = algorithmSpec(input.algorithm);
    const ds = await this.deps.datasets.get(input.datasetId);
    if (!ds) throw new AppError('INVALID_ARGUMENT', 'unknown dataset', { userMessage: 'Pick a dataset first (Datasets page).' });
    const test = input.params.testDatasetId ? await this.deps.datasets.get(input.params.testDatasetId) : undefined;
    spec.validate(input.params, {
      rows: ds.rows,
      cols: ds.cols,
      hasLabels: ds.hasLabels,
      test: test ? { rows: test.rows, cols: test.cols, hasLabels: test.hasLabels } : undefined,
    });
    await this.assertSize(spec.id, input.datasetId, input.params, await this.deps.settings());
    const id = newJobId();
    const t = this.now();
    const job: JobRecord = {
      id,
      name: input.name?.trim() || `${input.algorithm} on ${ds.name}`,
      algorithm: spec.id,
      datasetId: input.datasetId,
      params: input.params,
      createdAt: t,
      updatedAt: t,
      status: 'draft',
      // Opaque: the dataset's name would otherwise appear in every object key and header.
      storageId: matrixId('', id),
      round: 0,
      progress: {},
      events: [],
      approvals: [],
      autoApprove: false,
    };
    await this.deps.jobs.put(job);
    this.emit(id, 'state', job);
    return job;
  }

  /** Records the user's acknowledgement of exactly the objects the profile lists (D3). */
  async acknowledge(jobId: string): Promise<JobRecord> {
    const job = await this.mustGet(jobId);
    const ack = acknowledgeJob(job.algorithm);
    return this.update(jobId, (j) => ({ ...j, acknowledgement: { at: this.now(), objects: ack.objects } }));
  }

  /** Marks jobs that were running when this page last closed. Call once at start-up. */
  async recoverInterrupted(): Promise<number> {
    let n = 0;
    for (const j of await this.deps.jobs.list()) {
      if ((j.status === 'running' || j.status === 'awaiting-approval') && !this.live.has(j.id)) {
        n++;
        await this.update(j.id, (cur) => ({
          ...cur,
          status: 'interrupted',
          error: new AppError('ABORTED', `interrupted in round ${cur.round}`, {
            userMessage: `This job stopped in round ${cur.round} because the page was closed or reloaded. Its settings, events and approvals are kept; press “Run again” to start it over (its objects in storage will be replaced).`,
          }).toJSON(),
          events: [...cur.events, { at: this.now(), name: 'INTERRUPTED', round: cur.round, level: 'warn' as const }],
        }));
      }
    }
    return n;
  }

  /** Answers the pending approval of a running job. */
  async decide(jobId: string, approvalId: string, decision: ApprovalDecision): Promise<void> {
    const live = this.live.get(jobId);
    if (!live?.pending || live.pending.id !== approvalId) {
      throw new AppError('INVALID_ARGUMENT', 'no such pending approval', { userMessage: 'This approval is no longer pending.' });
    }
    const { resolve } = live.pending;
    live.pending = undefined;
    await this.update(jobId, (j) => ({
      ...j,
      status: decision === 'deny' ? j.status : 'running',
      autoApprove: j.autoApprove || decision === 'approve-all',
      approvals: j.approvals.map((a) => (a.id === approvalId ? { ...a, decision, decidedAt: this.now() } : a)),
    }));
    resolve(decision);
  }

  cancel(jobId: string): void {
    this.live.get(jobId)?.abort.abort();
  }

  async remove(jobId: string): Promise<void> {
    this.cancel(jobId);
    const rec = this.records.get(jobId);
    if (rec) {
      rec.removed = true;
      clearTimeout(rec.timer);
    }
    const job = await this.deps.jobs.get(jobId);
    await this.deps.jobs.delete(jobId);
    if (job) {
      for (const k of await this.deps.keys.list()) {
        if (k.usedBy.some((u) => u.kind === 'job' && u.id === jobId)) await this.deps.keys.removeUsage(k.id, { kind: 'job', id: jobId }).catch(() => undefined);
      }
    }
    this.emit(jobId, 'removed');
  }

  /**
   * Deletes a job's objects from the cloud's storage (upstream never does: spec/protocol.md §7.5
   * "Nothing is ever garbage-collected"). Shared CKKS public key objects stay. Returns the number
   * of chunks deleted.
   */
  async deleteObjects(jobId: string): Promise<number> {
    if (this.live.has(jobId)) throw new AppError('INVALID_ARGUMENT', 'job running', { userMessage: 'Stop the job before deleting its objects.' });
    const job = await this.mustGet(jobId);
    const spec = algorithmSpec(job.algorithm);
    const store = this.store(await this.deps.settings());
    let n = 0;
    for (const key of spec.objectKeys(job.storageId)) n += await store.deleteBall(key);
    await this.log(jobId, { name: 'OBJECTS.DELETED', detail: `${n} chunks` });
    return n;
  }

  /** Starts (or restarts) a job and resolves when it ends; the record holds the outcome. */
  async start(jobId: string): Promise<JobRecord> {
    if (this.live.has(jobId)) throw new AppError('INVALID_ARGUMENT', 'job already running', { userMessage: 'This job is already running.' });
    const job = await this.mustGet(jobId);
    const spec = algorithmSpec(job.algorithm);
    if (jobLeakageProfile(spec.id).requiresAcknowledgement && !job.acknowledgement) {
      throw new AppError('ACK_REQUIRED', 'acknowledgement required', {
        userMessage: 'This algorithm uploads plaintext-derived data. Review the list of what leaves the browser and acknowledge it before running.',
      });
    }
    await this.assertSize(spec.id, job.datasetId, job.params, await this.deps.settings());
    if (this.live.has(jobId)) throw new AppError('INVALID_ARGUMENT', 'job already running', { userMessage: 'This job is already running.' });
    const abort = new AbortController();
    this.live.set(jobId, { abort });
    this.records.set(jobId, { job });
    const t0 = this.now();
    await this.update(jobId, (j) => ({
      ...j,
      status: 'running',
      round: 0,
      progress: {},
      approvals: [],
      autoApprove: false,
      result: undefined,
      error: undefined,
      events: [...j.events, { at: t0, name: 'STARTED' }],
    }));
    try {
      const result = await this.run(job, spec, abort.signal);
      return await this.update(jobId, (j) => ({ ...j, status: 'completed', result, events: [...j.events, { at: this.now(), name: 'JOB.DONE' }] }));
    } catch (e) {
      const err = toAppError(e);
      const status: JobStatus = err.code === 'APPROVAL_DENIED' ? 'denied' : err.code === 'ABORTED' ? 'cancelled' : 'failed';
      return await this.update(jobId, (j) => ({
        ...j,
        status,
        error: err.toJSON(),
        events: [...j.events, { at: this.now(), name: status.toUpperCase(), level: status === 'failed' ? 'error' : 'warn', detail: err.userMessage }],
      }));
    } finally {
      const live = this.live.get(jobId);
      live?.pending?.resolve('deny');
      this.live.delete(jobId);
      const rec = this.records.get(jobId);
      this.records.delete(jobId);
      if (rec?.timer !== undefined) {
        // Events logged after the last state change (still waiting for their throttled write).
        clearTimeout(rec.timer);
        if (!rec.removed) await this.deps.jobs.put(rec.job).catch(() => undefined);
      }
      if (!rec?.removed) this.emit(jobId, 'state', rec?.job);
    }
  }

  private async mustGet(jobId: string): Promise<JobRecord> {
    const j = await this.deps.jobs.get(jobId);
    if (!j) throw new AppError('INVALID_ARGUMENT', `no job ${jobId}`, { userMessage: 'This job no longer exists.' });
    return j;
  }

  private async run(job: JobRecord, spec: AlgorithmSpec, signal: AbortSignal): Promise<JobResult> {
    const settings = await this.deps.settings();
    const t = this.now();
    const dataset = await this.deps.datasets.load(job.datasetId);
    const test = spec.kind === 'classification' ? await this.deps.datasets.load(job.params.testDatasetId ?? '') : undefined;
    if (spec.kind === 'clustering' && spec.fields.includes('k')) assertClusterable(dataset.record.rows, job.params.k ?? 3);
    await this.log(job.id, { name: 'LOCAL.READ', durationMs: this.now() - t, detail: `${dataset.record.rows} × ${dataset.record.cols}` });
    const usedBy: UsageRef[] = [{ kind: 'job', id: job.id, label: job.name }];
    const keys = await this.keysFor(job, spec, dataset, settings, usedBy);
    const workerTimeoutMs = settings.WORKER_TIMEOUT * 1000;
    const outcome = await spec.run(
      {
        jobId: job.id,
        storageId: job.storageId,
        datasetId: dataset.record.id,
        datasetName: dataset.record.name,
        data: dataset.matrix,
        labels: dataset.labels,
        test: test?.matrix,
        params: job.params,
        keys,
        acknowledgement: job.acknowledgement ? { algorithm: job.algorithm, objects: job.acknowledgement.objects } : undefined,
        numChunks: settings.NUM_CHUNKS,
        maxIterations: settings.MAX_ITERATIONS,
        workerTimeoutMs,
        usedBy,
      },
      this.context(job, settings, signal, workerTimeoutMs),
    );
    return spec.kind === 'classification' ? this.classificationResult(outcome, test) : this.clusteringResult(job, dataset, outcome);
  }

  private clusteringResult(job: JobRecord, dataset: Dataset, o: JobOutcome): JobResult {
    const metrics = this.metricsFor(job, dataset, o.labels, o.clusters ?? new Set(o.labels).size);
    return {
      labels: Array.from(o.labels),
      iterations: o.iterations,
      converged: o.converged,
      verified: o.verification,
      metrics,
      // In the user's units: the protocol ran on the scaled matrix (the dataset's scaling option).
      centroids: o.centroids ? { shape: [...o.centroids.shape], data: unscale(o.centroids.data, o.centroids.shape[1], dataset.record.scaling) } : undefined,
      maxShiftPerRound: o.maxShiftPerRound ? [...o.maxShiftPerRound] : undefined,
      threshold: o.threshold,
      timings: { ...o.timings, total: o.totalMs },
    };
  }

  private classificationResult(o: JobOutcome, test: Dataset | undefined): JobResult {
    const result: JobResult = { labels: Array.from(o.labels), timings: { ...o.timings, total: o.totalMs } };
    if (!test?.labels) return result;
    const cm = confusionMatrix(test.labels, o.labels);
    const L = cm.labels.length;
    return {
      ...result,
      accuracy: accuracy(test.labels, o.labels),
      confusionLabels: cm.labels,
      confusion: Array.from({ length: L }, (_, i) => Array.from(cm.counts.data.subarray(i * L, (i + 1) * L))),
    };
  }

  private metricsFor(job: JobRecord, dataset: Dataset, labels: Int32Array, k: number): Record<string, number> {
    const metrics: Record<string, number> = {};
    // Internal indices are undefined for a single cluster (e.g. a degenerate DBSKMeans run); the
    // job still completes and says so in its log instead of failing.
    const tryMetrics = (name: string, f: () => object) => {
      try {
        for (const [m, v] of Object.entries(f())) if (typeof v === 'number' && Number.isFinite(v)) metrics[m] = v;
      } catch (e) {
        void this.log(job.id, { name: 'METRICS.SKIPPED', level: 'warn', detail: `${name}: ${toAppError(e).userMessage}` });
      }
    };
    tryMetrics('internal', () => internalMetrics(dataset.matrix, labels));
    if (dataset.labels) tryMetrics('external', () => externalMetrics(dataset.labels!, labels, k));
    return metrics;
  }

  private store(settings: Settings): ObjectStore {
    return this.deps.objectStore?.(settings) ?? objectStoreFromSettings(settings, this.deps.fetch);
  }

  /** The run context of a job: the cloud's clients, the engine, approvals, its event log and progress. */
  private context(job: JobRecord, settings: Settings, signal: AbortSignal, workerTimeoutMs: number): RunContext {
    return {
      store: this.store(settings),
      manager: createManagerClient({ baseUrl: managerUrl(settings), workerUrlTemplate: workerUrlTemplate(settings), fetch: this.deps.fetch }),
      workerFor: (a) => createWorkerClient({ baseUrl: a.url, timeoutMs: workerTimeoutMs, fetch: this.deps.fetch }),
      engine: this.deps.engine,
      approve: (req) => this.requestApproval(job.id, req),
      onEvent: (e: JobLogEvent) =>
        void this.log(job.id, {
          at: e.at,
          name: e.name,
          durationMs: e.durationMs,
          round: e.round,
          detail: e.detail ? Object.entries(e.detail).map(([kk, v]) => `${kk}=${v}`).join(' ') : undefined,
        }).catch(() => undefined),
      onProgress: (p: JobProgress) =>
        void this.update(
          job.id,
          (j) => ({
            ...j,
            round: p.round,
            progress: {
              ...j.progress,
              ...(PHASES.includes(p.phase as Phase) ? { phase: PHASES.indexOf(p.phase as Phase) } : {}),
              ...(p.transfer ? { [`transfer:${p.transfer.ballId}`]: p.transfer.doneBytes / Math.max(1, p.transfer.totalBytes) } : {}),
              ...(p.crypto ? { [p.crypto.what]: p.crypto.total ? p.crypto.done / p.crypto.total : 1 } : {}),
            },
          }),
          'live',
        ).catch(() => undefined),
      signal,
    };
  }

  /**
   * The keys a job needs. Liu: the key chosen for the job, else a NEW key for this job (a key
   * planted by an imported backup is never picked implicitly). CKKS: the key set chosen for the job,
   * else the newest set this browser generated that has what the algorithm needs, else a new one.
   * Keys are created by the engine, so their material never enters this realm.
   */
  private async keysFor(job: JobRecord, spec: AlgorithmSpec, dataset: Dataset, s: Settings, usedBy: UsageRef[]): Promise<{ liu?: KeyId; ckks?: KeyId }> {
    const { keys, engine } = this.deps;
    const out: { liu?: KeyId; ckks?: KeyId } = {};
    const chosen = async (id: string, scheme: KeyRecord['scheme'], what: string): Promise<KeyRecord> => {
      const r = await keys.get(id);
      if (!r || r.scheme !== scheme) {
        throw new AppError('INVALID_KEY', `the chosen ${what} is gone`, {
          userMessage: `The ${what} chosen for this job no longer exists. Pick another one (new job) or restore it from a backup.`,
        });
      }
      return r;
    };
    if (spec.needs.liu) {
      if (job.params.liuKeyId) {
        out.liu = (await chosen(job.params.liuKeyId, 'liu', 'Liu key')).id;
      } else {
        const level = s.LIU_SECURITY_LEVEL as 128 | 192 | 256;
        const t = this.now();
        out.liu = (await engine.createLiuKey(level, { label: `Liu ${level} for ${job.name}`, usedBy })).id;
        await this.log(job.id, { name: 'KEYGEN', durationMs: this.now() - t, detail: `new Liu ${level} key for this job` });
      }
      await keys.addUsage(out.liu, usedBy[0]);
    }
    const need = spec.needs.ckks;
    if (need) {
      const slots = CKKS_DEFAULT_PARAMS.polyModulusDegree / 2;
      const steps = need.galoisSteps?.({ rows: dataset.record.rows, cols: dataset.record.cols, slots }) ?? [];
      const fits = (r: CkksKeyRecord) => ckksKeyFits(job.algorithm, r.params, dataset.record);
      if (job.params.ckksKeyId) {
        const r = (await chosen(job.params.ckksKeyId, 'ckks', 'CKKS key set')) as CkksKeyRecord;
        if (!fits(r)) {
          throw new AppError('INVALID_KEY', 'the chosen CKKS key set lacks keys this algorithm needs', {
            userMessage: `The CKKS key set “${r.label}” lacks the ${need.relin && !r.params.hasRelinKeys ? 'relinearization' : 'rotation (Galois)'} keys ${spec.title} needs. Pick another set or let the job create one.`,
          });
        }
        out.ckks = r.id;
      } else {
        const existing = (await keys.list()).find((r): r is CkksKeyRecord => r.scheme === 'ckks' && r.origin === 'generated' && fits(r));
        if (existing) out.ckks = existing.id;
        else {
          const t = this.now();
          const rec = await engine.createCkksKey(
            { params: CKKS_DEFAULT_PARAMS, relinKeys: true, galoisSteps: steps },
            { label: 'CKKS default-128 (created for a job)', usedBy },
            { signal: undefined },
          );
          out.ckks = rec.id;
          await this.log(job.id, { name: 'KEYGEN', durationMs: this.now() - t, detail: 'new CKKS default-128 key set' });
        }
      }
      await keys.addUsage(out.ckks, usedBy[0]);
    }
    return out;
  }

  private requestApproval(jobId: string, req: ApprovalRequest): Promise<ApprovalDecision> {
    const id = `${req.round}-${req.objectKey}-${this.now()}`;
    const approval: ApprovalRecord = {
      id,
      round: req.round,
      objectKey: req.objectKey,
      shape: [...req.shape],
      explanation: req.purpose,
      requestedAt: this.now(),
    };
    return new Promise<ApprovalDecision>((resolve, reject) => {
      const live = this.live.get(jobId);
      if (!live) return reject(new AppError('ABORTED', 'job not running', { userMessage: 'The job is no longer running.' }));
      const onAbort = () => reject(new AppError('ABORTED', 'aborted', { userMessage: 'The job was cancelled.' }));
      live.abort.signal.addEventListener('abort', onAbort, { once: true });
      void this.update(jobId, (j) => {
        if (j.autoApprove) {
          queueMicrotask(() => resolve('approve'));
          return { ...j, approvals: [...j.approvals, { ...approval, decision: 'approve', decidedAt: this.now() }] };
        }
        live.pending = { id, resolve };
        return { ...j, status: 'awaiting-approval', approvals: [...j.approvals, approval] };
      }).catch(reject);
    });
  }
}

/** The MictlanX client the settings describe (routers, bucket, timeout, retries, producer id). */
export function objectStoreFromSettings(s: Settings, fetchImpl?: typeof fetch): MictlanxClient {
  return new MictlanxClient({
    routers: routerEndpoints(s).map((r) => ({ id: r.id, host: r.host, port: r.port, protocol: r.protocol, baseUrl: r.baseUrl })),
    bucket: s.MICTLANX_BUCKET_ID,
    timeoutMs: s.MICTLANX_TIMEOUT * 1000,
    maxRetries: s.MICTLANX_MAX_RETRIES,
    producerId: s.NODE_ID,
    fetch: fetchImpl,
  });
}
