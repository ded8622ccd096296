/**
 * @module rory/kit
 * What every algorithm runner needs, written once (style.md "Layout"): the run context (storage,
 * manager and worker clients, the crypto engine, the user's approvals, events, progress, abort),
 * timed steps that log upstream event names (LOCAL.READ, SEGMENT.ENCRYPT, PUT, GET.WORKER, RUN1,
 * DECRYPT, …), the decryption guards, label parsing, and the algorithm-neutral approval request.
 *
 * Decryption guards (D8, no decryption oracle): a runner decrypts only the object the protocol
 * expects for this job and round, with the expected shape and form; anything else is refused with
 * DECRYPTION_REFUSED and logged as DECRYPTION.REFUSED before anything is decrypted.
 */
import { AppError, ProtocolError, toAppError } from '../errors';
import { pythonShape, size, type Matrix } from '../data/matrix';
import { hasSealMagic, parseSealHeader } from '../crypto/ckks';
import type { CryptoEngine } from '../engine/types';
import { fromMatrix } from '../storage/ndarray';
import type { NdArray, ObjectStore, TransferProgress } from '../storage/types';
import type { JobAlgorithm } from './algorithms/ids';
import type { ManagerClient, WorkerAssignment } from './manager-client';
import { FLOAT64, LabelsReply, parseReply, sameShape } from './protocol';
import type { WorkerClient, WorkerReply } from './worker-client';

export interface JobLogEvent {
  readonly name: string;
  /** Epoch milliseconds when the event ended. */
  readonly at: number;
  readonly durationMs?: number;
  /** 0-based round. */
  readonly round?: number;
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

export interface JobProgress {
  /** Machine phase (interactive algorithms) or step name. */
  readonly phase: string;
  /** 1-based current round (0 before the first). */
  readonly round: number;
  readonly maxIterations?: number;
  readonly transfer?: TransferProgress;
  /** Share of the current crypto step done, 0..1 (encryption of the dataset, FDHOPE of a matrix). */
  readonly crypto?: { readonly what: string; readonly done: number; readonly total: number };
}

/** What the user is asked before a decryption whose result (or something derived from it) leaves the browser. */
export interface ApprovalRequest {
  readonly jobId: string;
  readonly algorithm: JobAlgorithm;
  /** 1-based round number, as shown to the user. */
  readonly round: number;
  readonly objectKey: string;
  /** Shape of the values that will be decrypted, e.g. [3, 4]. */
  readonly shape: readonly number[];
  /** Plain words: what the worker learns from the answer. */
  readonly purpose: string;
}

export type ApprovalDecision = 'approve' | 'deny' | 'approve-all';

/** Everything a runner performs its effects with (all injected: Node tests use the real local cloud). */
export interface RunContext {
  readonly store: ObjectStore;
  readonly manager: Pick<ManagerClient, 'getWorker'>;
  readonly workerFor: (assignment: WorkerAssignment) => WorkerClient;
  readonly engine: CryptoEngine;
  /** Asked before each decryption that releases something; 'approve-all' covers the rest of the job. */
  readonly approve: (request: ApprovalRequest) => Promise<ApprovalDecision>;
  readonly onEvent?: (e: JobLogEvent) => void;
  readonly onProgress?: (p: JobProgress) => void;
  readonly signal?: AbortSignal;
}

/** Settings every job reads (D6 defaults come from the settings). */
export interface JobSettings {
  readonly numChunks: number;
  readonly workerTimeoutMs: number;
}

export const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export function aborted(): AppError {
  return new AppError('ABORTED', 'job aborted', { userMessage: 'The job was cancelled.' });
}

/** Throws ABORTED when `signal` has fired. */
export function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw aborted();
}

type Detail = Record<string, string | number | boolean>;

/** Timed, logged steps of one job run. `timings` sums milliseconds per event name. */
export interface Steps {
  readonly timings: Record<string, number>;
  readonly startedAt: number;
  /** Runs `f`, then logs `name` with its duration; `detail` may depend on the result. */
  timed<T>(name: string, f: () => Promise<T> | T, detail?: Detail | ((r: T) => Detail), round?: number): Promise<T>;
  /** Logs an event (with a duration when `since` is given). */
  emit(name: string, extra?: { since?: number; round?: number; detail?: Detail }): void;
  /** Milliseconds since the run started. */
  elapsed(): number;
}

