/**
 * @module rory/algorithms/spec
 * What an algorithm is, as the rest of the app sees it: one `AlgorithmSpec` per folder in this
 * directory, listed in `registry.ts`. The job controller, the jobs form, the leakage panel, the
 * headless service and the registry test read only this; adding an algorithm is one folder here,
 * one on the worker side (`server/worker/algorithms/`) and one registry line on each side.
 */
import { AppError } from '../../errors';
import type { Matrix } from '../../data/matrix';
import type { KeyId } from '../../engine/types';
import type { UsageRef } from '../../keystore/types';
import type { RunContext } from '../kit';
import type { LeakageAcknowledgement, LeakItem } from '../leakage';
import type { Algorithm } from '../protocol';
import type { JobAlgorithm } from './ids';
import type { SizeEstimate, SizeInput } from './size';

/** Parameters of a job as the user sets them (absent → the algorithm's default, D6). */
export interface JobParams {
  readonly k?: number;
  readonly maxIterations?: number;
  readonly sens?: number;
  readonly tolerance?: number;
  readonly threshold?: number;
  /** Classification: the test dataset (the job's dataset is the model / training set). */
  readonly testDatasetId?: string;
  /** PQC jobs: the CKKS key set (default: the newest that fits, or a new one). */
  readonly ckksKeyId?: string;
  /** Liu jobs: the Liu key (default: a new key for this job). */
  readonly liuKeyId?: string;
}

/** A field of the jobs form. */
export type ParamField = 'k' | 'maxIterations' | 'tolerance' | 'sens' | 'threshold' | 'testDataset';

/** The keys an algorithm needs (the controller creates or picks them before the run). */
export interface AlgorithmNeeds {
  readonly liu: boolean;
  /** A per-job FDHOPE key is created by the runner itself. */
  readonly fdhope: boolean;
  /** A CKKS key set, with relinearization keys and/or Galois keys for given rotation steps. */
  readonly ckks: false | { readonly relin: boolean; readonly galoisSteps?: (shape: { rows: number; cols: number; slots: number }) => readonly number[] };
}

/** What the jobs form and the controller know when validating parameters. */
export interface ValidationContext {
  readonly rows: number;
  readonly cols: number;
  readonly hasLabels: boolean;
  readonly test?: { readonly rows: number; readonly cols: number; readonly hasLabels: boolean };
}

/** Everything a run needs that the controller (or the CLI) prepares. */
export interface JobInput {
  readonly jobId: string;
  /** Storage id `P` (or the root of `{M}`/`{R}` for classification). */
  readonly storageId: string;
  readonly datasetId?: string;
  readonly datasetName?: string;
  /** The dataset to cluster, or the training set. */
  readonly data: Matrix;
  /** Integer class labels of `data` (classification: required). */
  readonly labels?: ArrayLike<number>;
  /** Classification: the records to classify. */
  readonly test?: Matrix;
  readonly params: JobParams;
  readonly keys: { readonly liu?: KeyId; readonly ckks?: KeyId };
  readonly acknowledgement?: LeakageAcknowledgement;
  readonly numChunks: number;
  readonly maxIterations: number;
  readonly workerTimeoutMs: number;
  /** Who uses keys the run creates (the FDHOPE key), for the key store's usage records. */
  readonly usedBy?: readonly UsageRef[];
}

/** The words the jobs form and the leakage panel show for an algorithm. */
export type AlgorithmText = Pick<AlgorithmSpec, 'title' | 'summary' | 'workerLearns'>;

/** Runner fields every job maps the same way from its input. */
export function runnerBase(input: JobInput) {
  return { jobId: input.jobId, matrixId: input.storageId, data: input.data, keys: input.keys, numChunks: input.numChunks, workerTimeoutMs: input.workerTimeoutMs };
}

/** The FDHOPE key a job creates: named after its dataset and job, with the job as its user. */
export function fdhopeKeyMeta(input: JobInput) {
  return { label: `FDHOPE for ${input.datasetName ?? 'a dataset'} (job ${input.jobId})`, datasetId: input.datasetId, usedBy: input.usedBy };
}

/** The outcome of a verified clustering run (labels, rounds, centroids and the D8 check, explained). */
export function verifiedClusteringOutcome(
  r: {
    readonly labels: Int32Array;
    readonly iterations: number;
    readonly converged: boolean;
    readonly centroids: Matrix;
    readonly verification: { readonly ok: boolean; readonly maxError: number; readonly tolerance: number };
    readonly timings: Readonly<Record<string, number>>;
    readonly totalMs: number;
  },
  k: number,
  workerId: string | undefined,
  detail: string,
): JobOutcome {
  return {
    labels: r.labels,
    iterations: r.iterations,
    converged: r.converged,
    centroids: r.centroids,
    verification: { ...r.verification, detail },
    clusters: k,
    workerId,
    timings: r.timings,
    totalMs: r.totalMs,
  };
}

