/**
 * @module jobs/ckks-fit
 * Whether a CKKS key set has the evaluation keys an algorithm needs on a dataset of a given shape
 * (relinearization keys; the rotation steps of its packing, which depend on rows and columns:
 * private k-means, spec/private-kmeans.md). Shared by the jobs form, which offers only the sets that
 * fit, and the job controller, which refuses a chosen set that does not. Pure.
 */
import { CKKS_DEFAULT_PARAMS } from '../crypto/ckks/params';
import type { CkksKeyRecord } from '../keystore/types';
import type { AlgorithmSpec } from '../rory/algorithms/spec';

/** Rotation steps `spec` needs on a rows × cols dataset with the default parameter set ([] for none). */
export function ckksStepsFor(spec: AlgorithmSpec, shape: { readonly rows: number; readonly cols: number }): readonly number[] {
  const need = spec.needs.ckks;
  if (!need) return [];
  const slots = CKKS_DEFAULT_PARAMS.polyModulusDegree / 2;
  return need.galoisSteps?.({ rows: shape.rows, cols: shape.cols, slots }) ?? [];
}

/** Whether `key` has every evaluation key `spec` needs on a rows × cols dataset. */
export function ckksKeyFits(spec: AlgorithmSpec, key: CkksKeyRecord, shape: { readonly rows: number; readonly cols: number }): boolean {
  const need = spec.needs.ckks;
  if (!need) return true;
  if (need.relin && !key.params.hasRelinKeys) return false;
  const steps = ckksStepsFor(spec, shape);
  return steps.every((x) => key.params.galoisSteps?.includes(x));
}
