/**
 * @module jobs/controller
 * Runs jobs in this page and keeps their records: creates a job, records the user's leakage
 * acknowledgement (D3), starts the protocol runner (lib/rory) with this browser's stores and crypto
 * engine, turns each decryption the protocol needs into an approval the user answers, persists
 * events, progress and results, and marks jobs that were running when the page closed as
 * interrupted (nothing is lost: events, approvals and settings of the job stay in the record).
 *
 * Isomorphic: every dependency is injected, so tests run it in Node against the real local cloud.
 */
import { AppError, toAppError } from '../errors';
import { managerUrl, routerEndpoints, type Settings } from '../config';
import { assertClusterable, type Dataset } from '../data/dataset';
import { matrix, type Matrix } from '../data/matrix';
import { accuracy, confusionMatrix, externalMetrics, internalMetrics } from '../data/metrics';
import { runClassificationJob } from '../rory/classify-runner';
import type { DatasetStore } from '../datasets/store';
import type { FdhopeKey } from '../crypto/fdhope';
import type { LiuSecretKey } from '../crypto/liu';
import type { CkksKeyRecord, CkksMaterial, KeyStore, LiuKeyRecord } from '../keystore/types';
import { ckksKeyParams } from '../keystore/pyfhel';
import { CKKS_DEFAULT_PARAMS } from '../crypto/ckks/params';
import { MictlanxClient } from '../storage/mictlanx-client';
import type { ObjectStore } from '../storage/types';
import { newJobId, matrixId } from '../rory/ids';
import { acknowledgeJob, jobLeakageProfile } from '../rory/leakage';
import { createManagerClient } from '../rory/manager-client';
import { createWorkerClient } from '../rory/worker-client';
import { runKmeansJob, type CkksRunnerCrypto, type RunnerCrypto } from '../rory/runner';
import { isPqc, type KmeansAlgorithm } from '../rory/algorithms/interactive-kmeans';
import { runNncJob, runPlainKmeansJob } from '../rory/nnc-runner';
import type { ApprovalDecision, ApprovalRequest } from '../rory/algorithms/interactive-kmeans';
import type { CryptoEngine } from '../../workers/engine';
import type { JobStore } from './store';
import type { Algorithm, ApprovalRecord, JobEvent, JobParams, JobRecord, JobResult, JobStatus } from './types';

/** Algorithms this version can run end to end. */
export const RUNNABLE: readonly Algorithm[] = [
  'DBSKMEANS',
  'SKMEANS',
  'DBSKMEANS_PQC',
  'SKMEANS_PQC',
  'DBSNNC',
  'DBSNNC_PQC',
  'NNC',
  'KMEANS',
  'SKNN_PREDICT',
  'SKNN_PQC_PREDICT',
  'KNN_PREDICT',
];

/** Algorithms that need a CKKS key set. */
export function needsCkks(a: Algorithm): boolean {
  return a.endsWith('_PQC') || a === 'SKNN_PQC_PREDICT';
}

export interface ControllerDeps {
  readonly jobs: JobStore;
  readonly datasets: DatasetStore;
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
  readonly algorithm: Algorithm;
  readonly datasetId: string;
  readonly params: JobParams;
}

type Listener = (jobId: string) => void;

const TERMINAL: readonly JobStatus[] = ['completed', 'failed', 'denied', 'cancelled', 'interrupted'];
const EVENT_LIMIT = 2000;

export class JobController {
  private readonly listeners = new Set<Listener>();
  private readonly live = new Map<string, { abort: AbortController; pending?: { id: string; resolve: (d: ApprovalDecision) => void } }>();
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

  private emit(jobId: string) {
    for (const l of this.listeners) l(jobId);
  }

  private async update(jobId: string, fn: (j: JobRecord) => JobRecord): Promise<JobRecord> {
    const j = await this.deps.jobs.update(jobId, (cur) => ({ ...fn(cur), updatedAt: this.now() }));
    this.emit(jobId);
    return j;
  }

  private log(jobId: string, e: Omit<JobEvent, 'at'> & { at?: number }) {
    return this.update(jobId, (j) => ({ ...j, events: [...j.events, { at: this.now(), ...e }].slice(-EVENT_LIMIT) }));
  }

