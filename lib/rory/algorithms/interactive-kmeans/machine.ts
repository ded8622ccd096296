/**
 * @module rory/algorithms/interactive-kmeans/machine
 * The Data Owner side of Rory's interactive k-means family as a pure reducer:
 * `next(state, event) → { state, effects }` (spec/protocol.md §1.1, §5.2, §5.3, §8;
 * spec/crypto.md §7.1, §7.2, §0.1). SKMeans, DBSKMeans and their PQC variants differ only in a
 * few steps, chosen by `config.algorithm`; each has its own folder (`../skmeans/`, …) that runs
 * this machine with `./runner.ts`.
 *
 * A runner (`./runner.ts`) performs the effects and feeds back one event per effect. Big
 * arrays never enter the state: effects name *artifacts* the runner holds (`encryptedMatrix`,
 * `udm`, `encryptedUdm`, `encryptedShift`, `shift`, `shiftOpe`).
 *
 * Round flow (round r = 0, 1, …):
 *   step 1 → worker labels + `{P}encryptedshiftmatrix` → fetch → guard (key, shape (k, a, m),
 *   finite) → approval (skipped when nothing will be sent) → decrypt → max|S| ≤ tolerance?
 *   → stop (converged) | r+1 ≥ maxIterations → stop | else upload the shift (plaintext for
 *   SKMeans, FDHOPE with the UDM key for DBSKMeans) → step 2 → Clustering-Status 0 → stop |
 *   2 → next round. After stopping: verify (decrypt `{P}centj`, compare with the means of the
 *   plaintext rows per label) → done.
 *
 * PQC variants (spec/crypto.md §7.6, §7.7; docs/protocol-additions.md §1–2): the dataset is CKKS
 * encrypted one ciphertext per record (E3) with `{P}initsm` (CKKS zeros k×a) after it, the CKKS
 * public key objects are uploaded before the worker is asked (`uploadKeys`), and the shift and
 * final centroids are k ciphertexts decrypted to k×a. Everything else is the Liu flow: the plain
 * UDM (SKMEANS_PQC, acknowledged) or the FDHOPE UDM (DBSKMEANS_PQC), and the client's
 * convergence decision on all k×a shift values (C4). An unchanged labelling gives bitwise equal
 * centroid ciphertexts, for which the worker sends a fresh encryption of 0; the runner rounds
 * decrypted CKKS shifts to 2^-20, so a converged shift is exactly 0 and the same tolerance works.
 *
 * Client decisions (D2): the client is authoritative on convergence (max|S| ≤ tolerance,
 * default 1e-6, or `maxIterations`, default 10, or the worker answering COMPLETED). When it
 * stops, it does not upload the last shift or call step 2 at all: nothing more leaves the
 * browser, and a stateless worker loses nothing. Step 2 therefore always carries `Is-Zero: 0`.
 */
import type { ErrorCode } from '../../../errors';
import type { ApprovalDecision, ApprovalRequest } from '../../kit';
import { ClusteringStatus, ENCRYPTED_MATRIX_DTYPE, keys, pythonShape, sameShape, type ClusteringStatusCode } from '../../protocol';
import { isPqc, STEP_PATH, step1Headers, step2Headers, usesFdhope, type KmeansAlgorithm, type KmeansCallParams } from './calls';

export { isPqc, usesFdhope, type KmeansAlgorithm };
export type { ApprovalDecision, ApprovalRequest };

export const DEFAULT_MAX_ITERATIONS = 10;
export const DEFAULT_TOLERANCE = 1e-6;
export const DEFAULT_NUM_CHUNKS = 4;
/** FDHOPE `sens` for the UDM: the upstream client's `Sens` header default (spec/protocol.md §6). */
export const DEFAULT_UDM_SENS = 1e-8;
/** FDHOPE `sens` for each round's shift: the library default the Liu variant uses (spec/crypto.md §3.5). */
export const DEFAULT_SHIFT_SENS = 1e-5;
/** Relative tolerance of the final centroid check: |dec(centj) − mean| ≤ tol · max(1, |mean|). */
export const VERIFY_TOLERANCE = 1e-6;
/**
 * The same check for CKKS centroids: fresh CKKS at scale 2^40 decrypts within ~1e-7 of the value
 * after one plaintext multiplication and rescale, so 1e-4 separates noise from a wrong answer.
 */
