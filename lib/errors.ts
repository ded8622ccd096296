/**
 * @module errors
 * One typed error for the whole app. `userMessage` is what the UI shows (what went wrong
 * and what to do); `message` is for developers. Neither may ever contain keys, plaintext
 * or ciphertext values. Errors cross comlink and HTTP as `{ code, message, userMessage }`.
 */
import { memberOf } from './util/member-of';

export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'INVALID_KEY',
  'SHAPE_MISMATCH',
  'CSV_INVALID',
  'NPY_INVALID',
  'DATA_MAGNITUDE',
  'CONFIG_INVALID',
  'CRYPTO_FAILURE',
  'SEAL_ERROR',
  'KEYSTORE_LOCKED',
  'KEYSTORE_FAILURE',
  'JOBSTORE_FAILURE',
  'BACKUP_PASSPHRASE',
  'BACKUP_INVALID',
  'STORAGE_NOT_FOUND',
  'STORAGE_CONFLICT',
  'STORAGE_INTEGRITY',
  'STORAGE_UNREACHABLE',
  'STORAGE_FAILURE',
  'INVALID_KEY_ID',
  'MANAGER_UNREACHABLE',
  'NO_WORKERS',
  'WORKER_UNREACHABLE',
  'WORKER_TIMEOUT',
  'WORKER_ERROR',
  'PROTOCOL_VIOLATION',
  'DECRYPTION_REFUSED',
  'APPROVAL_DENIED',
  'ACK_REQUIRED',
  'ABORTED',
  'QUOTA_EXCEEDED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * What the UI says for a code when the thrower gave no `userMessage`: never the developer text
 * (which may name internals). Throwers that know more say it in their own `userMessage`.
 */
export const DEFAULT_USER_MESSAGES: Readonly<Record<ErrorCode, string>> = Object.freeze({
  INVALID_ARGUMENT: 'A value is not valid for this operation. Check the form and try again.',
  INVALID_KEY: 'The key needed for this is missing or does not fit. Check the Keys page.',
  SHAPE_MISMATCH: 'The data does not have the shape this operation needs (rows × columns).',
  CSV_INVALID: 'The CSV file could not be read. Check that it is a table of numbers.',
  NPY_INVALID: 'The NPY file could not be read. It must be a numeric NumPy array.',
  DATA_MAGNITUDE: 'Some values are too large to process safely. Rescale the data and try again.',
  CONFIG_INVALID: 'A setting is not valid. Open Settings and correct it.',
  CRYPTO_FAILURE: 'Encryption or decryption failed in the background worker. Try again; reload the page if it keeps happening.',
  SEAL_ERROR: 'The CKKS engine rejected an operation (wrong key set or damaged ciphertext).',
  KEYSTORE_LOCKED: 'The key store is locked. Reload the page.',
  KEYSTORE_FAILURE: 'The key store in this browser could not be used. Allow site storage for this page and reload.',
  JOBSTORE_FAILURE: 'The job records in this browser could not be read or saved (IndexedDB blocked or full). Allow site storage for this page, free some space, and reload.',
  BACKUP_PASSPHRASE: 'The passphrase does not open this key backup.',
  BACKUP_INVALID: 'This file is not a key backup this version can read.',
  STORAGE_NOT_FOUND: 'An object the job needs is not in cloud storage. Run the job again.',
  STORAGE_CONFLICT: 'Cloud storage refused to store an object (it already exists). Run the job again.',
  STORAGE_INTEGRITY: 'An object read from cloud storage is damaged or not what was stored. The job stopped; run it again.',
  STORAGE_UNREACHABLE: 'Cannot reach the MictlanX storage router. Check that it runs and that its address in Settings is right.',
  STORAGE_FAILURE: 'Cloud storage reported an error. Try again later.',
  INVALID_KEY_ID: 'An object or job id is not valid for MictlanX storage. Use letters and digits only.',
  MANAGER_UNREACHABLE: 'Cannot reach the Rory Manager. Check that it runs and that its address in Settings is right.',
  NO_WORKERS: 'The Rory Manager has no worker available. Start a worker and try again.',
  WORKER_UNREACHABLE: 'Cannot reach the Rory worker the Manager assigned.',
  WORKER_TIMEOUT: 'The Rory worker did not answer in time. Raise WORKER_TIMEOUT in Settings or try a smaller dataset.',
  WORKER_ERROR: 'The Rory worker reported an error.',
  PROTOCOL_VIOLATION: 'A Rory service answered outside the protocol. The job stopped; nothing was decrypted.',
  DECRYPTION_REFUSED: 'The cloud returned something this job does not expect, so nothing was decrypted and the job stopped.',
  APPROVAL_DENIED: 'You denied a decryption, so the job stopped. Nothing more was sent to the cloud.',
  ACK_REQUIRED: 'This job uploads plaintext-derived data. Review what leaves the browser and acknowledge it first.',
  ABORTED: 'The operation was cancelled.',
  QUOTA_EXCEEDED: 'The browser has no storage space left for this app. Delete old datasets or jobs and try again.',
  INTERNAL: 'An unexpected error occurred. See the event log for details.',
});

