/**
 * @module headless/keys/file-store
 * The headless Data Owner's keys (spec/crypto.md §2.2, §5.1, §5.5; D4, D5):
 *
 * - **`KEYS_PATH/rory-keys.json`** holds every long-lived key, encrypted at rest with a passphrase
 *   (`RORY_KEYS_PASSPHRASE` or `RORY_KEYS_PASSPHRASE_FILE`). The file IS a browser key backup
 *   (lib/keystore/backup.ts: PBKDF2-SHA-256 600 000 iterations → AES-256-GCM, versioned JSON
 *   envelope), so the same file is imported on the browser's Keys page, and a backup exported
 *   there is a valid headless key store. In memory the keys live in lib/'s own `KeyStore` (secret
 *   material wrapped under a non-extractable AES-GCM key); every change rewrites the file
 *   atomically (temporary file, mode 0600, then rename).
 * - Without a passphrase and without a key file, keys are kept in memory only (a warning says so);
 *   with a key file and no passphrase, opening fails with what to set.
 * - **Layering** for jobs: CKKS key sets are long-lived (like upstream's `KEYS_PATH` files, and
 *   slow to generate) and go to the file store; Liu keys and FDHOPE keys a job creates are
 *   per-job, kept in memory and deleted when the job ends (a fresh Liu key per job: D5).
 * - Two processes on one KEYS_PATH: before writing, keys another process added to the file are
 *   merged in (a key deleted by one process may come back from the other; run one per KEYS_PATH
 *   when deleting).
 */
