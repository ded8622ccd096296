/**
 * @module keystore/store
 * The one `KeyStore` implementation, over a small key-value backend: IndexedDB in the browser
 * (idb.ts), a Map in tests (memory.ts). Both wrap secret material with AES-GCM under a
 * non-extractable key (envelope.ts), so tests exercise the same code the app runs.
 *
 * Layout of the backend:
 * | key          | value                                                      |
 * |--------------|------------------------------------------------------------|
 * | `kek:v1`     | the key-encryption CryptoKey (set once, atomically)        |
 * | `rec:<id>`   | KeyRecord (metadata only)                                  |
 * | `sec:<id>`   | WrappedSecret envelope of the encoded secret material      |
 * | `pub:<id>`   | encoded public material (CKKS only; not secret, not wrapped) |
 *
 * Mutations of one store instance are serialised, so a burst of usage updates never loses one.
 */
import { AppError, toAppError } from '../errors';
import { decodeMaterial, encodeMaterial, decodePublicBundle } from './material';
import { createWrappingKey, isWrappingKey, recordAad, unwrapSecret, wrapSecret } from './envelope';
import type { CkksPublicBundle } from '../crypto/ckks';
import type { DeletionImpact, KeyMaterial, KeyRecord, KeyStore, NewKeyRecord, UsageRef } from './types';
import { KEY_SCHEMES } from './types';
import { memberOf } from '../util/member-of';

/** The storage a key store needs. Values are structured-cloneable. */
export interface KvBackend {
  get(key: string): Promise<unknown>;
  getMany(keys: readonly string[]): Promise<unknown[]>;
  /** Writes all entries in one transaction. */
  setMany(entries: readonly (readonly [string, unknown])[]): Promise<void>;
  delMany(keys: readonly string[]): Promise<void>;
  keys(): Promise<string[]>;
  /** Stores `value` under `key` unless something is there; returns what is stored afterwards. Atomic. */
  setIfAbsent(key: string, value: unknown): Promise<unknown>;
}

const KEK_KEY = 'kek:v1';
const REC = 'rec:';
const SEC = 'sec:';
const PUB = 'pub:';
const MAX_LABEL = 120;

/** Options of a key store: `now` (epoch ms) dates new keys; tests inject a clock instead of sleeping. */
export interface KeyStoreOptions {
  readonly now?: () => number;
}