  /** Creates a draft job after validating it against its dataset. */
  async create(input: NewJobInput): Promise<JobRecord> {
    const ds = await this.deps.datasets.get(input.datasetId);
    if (!ds) throw new AppError('INVALID_ARGUMENT', 'unknown dataset', { userMessage: 'Pick a dataset first (Datasets page).' });
    validateParams(input.algorithm, input.params, ds.rows);
    const id = newJobId();
    const t = this.now();
    const job: JobRecord = {
      id,
      name: input.name?.trim() || `${input.algorithm} on ${ds.name}`,
      algorithm: input.algorithm,
      datasetId: input.datasetId,
      params: input.params,
      createdAt: t,
      updatedAt: t,
      status: 'draft',
      storageId: matrixId(ds.name, id),
      round: 0,
      progress: {},
      events: [],
      approvals: [],
      autoApprove: false,
    };
    await this.deps.jobs.put(job);
    this.emit(id);
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
    const job = await this.deps.jobs.get(jobId);
    await this.deps.jobs.delete(jobId);
    if (job) {
      for (const k of await this.deps.keys.list()) {
        if (k.usedBy.some((u) => u.kind === 'job' && u.id === jobId)) await this.deps.keys.removeUsage(k.id, { kind: 'job', id: jobId }).catch(() => undefined);
      }
    }
    this.emit(jobId);
  }

