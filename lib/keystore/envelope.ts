/**
 * @module keystore/envelope
 * Wrapping of secret key material at rest (style.md: "a versioned envelope for stored bytes").
 *
 * Every record's secret bytes are encrypted with AES-256-GCM under one key-encryption key (KEK)
 * that is generated once per browser profile as a NON-EXTRACTABLE WebCrypto key and kept in
 * IndexedDB next to the records (CryptoKey objects are structured-cloneable). Script can use the
 * KEK but never read its bytes, so secret material never sits in IndexedDB in the clear: a dump
 * of the records (devtools, a script exporting the store, a bug that logs a record) shows only
 * ciphertext. The additional data binds each envelope to its record id and scheme, so swapping
 * envelopes between records, or any bit flip, is detected on unwrap.
 *
 * Limits, stated plainly: the browser itself keeps the KEK's bytes in the profile directory, so
 * someone who copies the whole profile from disk can recover the keys; and script running in this
 * origin can ask the KEK to decrypt (that is how the app uses the keys). This is at-rest hygiene
 * and tamper detection, not a lock screen. Passphrase-protected backups (backup.ts) are the
 * format meant to leave the browser.
 */
import { AppError } from '../errors';

export const ENVELOPE_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A wrapped secret as stored in IndexedDB (structured-cloneable; version 1). */
export interface WrappedSecret {
  readonly v: typeof ENVELOPE_VERSION;
  readonly alg: 'AES-GCM';
  readonly iv: Uint8Array<ArrayBuffer>;
  readonly ct: Uint8Array<ArrayBuffer>;
}

/** Generates the key-encryption key: AES-256-GCM, non-extractable, encrypt/decrypt only. */
export function createWrappingKey(): Promise<CryptoKey> {
  return crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

/** True when `k` is usable as our KEK (an AES-GCM CryptoKey that cannot be exported). */
export function isWrappingKey(k: unknown): k is CryptoKey {
  return (
    typeof CryptoKey !== 'undefined' &&
    k instanceof CryptoKey &&
    k.algorithm.name === 'AES-GCM' &&
    !k.extractable &&
    k.usages.includes('encrypt') &&
    k.usages.includes('decrypt')
  );
}

/** Additional authenticated data for a record's envelope. */
export function recordAad(id: string, scheme: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`rory-keystore/v${ENVELOPE_VERSION}/${scheme}/${id}`);
}

export async function wrapSecret(kek: CryptoKey, plaintext: Uint8Array, aad: Uint8Array<ArrayBuffer>): Promise<WrappedSecret> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad }, kek, toArrayBufferView(plaintext));
  return { v: ENVELOPE_VERSION, alg: 'AES-GCM', iv, ct: new Uint8Array(ct) };
}

/**
 * Unwraps an envelope written by {@link wrapSecret}.
 * @throws AppError KEYSTORE_FAILURE when the envelope is malformed, of an unknown version, was
 *   modified, belongs to another record, or was wrapped under another KEK.
 */
export async function unwrapSecret(kek: CryptoKey, envelope: unknown, aad: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  if (!isWrappedSecret(envelope)) {
    throw corrupted(
      typeof envelope === 'object' && envelope !== null && 'v' in envelope && (envelope as { v: unknown }).v !== ENVELOPE_VERSION
        ? 'stored key envelope has an unknown version'
        : 'stored key envelope is malformed',
    );
  }
  try {
    const pt = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: envelope.iv, additionalData: aad }, kek, envelope.ct);
    return new Uint8Array(pt);
  } catch (e) {
    throw corrupted('stored key envelope failed authentication (modified, moved between records, or wrapped under another key)', e);
  }
}

function isWrappedSecret(e: unknown): e is WrappedSecret {
  if (typeof e !== 'object' || e === null) return false;
  const w = e as Partial<WrappedSecret>;
  return (
    w.v === ENVELOPE_VERSION &&
    w.alg === 'AES-GCM' &&
    w.iv instanceof Uint8Array &&
    w.iv.byteLength === IV_BYTES &&
    w.ct instanceof Uint8Array &&
    w.ct.byteLength >= TAG_BYTES
  );
}

function corrupted(message: string, cause?: unknown): AppError {
  return new AppError('KEYSTORE_FAILURE', message, {
    cause,
    userMessage:
      'A stored key could not be unlocked: its data in this browser is damaged or was changed. Restore it from a key backup, or delete it.',
  });
}

/** WebCrypto wants views over plain ArrayBuffers; copy only when the view is over something else. */
export function toArrayBufferView(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b.buffer instanceof ArrayBuffer ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b);
}
