/**
 * @module server/worker/kit
 * What every worker route needs (spec/protocol.md §3, §5.0, §11): reading Rory headers with
 * upstream's defaults and status codes (`HeaderParams`), replies with a one-line `Error-Message`,
 * float64 matrices from storage, and the services a route is created with.
 *
 * Every route is a function of a header reader that returns a `Reply`, so unit tests run routes
 * in-process and `index.ts` mounts them on HTTP. Routes are stateless between calls: all round
 * state is in storage under the spec keys. The worker never holds a secret key.
 */
import { AppError } from '@/lib/errors';
import { matrix, parsePythonShape, pythonShape, type Matrix } from '@/lib/data/matrix';
import type { NdArray, ObjectStore } from '@/lib/storage/types';
import { ClusteringStatus, H } from '@/lib/rory/protocol';
import type { FdhopeStep2Body } from '@/lib/rory/protocol';
import { MICTLANX_SAFE_ID } from '@/lib/rory/ids';
import { headerSafe, HttpError, json, type Reply } from '../common/http';
import type { CkksServices } from './ckks';

export type HeaderReader = (name: string) => string | undefined;
export type RouteHandler = (h: HeaderReader) => Promise<Reply>;

/** What a worker's routes share: its storage, its log and its CKKS evaluators and caches. */
export interface WorkerServices {
  readonly store: ObjectStore;
  readonly log: (line: string) => void;
  readonly ckks: CkksServices;
}

/** One algorithm's route on the worker (one folder under `algorithms/`). */
export interface WorkerRoute {
  /** The job algorithm (rory/algorithms/ids.ts) this route serves. */
  readonly algorithm: string;
  readonly path: string;
  create(services: WorkerServices): RouteHandler;
}

export const epochSeconds = (): number => Date.now() / 1000;

export function toMatrix(nd: NdArray, what: string): Matrix {
  if (nd.dtype !== 'float64' || !(nd.data instanceof Float64Array)) throw new HttpError(500, `${what} must be float64, got ${nd.dtype}`);
  return matrix(nd.data, nd.shape);
}

/** Reads a float64 matrix from storage (always the newest version: Force-Get). */
export async function getMatrix(store: ObjectStore, key: string, what: string): Promise<Matrix> {
  return toMatrix(await store.getNdarray(key, { force: true }), what);
}

/** Reads Rory headers with upstream's defaults and status codes. */
export class HeaderParams {
  constructor(private readonly h: HeaderReader) {}

  opt(name: string): string | undefined {
    const v = this.h(name);
    return v === undefined ? undefined : v.trim();
  }

  req(name: string, status: number): string {
    const v = this.opt(name);
    if (v === undefined || v === '') throw new HttpError(status, `missing header ${name}`);
    return v;
  }

  int(name: string, fallback: number | undefined, status: number, min = 0): number {
    const v = this.opt(name);
    if (v === undefined || v === '') {
      if (fallback === undefined) throw new HttpError(status, `missing header ${name}`);
      return fallback;
    }
    if (!/^[+-]?\d{1,9}$/.test(v) || Number(v) < min) throw new HttpError(status, `${name} must be an integer >= ${min}`);
    return Number(v);
  }

  shape(name: string, status: number, required = true): number[] | undefined {
    const v = this.opt(name);
    if (v === undefined || v === '') {
      if (required) throw new HttpError(status, `missing header ${name}`);
      return undefined;
    }
    try {
      return parsePythonShape(v);
    } catch {
      throw new HttpError(status, `${name} is not a shape literal`);
    }
  }

  id(name: string, status: number, fallback?: string): string {
    const v = this.opt(name) || fallback;
    if (v === undefined || v === '') throw new HttpError(status, `missing header ${name}`);
    if (!MICTLANX_SAFE_ID.test(v) || v.length > 200) throw new HttpError(400, `${name} is not a valid storage id`);
    return v;
  }