export interface SerializedError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly userMessage: string;
  readonly details?: Record<string, string | number | boolean>;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly userMessage: string;
  readonly details?: Record<string, string | number | boolean>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { userMessage?: string; cause?: unknown; details?: Record<string, string | number | boolean> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.userMessage = options.userMessage ?? DEFAULT_USER_MESSAGES[code];
    this.details = options.details;
  }

  toJSON(): SerializedError {
    return { code: this.code, message: this.message, userMessage: this.userMessage, details: this.details };
  }

  static fromJSON(e: SerializedError): AppError {
    return new AppError(e.code, e.message, { userMessage: e.userMessage, details: e.details });
  }
}

/** Normalise anything thrown into an AppError (unknown errors become INTERNAL). */
export function toAppError(e: unknown, fallback: ErrorCode = 'INTERNAL'): AppError {
  if (e instanceof AppError) return e;
  if (isSerializedError(e)) return AppError.fromJSON(e);
  if (e instanceof DOMException && e.name === 'AbortError') {
    return new AppError('ABORTED', 'operation aborted', { userMessage: 'The operation was cancelled.' });
  }
  if (e instanceof DOMException && e.name === 'QuotaExceededError') {
    return new AppError('QUOTA_EXCEEDED', e.message, {
      userMessage: 'The browser has no storage space left for this app. Delete old datasets or jobs and try again.',
    });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new AppError(fallback, message, { userMessage: DEFAULT_USER_MESSAGES[fallback], cause: e });
}

const isErrorCode = memberOf(ERROR_CODES);

function isSerializedError(e: unknown): e is SerializedError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as SerializedError).code === 'string' &&
    isErrorCode((e as SerializedError).code) &&
    typeof (e as SerializedError).userMessage === 'string'
  );
}

/**
 * An error of a protocol run (lib/rory): a worker's answer outside the protocol, a refused
 * decryption or a failed verification. Adds where in the run it happened.
 */
export class ProtocolError extends AppError {
  /** 0-based round, when the run has rounds. */
  readonly round?: number;
  /** Machine phase or step name. */
  readonly phase?: string;
  constructor(
    code: Extract<ErrorCode, 'PROTOCOL_VIOLATION' | 'DECRYPTION_REFUSED'>,
    message: string,
    options: { userMessage: string; round?: number; phase?: string; cause?: unknown },
  ) {
    super(code, message, {
      userMessage: options.userMessage,
      cause: options.cause,
      details: { ...(options.round !== undefined ? { round: options.round } : {}), ...(options.phase ? { phase: options.phase } : {}) },
    });
    this.name = 'ProtocolError';
    this.round = options.round;
    this.phase = options.phase;
  }
}

/** Codes a `StorageError` may carry (the STORAGE_* subset of ERROR_CODES). */
export type StorageErrorCode = Extract<ErrorCode, 'STORAGE_NOT_FOUND' | 'STORAGE_CONFLICT' | 'STORAGE_INTEGRITY' | 'STORAGE_UNREACHABLE' | 'STORAGE_FAILURE'>;

export interface StorageErrorOptions {
  /** Required: what went wrong and what to do, shown as is in the UI. */
  readonly userMessage: string;
  /** HTTP status of the answer that failed, when there was one. */
  readonly status?: number;
  /** The chunk key involved (`{ball}_{i}`), when known. */
  readonly key?: string;
  readonly ballId?: string;
  readonly routerUrl?: string;
  readonly cause?: unknown;
}

/**
 * An error of the storage layer (lib/storage): MictlanX answers, integrity checks of what was read,
 * and size limits. Adds the HTTP status and the key; `details` carries ballId / key / status /
 * router for the event log. Names of balls and routers are not secret; payload bytes never appear.
 */
export class StorageError extends AppError {
  readonly status?: number;
  readonly key?: string;
  constructor(code: StorageErrorCode, message: string, opts: StorageErrorOptions) {
    const details: Record<string, string | number> = {};
    if (opts.ballId !== undefined) details.ballId = opts.ballId;
    if (opts.key !== undefined) details.key = opts.key;
    if (opts.status !== undefined) details.status = opts.status;
    if (opts.routerUrl !== undefined) details.router = opts.routerUrl;
    super(code, message, { userMessage: opts.userMessage, cause: opts.cause, details });
    this.name = 'StorageError';
    this.status = opts.status;
    this.key = opts.key;
  }
}