  /** Starts (or restarts) a job and resolves when it ends; the record holds the outcome. */
  async start(jobId: string): Promise<JobRecord> {
    if (this.live.has(jobId)) throw new AppError('INVALID_ARGUMENT', 'job already running', { userMessage: 'This job is already running.' });
    const job = await this.mustGet(jobId);
    if (!RUNNABLE.includes(job.algorithm)) {
      throw new AppError('INVALID_ARGUMENT', `algorithm ${job.algorithm} not runnable`, { userMessage: `${job.algorithm} cannot be run by this version yet.` });
    }
    const profile = jobLeakageProfile(job.algorithm);
    if (profile.requiresAcknowledgement && !job.acknowledgement) {
      throw new AppError('ACK_REQUIRED', 'acknowledgement required', {
        userMessage: 'This algorithm uploads plaintext-derived data. Review the list of what leaves the browser and acknowledge it before running.',
      });
    }
    const abort = new AbortController();
    this.live.set(jobId, { abort });
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
      const result =
        job.algorithm === 'DBSNNC' || job.algorithm === 'DBSNNC_PQC' || job.algorithm === 'NNC'
          ? await this.runNnc(job, abort.signal)
          : job.algorithm === 'KMEANS'
            ? await this.runPlainKmeans(job, abort.signal)
            : job.algorithm === 'SKNN_PREDICT' || job.algorithm === 'SKNN_PQC_PREDICT' || job.algorithm === 'KNN_PREDICT'
              ? await this.runClassify(job, abort.signal)
              : await this.runKmeans(job, abort.signal);
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
      this.emit(jobId);
    }
  }

  private async mustGet(jobId: string): Promise<JobRecord> {
    const j = await this.deps.jobs.get(jobId);
    if (!j) throw new AppError('INVALID_ARGUMENT', `no job ${jobId}`, { userMessage: 'This job no longer exists.' });
    return j;
  }

  private async runKmeans(job: JobRecord, signal: AbortSignal): Promise<JobResult> {
    const settings = await this.deps.settings();
    const t = this.now();
    const dataset = await this.deps.datasets.load(job.datasetId);
    const k = job.params.k ?? 3;
    assertClusterable(dataset.record.rows, k);
    await this.log(job.id, { name: 'LOCAL.READ', durationMs: this.now() - t, detail: `${dataset.record.rows} × ${dataset.record.cols}` });

    const pqc = isPqc(job.algorithm as KmeansAlgorithm);
    const liuKey = pqc ? undefined : await this.liuKeyFor(job, settings);
    const crypto = this.runnerCrypto(job, dataset, liuKey?.key, settings, pqc ? await this.ckksFor(job) : undefined);
    const { deps, workerTimeoutMs } = this.cloud(job, settings, signal);

    const result = await runKmeansJob(
      {
        algorithm: job.algorithm as KmeansAlgorithm,
        jobId: job.id,
        matrixId: job.storageId,
        data: dataset.matrix,
        k,
        maxIterations: job.params.maxIterations ?? settings.MAX_ITERATIONS,
        tolerance: job.params.tolerance,
        numChunks: settings.NUM_CHUNKS,
        sens: job.params.sens,
        acknowledgement: job.acknowledgement ? { algorithm: job.algorithm, objects: job.acknowledgement.objects } : undefined,
        workerTimeoutMs,
      },
      {
        ...deps,
        crypto,
        approve: (req) => this.requestApproval(job.id, req),
        onProgress: (p) =>
          void this.update(job.id, (j) => ({
            ...j,
            round: p.round,
            progress: {
              ...j.progress,
              phase: PHASES.indexOf(p.phase),
              ...(p.transfer ? { [`transfer:${p.transfer.ballId}`]: p.transfer.doneBytes / Math.max(1, p.transfer.totalBytes) } : {}),
            },
          })).catch(() => undefined),
      },
    );

    const labels = Array.from(result.labels);
    const metrics = this.metricsFor(job, dataset, result.labels, k);
    return {
      labels,
      iterations: result.iterations,
      converged: result.converged,
      verified: {
        ok: result.verification.ok,
        maxError: result.verification.maxError,
        detail: result.verification.ok
          ? 'The decrypted final centroids equal the means of your records per returned label.'
          : 'The decrypted final centroids do NOT match the returned labels: the worker’s answer is inconsistent.',
        tolerance: result.verification.tolerance,
      },
      metrics,
      centroids: { shape: [...result.centroids.shape], data: Array.from(result.centroids.data) },
      maxShiftPerRound: [...result.maxShiftPerRound],
      timings: { ...result.timings, total: result.totalMs },
    };
  }

  private async runNnc(job: JobRecord, signal: AbortSignal): Promise<JobResult> {
    const settings = await this.deps.settings();
    const t = this.now();
    const dataset = await this.deps.datasets.load(job.datasetId);
    await this.log(job.id, { name: 'LOCAL.READ', durationMs: this.now() - t, detail: `${dataset.record.rows} × ${dataset.record.cols}` });
    const pqc = job.algorithm === 'DBSNNC_PQC';
    // NNC is plaintext and DBSNNC_PQC does not use Liu: no Liu key is created for them.
    const liuKey = job.algorithm === 'DBSNNC' ? await this.liuKeyFor(job, settings) : undefined;
    const ckks = pqc ? await this.ckksFor(job) : undefined;
    const { deps, workerTimeoutMs } = this.cloud(job, settings, signal);
    const result = await runNncJob(
      {
        algorithm: job.algorithm as 'DBSNNC' | 'DBSNNC_PQC' | 'NNC',
        jobId: job.id,
        matrixId: job.storageId,
        data: dataset.matrix,
        threshold: job.params.threshold,
        sens: job.params.sens,
        numChunks: settings.NUM_CHUNKS,
        acknowledgement: job.acknowledgement ? { algorithm: job.algorithm, objects: job.acknowledgement.objects } : undefined,
        workerTimeoutMs,
      },
      { ...deps, crypto: this.runnerCrypto(job, dataset, liuKey?.key, settings, ckks) },
    );
    const metrics = this.metricsFor(job, dataset, result.labels, result.clusters);
    return { labels: Array.from(result.labels), metrics, threshold: result.threshold, timings: { ...result.timings, total: result.totalMs } };
  }

  private async runClassify(job: JobRecord, signal: AbortSignal): Promise<JobResult> {
    const settings = await this.deps.settings();
    const train = await this.deps.datasets.load(job.datasetId);
    const test = await this.deps.datasets.load(job.params.testDatasetId ?? '');
    if (!train.labels) {
      throw new AppError('INVALID_ARGUMENT', 'training set without labels', { userMessage: 'The training dataset has no labels. Attach a labels file on the Datasets page.' });
    }
    const liuKey = job.algorithm === 'SKNN_PREDICT' ? await this.liuKeyFor(job, settings) : undefined;
    const ckks = job.algorithm === 'SKNN_PQC_PREDICT' ? await this.ckksFor(job) : undefined;
    const { deps, workerTimeoutMs } = this.cloud(job, settings, signal);
    const r = await runClassificationJob(
      {
        algorithm: job.algorithm as 'SKNN_PREDICT' | 'SKNN_PQC_PREDICT' | 'KNN_PREDICT',
        jobId: job.id,
        storageId: job.storageId,
        model: train.matrix,
        modelLabels: train.labels,
        test: test.matrix,
        numChunks: settings.NUM_CHUNKS,
        acknowledgement: job.acknowledgement ? { algorithm: job.algorithm, objects: job.acknowledgement.objects } : undefined,
        workerTimeoutMs,
      },
      {
        ...deps,
        crypto: this.runnerCrypto(job, train, liuKey?.key, settings, ckks),
        approve: (req) => this.requestApproval(job.id, req),
      },
    );
    const result: JobResult = { labels: Array.from(r.labels), timings: { total: r.totalMs } };
    if (!test.labels) return result;
    const cm = confusionMatrix(test.labels, r.labels);
    const L = cm.labels.length;
    return {
      ...result,
      accuracy: accuracy(test.labels, r.labels),
      confusionLabels: cm.labels,
      confusion: Array.from({ length: L }, (_, i) => Array.from(cm.counts.data.subarray(i * L, (i + 1) * L))),
    };
  }

  private async runPlainKmeans(job: JobRecord, signal: AbortSignal): Promise<JobResult> {
    const settings = await this.deps.settings();
    const dataset = await this.deps.datasets.load(job.datasetId);
    const k = job.params.k ?? 3;
    assertClusterable(dataset.record.rows, k);
    const { deps, workerTimeoutMs } = this.cloud(job, settings, signal);
    const r = await runPlainKmeansJob(
      {
        jobId: job.id,
        matrixId: job.storageId,
        data: dataset.matrix,
        k,
        maxIterations: job.params.maxIterations ?? settings.MAX_ITERATIONS,
        acknowledgement: job.acknowledgement ? { algorithm: job.algorithm, objects: job.acknowledgement.objects } : undefined,
        workerTimeoutMs,
      },
      deps,
    );
    return { labels: Array.from(r.labels), iterations: r.iterations, metrics: this.metricsFor(job, dataset, r.labels, k), timings: { total: r.totalMs } };
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

  /** What every runner needs to reach the cloud, and the job's event log as its onEvent. */
  private cloud(job: JobRecord, settings: Settings, signal: AbortSignal) {
    const workerTimeoutMs = settings.WORKER_TIMEOUT * 1000;
    return {
      workerTimeoutMs,
      deps: {
        store: this.deps.objectStore?.(settings) ?? defaultObjectStore(settings, this.deps.fetch),
        manager: createManagerClient({ baseUrl: managerUrl(settings), fetch: this.deps.fetch }),
        workerClientFactory: (a: { url: string }) => createWorkerClient({ baseUrl: a.url, timeoutMs: workerTimeoutMs, fetch: this.deps.fetch }),
        onEvent: (e: { at: number; name: string; durationMs?: number; round?: number; detail?: Readonly<Record<string, string | number | boolean>> }) =>
          void this.log(job.id, {
            at: e.at,
            name: e.name,
            durationMs: e.durationMs,
            round: e.round,
            detail: e.detail ? Object.entries(e.detail).map(([kk, v]) => `${kk}=${v}`).join(' ') : undefined,
          }).catch(() => undefined),
        signal,
      },
    };
  }

  /** The newest Liu key at the configured level, or a new one (recorded in the key store). */
  private async liuKeyFor(job: JobRecord, s: Settings): Promise<{ record: LiuKeyRecord; key: LiuSecretKey }> {
    const level = s.LIU_SECURITY_LEVEL as 128 | 192 | 256;
    let record = (await this.deps.keys.list()).find((r): r is LiuKeyRecord => r.scheme === 'liu' && r.params.level === level);
    let key: LiuSecretKey;
    if (!record) {
      key = await this.deps.engine.liuKeygen(level);
      record = (await this.deps.keys.add(
        { scheme: 'liu', label: `Liu ${level} (created for a job)`, origin: 'generated', params: { level, m: key.m, nbits: key.nbits } },
        { scheme: 'liu', key },
      )) as LiuKeyRecord;
      await this.log(job.id, { name: 'KEYGEN', detail: `new Liu ${level} key` });
    } else {
      const mat = await this.deps.keys.loadMaterial(record.id);
      if (mat.scheme !== 'liu') throw new AppError('INVALID_KEY', 'key store returned a non-Liu key');
      key = mat.key;
    }
    await this.deps.keys.addUsage(record.id, { kind: 'job', id: job.id, label: job.name });
    return { record, key };
  }

  /**
   * The job's CKKS key set: the one chosen for it (`params.ckksKeyId`), else the newest with
   * relinearization keys, else a new default-128 set (recorded in the key store). The material
   * goes to the crypto engine only; the runner sees the public bundle (D4).
   */
  private async ckksFor(job: JobRecord): Promise<{ record: CkksKeyRecord; material: CkksMaterial }> {
    const { keys, engine } = this.deps;
    const all = await keys.list();
    let record: CkksKeyRecord | undefined;
    if (job.params.ckksKeyId) {
      const r = all.find((k) => k.id === job.params.ckksKeyId);
      if (!r || r.scheme !== 'ckks') {
        throw new AppError('INVALID_KEY', 'the chosen CKKS key set is gone', { userMessage: 'The CKKS key set chosen for this job no longer exists. Pick another one (new job) or restore it from a backup.' });
      }
      record = r;
    } else {
      record = all.find((r): r is CkksKeyRecord => r.scheme === 'ckks' && r.params.hasRelinKeys);
    }
    let material: CkksMaterial;
    if (!record) {
      const t = this.now();
      const bytes = await engine.ckksKeygen({ params: CKKS_DEFAULT_PARAMS, relinKeys: true });
      const { secretKey, ...publicBundle } = bytes;
      material = { scheme: 'ckks', publicBundle, secretKey };
      record = (await keys.add(
        { scheme: 'ckks', label: 'CKKS default-128 (created for a job)', origin: 'generated', params: ckksKeyParams(CKKS_DEFAULT_PARAMS, true, false) },
        material,
      )) as CkksKeyRecord;
      await this.log(job.id, { name: 'KEYGEN', durationMs: this.now() - t, detail: 'new CKKS default-128 key set' });
    } else {
      const m = await keys.loadMaterial(record.id);
      if (m.scheme !== 'ckks') throw new AppError('INVALID_KEY', 'key store returned a non-CKKS key');
      material = m;
    }
    await keys.addUsage(record.id, { kind: 'job', id: job.id, label: job.name });
    return { record, material };
  }

  private ckksProvider(job: JobRecord, c: { record: CkksKeyRecord; material: CkksMaterial }): CkksRunnerCrypto {
    const { engine } = this.deps;
    const { material } = c;
    const progress = (p: { done: number; total: number }) =>
      void this.update(job.id, (j) => ({ ...j, progress: { ...j.progress, encrypt: p.total ? p.done / p.total : 1 } })).catch(() => undefined);
    return {
      publicBundle: material.publicBundle,
      slots: c.record.params.polyModulusDegree / 2,
      // With the secret material the engine encrypts symmetrically: seeded ciphertexts, half the upload.
      encryptRows: (m, o) => engine.ckksEncryptRows(material, m.data, m.shape[1], { signal: o?.signal, onProgress: (p) => (o?.onProgress ?? progress)(p) }),
      decryptRows: async (cts, take, o) => matrix(await engine.ckksDecryptRows(material, cts, take, { signal: o?.signal }), [cts.length, take]),
    };
  }

  private runnerCrypto(
    job: JobRecord,
    dataset: Dataset,
    liuKey: LiuSecretKey | undefined,
    s: Settings,
    ckks?: { record: CkksKeyRecord; material: CkksMaterial },
  ): RunnerCrypto {
    const { engine, keys } = this.deps;
    const rounding = { round: s.LIU_ROUND, decimals: s.LIU_DECIMALS };
    const progress = (name: string) => (p: { done: number; total: number }) =>
      void this.update(job.id, (j) => ({ ...j, progress: { ...j.progress, [name]: p.total ? p.done / p.total : 1 } })).catch(() => undefined);
    const needLiu = (): LiuSecretKey => {
      if (!liuKey) throw new AppError('INTERNAL', 'this job has no Liu key');
      return liuKey;
    };
    return {
      ...(ckks ? { ckks: this.ckksProvider(job, ckks) } : {}),
      liuEncryptMatrix: async (m, o) => {
        const liuKey = needLiu();
        const out = await engine.liuEncrypt(liuKey, m.data, { signal: o?.signal, rounding, onProgress: progress('encrypt') });
        return matrix(out, [...m.shape, liuKey.m]);
      },
      liuDecryptTensor: async (t, o) => {
        const liuKey = needLiu();
        const out = await engine.liuDecrypt(liuKey, t.data, { signal: o?.signal, rounding });
        return matrix(out, t.shape.slice(0, -1));
      },
      fdhopeKeygen: async (values: Matrix, o) => {
        const key = await engine.fdhopeKeygen(values.data, { signal: o?.signal });
        // Kept per dataset so the same intervals encrypt the UDM and every shift of this job.
        const rec = await keys.add(
          {
            scheme: 'fdhope',
            label: `FDHOPE for ${dataset.record.name}`,
            origin: 'generated',
            params: { datasetId: dataset.record.id, intervals: key.messagespace.length },
          },
          { scheme: 'fdhope', key },
        );
        await keys.addUsage(rec.id, { kind: 'job', id: job.id, label: job.name });
        return Object.freeze({ key });
      },
      fdhopeEncrypt: async (ref, m, sens, o) => {
        const key = (ref as { key: FdhopeKey }).key;
        const out = await engine.fdhopeEncrypt(key, m.data, sens, { signal: o?.signal, onProgress: progress('fdhope') });
        return matrix(out, m.shape);
      },
    };
  }

  private requestApproval(jobId: string, req: ApprovalRequest): Promise<ApprovalDecision> {
    const id = `${req.round}-${req.objectKey}-${this.now()}`;
    const approval: ApprovalRecord = {
      id,
      round: req.round,
      objectKey: req.objectKey,
      shape: parseShapeText(req.shape),
      explanation: req.purpose,
      requestedAt: this.now(),
    };
    return new Promise<ApprovalDecision>((resolve, reject) => {
      const live = this.live.get(jobId);
      if (!live) return reject(new AppError('ABORTED', 'job not running'));
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

const PHASES = [
  'idle', 'encrypting', 'computingUdm', 'fdhopeKeygen', 'encryptingUdm', 'uploadingMatrix', 'uploadingUdm', 'gettingWorker', 'step1',
  'fetchingShift', 'awaitingApproval', 'decrypting', 'encryptingShift', 'uploadingShift', 'step2', 'verifying', 'done', 'failed',
  // Appended, so indices persisted in older job records keep their meaning.
  'uploadingInitsm', 'uploadingKeys',
] as const;

export function phaseName(index: number | undefined): string {
  return index === undefined ? '' : (PHASES[index] ?? '');
}

export function isTerminal(s: JobStatus): boolean {
  return TERMINAL.includes(s);
}

function parseShapeText(s: string): number[] {
  return s
    .replace(/[()[\]\s]/g, '')
    .split(',')
    .filter(Boolean)
    .map(Number);
}

export function validateParams(algorithm: Algorithm, p: JobParams, rows: number): void {
  const bad = (field: string, msg: string) => {
    throw new AppError('INVALID_ARGUMENT', `${field}: ${msg}`, { userMessage: `${field} ${msg}.`, details: { field } });
  };
  if (p.threshold !== undefined && p.threshold !== -1 && !(p.threshold >= 0 && Number.isFinite(p.threshold))) bad('Threshold', 'must be a non-negative number, or −1 for automatic');
  if (algorithm.endsWith('_PREDICT') && !p.testDatasetId) bad('Test dataset', 'must be chosen for a classification job');
  if (algorithm.includes('KMEANS')) {
    const k = p.k ?? 3;
    if (!Number.isInteger(k) || k < 2) bad('k', 'must be a whole number of at least 2');
    if (k > rows) bad('k', `must not exceed the number of records (${rows})`);
  }
  if (p.maxIterations !== undefined && (!Number.isInteger(p.maxIterations) || p.maxIterations < 1 || p.maxIterations > 1000)) {
    bad('Max iterations', 'must be a whole number between 1 and 1000');
  }
  if (p.tolerance !== undefined && !(p.tolerance >= 0 && Number.isFinite(p.tolerance))) bad('Tolerance', 'must be a non-negative number');
  if (p.sens !== undefined && !(p.sens >= 0 && p.sens < 1)) bad('Sens', 'must be a number in [0, 1)');
}

function defaultObjectStore(s: Settings, fetchImpl?: typeof fetch): ObjectStore {
  return new MictlanxClient({
    routers: routerEndpoints(s).map((r) => ({ id: r.id, host: r.host, port: r.port, protocol: r.protocol })),
    bucket: s.MICTLANX_BUCKET_ID,
    timeoutMs: s.MICTLANX_TIMEOUT * 1000,
    maxRetries: s.MICTLANX_MAX_RETRIES,
    producerId: s.NODE_ID,
    fetch: fetchImpl,
  });
}