export const PQC_VERIFY_TOLERANCE = 1e-4;

export function verifyTolerance(a: KmeansAlgorithm): number {
  return isPqc(a) ? PQC_VERIFY_TOLERANCE : VERIFY_TOLERANCE;
}

export interface KmeansConfig {
  readonly algorithm: KmeansAlgorithm;
  readonly jobId: string;
  /** Plaintext-Matrix-Id `P` (job-unique, alphanumeric). */
  readonly p: string;
  /** Plaintext data shape n×a. */
  readonly n: number;
  readonly a: number;
  readonly k: number;
  readonly numChunks: number;
  readonly maxIterations: number;
  readonly tolerance: number;
  /** DBSKMeans: FDHOPE sens of the UDM and of each shift. */
  readonly udmSens: number;
  readonly shiftSens: number;
  readonly experimentId?: string;
  /** SKMeans(-PQC): the user acknowledged the plaintext uploads (D3). The machine refuses to upload them otherwise. */
  readonly acknowledged: boolean;
}

export type Artifact = 'encryptedMatrix' | 'initsm' | 'udm' | 'encryptedUdm' | 'encryptedShift' | 'shift' | 'shiftOpe';

export type Phase =
  | 'idle'
  | 'encrypting'
  | 'computingUdm'
  | 'fdhopeKeygen'
  | 'encryptingUdm'
  | 'uploadingMatrix'
  | 'uploadingUdm'
  | 'gettingWorker'
  | 'step1'
  | 'fetchingShift'
  | 'awaitingApproval'
  | 'decrypting'
  | 'encryptingShift'
  | 'uploadingShift'
  | 'step2'
  | 'verifying'
  | 'done'
  | 'failed'
  | 'uploadingInitsm'
  | 'uploadingKeys';

export type StopReason = 'converged' | 'maxIterations' | 'workerCompleted';

export interface KmeansState {
  readonly config: KmeansConfig;
  readonly phase: Phase;
  /** 0-based index of the current round (= upstream `it`, sent as `Iterations`). */
  readonly round: number;
  /** Clustering-Status to send in the next step 1. */
  readonly status: ClusteringStatusCode;
  /** Liu ciphertext shape (n, a, m), or (n, a) for CKKS (one ciphertext per row), known after encryption. */
  readonly encryptedShape?: readonly number[];
  /** PQC: id of the CKKS public key objects the worker reads (docs/protocol-additions.md §1). */
  readonly ckksKeysId?: string;
  /** UDM shape the worker holds: (n, n, a), then (n, k, a). */
  readonly udmShape: readonly number[];
  readonly worker?: { readonly id: string; readonly url: string };
  readonly labels?: Int32Array;
  readonly approveAll: boolean;
  readonly maxShiftPerRound: readonly number[];
  readonly stopReason?: StopReason;
  readonly error?: { readonly code: ErrorCode; readonly message: string };
}

/** What the machine hands to `done`; the runner adds centroids and timings. */
export interface KmeansOutcome {
  readonly labels: Int32Array;
  readonly iterations: number;
  readonly converged: boolean;
  readonly stopReason: StopReason;
  readonly maxShiftPerRound: readonly number[];
  readonly verification: { readonly ok: boolean; readonly maxError: number };
  readonly workerId?: string;
}

