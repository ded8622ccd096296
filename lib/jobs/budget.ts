/**
 * @module jobs/budget
 * The size budget of a job (issue #13 item 3), shared by the jobs form (shown before "Create job")
 * and the job controller (which refuses at create and at start, so a job made before the budget was
 * lowered, or through another path, is refused too). The estimate is the algorithm's own
 * (`AlgorithmSpec.estimate`, rory/algorithms/size.ts); a clustering job beyond the budget is pointed
 * at private k-means, which is linear in the number of records.
 */
import type { Settings } from '../config';
import { algorithmSpec } from '../rory/algorithms/registry';
import { budgetError, checkBudget, DEFAULT_JOB_SIZE_BUDGET_MB, describeEstimate, type BudgetVerdict, type SizeInput } from '../rory/algorithms/size';
import type { JobParams } from '../rory/algorithms/spec';
import type { JobAlgorithm } from '../rory/algorithms/ids';

/** The algorithm named when an n² clustering job is too large (spec/private-kmeans.md; D7). */
export const LINEAR_ALTERNATIVE: JobAlgorithm = 'PKMEANS';

/** What the estimate of a job is made from. */
export function sizeInputOf(
  dataset: { readonly rows: number; readonly cols: number },
  params: JobParams,
  settings: Pick<Settings, 'MAX_ITERATIONS' | 'LIU_SECURITY_LEVEL'>,
  test?: { readonly rows: number },
): SizeInput {
  return {
    rows: dataset.rows,
    cols: dataset.cols,
    k: params.k ?? 3,
    maxIterations: params.maxIterations ?? settings.MAX_ITERATIONS,
    testRows: test?.rows,
    liuLevel: settings.LIU_SECURITY_LEVEL,
  };
}

export interface JobSize extends BudgetVerdict {
  /** One sentence for the form: the largest object, its formula and figure, and the total. */
  readonly summary: string;
}

/** The estimate of a job of `algorithm` on `input`, against a budget of `budgetMb` MB. */
export function jobSize(algorithm: JobAlgorithm, input: SizeInput, budget: number): JobSize {
  // A settings object from before the budget existed has none: the default applies.
  const budgetMb = Number.isFinite(budget) && budget > 0 ? budget : DEFAULT_JOB_SIZE_BUDGET_MB;
  const spec = algorithmSpec(algorithm);
  const estimate = spec.estimate(input);
  const alt = algorithmSpec(LINEAR_ALTERNATIVE);
  const altEstimate = alt.estimate(input);
  const offer = spec.kind === 'clustering' && spec.id !== alt.id && altEstimate.totalBytes <= budgetMb * 1e6;
  const verdict = checkBudget(estimate, input, budgetMb, offer ? { title: alt.title, estimate: altEstimate } : undefined);
  return { ...verdict, summary: describeEstimate(estimate, input) };
}

/**
 * The jobs form's figure before "Create job": undefined until the dataset and the settings are
 * known.
 */
export function formJobSize(
  algorithm: JobAlgorithm,
  dataset: { readonly rows: number; readonly cols: number } | undefined,
  params: JobParams,
  settings: Pick<Settings, 'MAX_ITERATIONS' | 'LIU_SECURITY_LEVEL' | 'JOB_SIZE_BUDGET_MB'> | undefined,
  test?: { readonly rows: number },
): JobSize | undefined {
  if (!dataset || !settings) return undefined;
  return jobSize(algorithm, sizeInputOf(dataset, params, settings, test), settings.JOB_SIZE_BUDGET_MB);
}

/** @throws AppError INVALID_ARGUMENT (`details.field` = 'size') when the job is beyond the budget. */
export function assertWithinBudget(algorithm: JobAlgorithm, input: SizeInput, budgetMb: number): JobSize {
  const v = jobSize(algorithm, input, budgetMb);
  if (!v.ok) throw budgetError(v);
  return v;
}
