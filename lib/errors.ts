/**
 * @module errors
 * One typed error for the whole app. `userMessage` is what the UI shows (what went wrong
 * and what to do); `message` is for developers. Neither may ever contain keys, plaintext
 * or ciphertext values. Errors cross comlink and HTTP as `{ code, message, userMessage }`.
 */

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
    this.userMessage = options.userMessage ?? message;
    this.details = options.details;
  }

  toJSON(): SerializedError {
    return { code: this.code, message: this.message, userMessage: this.userMessage, details: this.details };
  }

  static fromJSON(e: SerializedError): AppError {
    return new AppError(e.code, e.message, { userMessage: e.userMessage, details: e.details });
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
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
  return new AppError(fallback, message, { userMessage: 'An unexpected error occurred. See the event log for details.', cause: e });
}

function isSerializedError(e: unknown): e is SerializedError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as SerializedError).code === 'string' &&
    (ERROR_CODES as readonly string[]).includes((e as SerializedError).code) &&
    typeof (e as SerializedError).userMessage === 'string'
  );
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