export type Effect =
  | { readonly type: 'encryptMatrix' }
  | { readonly type: 'computeUdm' }
  | { readonly type: 'fdhopeKeygen' }
  | { readonly type: 'fdhopeEncryptUdm'; readonly sens: number }
  | {
      readonly type: 'upload';
      readonly key: string;
      readonly artifact: Artifact;
      /** E1 ndarray, or E3 list of CKKS ciphertexts. */
      readonly encoding: 'E1' | 'E3';
      readonly numChunks: number;
      readonly tags: Readonly<Record<string, string>>;
      /** The runner may drop the artifact after the upload. */
      readonly release: boolean;
    }
  | { readonly type: 'uploadKeys' }
  | { readonly type: 'getWorker'; readonly algorithm: KmeansAlgorithm }
  | { readonly type: 'callStep1'; readonly path: string; readonly headers: Readonly<Record<string, string>>; readonly round: number }
  | { readonly type: 'fetchShift'; readonly key: string; readonly encoding: 'E1' | 'E3'; readonly round: number }
  | { readonly type: 'requestApproval'; readonly request: ApprovalRequest }
  /** `expectedShape`: of the stored object — (k, a, m) Liu, or (k) CKKS ciphertexts that decrypt to k×a. */
  | { readonly type: 'decrypt'; readonly objectKey: string; readonly expectedShape: readonly number[]; readonly round: number }
  | { readonly type: 'fdhopeEncryptShift'; readonly sens: number; readonly round: number }
  | { readonly type: 'uploadShift'; readonly key: string; readonly artifact: 'shift' | 'shiftOpe'; readonly numChunks: number; readonly round: number }
  | { readonly type: 'callStep2'; readonly path: string; readonly headers: Readonly<Record<string, string>>; readonly round: number }
  | { readonly type: 'verify'; readonly objectKey: string; readonly expectedShape: readonly number[]; readonly labels: Int32Array }
  | { readonly type: 'log'; readonly name: string; readonly round?: number; readonly detail?: Readonly<Record<string, string | number | boolean>> }
  | { readonly type: 'done'; readonly outcome: KmeansOutcome }
  | { readonly type: 'fail'; readonly code: ErrorCode; readonly message: string; readonly userMessage: string };

export type KmeansEvent =
  | { readonly type: 'start' }
  | { readonly type: 'matrixEncrypted'; readonly shape: readonly number[] }
  | { readonly type: 'udmComputed'; readonly shape: readonly number[] }
  | { readonly type: 'fdhopeKeyReady' }
  | { readonly type: 'udmEncrypted'; readonly shape: readonly number[] }
  | { readonly type: 'uploaded'; readonly key: string }
  | { readonly type: 'keysUploaded'; readonly id: string }
  | { readonly type: 'workerAssigned'; readonly workerId: string; readonly url: string }
  | { readonly type: 'step1Done'; readonly labels: Int32Array; readonly shiftId: string }
  | { readonly type: 'shiftFetched'; readonly key: string; readonly shape: readonly number[]; readonly dtype: string; readonly allFinite: boolean }
  | { readonly type: 'approval'; readonly decision: ApprovalDecision }
  | { readonly type: 'decrypted'; readonly maxAbsShift: number }
  | { readonly type: 'shiftEncrypted' }
  | { readonly type: 'step2Done'; readonly status: 0 | 2; readonly udmShape?: readonly number[] }
  | { readonly type: 'verified'; readonly maxError: number };

export interface Transition {
  readonly state: KmeansState;
  readonly effects: readonly Effect[];
}

/** What a caller gives: the job's identity and shape; every tuning value has a default (D6). */
export type KmeansConfigInput = Pick<KmeansConfig, 'algorithm' | 'jobId' | 'p' | 'n' | 'a' | 'k' | 'experimentId'> &
  Partial<Pick<KmeansConfig, 'numChunks' | 'maxIterations' | 'tolerance' | 'udmSens' | 'shiftSens' | 'acknowledged'>>;

/** Fills defaults (D6) and freezes the configuration. Validation happens in `initialState`. */
export function kmeansConfig(c: KmeansConfigInput): KmeansConfig {
  return Object.freeze({
    algorithm: c.algorithm,
    jobId: c.jobId,
    p: c.p,
    n: c.n,
    a: c.a,
    k: c.k,
    numChunks: c.numChunks ?? DEFAULT_NUM_CHUNKS,
    maxIterations: c.maxIterations ?? DEFAULT_MAX_ITERATIONS,
    tolerance: c.tolerance ?? DEFAULT_TOLERANCE,
    udmSens: c.udmSens ?? DEFAULT_UDM_SENS,
    shiftSens: c.shiftSens ?? DEFAULT_SHIFT_SENS,
    experimentId: c.experimentId,
    acknowledged: c.acknowledged ?? false,
  });
}

/** Returns a problem with the configuration, or null. */
export function configProblem(c: KmeansConfig): string | null {
  const posInt = (x: number) => Number.isSafeInteger(x) && x >= 1;
  if (!posInt(c.n) || !posInt(c.a)) return 'the dataset must have at least one row and one column';
  if (!posInt(c.k) || c.k < 2) return 'k must be an integer of at least 2';
  if (c.k > c.n) return `k (${c.k}) must not exceed the number of rows (${c.n})`;
  if (!posInt(c.numChunks)) return 'the number of chunks must be a positive integer';
  if (!posInt(c.maxIterations)) return 'the maximum number of iterations must be a positive integer';
  if (!(c.tolerance >= 0) || !Number.isFinite(c.tolerance)) return 'the tolerance must be a finite number ≥ 0';
  if (!(c.udmSens >= 0) || !(c.shiftSens >= 0) || !Number.isFinite(c.udmSens) || !Number.isFinite(c.shiftSens)) return 'sens must be a finite number ≥ 0';
  return null;
}

