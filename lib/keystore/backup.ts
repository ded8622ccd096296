/**
 * @module keystore/backup
 * Passphrase-protected key backups, WebCrypto only. The file is a versioned JSON envelope:
 * ```json
 * { "format": "rory-keys-backup", "version": 1,
 *   "kdf": { "name": "PBKDF2", "hash": "SHA-256", "iterations": 600000, "salt": "<base64, 16 bytes>" },
 *   "cipher": { "name": "AES-GCM", "iv": "<base64, 12 bytes>" },
 *   "ciphertext": "<base64>" }
 * ```
 * The AES-256-GCM key is PBKDF2-SHA-256 of the NFC-normalised passphrase; the envelope's header
 * fields are the GCM additional data, so editing the iteration count or salt is detected too.
 * The plaintext is a keystore/codec "parts" container: the records (metadata) and, per key, the
 * encoded secret and public material. Labels and usage lists are inside the ciphertext.
 *
 * Errors: a file that is not such an envelope → BACKUP_INVALID; an envelope that fails
 * authentication → BACKUP_PASSPHRASE (AES-GCM cannot tell a wrong passphrase from a modified
 * file; the message says both); authentic but malformed content → BACKUP_INVALID.
 */
import { AppError } from '../errors';
import { tryParseJson } from '../json';
import { encodeParts, decodeParts, fromBase64, toBase64 } from './codec';
import { toArrayBufferView } from './envelope';
import { decodeMaterial, encodeMaterial } from './material';
import { isKeyRecord } from './store';
import type { KeyRecord, KeyStore } from './types';

export const BACKUP_FORMAT = 'rory-keys-backup';
export const BACKUP_VERSION = 1;
/** OWASP's 2023 recommendation for PBKDF2-HMAC-SHA-256. */
export const BACKUP_PBKDF2_ITERATIONS = 600_000;
const MAX_IMPORT_ITERATIONS = 10_000_000;
const SALT_BYTES = 16;
const IV_BYTES = 12;
export const MIN_PASSPHRASE_LENGTH = 10;
const PAYLOAD_FORMAT = 'rory-keys-backup-payload';

export interface BackupEnvelope {
  readonly format: typeof BACKUP_FORMAT;
  readonly version: typeof BACKUP_VERSION;
  readonly kdf: { readonly name: 'PBKDF2'; readonly hash: 'SHA-256'; readonly iterations: number; readonly salt: string };
  readonly cipher: { readonly name: 'AES-GCM'; readonly iv: string };
  readonly ciphertext: string;
}

export interface BackupImportReport {
  /** Keys added to the store. */
  readonly added: readonly KeyRecord[];
  /** Keys already present (same id); left unchanged. */
  readonly skipped: readonly KeyRecord[];
}

/**
 * Exports keys (all, or `ids`) as a passphrase-protected backup file (JSON text).
 * @throws AppError INVALID_ARGUMENT for a short passphrase; INVALID_KEY for an unknown id;
 *   KEYSTORE_FAILURE if a stored key cannot be unwrapped.
 */
export async function exportBackup(
  store: KeyStore,
  passphrase: string,
  opts: { ids?: readonly string[]; iterations?: number } = {},
): Promise<string> {
  assertPassphrase(passphrase);
  const iterations = opts.iterations ?? BACKUP_PBKDF2_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < BACKUP_PBKDF2_ITERATIONS) {
    throw new AppError('INVALID_ARGUMENT', `iterations must be an integer ≥ ${BACKUP_PBKDF2_ITERATIONS}`);
  }
  const all = await store.list();
  const records = opts.ids ? opts.ids.map((id) => all.find((r) => r.id === id) ?? missing(id)) : all;
  const blobs: Record<string, Uint8Array> = {};
  const keys: { record: KeyRecord; secret: string; public?: string }[] = [];
  for (const [i, record] of records.entries()) {
    const { secret, publicPart } = encodeMaterial(await store.loadMaterial(record.id));
    blobs[`${i}/secret`] = secret;
    if (publicPart) blobs[`${i}/public`] = publicPart;
    keys.push({ record, secret: `${i}/secret`, ...(publicPart ? { public: `${i}/public` } : {}) });
  }
  const plaintext = encodeParts({ format: PAYLOAD_FORMAT, version: BACKUP_VERSION, exportedAt: Date.now(), keys }, blobs);

  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const header = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    kdf: { name: 'PBKDF2', hash: 'SHA-256', iterations, salt: toBase64(salt) },
    cipher: { name: 'AES-GCM', iv: toBase64(iv) },
  } as const;
  const key = await deriveKey(passphrase, salt, iterations);
  const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: headerAad(header) }, key, plaintext);
  const envelope: BackupEnvelope = { ...header, ciphertext: toBase64(new Uint8Array(ct)) };
  return JSON.stringify(envelope, null, 1);
}

