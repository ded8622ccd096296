/**
 * @module rory/algorithms/classification
 * What the classification runners share (spec/protocol.md §1.2, §5.8–5.10): the job shape (a
 * labelled training set = the model `{M}`, and the records to classify `{R}`), id derivation from
 * the job's storage id, the checks both sets must pass, and the labels row `{M}labels` (1, n).
 */
import { AppError } from '../../errors';
import { matrix, type Matrix } from '../../data/matrix';
import type { KeyId } from '../../engine/types';
import { assertMatrixId } from '../ids';
import type { RunContext } from '../kit';
import type { LeakageAcknowledgement, LeakItem } from '../leakage';
import { keys, type Algorithm } from '../protocol';
import { validateClassification, type AlgorithmSpec, type FamilyMember } from './spec';

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

/** The `AlgorithmSpec` fields every classification algorithm shares; `run` maps a job input to the runner. */
export function classificationSpec(
  s: FamilyMember<'KNN_PREDICT' | 'SKNN_PREDICT' | 'SKNN_PQC_PREDICT'> & {
  readonly train: readonly LeakItem[];
  readonly predict: readonly LeakItem[];
  readonly trainWire: Algorithm;
  readonly path: string;
  readonly encrypted: boolean;
  /** Loads the runner on first use (the page's form only needs the metadata). */
  readonly runner: () => Promise<(job: ClassifyJob, ctx: RunContext) => Promise<ClassifyResult>>;
}): AlgorithmSpec {
  const spec: AlgorithmSpec = {
    id: s.id,
    wire: s.id,
    kind: 'classification',
    title: s.title,
    summary: s.summary,
    workerLearns: s.workerLearns,
    needs: s.needs,
    leakage: [...s.train, ...s.predict],
    phases: { [s.trainWire]: s.train, [s.id]: s.predict },
    fields: ['testDataset'] as const,
    validate: validateClassification,
    routes: [s.path],
    objectKeys: (id: string) => classifyObjectKeys(id, s.encrypted),
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