export function initialState(config: KmeansConfig): KmeansState {
  return Object.freeze({
    config,
    phase: 'idle',
    round: 0,
    status: ClusteringStatus.START,
    udmShape: Object.freeze([config.n, config.n, config.a]),
    approveAll: false,
    maxShiftPerRound: Object.freeze([]),
  });
}

function with_(s: KmeansState, patch: Partial<KmeansState>): KmeansState {
  return Object.freeze({ ...s, ...patch });
}

function fail(s: KmeansState, code: ErrorCode, message: string, userMessage: string = message): Transition {
  return { state: with_(s, { phase: 'failed', error: { code, message } }), effects: [{ type: 'fail', code, message, userMessage }] };
}

function unexpected(s: KmeansState, e: KmeansEvent): Transition {
  return fail(s, 'INTERNAL', `event ${e.type} is not expected in phase ${s.phase}`, 'The job reached an unexpected state and was stopped.');
}

function callParams(s: KmeansState): KmeansCallParams {
  const c = s.config;
  return {
    algorithm: c.algorithm,
    p: c.p,
    encryptedShape: s.encryptedShape ?? [c.n, c.a, 0],
    numChunks: c.numChunks,
    k: c.k,
    iterations: s.round,
    maxIterations: c.maxIterations,
    experimentId: c.experimentId,
    ckksKeysId: s.ckksKeysId,
    udmShape: s.udmShape,
  };
}

/** The shape of the stored shift / centroid objects: (k, a, m) Liu tensors or k CKKS ciphertexts. */
function shiftShape(s: KmeansState): number[] {
  const c = s.config;
  return isPqc(c.algorithm) ? [c.k] : [c.k, c.a, (s.encryptedShape as number[])[2]];
}

function step1(s: KmeansState): Transition {
  const c = s.config;
  const headers = step1Headers({ ...callParams(s), status: s.status });
  return { state: with_(s, { phase: 'step1' }), effects: [{ type: 'callStep1', path: STEP_PATH[c.algorithm], headers, round: s.round }] };
}

function uploadUdm(s: KmeansState): Transition {
  const c = s.config;
  if (!usesFdhope(c.algorithm)) {
    if (!c.acknowledged) {
      return fail(s, 'ACK_REQUIRED', `${c.algorithm} uploads a plaintext UDM and needs an acknowledgement`, 'SKMeans sends unencrypted data to the cloud; acknowledge it before starting.');
    }
    return {
      state: with_(s, { phase: 'uploadingUdm' }),
      effects: [{ type: 'upload', key: keys.udm(c.p), artifact: 'udm', encoding: 'E1', numChunks: c.numChunks, tags: { full_shape: pythonShape(s.udmShape), full_dtype: 'float64' }, release: true }],
    };
  }
  return {
    state: with_(s, { phase: 'uploadingUdm' }),
    effects: [{ type: 'upload', key: keys.encryptedUdm(c.p), artifact: 'encryptedUdm', encoding: 'E1', numChunks: c.numChunks, tags: { full_shape: pythonShape(s.udmShape), full_dtype: 'float64' }, release: true }],
  };
}

function purpose(c: KmeansConfig): string {
  return !usesFdhope(c.algorithm)
    ? `The decrypted shift (how far each of the ${c.k} cluster centres moved on each of the ${c.a} attributes this round) is sent to the worker unencrypted. The worker learns those movements exactly.`
    : `The decrypted shift (how far each of the ${c.k} cluster centres moved on each of the ${c.a} attributes this round) is re-encrypted with FDHOPE and sent to the worker. The worker learns the order and sign of those movements and their rough size.`;
}

function stop(s: KmeansState, reason: StopReason, roundsDone: number): Transition {
  const c = s.config;
  const labels = s.labels as Int32Array;
  return {
    state: with_(s, { phase: 'verifying', stopReason: reason, round: roundsDone }),
    effects: [
      { type: 'log', name: 'ITERATION.COMPLETED', round: roundsDone - 1, detail: { stop: reason } },
      { type: 'verify', objectKey: keys.centj(c.p), expectedShape: shiftShape(s), labels },
    ],
  };
}