export function createKeyStore(backend: KvBackend, options: KeyStoreOptions = {}): KeyStore {
  const now = options.now ?? Date.now;
  let kekPromise: Promise<CryptoKey> | undefined;
  let tail: Promise<unknown> = Promise.resolve();

  const io = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof AppError) throw e;
      const err = toAppError(e, 'KEYSTORE_FAILURE');
      if (err.code !== 'KEYSTORE_FAILURE') throw err;
      throw new AppError('KEYSTORE_FAILURE', `key store ${what} failed: ${err.message}`, {
        cause: e,
        userMessage:
          'The key store in this browser could not be used (IndexedDB blocked or failing). Allow site storage for this page and reload.',
      });
    }
  };

  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => undefined);
    return next;
  };

  const kek = (): Promise<CryptoKey> =>
    (kekPromise ??= io('unlock', async () => {
      if (typeof globalThis.crypto?.subtle?.generateKey !== 'function') {
        throw new AppError('KEYSTORE_FAILURE', 'WebCrypto (crypto.subtle) is unavailable: not a secure context', {
          userMessage:
            'Keys cannot be protected here: the browser only offers WebCrypto on https:// pages or on localhost. Open the app over HTTPS or at 127.0.0.1.',
        });
      }
      const stored = await backend.setIfAbsent(KEK_KEY, await createWrappingKey());
      if (!isWrappingKey(stored)) {
        throw new AppError('KEYSTORE_FAILURE', 'the stored key-encryption key is not a non-extractable AES-GCM key', {
          userMessage: 'The key store in this browser is damaged. Restore your keys from a backup after clearing site data.',
        });
      }
      return stored;
    }).catch((e: unknown) => {
      kekPromise = undefined;
      throw e;
    }));

  const readRecord = async (id: string): Promise<KeyRecord | undefined> => {
    const r = await io('read', () => backend.get(REC + id));
    return isKeyRecord(r) ? r : undefined;
  };

  const requireRecord = async (id: string): Promise<KeyRecord> => {
    const r = await readRecord(id);
    if (!r) throw missingKey(id);
    return r;
  };

  const write = async (record: KeyRecord, material: KeyMaterial): Promise<void> => {
    if (material.scheme !== record.scheme) {
      throw new AppError('INVALID_ARGUMENT', `material scheme ${material.scheme} does not match record scheme ${record.scheme}`);
    }
    const { secret, publicPart } = encodeMaterial(material);
    const envelope = await wrapSecret(await kek(), secret, recordAad(record.id, record.scheme));
    const entries: [string, unknown][] = [
      [REC + record.id, record],
      [SEC + record.id, envelope],
    ];
    if (publicPart) entries.push([PUB + record.id, publicPart]);
    await io('write', () => backend.setMany(entries));
  };

  const updateRecord = (id: string, fn: (r: KeyRecord) => KeyRecord) =>
    serial(async () => {
      const next = fn(await requireRecord(id));
      await io('write', () => backend.setMany([[REC + id, next]]));
      return next;
    });

  const impact = (record: KeyRecord): DeletionImpact => ({
    record,
    undecryptable: record.usedBy,
    summary: deletionSummary(record),
  });

  return {
    list: () =>
      io('list', async () => {
        const ids = (await backend.keys()).filter((k) => k.startsWith(REC));
        const records = (await backend.getMany(ids)).filter(isKeyRecord);
        return records.sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
      }),

    get: readRecord,

    add: (input: NewKeyRecord, material: KeyMaterial) =>
      serial(async () => {
        const record = freezeRecord({
          ...input,
          id: newKeyId(input.scheme),
          createdAt: now(),
          label: cleanLabel(input.label),
          usedBy: dedupeUsage(input.usedBy ?? []),
        } as KeyRecord);
        await write(record, material);
        return record;
      }),

    restore: (record: KeyRecord, material: KeyMaterial) =>
      serial(async () => {
        if (!isKeyRecord(record)) throw new AppError('INVALID_ARGUMENT', 'not a key record');
        if (await readRecord(record.id)) return 'exists' as const;
        await write(freezeRecord({ ...record, label: cleanLabel(record.label), usedBy: dedupeUsage(record.usedBy) }), material);
        return 'added' as const;
      }),

    loadMaterial: async (id: string) => {
      const record = await requireRecord(id);
      const [envelope, publicPart] = await io('read', () => backend.getMany([SEC + id, PUB + id]));
      const secret = await unwrapSecret(await kek(), envelope, recordAad(record.id, record.scheme));
      return decodeMaterial(record.scheme, secret, publicPart instanceof Uint8Array ? publicPart : undefined);
    },

    loadPublicBundle: async (id: string): Promise<CkksPublicBundle> => {
      const record = await requireRecord(id);
      if (record.scheme !== 'ckks') {
        throw new AppError('INVALID_ARGUMENT', `key ${id} is a ${record.scheme} key, not CKKS`, {
          userMessage: 'Only CKKS keys have a public part to export.',
        });
      }
      const publicPart = await io('read', () => backend.get(PUB + id));
      if (!(publicPart instanceof Uint8Array)) throw damaged();
      return decodePublicBundle(publicPart);
    },

    rename: (id: string, label: string) => updateRecord(id, (r) => freezeRecord({ ...r, label: cleanLabel(label) })),

    addUsage: (id: string, ref: UsageRef) =>
      updateRecord(id, (r) => freezeRecord({ ...r, usedBy: dedupeUsage([...r.usedBy.filter((u) => !sameUsage(u, ref)), ref]) })),

    removeUsage: (id: string, ref: Pick<UsageRef, 'kind' | 'id'>) =>
      updateRecord(id, (r) => freezeRecord({ ...r, usedBy: r.usedBy.filter((u) => !sameUsage(u, ref)) })),

    deletionImpact: async (id: string) => impact(await requireRecord(id)),

    delete: (id: string) =>
      serial(async () => {
        const record = await requireRecord(id);
        await io('delete', () => backend.delMany([REC + id, SEC + id, PUB + id]));
        return impact(record);
      }),
  };
}

