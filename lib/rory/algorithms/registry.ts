/**
 * @module rory/algorithms/registry
 * Every algorithm a job can run, one line each. The job controller, the jobs form, the leakage
 * panel, the headless service and tests read algorithms only from here; the worker side has its
 * own registry (`server/worker/algorithms/registry.ts`) and a test checks both agree.
 *
 * Also the leakage lookups by name: a job's whole profile (`jobLeakageProfile`, classification
 * jobs list both phases) and a wire algorithm's (`leakageProfile`, e.g. `SKNN_TRAIN`).
 */
import { AppError } from '../../errors';
import { acknowledgementKeysOf, acknowledgementOf, assertAcknowledgedFor, profile, type LeakageAcknowledgement, type LeakageProfile } from '../leakage';
import type { CkksKeyParams } from '../../keystore/types';
import type { Algorithm } from '../protocol';
import { dbskmeans } from './dbskmeans';
import { dbskmeansPqc } from './dbskmeans-pqc';
import { dbsnnc } from './dbsnnc';
import { dbsnncPqc } from './dbsnnc-pqc';
import { JOB_ALGORITHMS, type JobAlgorithm } from './ids';
import { kmeans } from './kmeans';
import { knn } from './knn';
import { nnc } from './nnc';
import { pkmeans } from './pkmeans';
import { skmeans } from './skmeans';
import { skmeansPqc } from './skmeans-pqc';
import { sknn } from './sknn';
import { sknnPqc } from './sknn-pqc';
import type { AlgorithmSpec } from './spec';

export const REGISTRY: Readonly<Record<JobAlgorithm, AlgorithmSpec>> = Object.freeze({
  PKMEANS: pkmeans,
  DBSKMEANS: dbskmeans,
  SKMEANS: skmeans,
  DBSKMEANS_PQC: dbskmeansPqc,
  SKMEANS_PQC: skmeansPqc,
  DBSNNC: dbsnnc,
  DBSNNC_PQC: dbsnncPqc,
  NNC: nnc,
  KMEANS: kmeans,
  SKNN_PREDICT: sknn,
  SKNN_PQC_PREDICT: sknnPqc,
  KNN_PREDICT: knn,
});

/** Specs in the order the jobs form lists them (recommended first). */
export function algorithms(): AlgorithmSpec[] {
  const all = JOB_ALGORITHMS.map((id) => REGISTRY[id]);
  return [...all.filter((a) => a.recommended), ...all.filter((a) => !a.recommended)];
}

export function algorithmSpec(id: string): AlgorithmSpec {
  const spec = (REGISTRY as Record<string, AlgorithmSpec | undefined>)[id];
  if (!spec) {
    throw new AppError('INVALID_ARGUMENT', `unknown algorithm ${id.slice(0, 40)}`, { userMessage: `This version cannot run the algorithm “${id.slice(0, 40)}”.` });
  }
  return spec;
}

/** Whether the algorithm needs a CKKS key set. */
export function needsCkks(id: JobAlgorithm): boolean {
  return REGISTRY[id].needs.ckks !== false;
}

/**
 * Whether a CKKS key set has every key a job of `id` on a `rows × cols` dataset needs:
 * relinearization keys when asked for, and Galois keys for the rotation steps of that shape
 * (an imported set that does not list its steps is given the benefit of the doubt; the runner checks).
 */
export function ckksKeyFits(id: JobAlgorithm, key: CkksKeyParams, shape: { rows: number; cols: number }): boolean {
  const need = REGISTRY[id].needs.ckks;
  if (!need) return false;
  if (need.relin && !key.hasRelinKeys) return false;
  const steps = need.galoisSteps?.({ ...shape, slots: key.polyModulusDegree / 2 }) ?? [];
  if (steps.length === 0) return true;
  if (!key.hasGaloisKeys) return false;
  return key.galoisSteps === undefined || steps.every((s) => key.galoisSteps!.includes(s));
}

/** Everything a job of `id` uploads (classification: both phases). */
export function jobLeakageProfile(id: JobAlgorithm): LeakageProfile {
  return profile(id, algorithmSpec(id).leakage);
}

/** What one wire algorithm uploads: a job algorithm, or one phase of a classification job (`SKNN_TRAIN`). */
export function leakageProfile(algorithm: Algorithm): LeakageProfile {
  for (const spec of Object.values(REGISTRY)) {
    const phase = spec.phases?.[algorithm];
    if (phase) return profile(algorithm, phase);
  }
  return jobLeakageProfile(algorithmSpec(algorithm).id);
}

/** The keys the user must acknowledge for a wire algorithm (empty when none). */
export function acknowledgementKeys(algorithm: Algorithm): string[] {
  return acknowledgementKeysOf(leakageProfile(algorithm));
}

/** The acknowledgement of a whole job. */
export function acknowledgeJob(id: JobAlgorithm, at?: Date): LeakageAcknowledgement {
  return acknowledgementOf(jobLeakageProfile(id), at);
}

/** The acknowledgement of one wire algorithm (the job-level one for non-classification jobs). */
export function acknowledge(algorithm: Algorithm, at?: Date): LeakageAcknowledgement {
  return acknowledgementOf(leakageProfile(algorithm), at);
}

export function assertAcknowledged(algorithm: Algorithm, ack: LeakageAcknowledgement | undefined): void {
  assertAcknowledgedFor(leakageProfile(algorithm), ack);
}

export function assertJobAcknowledged(id: JobAlgorithm, ack: LeakageAcknowledgement | undefined): void {
  assertAcknowledgedFor(jobLeakageProfile(id), ack);
}