/** The reducer. Pure: no I/O, no clocks, no randomness. */
export function next(s: KmeansState, e: KmeansEvent): Transition {
  const c = s.config;
  if (s.phase === 'done' || s.phase === 'failed') return { state: s, effects: [] };

  switch (s.phase) {
    case 'idle': {
      if (e.type !== 'start') return unexpected(s, e);
      const problem = configProblem(c);
      if (problem) return fail(s, 'INVALID_ARGUMENT', problem);
      if (!usesFdhope(c.algorithm) && !c.acknowledged) {
        return fail(s, 'ACK_REQUIRED', `${c.algorithm} uploads a plaintext UDM and plaintext shifts and needs an acknowledgement`, 'SKMeans sends unencrypted data to the cloud; acknowledge it before starting.');
      }
      return { state: with_(s, { phase: 'encrypting' }), effects: [{ type: 'encryptMatrix' }] };
    }

    case 'encrypting': {
      if (e.type !== 'matrixEncrypted') return unexpected(s, e);
      if (isPqc(c.algorithm)) {
        if (!sameShape(e.shape, [c.n, c.a])) return fail(s, 'SHAPE_MISMATCH', `CKKS-encrypted matrix has shape ${pythonShape(e.shape)}, expected (${c.n}, ${c.a})`);
      } else if (e.shape.length !== 3 || e.shape[0] !== c.n || e.shape[1] !== c.a || !(e.shape[2] >= 2)) {
        return fail(s, 'SHAPE_MISMATCH', `encrypted matrix has shape ${pythonShape(e.shape)}, expected (${c.n}, ${c.a}, m)`);
      }
      return { state: with_(s, { phase: 'computingUdm', encryptedShape: Object.freeze([...e.shape]) }), effects: [{ type: 'computeUdm' }] };
    }

    case 'computingUdm': {
      if (e.type !== 'udmComputed') return unexpected(s, e);
      if (!sameShape(e.shape, s.udmShape)) return fail(s, 'SHAPE_MISMATCH', `UDM has shape ${pythonShape(e.shape)}, expected ${pythonShape(s.udmShape)}`);
      if (usesFdhope(c.algorithm)) return { state: with_(s, { phase: 'fdhopeKeygen' }), effects: [{ type: 'fdhopeKeygen' }] };
      return uploadMatrix(s);
    }

    case 'fdhopeKeygen': {
      if (e.type !== 'fdhopeKeyReady') return unexpected(s, e);
      return { state: with_(s, { phase: 'encryptingUdm' }), effects: [{ type: 'fdhopeEncryptUdm', sens: c.udmSens }] };
    }

    case 'encryptingUdm': {
      if (e.type !== 'udmEncrypted') return unexpected(s, e);
      if (!sameShape(e.shape, s.udmShape)) return fail(s, 'SHAPE_MISMATCH', `encrypted UDM has shape ${pythonShape(e.shape)}, expected ${pythonShape(s.udmShape)}`);
      return uploadMatrix(s);
    }

    case 'uploadingMatrix': {
      if (e.type !== 'uploaded' || e.key !== keys.encryptedMatrix(c.p)) return unexpected(s, e);
      if (isPqc(c.algorithm)) {
        // spec/protocol.md §7.5: CKKS zeros k×a, tagged like upstream's PQC DBSKMeans does.
        return {
          state: with_(s, { phase: 'uploadingInitsm' }),
          effects: [
            { type: 'upload', key: keys.initsm(c.p), artifact: 'initsm', encoding: 'E3', numChunks: Math.min(c.numChunks, c.k), tags: { shape: pythonShape([c.k, c.a]), dtype: 'float32' }, release: true },
          ],
        };
      }
      return uploadUdm(s);
    }

    case 'uploadingInitsm': {
      if (e.type !== 'uploaded' || e.key !== keys.initsm(c.p)) return unexpected(s, e);
      return uploadUdm(s);
    }

    case 'uploadingUdm': {
      if (e.type !== 'uploaded') return unexpected(s, e);
      if (isPqc(c.algorithm)) return { state: with_(s, { phase: 'uploadingKeys' }), effects: [{ type: 'uploadKeys' }] };
      return { state: with_(s, { phase: 'gettingWorker' }), effects: [{ type: 'getWorker', algorithm: c.algorithm }] };
    }

    case 'uploadingKeys': {
      if (e.type !== 'keysUploaded' || !/^ckks[0-9a-f]{32}$/.test(e.id)) return unexpected(s, e);
      return { state: with_(s, { phase: 'gettingWorker', ckksKeysId: e.id }), effects: [{ type: 'getWorker', algorithm: c.algorithm }] };
    }

    case 'gettingWorker': {
      if (e.type !== 'workerAssigned') return unexpected(s, e);
      return step1(with_(s, { worker: { id: e.workerId, url: e.url } }));
    }

    case 'step1': {
      if (e.type !== 'step1Done') return unexpected(s, e);
      if (e.labels.length !== c.n) return fail(s, 'PROTOCOL_VIOLATION', `worker returned ${e.labels.length} labels for ${c.n} records`);
      const expected = keys.encryptedShiftMatrix(c.p);
      if (e.shiftId !== expected) {
        // A worker naming any other object (say `encrypted{P}`) would get us to decrypt it and
        // upload the plaintext: refuse.
        return fail(
          s,
          'DECRYPTION_REFUSED',
          `worker asked to decrypt "${e.shiftId.slice(0, 80)}" instead of ${expected}`,
          'The worker asked the browser to decrypt an object that is not this round\'s shift matrix. The job was stopped; nothing was decrypted.',
        );
      }
      return {
        state: with_(s, { phase: 'fetchingShift', labels: e.labels }),
        effects: [{ type: 'fetchShift', key: expected, encoding: isPqc(c.algorithm) ? 'E3' : 'E1', round: s.round }],
      };
    }

    case 'fetchingShift': {
      if (e.type !== 'shiftFetched') return unexpected(s, e);
      const shape = shiftShape(s);
      const pqc = isPqc(c.algorithm);
      const refuse = (why: string) =>
        fail(s, 'DECRYPTION_REFUSED', `refusing to decrypt ${e.key}: ${why}`, `The worker's shift matrix for round ${s.round + 1} is not what this job expects (${why}). The job was stopped; nothing was decrypted.`);
      if (e.key !== keys.encryptedShiftMatrix(c.p)) return refuse('wrong object');
      if (!sameShape(e.shape, shape)) return refuse(`shape ${pythonShape(e.shape)} instead of ${pythonShape(shape)}`);
      const dtype = pqc ? 'ckks' : 'float64';
      if (e.dtype !== dtype) return refuse(`dtype ${e.dtype} instead of ${dtype}`);
      if (!e.allFinite) return refuse(pqc ? 'it holds something that is not a CKKS ciphertext of this key set' : 'it contains non-finite values');
      const request: ApprovalRequest = {
        jobId: c.jobId,
        algorithm: c.algorithm,
        round: s.round + 1,
        objectKey: e.key,
        // What the user is asked to reveal: k×a values (the CKKS object is k ciphertexts).
        shape: pqc ? [c.k, c.a] : shape,
        purpose: purpose(c),
      };
      // The last round's shift is only used locally (convergence flag): nothing to approve.
      const lastRound = s.round + 1 >= c.maxIterations;
      if (s.approveAll || lastRound) {
        return { state: with_(s, { phase: 'decrypting' }), effects: [{ type: 'decrypt', objectKey: e.key, expectedShape: shape, round: s.round }] };
      }
      return { state: with_(s, { phase: 'awaitingApproval' }), effects: [{ type: 'requestApproval', request }] };
    }

    case 'awaitingApproval': {
      if (e.type !== 'approval') return unexpected(s, e);
      if (e.decision === 'deny') {
        return fail(s, 'APPROVAL_DENIED', `decryption of round ${s.round + 1} denied`, 'You denied the decryption, so the job was stopped. Nothing more was sent to the cloud.');
      }
      const shape = shiftShape(s);
      return {
        state: with_(s, { phase: 'decrypting', approveAll: s.approveAll || e.decision === 'approve-all' }),
        effects: [{ type: 'decrypt', objectKey: keys.encryptedShiftMatrix(c.p), expectedShape: shape, round: s.round }],
      };
    }

    case 'decrypting': {
      if (e.type !== 'decrypted') return unexpected(s, e);
      if (!Number.isFinite(e.maxAbsShift)) return fail(s, 'DECRYPTION_REFUSED', 'decrypted shift is not finite');
      const s2 = with_(s, { maxShiftPerRound: Object.freeze([...s.maxShiftPerRound, e.maxAbsShift]) });
      const roundsDone = s.round + 1;
      if (e.maxAbsShift <= c.tolerance) return stop(s2, 'converged', roundsDone);
      if (roundsDone >= c.maxIterations) return stop(s2, 'maxIterations', roundsDone);
      if (usesFdhope(c.algorithm)) {
        return { state: with_(s2, { phase: 'encryptingShift' }), effects: [{ type: 'fdhopeEncryptShift', sens: c.shiftSens, round: s.round }] };
      }
      return {
        state: with_(s2, { phase: 'uploadingShift' }),
        effects: [{ type: 'uploadShift', key: keys.shiftMatrix(c.p), artifact: 'shift', numChunks: Math.min(c.numChunks, c.k), round: s.round }],
      };
    }

    case 'encryptingShift': {
      if (e.type !== 'shiftEncrypted') return unexpected(s, e);
      return {
        state: with_(s, { phase: 'uploadingShift' }),
        effects: [{ type: 'uploadShift', key: keys.shiftMatrixOpe(c.p), artifact: 'shiftOpe', numChunks: c.numChunks, round: s.round }],
      };
    }

    case 'uploadingShift': {
      if (e.type !== 'uploaded') return unexpected(s, e);
      const headers = step2Headers({ ...callParams(s), isZero: false });
      return { state: with_(s, { phase: 'step2' }), effects: [{ type: 'callStep2', path: STEP_PATH[c.algorithm], headers, round: s.round }] };
    }

    case 'step2': {
      if (e.type !== 'step2Done') return unexpected(s, e);
      const roundsDone = s.round + 1;
      let udmShape: readonly number[];
      if (usesFdhope(c.algorithm)) {
        const want = [c.n, c.k, c.a];
        if (!e.udmShape || !sameShape(e.udmShape, want)) {
          return fail(s, 'PROTOCOL_VIOLATION', `step 2 returned encrypted_udm_shape ${e.udmShape ? pythonShape(e.udmShape) : 'none'}, expected ${pythonShape(want)}`);
        }
        udmShape = Object.freeze([...e.udmShape]);
      } else {
        udmShape = Object.freeze([c.n, c.k, c.a]);
      }
      if (e.status === ClusteringStatus.COMPLETED) return stop(with_(s, { udmShape }), 'workerCompleted', roundsDone);
      const s2 = with_(s, { round: roundsDone, status: ClusteringStatus.WORK_IN_PROGRESS, udmShape });
      const t = step1(s2);
      return { state: t.state, effects: [{ type: 'log', name: 'ITERATION.COMPLETED', round: s.round }, ...t.effects] };
    }

    case 'verifying': {
      if (e.type !== 'verified') return unexpected(s, e);
      const outcome: KmeansOutcome = {
        labels: s.labels as Int32Array,
        iterations: s.round,
        converged: s.stopReason === 'converged' || s.stopReason === 'workerCompleted',
        stopReason: s.stopReason as StopReason,
        maxShiftPerRound: s.maxShiftPerRound,
        verification: { ok: e.maxError <= verifyTolerance(c.algorithm), maxError: e.maxError },
        workerId: s.worker?.id,
      };
      return { state: with_(s, { phase: 'done' }), effects: [{ type: 'done', outcome }] };
    }

    default:
      return unexpected(s, e);
  }
}

function uploadMatrix(s: KmeansState): Transition {
  const c = s.config;
  return {
    state: with_(s, { phase: 'uploadingMatrix' }),
    effects: [
      {
        type: 'upload',
        key: keys.encryptedMatrix(c.p),
        artifact: 'encryptedMatrix',
        encoding: isPqc(c.algorithm) ? 'E3' : 'E1',
        numChunks: c.numChunks,
        // As the upstream client tags it (spec/protocol.md §7.5): full_dtype "float32" although the
        // data is float64. CKKS chunks carry no shape/dtype tags upstream.
        tags: isPqc(c.algorithm) ? {} : { full_shape: pythonShape(s.encryptedShape as number[]), full_dtype: ENCRYPTED_MATRIX_DTYPE },
        release: true,
      },
    ],
  };
}
