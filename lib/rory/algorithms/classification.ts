/**
 * @module rory/algorithms/classification
 * What the classification runners share (spec/protocol.md §1.2, §5.8–5.10): the job shape (a
 * labelled training set = the model `{M}`, and the records to classify `{R}`), id derivation from
 * the job's storage id, the checks both sets must pass, and the labels row `{M}labels` (1, n).
 */
import { AppError } from '../../errors';
import { matrix, pythonShape, type Matrix } from '../../data/matrix';
import type { KeyId } from '../../engine/types';
import { assertMatrixId } from '../ids';
import type { RunContext, Steps } from '../kit';
import { assertAcknowledgedFor, profile, type LeakageAcknowledgement, type LeakItem } from '../leakage';
import { H, keys, type Algorithm } from '../protocol';
import { WORKER_TIMEOUT_MS } from '../worker-client';
import { validateClassification, type AlgorithmSpec, type AlgorithmText } from './spec';

export interface ClassifyJob {
  readonly jobId: string;
  /** Job storage id; the model is `{id}model`, the test records `{id}test`. */
  readonly storageId: string;
  readonly model: Matrix;
  readonly modelLabels: ArrayLike<number>;
  readonly test: Matrix;
  readonly keys?: { readonly liu?: KeyId; readonly ckks?: KeyId };
  readonly numChunks?: number;
  readonly acknowledgement?: LeakageAcknowledgement;
  readonly workerTimeoutMs?: number;
}

export interface ClassifyResult {
  readonly labels: Int32Array;
  /** SKNN: the nearest model record of each test record (what the worker learned). */
  readonly indices?: Int32Array;
  readonly workerId: string;
  readonly timings: Readonly<Record<string, number>>;
  readonly totalMs: number;
}

/** Checks the sets and derives `{M}`, `{R}` and the sizes. */
export function classifySetup(job: ClassifyJob): { modelId: string; testId: string; n: number; a: number; t: number; labelsRow: Matrix; allowed: ReadonlySet<number> } {
  const modelId = keys.modelId(job.storageId);
  const testId = keys.testId(job.storageId);
  assertMatrixId(modelId);
  assertMatrixId(testId);
  const [n, a] = job.model.shape;
  const [t, a2] = job.test.shape;
  if (a !== a2) {
    throw new AppError('SHAPE_MISMATCH', 'model and test attributes differ', { userMessage: `The training set has ${a} attributes but the test set has ${a2}. Pick datasets with the same columns.` });
  }
  if (job.modelLabels.length !== n) {
    throw new AppError('SHAPE_MISMATCH', 'model labels', { userMessage: 'The training set needs one label per record (attach a labels file on the Datasets page).' });
  }
  const labelsRow = matrix(Float64Array.from(job.modelLabels, Number), [1, n]);
  return { modelId, testId, n, a, t, labelsRow, allowed: new Set(Array.from(job.modelLabels, Number)) };
}

type ClassifyAlgorithm = 'KNN_PREDICT' | 'SKNN_PREDICT' | 'SKNN_PQC_PREDICT';

/**
 * What every classification runner starts with: both phases acknowledged (D3, `leakage` = train
 * then predict items), the sets checked (`classifySetup`), the job's chunk count and worker timeout.
 * @throws AppError ACK_REQUIRED, SHAPE_MISMATCH
 */
export function startClassify(job: ClassifyJob, algorithm: ClassifyAlgorithm, leakage: readonly LeakItem[]) {
  assertAcknowledgedFor(profile(algorithm, leakage), job.acknowledgement);
  return { ...classifySetup(job), numChunks: job.numChunks ?? 4, timeoutMs: job.workerTimeoutMs ?? WORKER_TIMEOUT_MS };
}

/**
 * Step-1 headers of SKNN and SKNN-PQC: the two sets, their encrypted shapes and dtype, and the
 * chunk count (spec/protocol.md §5.9; docs/protocol-additions.md §4).
 */
export function encryptedSetsHeaders(modelId: string, testId: string, modelShape: readonly number[], testShape: readonly number[], dtype: string, numChunks: number): Record<string, string> {
  return {
    [H.MODEL_ID]: modelId,
    [H.RECORDS_TEST_ID]: testId,
    [H.ENCRYPTED_MODEL_SHAPE]: pythonShape(modelShape),
    [H.ENCRYPTED_MODEL_DTYPE]: dtype,
    [H.ENCRYPTED_RECORDS_SHAPE]: pythonShape(testShape),
    [H.ENCRYPTED_RECORDS_DTYPE]: dtype,
    [H.NUM_CHUNKS]: String(numChunks),
  };
}

/**
 * Asks the user before the t×n step-1 distances `objectKey` are decrypted: the index of each test
 * record's nearest training record then goes to the worker in plaintext.
 * @throws AppError APPROVAL_DENIED
 */
export async function approveDistances(ctx: Pick<RunContext, 'approve'>, jobId: string, algorithm: 'SKNN_PREDICT' | 'SKNN_PQC_PREDICT', objectKey: string, t: number, n: number, what: 'distances' | 'squared distances'): Promise<void> {
  const decision = await ctx.approve({
    jobId,
    algorithm,
    round: 1,
    objectKey,
    shape: [t, n],
    purpose: `The encrypted ${what} between your ${t} test records and ${n} training records are decrypted here; the index of the nearest training record of each test record is then sent to the worker in plaintext, so it learns which training record each test record resembles most.`,
  });
  if (decision === 'deny') throw new AppError('APPROVAL_DENIED', 'decryption denied', { userMessage: 'You denied the decryption of the distances; the job stopped and nothing more was sent.' });
}

