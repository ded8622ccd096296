/**
 * @module net/read-limited
 * Bounded reads of HTTP response bodies (issue #12 finding 5; spec/mictlanx.md §7 "Limits").
 * `res.arrayBuffer()` / `res.text()` read whatever a server sends before anything can be checked,
 * so a lying or broken server can exhaust memory or never finish. These helpers read the body as
 * a stream, refuse a `Content-Length` above the limit before reading a byte, and cancel the stream
 * as soon as the limit is passed. Isomorphic: only `Response`, `ReadableStream` and `TextDecoder`.
 *
 * A body that never ends without passing the limit is bounded by the request's own timeout
 * (its AbortSignal errors the stream); these helpers add no timer of their own.
 *
 * @example
 *   const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
 *   const reply = await readJsonLimited(res, 64 * 1024, 'the worker reply');
 */
import { AppError, type ErrorCode } from '../errors';
import { tryParseJson } from '../json';
import { concatBytes } from '../storage/sha256';

export interface ReadLimitedOptions {
  /** Code of the error thrown past the limit (default PROTOCOL_VIOLATION). */
  readonly code?: ErrorCode;
  /** Replaces the default user message of that error. */
  readonly userMessage?: string;
}

/** A body was larger (or, for `readBodyInto`, smaller) than allowed; the stream was cancelled. */
export class BodyLimitError extends AppError {
  /** The limit in bytes (for `readBodyInto`, the exact size expected). */
  readonly limitBytes: number;
  /** What was being read, as given by the caller ("chunk data of P0_1"). */
  readonly what: string;
  /** Whether the body passed the limit or (`readBodyInto`) ended before the expected size. */
  readonly reason: 'too-large' | 'too-short';
  constructor(what: string, limitBytes: number, reason: 'too-large' | 'too-short', got: number, opts: ReadLimitedOptions) {
    const message =
      reason === 'too-large'
        ? `${what}: the response body is larger than the limit of ${limitBytes} bytes`
        : `${what}: the response body ended after ${got} of the ${limitBytes} bytes expected`;
    const userMessage =
      opts.userMessage ??
      (reason === 'too-large'
        ? `The server sent more data than expected for ${what} (more than ${formatBytes(limitBytes)}), so the answer was refused. The server may be misconfigured or not the one you meant: check its address in Settings.`
        : `The server sent less data than it announced for ${what}, so the answer was refused. Try again; if it persists, the stored object is incomplete and must be written again.`);
    super(opts.code ?? 'PROTOCOL_VIOLATION', message, { userMessage, details: { what, limitBytes } });
    this.name = 'BodyLimitError';
    this.limitBytes = limitBytes;
    this.what = what;
    this.reason = reason;
  }
}

/** `1.5 MB`-style size for messages (decimal units). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} bytes`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? Math.round(v) : Number(v.toPrecision(3))} ${units[u]}`;
}

function assertLimit(maxBytes: number): void {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new AppError('INVALID_ARGUMENT', 'maxBytes must be a non-negative integer', { userMessage: 'Internal error: an invalid size limit was given for a download.' });
}

/** The `Content-Length` header as a number, when present and well formed. */
function declaredLength(res: Response): number | undefined {
  const h = res.headers.get('content-length');
  if (h === null || !/^\d{1,16}$/.test(h.trim())) return undefined;
  return Number(h.trim());
}

/** Cancels the rest of a body without waiting (the connection is dropped; errors are irrelevant). */
function drop(reader: ReadableStreamDefaultReader<Uint8Array> | undefined, res: Response): void {
  if (reader) reader.cancel().catch(() => undefined);
  else if (res.body && !res.bodyUsed) res.body.cancel().catch(() => undefined);
}

/**
 * Reads the whole body, at most `maxBytes` of it.
 * @param what names the body in messages ("chunk metadata of P0_0"); must not contain secrets
 * @throws BodyLimitError (code `opts.code`, default PROTOCOL_VIOLATION) past the limit; stream
 *         errors (network, abort) propagate unchanged so callers can classify them
 */