function deletionSummary(r: KeyRecord): string {
  if (r.usedBy.length === 0) return 'No job or dataset in this browser uses this key.';
  const names = r.usedBy.map(describeUsage).join(', ');
  return r.scheme === 'fdhope'
    ? `These can no longer be continued or re-encrypted consistently: ${names}.`
    : `Results of these can no longer be decrypted: ${names}.`;
}

export function describeUsage(u: UsageRef): string {
  return `${u.kind} ${u.label ? `“${u.label}”` : u.id}`;
}

function sameUsage(a: Pick<UsageRef, 'kind' | 'id'>, b: Pick<UsageRef, 'kind' | 'id'>): boolean {
  return a.kind === b.kind && a.id === b.id;
}

function dedupeUsage(refs: readonly UsageRef[]): UsageRef[] {
  const out: UsageRef[] = [];
  for (const r of refs) {
    if (!isUsageRef(r)) throw new AppError('INVALID_ARGUMENT', 'usage references must be {kind: job|dataset, id}');
    if (!out.some((o) => sameUsage(o, r))) out.push(Object.freeze({ ...r }));
  }
  return out;
}

function cleanLabel(label: string): string {
  const l = String(label ?? '').trim().slice(0, MAX_LABEL);
  return l === '' ? 'Unnamed key' : l;
}

function freezeRecord<R extends KeyRecord>(r: R): R {
  const copy: KeyRecord = { ...r, params: Object.freeze({ ...r.params }), usedBy: Object.freeze([...r.usedBy]) } as KeyRecord;
  return Object.freeze(copy) as R;
}

function newKeyId(scheme: string): string {
  return `${scheme}-${crypto.randomUUID()}`;
}

function missingKey(id: string): AppError {
  return new AppError('INVALID_KEY', `no key with id ${id}`, {
    userMessage: 'That key is no longer in this browser’s key store. Import it from a backup or choose another key.',
  });
}

function damaged(): AppError {
  return new AppError('KEYSTORE_FAILURE', 'public key material is missing or malformed', {
    userMessage: 'A stored key is damaged in this browser. Restore it from a key backup, or delete it.',
  });
}

const isKeyScheme = memberOf(KEY_SCHEMES);

function isUsageRef(u: unknown): u is UsageRef {
  if (typeof u !== 'object' || u === null) return false;
  const r = u as UsageRef;
  return (r.kind === 'job' || r.kind === 'dataset') && typeof r.id === 'string' && r.id !== '' && (r.label === undefined || typeof r.label === 'string');
}

/** Structural check of a stored or imported record (metadata only). */
export function isKeyRecord(r: unknown): r is KeyRecord {
  if (typeof r !== 'object' || r === null) return false;
  const k = r as KeyRecord;
  return (
    typeof k.id === 'string' &&
    /^[A-Za-z0-9._:-]{1,200}$/.test(k.id) &&
    isKeyScheme(k.scheme) &&
    typeof k.label === 'string' &&
    typeof k.createdAt === 'number' &&
    Number.isFinite(k.createdAt) &&
    (k.origin === 'generated' || k.origin === 'backup' || k.origin === 'pyfhel') &&
    Array.isArray(k.usedBy) &&
    k.usedBy.every(isUsageRef) &&
    typeof k.params === 'object' &&
    k.params !== null
  );
}