/** Uploads `distancesindex{R}`: each test record's nearest model record, int64 with `shape` and the `fullShape` tag the worker expects. */
export function putNearestIndices(ctx: Pick<RunContext, 'store' | 'signal'>, steps: Pick<Steps, 'timed'>, testId: string, indices: Int32Array, shape: readonly [number, number], fullShape: readonly number[], numChunks: number): Promise<void> {
  const key = keys.distancesIndex(testId);
  return steps.timed(
    'PUT',
    () => ctx.store.putNdarray(key, { dtype: 'int64', shape: [...shape], data: BigInt64Array.from(indices, (v) => BigInt(v)) }, { numChunks, tags: { full_shape: pythonShape(fullShape), full_dtype: 'int64' }, signal: ctx.signal }),
    { key },
  );
}

/** Argmin per row of a t×n distance table (ties → lowest index): the nearest model record of each test record. */
/** The first j in [0, n) with the smallest f(j) among those `keep` accepts (−1 when none). */
function argminWhere(n: number, f: (j: number) => number, keep: (j: number) => boolean = () => true): number {
  let best = -1;
  let bestD = Infinity;
  for (let j = 0; j < n; j++) {
    if (!keep(j)) continue;
    const d = f(j);
    if (best < 0 || d < bestD) {
      bestD = d;
      best = j;
    }
  }
  return best;
}

/**
 * Per row, the argmin of the decrypted distances `approx` — except where another entry lies within
 * `relAmbiguity`·max(1, |min|) of the minimum (decryption error could swap them): there the
 * browser's own `exact` distances decide, first minimum on ties. Exact labels, same wire output.
 */
export function argminRowsResolved(
  approx: (i: number, j: number) => number,
  exact: (i: number, j: number) => number,
  t: number,
  n: number,
  relAmbiguity: number,
): Int32Array {
  const out = argminRows(approx, t, n);
  for (let i = 0; i < t; i++) {
    const min = approx(i, out[i]);
    const band = relAmbiguity * Math.max(1, Math.abs(min));
    const near = (j: number) => approx(i, j) - min <= band;
    let close = 0;
    for (let j = 0; j < n && close < 2; j++) if (near(j)) close++;
    if (close >= 2) out[i] = argminWhere(n, (j) => exact(i, j), near);
  }
  return out;
}

/** Per row i of a t×n distance function, the first column with the smallest distance. */
export function argminRows(dist: (i: number, j: number) => number, t: number, n: number): Int32Array {
  const out = new Int32Array(t);
  for (let i = 0; i < t; i++) out[i] = argminWhere(n, (j) => dist(i, j));
  return out;
}

/** Storage keys a classification job writes. */
export function classifyObjectKeys(storageId: string, encrypted: boolean): string[] {
  const m = keys.modelId(storageId);
  const r = keys.testId(storageId);
  return encrypted
    ? [keys.modelLabels(m), keys.encryptedMatrix(m), keys.encryptedMatrix(r), keys.distances(r), keys.distancesIndex(r)]
    : [m, keys.modelLabels(m), r];
}

/**
 * The `AlgorithmSpec` fields every classification algorithm shares; `run` maps a job input to the
 * runner. Whether the sets travel encrypted (and so which objects a job writes) follows from the
 * keys it needs.
 */
export function classificationSpec(
  id: ClassifyAlgorithm,
  s: AlgorithmText &
    Pick<AlgorithmSpec, 'needs' | 'estimate'> & {
      readonly train: readonly LeakItem[];
      readonly predict: readonly LeakItem[];
      readonly trainWire: Algorithm;
      readonly path: string;
      /** Loads the runner on first use (the page's form only needs the metadata). */
      readonly runner: () => Promise<(job: ClassifyJob, ctx: RunContext) => Promise<ClassifyResult>>;
    },
): AlgorithmSpec {
  const encrypted = s.needs.liu || s.needs.ckks !== false;
  const spec: AlgorithmSpec = {
    id,
    wire: id,
    kind: 'classification',
    title: s.title,
    summary: s.summary,
    workerLearns: s.workerLearns,
    needs: s.needs,
    leakage: [...s.train, ...s.predict],
    phases: { [s.trainWire]: s.train, [id]: s.predict },
    fields: ['testDataset'] as const,
    validate: validateClassification,
    routes: [s.path],
    objectKeys: (storageId: string) => classifyObjectKeys(storageId, encrypted),
    estimate: s.estimate,
    async run(input, ctx) {
      if (!input.labels) {
        throw new AppError('INVALID_ARGUMENT', 'training set without labels', { userMessage: 'The training dataset has no labels. Attach a labels file on the Datasets page.' });
      }
      if (!input.test) throw new AppError('INVALID_ARGUMENT', 'no test set', { userMessage: 'Pick the dataset to classify (Test dataset).' });
      const runner = await s.runner();
      const r = await runner(
        {
          jobId: input.jobId,
          storageId: input.storageId,
          model: input.data,
          modelLabels: input.labels,
          test: input.test,
          keys: input.keys,
          numChunks: input.numChunks,
          acknowledgement: input.acknowledgement,
          workerTimeoutMs: input.workerTimeoutMs,
        },
        ctx,
      );
      return { labels: r.labels, workerId: r.workerId, timings: r.timings, totalMs: r.totalMs };
    },
  };
  return Object.freeze(spec);
}