/** What a run produces; the controller adds metrics and stores it. */
export interface JobOutcome {
  readonly labels: Int32Array;
  readonly iterations?: number;
  readonly converged?: boolean;
  readonly centroids?: Matrix;
  readonly verification?: { readonly ok: boolean; readonly maxError: number; readonly tolerance: number; readonly detail?: string };
  readonly maxShiftPerRound?: readonly number[];
  /** NNC family: the distance threshold used. */
  readonly threshold?: number;
  /** Number of clusters found (NNC family) or asked for (k-means family). */
  readonly clusters?: number;
  readonly workerId?: string;
  readonly timings: Readonly<Record<string, number>>;
  readonly totalMs: number;
}

export interface AlgorithmSpec {
  readonly id: JobAlgorithm;
  /** The Manager's `Algorithm` header value (spec/protocol.md §4.1). */
  readonly wire: Algorithm;
  readonly kind: 'clustering' | 'classification';
  readonly title: string;
  /** One paragraph for the jobs form: what it does, how exact it is, what it leaks. */
  readonly summary: string;
  /** Plain words: what the worker (and storage) learns from an honest run, and what a lying worker can still do. */
  readonly workerLearns: string;
  /** Shown first and selected by default in the jobs form (D7). */
  readonly recommended?: boolean;
  readonly needs: AlgorithmNeeds;
  /** Every item the job uploads (classification: both phases). */
  readonly leakage: readonly LeakItem[];
  /** Per-phase items of a classification job (train, predict), for the wire-level profiles. */
  readonly phases?: Readonly<Partial<Record<Algorithm, readonly LeakItem[]>>>;
  /** The jobs form fields this algorithm uses. */
  readonly fields: readonly ParamField[];
  /** @throws AppError INVALID_ARGUMENT with `details.field` */
  validate(params: JobParams, ctx: ValidationContext): void;
  run(input: JobInput, ctx: RunContext): Promise<JobOutcome>;
  /** The worker routes a run calls (the registry test checks the local worker serves them). */
  readonly routes: readonly string[];
  /** Every storage key a job writes (client and worker side), for "delete this job's objects". */
  objectKeys(storageId: string): string[];
  /** What a job builds, uploads and downloads, from the dataset's shape and the parameters (`./size.ts`). */
  estimate(input: SizeInput): SizeEstimate;
}

// ---- Shared parameter validation ------------------------------------------------------------------

function bad(field: string, msg: string): never {
  throw new AppError('INVALID_ARGUMENT', `${field}: ${msg}`, { userMessage: `${field} ${msg}.`, details: { field } });
}

export function validateK(p: JobParams, ctx: ValidationContext): void {
  const k = p.k ?? 3;
  if (!Number.isInteger(k) || k < 2) bad('k', 'must be a whole number of at least 2');
  if (k > ctx.rows) bad('k', `must not exceed the number of records (${ctx.rows})`);
}

export function validateIterations(p: JobParams): void {
  if (p.maxIterations !== undefined && (!Number.isInteger(p.maxIterations) || p.maxIterations < 1 || p.maxIterations > 1000)) {
    bad('Max iterations', 'must be a whole number between 1 and 1000');
  }
  if (p.tolerance !== undefined && !(p.tolerance >= 0 && Number.isFinite(p.tolerance))) bad('Tolerance', 'must be a non-negative number');
}

export function validateSens(p: JobParams): void {
  if (p.sens !== undefined && !(p.sens >= 0 && p.sens < 1)) bad('Sens', 'must be a number in [0, 1)');
}

export function validateThreshold(p: JobParams): void {
  if (p.threshold !== undefined && p.threshold !== -1 && !(p.threshold >= 0 && Number.isFinite(p.threshold))) {
    bad('Threshold', 'must be a non-negative number, or −1 for automatic');
  }
}

export function validateClassification(p: JobParams, ctx: ValidationContext): void {
  if (!p.testDatasetId) bad('Test dataset', 'must be chosen for a classification job');
  if (ctx.test && ctx.test.cols !== ctx.cols) bad('Test dataset', `must have the same ${ctx.cols} columns as the training set (it has ${ctx.test.cols})`);
}

/** Validators of the k-means family. */
export function validateKmeans(p: JobParams, ctx: ValidationContext): void {
  validateK(p, ctx);
  validateIterations(p);
  validateSens(p);
}

/** Validators of the NNC family. */
export function validateNnc(p: JobParams): void {
  validateThreshold(p);
  validateSens(p);
}