export function createSteps(ctx: Pick<RunContext, 'onEvent' | 'signal'>): Steps {
  const timings: Record<string, number> = {};
  const startedAt = now();
  const emit: Steps['emit'] = (name, extra = {}) => {
    const durationMs = extra.since === undefined ? undefined : now() - extra.since;
    if (durationMs !== undefined) timings[name] = (timings[name] ?? 0) + durationMs;
    ctx.onEvent?.({ name, at: Date.now(), durationMs, round: extra.round, detail: extra.detail });
  };
  return {
    timings,
    startedAt,
    async timed(name, f, detail, round) {
      checkAborted(ctx.signal);
      const t = now();
      const r = await f();
      emit(name, { since: t, round, detail: typeof detail === 'function' ? detail(r) : detail });
      return r;
    },
    emit,
    elapsed: () => now() - startedAt,
  };
}

/**
 * Runs a job body with the common error handling: once the caller aborted, whatever failed failed
 * because of it (ABORTED); anything else becomes an AppError; FAILED is logged with its code.
 */
export async function runJob<T>(ctx: Pick<RunContext, 'onEvent' | 'signal'>, steps: Steps, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (e) {
    const err = ctx.signal?.aborted
      ? e instanceof AppError && e.code === 'ABORTED'
        ? e
        : new AppError('ABORTED', 'job aborted', { userMessage: 'The job was cancelled.', cause: e })
      : toAppError(e);
    steps.emit('FAILED', { detail: { code: err.code } });
    throw err;
  }
}

/** The error a guard raises: nothing is decrypted, the job stops. Logged as DECRYPTION.REFUSED. */
export function refuseDecryption(steps: Pick<Steps, 'emit'> | undefined, key: string, why: string, round?: number): AppError {
  steps?.emit('DECRYPTION.REFUSED', { round, detail: { key, why } });
  return new ProtocolError('DECRYPTION_REFUSED', `refusing to decrypt ${key}: ${why}`, {
    round,
    userMessage: `The cloud returned an object that is not what this job expects (${why}). The job was stopped; nothing derived from it was sent.`,
  });
}

/** The error a D8 verification raises: a decrypted value differs from what the browser recomputes (logged DECRYPTION.REFUSED, stage verification). */
export function verificationFailed(steps: Pick<Steps, 'emit'> | undefined, key: string, why: string, round?: number): AppError {
  steps?.emit('DECRYPTION.REFUSED', { round, detail: { key, why, stage: 'verification' } });
  return new ProtocolError('DECRYPTION_REFUSED', `${key} failed verification: ${why}`, {
    round,
    userMessage: `The worker's answer for ${round === undefined ? 'this job' : `round ${round + 1}`} does not match what your own data says it must be (${why}). The job was stopped and nothing derived from it was sent.`,
  });
}

/** Largest serialized CKKS ciphertext a guard accepts (a fresh one is ~0.4 MB at N = 8192; 16 MB covers N = 32768 uncompressed). */
export const MAX_CIPHERTEXT_BYTES = 16 * 1024 * 1024;

/** Whether every item looks like one serialized SEAL ciphertext (header, size); loading in the context is checked when decrypting. */
export function looksLikeCiphertexts(items: readonly Uint8Array[]): boolean {
  for (const b of items) {
    if (!(b instanceof Uint8Array) || b.length > MAX_CIPHERTEXT_BYTES || !hasSealMagic(b)) return false;
    try {
      parseSealHeader(b, 'ciphertext');
    } catch {
      return false;
    }
  }
  return true;
}

export function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (v > m || Number.isNaN(v)) m = v;
  }
  return m;
}

/**
 * The Liu/E1 decryption guard: `nd` must be float64 with `shape` and finite values, else the
 * decryption is refused.
 */
export function guardFloat64(steps: Pick<Steps, 'emit'> | undefined, nd: NdArray, key: string, shape: readonly number[], round?: number): Matrix {
  if (nd.dtype !== 'float64' || !(nd.data instanceof Float64Array)) throw refuseDecryption(steps, key, `dtype ${nd.dtype} instead of float64`, round);
  if (!sameShape(nd.shape, shape)) throw refuseDecryption(steps, key, `shape ${pythonShape(nd.shape)} instead of ${pythonShape(shape)}`, round);
  if (nd.data.length !== size(shape)) throw refuseDecryption(steps, key, 'its size does not match its shape', round);
  if (!allFinite(nd.data)) throw refuseDecryption(steps, key, 'it contains non-finite values', round);
  return { data: nd.data, shape: nd.shape };
}

/** The CKKS decryption guard: exactly `count` SEAL ciphertexts. Key-set membership is checked when decrypting. */
export function guardCiphertexts(steps: Pick<Steps, 'emit'> | undefined, items: readonly Uint8Array[], key: string, count: number, round?: number): void {
  if (items.length !== count) throw refuseDecryption(steps, key, `${items.length} ciphertexts instead of ${count}`, round);
  if (!looksLikeCiphertexts(items)) throw refuseDecryption(steps, key, 'it holds something that is not a CKKS ciphertext', round);
}