export async function readBodyLimited(res: Response, maxBytes: number, what: string, opts: ReadLimitedOptions = {}): Promise<Uint8Array> {
  assertLimit(maxBytes);
  const declared = declaredLength(res);
  if (declared !== undefined && declared > maxBytes) {
    drop(undefined, res);
    throw new BodyLimitError(what, maxBytes, 'too-large', declared, opts);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  // Collect the pieces and join them once (a single piece is returned as is).
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      drop(reader, res);
      throw new BodyLimitError(what, maxBytes, 'too-large', total, opts);
    }
    parts.push(value);
  }
  if (parts.length === 1 && parts[0].buffer instanceof ArrayBuffer && parts[0].byteOffset === 0 && parts[0].byteLength === parts[0].buffer.byteLength) {
    return parts[0];
  }
  return concatBytes(parts);
}

/**
 * Reads a body of exactly `target.byteLength` bytes into `target` (no intermediate copy of the
 * whole body). Used when the size is known in advance, e.g. from MictlanX chunk metadata.
 * @throws BodyLimitError when the body is longer or shorter than `target`
 */
export async function readBodyInto(res: Response, target: Uint8Array, what: string, opts: ReadLimitedOptions = {}): Promise<void> {
  const want = target.byteLength;
  const declared = declaredLength(res);
  if (declared !== undefined && declared !== want) {
    drop(undefined, res);
    throw new BodyLimitError(what, want, declared > want ? 'too-large' : 'too-short', declared, opts);
  }
  let at = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.byteLength > want - at) {
        drop(reader, res);
        throw new BodyLimitError(what, want, 'too-large', at + value.byteLength, opts);
      }
      target.set(value, at);
      at += value.byteLength;
    }
  }
  if (at !== want) throw new BodyLimitError(what, want, 'too-short', at, opts);
}

/**
 * Reads at most `maxBytes` and reports whether more was cut off (never throws for size). For
 * error bodies, which are only shown in messages.
 */
export async function readBodyPrefix(res: Response, maxBytes: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  assertLimit(maxBytes);
  if (!res.body) return { bytes: new Uint8Array(0), truncated: false };
  const reader = res.body.getReader();
  const out = new Uint8Array(maxBytes);
  let at = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { bytes: out.subarray(0, at), truncated: false };
    const room = maxBytes - at;
    out.set(value.byteLength > room ? value.subarray(0, room) : value, at);
    at += Math.min(room, value.byteLength);
    if (value.byteLength > room) {
      drop(reader, res);
      return { bytes: out.subarray(0, at), truncated: true };
    }
  }
}

/** Reads the body as UTF-8 text (invalid sequences become U+FFFD), at most `maxBytes` bytes. */
export async function readTextLimited(res: Response, maxBytes: number, what: string, opts: ReadLimitedOptions = {}): Promise<string> {
  return new TextDecoder().decode(await readBodyLimited(res, maxBytes, what, opts));
}

/**
 * Reads and parses a JSON body of at most `maxBytes` bytes.
 * @throws BodyLimitError past the limit; AppError (code `opts.code`, default PROTOCOL_VIOLATION)
 *         when the body is not JSON
 */
export async function readJsonLimited(res: Response, maxBytes: number, what: string, opts: ReadLimitedOptions = {}): Promise<unknown> {
  const value = tryParseJson(await readTextLimited(res, maxBytes, what, opts));
  if (value === undefined) {
    throw new AppError(opts.code ?? 'PROTOCOL_VIOLATION', `${what}: the response body is not JSON`, {
      userMessage: `The server's answer for ${what} is not valid JSON. The server may be misconfigured or not the one you meant: check its address in Settings.`,
      details: { what },
    });
  }
  return value;
}