/**
 * Checks that `text` is a backup envelope this version can read (no passphrase needed).
 * @throws AppError BACKUP_INVALID with a message saying what is wrong.
 */
export function parseBackup(text: string): BackupEnvelope {
  const obj = tryParseJson(text);
  if (obj === undefined) throw invalid('backup is not JSON');
  if (typeof obj !== 'object' || obj === null) throw invalid('backup is not a JSON object');
  const e = obj as Partial<BackupEnvelope>;
  if (e.format !== BACKUP_FORMAT) throw invalid('not a rory-keys-backup file');
  if (e.version !== BACKUP_VERSION) {
    throw invalid(`unsupported backup version ${String(e.version)}`, 'This key backup was written by a newer or unknown version of the app and cannot be read here.');
  }
  const kdf = e.kdf;
  if (
    !kdf ||
    kdf.name !== 'PBKDF2' ||
    kdf.hash !== 'SHA-256' ||
    !Number.isInteger(kdf.iterations) ||
    kdf.iterations < BACKUP_PBKDF2_ITERATIONS ||
    kdf.iterations > MAX_IMPORT_ITERATIONS ||
    fromBase64(kdf.salt)?.byteLength !== SALT_BYTES
  ) {
    throw invalid('backup kdf block is missing or unsupported');
  }
  if (!e.cipher || e.cipher.name !== 'AES-GCM' || fromBase64(e.cipher.iv)?.byteLength !== IV_BYTES) {
    throw invalid('backup cipher block is missing or unsupported');
  }
  const ct = typeof e.ciphertext === 'string' ? fromBase64(e.ciphertext) : null;
  if (!ct || ct.byteLength < 16) throw invalid('backup ciphertext is missing or not base64');
  return e as BackupEnvelope;
}

/**
 * Decrypts a backup and adds its keys to `store` (keys already present are skipped).
 * @throws AppError BACKUP_INVALID (not a backup, or damaged content), BACKUP_PASSPHRASE (wrong
 *   passphrase or modified file).
 */
export async function importBackup(store: KeyStore, text: string, passphrase: string): Promise<BackupImportReport> {
  const envelope = parseBackup(text);
  const key = await deriveKey(passphrase, fromBase64(envelope.kdf.salt)!, envelope.kdf.iterations);
  let plaintext: Uint8Array;
  try {
    plaintext = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: fromBase64(envelope.cipher.iv)!, additionalData: headerAad(envelope) },
        key,
        fromBase64(envelope.ciphertext)!,
      ),
    );
  } catch {
    throw new AppError('BACKUP_PASSPHRASE', 'backup authentication failed', {
      userMessage:
        'Wrong passphrase: this key backup could not be unlocked with it. Passphrases are case-sensitive; check it and try again. (If you are sure it is right, the file was modified after export.)',
    });
  }
  const entries = readPayload(plaintext);
  const added: KeyRecord[] = [];
  const skipped: KeyRecord[] = [];
  for (const { record, material } of entries) {
    const outcome = await store.restore(record, material);
    (outcome === 'added' ? added : skipped).push(record);
  }
  return { added, skipped };
}