/**
 * Decrypts CKKS ciphertexts that passed `guardCiphertexts`; a ciphertext of another key set (SEAL
 * refuses to load it) is a refusal, not a crash.
 */
export async function decryptGuarded(
  ctx: Pick<RunContext, 'engine' | 'signal'>,
  steps: Pick<Steps, 'emit'> | undefined,
  ckksKey: string,
  items: readonly Uint8Array[],
  take: number,
  objectKey: string,
  round?: number,
): Promise<Float64Array> {
  let out: Float64Array;
  try {
    out = await ctx.engine.ckksDecryptRows(ckksKey, items, take, { signal: ctx.signal });
  } catch (e) {
    if (ctx.signal?.aborted) throw e;
    throw refuseDecryption(steps, objectKey, 'its ciphertexts do not belong to this job’s CKKS key set', round);
  }
  if (!allFinite(out)) throw refuseDecryption(steps, objectKey, 'it decrypts to non-finite values', round);
  return out;
}

/**
 * `label_vector` of a worker reply: exactly `n` integers, each in [0, `below`) when given or in
 * `allowed` (classification labels) when given.
 * @throws AppError PROTOCOL_VIOLATION
 */
export function parseLabels(reply: WorkerReply, n: number, what: string, opts: { below?: number; allowed?: ReadonlySet<number> } = {}): Int32Array {
  if (reply.status !== 200) throw invalidReply(what, `HTTP ${reply.status}, expected 200`);
  const lv = parseReply(LabelsReply, reply.text, what).label_vector;
  if (lv.length !== n) throw invalidReply(what, `label_vector holds ${lv.length} labels for ${n} records`);
  const out = new Int32Array(n);
  const below = opts.below ?? n;
  for (let i = 0; i < n; i++) {
    const v = lv[i];
    if (opts.allowed ? !opts.allowed.has(v) : !(Number.isInteger(v) && v >= 0 && v < below)) {
      throw invalidReply(what, opts.allowed ? `label ${i} is not a class of the training set` : `label ${i} is not a cluster index`);
    }
    out[i] = v;
  }
  return out;
}

export function invalidReply(what: string, why: string): AppError {
  return new ProtocolError('PROTOCOL_VIOLATION', `${what} reply: ${why}`, {
    userMessage: `The worker's answer to ${what} is not valid (${why}). The job stopped; nothing was decrypted.`,
  });
}

/** Throws unless the job has the key it needs (the controller or CLI chooses and creates keys). */
export function requireKey(id: string | undefined, what: 'Liu' | 'CKKS'): string {
  if (!id) {
    throw new AppError('INVALID_KEY', `a ${what} key is required`, {
      userMessage: `This algorithm needs a ${what} key. Create or import one on the Keys page, or let the job create one.`,
    });
  }
  return id;
}

/** Gets a worker for `algorithm` from the manager and logs GET.WORKER. */
export async function assignWorker(
  ctx: RunContext,
  steps: Steps,
  algorithm: Parameters<ManagerClient['getWorker']>[0],
  matrixId?: string,
): Promise<{ assignment: WorkerAssignment; worker: WorkerClient }> {
  const assignment = await steps.timed('GET.WORKER', () => ctx.manager.getWorker(algorithm, { signal: ctx.signal, matrixId }), (a) => ({ workerId: a.workerId }));
  return { assignment, worker: ctx.workerFor(assignment) };
}

/**
 * The PUT step of a float64 matrix as runners upload it: an E1 ndarray in `numChunks` row chunks
 * (`o.chunks` for one upload), tagged with its shape and `o.fullDtype` (default float64, the
 * dtype the worker reads it back as).
 */
export function matrixUploader(ctx: Pick<RunContext, 'store' | 'signal'>, steps: Pick<Steps, 'timed'>, numChunks: number) {
  return (key: string, m: Matrix, o: { readonly chunks?: number; readonly fullDtype?: string } = {}): Promise<void> =>
    steps.timed(
      'PUT',
      () => ctx.store.putNdarray(key, fromMatrix(m), { numChunks: o.chunks ?? numChunks, tags: { full_shape: pythonShape(m.shape), full_dtype: o.fullDtype ?? FLOAT64 }, signal: ctx.signal }),
      { key, bytes: m.data.byteLength },
    );
}

/** Total bytes of serialized ciphertexts (for the event log). */
export function byteSum(items: readonly Uint8Array[]): number {
  let s = 0;
  for (const b of items) s += b.length;
  return s;
}