  /** A finite float header (thresholds). */
  float(name: string, status: number): number {
    const v = this.req(name, status);
    const t = Number(v);
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(v) || !Number.isFinite(t)) throw new HttpError(status, `${name} must be a finite number`);
    return t;
  }
}

/** `GET|POST /clustering/test` and `/classification/test` (spec/protocol.md §5.0). */
export function testReply(): Reply {
  return json(200, { component_type: 'worker' }, { [H.COMPONENT_TYPE]: 'worker' });
}

/** An error as upstream answers it: the status, a one-line `Error-Message` and the same text as body. */
export function errorReply(e: unknown, fallbackStatus: number): Reply {
  const status = e instanceof HttpError ? e.status : fallbackStatus;
  let message = e instanceof Error ? e.message : String(e);
  if (e instanceof AppError && e.code === 'STORAGE_NOT_FOUND') message = `object not found: ${message}`;
  const safe = headerSafe(message);
  return { status, headers: { [H.ERROR_MESSAGE]: safe }, body: safe };
}

/**
 * Runs a route body; failures become `errorReply(e, status)` (upstream answers 500 for step 1 and
 * 503 for step 2 and most one-shot routes).
 */
export async function guardedReply(status: number, body: () => Promise<Reply>): Promise<Reply> {
  try {
    return await body();
  } catch (e) {
    return errorReply(e, status);
  }
}

/** A route handler whose body reads its headers through `HeaderParams`, guarded as `guardedReply(status, …)`. */
export function guardedRoute(status: number, body: (hh: HeaderParams) => Promise<Reply>): RouteHandler {
  return (h) => guardedReply(status, () => body(new HeaderParams(h)));
}

/**
 * A two-step route as upstream answers it: `Step-Index` (default 1) picks the step; a failure in
 * step 1 answers 500, in step 2 503; any other step index gets `other()`.
 */
export function twoStepRoute(step1: (hh: HeaderParams) => Promise<Reply>, step2: (hh: HeaderParams) => Promise<Reply>, other: () => Reply): RouteHandler {
  return async (h) => {
    const hh = new HeaderParams(h);
    const step = hh.opt(H.STEP_INDEX) ?? '1';
    if (step === '1') return guardedReply(500, () => step1(hh));
    if (step === '2') return guardedReply(503, () => step2(hh));
    return other();
  };
}

/** DBSKMeans(-PQC) step 2 after updating the FDHOPE UDM: 200 JSON + headers, WORK_IN_PROGRESS. */
export function fdhopeStep2Reply(udmShape: readonly number[], udmDtype: string, endTime: number, serviceTime: number): Reply {
  const body: FdhopeStep2Body = { end_time: endTime, service_time: serviceTime, encrypted_udm_shape: pythonShape(udmShape), encrypted_udm_dtype: udmDtype };
  return json(200, body, {
    [H.CLUSTERING_STATUS]: String(ClusteringStatus.WORK_IN_PROGRESS),
    [H.ENCRYPTED_UDM_DTYPE]: udmDtype,
    [H.ENCRYPTED_UDM_SHAPE]: pythonShape(udmShape),
    [H.END_TIME]: String(endTime),
    [H.SERVICE_TIME]: String(serviceTime),
  });
}

/** A reply carrying labels (NNC family, KNN, SKNN step 2). */
export function labelsReply(labels: ArrayLike<number>, started: number, extra: { iterations?: number } = {}): Reply {
  const serviceTime = epochSeconds() - started;
  return json(
    200,
    { label_vector: Array.from(labels), ...(extra.iterations !== undefined ? { iterations: extra.iterations } : {}), service_time: serviceTime },
    {
      [H.START_TIME]: String(started),
      [H.SERVICE_TIME]: String(serviceTime),
      ...(extra.iterations !== undefined ? { [H.ITERATIONS]: String(extra.iterations) } : {}),
    },
  );
}