function readPayload(plaintext: Uint8Array) {
  const parts = decodeParts(plaintext);
  const json = parts?.json as { format?: unknown; version?: unknown; keys?: unknown } | undefined;
  if (!parts || !json || json.format !== PAYLOAD_FORMAT || json.version !== BACKUP_VERSION || !Array.isArray(json.keys)) {
    throw invalid('backup payload is malformed');
  }
  return json.keys.map((k: unknown) => {
    const entry = k as { record?: unknown; secret?: unknown; public?: unknown };
    if (!isKeyRecord(entry.record) || typeof entry.secret !== 'string' || !(entry.secret in parts.blobs)) {
      throw invalid('backup payload has a malformed key entry');
    }
    const pub = typeof entry.public === 'string' ? parts.blobs[entry.public] : undefined;
    try {
      return { record: entry.record, material: decodeMaterial(entry.record.scheme, parts.blobs[entry.secret], pub) };
    } catch (e) {
      throw invalid(`backup key ${entry.record.id} has malformed material`, undefined, e);
    }
  });
}

async function deriveKey(passphrase: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

function headerAad(h: Pick<BackupEnvelope, 'format' | 'version' | 'kdf' | 'cipher'>): Uint8Array<ArrayBuffer> {
  return toArrayBufferView(
    new TextEncoder().encode(JSON.stringify([h.format, h.version, h.kdf.name, h.kdf.hash, h.kdf.iterations, h.kdf.salt, h.cipher.name, h.cipher.iv])),
  );
}

function assertPassphrase(p: string): void {
  if (typeof p !== 'string' || [...p].length < MIN_PASSPHRASE_LENGTH) {
    throw new AppError('INVALID_ARGUMENT', 'passphrase too short', {
      userMessage: `Choose a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters (several unrelated words work well).`,
    });
  }
}

function invalid(message: string, userMessage?: string, cause?: unknown): AppError {
  return new AppError('BACKUP_INVALID', message, {
    cause,
    userMessage: userMessage ?? 'This file is not a readable Rory key backup (it is damaged, truncated, or a different kind of file).',
  });
}

function missing(id: string): never {
  throw new AppError('INVALID_KEY', `no key with id ${id}`, { userMessage: 'A key selected for the backup is no longer in the key store.' });
}

export interface PassphraseStrength {
  /** 0 (unusable) … 4 (strong). */
  readonly score: 0 | 1 | 2 | 3 | 4;
  readonly label: 'too short' | 'weak' | 'fair' | 'good' | 'strong';
  readonly hint: string;
}

/**
 * A rough strength hint for the export dialog: estimated entropy from length and character
 * classes, penalising repeats and a few very common patterns. A hint, not a guarantee.
 */
export function passphraseStrength(p: string): PassphraseStrength {
  const chars = [...p];
  if (chars.length < MIN_PASSPHRASE_LENGTH) {
    return { score: 0, label: 'too short', hint: `Use at least ${MIN_PASSPHRASE_LENGTH} characters.` };
  }
  let pool = 0;
  if (/[a-z]/.test(p)) pool += 26;
  if (/[A-Z]/.test(p)) pool += 26;
  if (/[0-9]/.test(p)) pool += 10;
  if (/[^A-Za-z0-9]/.test(p)) pool += 33;
  const distinct = new Set(chars).size;
  let bits = Math.log2(Math.max(pool, 2)) * Math.min(chars.length, distinct * 2);
  if (/(password|passphrase|qwerty|123456|letmein|rory)/i.test(p)) bits -= 20;
  if (/^(.)\1+$/.test(p)) bits = 0;
  if (bits < 40) return { score: 1, label: 'weak', hint: 'Easy to guess. Add more unrelated words.' };
  if (bits < 60) return { score: 2, label: 'fair', hint: 'Could be stronger: add another word or two.' };
  if (bits < 80) return { score: 3, label: 'good', hint: 'Good. Store it somewhere safe: without it the backup cannot be opened.' };
  return { score: 4, label: 'strong', hint: 'Strong. Store it somewhere safe: without it the backup cannot be opened.' };
}