import { mkdir, readFile, rename, writeFile, chmod, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '@/lib/errors';
import { exportBackup, importBackup, MIN_PASSPHRASE_LENGTH, type BackupImportReport } from '@/lib/keystore/backup';
import { createMemoryKeyStore } from '@/lib/keystore/memory';
import type { CkksPublicBundle } from '@/lib/crypto/ckks';
import type { DeletionImpact, KeyMaterial, KeyRecord, KeyStore, NewKeyRecord, UsageRef } from '@/lib/keystore/types';

/** The key store file inside KEYS_PATH. */
export const KEY_FILE_NAME = 'rory-keys.json';

export interface FileKeyStore extends KeyStore {
  /** The file the keys are saved to. */
  readonly file: string;
  /** False when no passphrase was given: keys live in memory only. */
  readonly persistent: boolean;
  /** Imports a backup file's keys (browser export or another KEYS_PATH) and saves. */
  importBackupText(text: string, passphrase: string): Promise<BackupImportReport>;
}

export interface PassphraseSource {
  readonly passphrase?: string;
  readonly passphraseFile?: string;
}

/**
 * The passphrase from the environment or a file (trailing newline dropped).
 * @throws AppError INVALID_ARGUMENT when the file cannot be read or the passphrase is too short
 */
export async function resolvePassphrase(src: PassphraseSource): Promise<string | undefined> {
  let p = src.passphrase;
  if (p === undefined && src.passphraseFile) {
    try {
      p = (await readFile(src.passphraseFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (e) {
      throw new AppError('INVALID_ARGUMENT', `cannot read the passphrase file`, {
        cause: e,
        userMessage: `RORY_KEYS_PASSPHRASE_FILE (${src.passphraseFile}) cannot be read. Check the path and its permissions.`,
      });
    }
  }
  if (p !== undefined && [...p].length < MIN_PASSPHRASE_LENGTH) {
    throw new AppError('INVALID_ARGUMENT', 'key store passphrase too short', {
      userMessage: `The key store passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters (several unrelated words work well).`,
    });
  }
  return p;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes `text` to `path` through a temporary file in the same directory (mode 0600), then renames. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, path);
  await chmod(path, 0o600).catch(() => undefined);
}

/**
 * Opens (or creates) the key store in `dir`.
 * @throws AppError KEYSTORE_LOCKED (a key file but no passphrase), BACKUP_PASSPHRASE (wrong
 *   passphrase), BACKUP_INVALID (not a key file), KEYSTORE_FAILURE (directory not writable)
 */
export async function openFileKeyStore(dir: string, passphrase: string | undefined): Promise<FileKeyStore> {
  const file = join(dir, KEY_FILE_NAME);
  const inner = createMemoryKeyStore();
  const present = await exists(file);
  // What this process last read or wrote: if the file differs at the next save, another process
  // (a second `rory` on the same KEYS_PATH) added keys; they are merged in before writing.
  let known: string | undefined;
  if (present) {
    if (passphrase === undefined) {
      throw new AppError('KEYSTORE_LOCKED', 'key store file present but no passphrase', {
        userMessage: `${file} holds encrypted keys. Set RORY_KEYS_PASSPHRASE (or RORY_KEYS_PASSPHRASE_FILE with the path of a file that holds it) and start again.`,
      });
    }
    known = await readFile(file, 'utf8');
    await importBackup(inner, known, passphrase);
  }
  let tail: Promise<unknown> = Promise.resolve();
  const save = async (): Promise<void> => {
    if (passphrase === undefined) return;
    const next = tail.then(async () => {
      try {
        const now = (await exists(file)) ? await readFile(file, 'utf8') : undefined;
        if (now !== undefined && now !== known) await importBackup(inner, now, passphrase);
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const text = await exportBackup(inner, passphrase);
        await writeAtomic(file, text);
        known = text;
      } catch (e) {
        if (e instanceof AppError) throw e;
        throw new AppError('KEYSTORE_FAILURE', 'cannot write the key store file', {
          cause: e,
          userMessage: `The keys could not be saved to ${file}. Check that KEYS_PATH exists and is writable.`,
        });
      }
    });
    tail = next.catch(() => undefined);
    return next;
  };
  const saved = async <T>(r: T): Promise<T> => {
    await save();
    return r;
  };
  return {
    file,
    persistent: passphrase !== undefined,
    list: () => inner.list(),
    get: (id) => inner.get(id),
    add: async (record: NewKeyRecord, material: KeyMaterial) => saved(await inner.add(record, material)),
    restore: async (record: KeyRecord, material: KeyMaterial) => saved(await inner.restore(record, material)),
    loadMaterial: (id) => inner.loadMaterial(id),
    loadPublicBundle: (id) => inner.loadPublicBundle(id),
    rename: async (id, label) => saved(await inner.rename(id, label)),
    addUsage: async (id, ref) => saved(await inner.addUsage(id, ref)),
    removeUsage: async (id, ref) => saved(await inner.removeUsage(id, ref)),
    deletionImpact: (id) => inner.deletionImpact(id),
    delete: async (id) => saved(await inner.delete(id)),
    importBackupText: async (text, pass) => saved(await importBackup(inner, text, pass)),
  };
}

export interface LayeredKeyStore extends KeyStore {
  /** Deletes the per-job keys (Liu, FDHOPE) a job created; returns their ids. */
  dropJobKeys(jobId: string): Promise<string[]>;
}

/**
 * Long-lived CKKS key sets in `persistent`, per-job Liu and FDHOPE keys in memory (module doc).
 * Reads look in both; a key is changed where it lives.
 */
export function layeredKeyStore(persistent: KeyStore): LayeredKeyStore {
  const ephemeral = createMemoryKeyStore();
  const where = async (id: string): Promise<KeyStore> => ((await ephemeral.get(id)) ? ephemeral : persistent);
  return {
    list: async () => [...(await ephemeral.list()), ...(await persistent.list())].sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id)),
    get: async (id) => (await ephemeral.get(id)) ?? persistent.get(id),
    add: (record: NewKeyRecord, material: KeyMaterial) => (record.scheme === 'ckks' ? persistent : ephemeral).add(record, material),
    restore: (record: KeyRecord, material: KeyMaterial) => persistent.restore(record, material),
    loadMaterial: async (id): Promise<KeyMaterial> => (await where(id)).loadMaterial(id),
    loadPublicBundle: async (id): Promise<CkksPublicBundle> => (await where(id)).loadPublicBundle(id),
    rename: async (id, label) => (await where(id)).rename(id, label),
    addUsage: async (id, ref: UsageRef) => (await where(id)).addUsage(id, ref),
    removeUsage: async (id, ref) => (await where(id)).removeUsage(id, ref),
    deletionImpact: async (id): Promise<DeletionImpact> => (await where(id)).deletionImpact(id),
    delete: async (id) => (await where(id)).delete(id),
    async dropJobKeys(jobId) {
      const dropped: string[] = [];
      for (const r of await ephemeral.list()) {
        if (r.usedBy.some((u) => u.kind === 'job' && u.id === jobId)) {
          await ephemeral.delete(r.id);
          dropped.push(r.id);
        }
      }
      return dropped;
    },
  };
}
