/**
 * @module keystore/types
 * Key records and the `KeyStore` interface (spec/crypto.md §2.2 Liu keys, §3 FDHOPE keys per
 * dataset, §5.1 and §5.5 CKKS key sets; decisions D4 and D5).
 *
 * A record is metadata only (id, scheme, parameters, label, dates, what uses the key) and is safe
 * to show in the UI and keep in the query cache. Key material is a separate value that the store
 * hands out on request, to be passed straight to the crypto engine (workers/), never to React
 * state, the query cache, URLs or logs.
 */
import type { CkksPublicBundle } from '../crypto/ckks';
import type { FdhopeKey } from '../crypto/fdhope';
import type { LiuSecretKey } from '../crypto/liu';

export const KEY_SCHEMES = ['liu', 'fdhope', 'ckks'] as const;
export type KeyScheme = (typeof KEY_SCHEMES)[number];

/** Something that needs a key to decrypt (or, for FDHOPE, to keep encrypting consistently). */
export interface UsageRef {
  readonly kind: 'job' | 'dataset';
  readonly id: string;
  /** Human-readable name shown in the delete dialog. */
  readonly label?: string;
}

/** How the key came into this browser. */
export type KeyOrigin = 'generated' | 'backup' | 'pyfhel';

interface KeyRecordBase {
  readonly id: string;
  readonly scheme: KeyScheme;
  readonly label: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly origin: KeyOrigin;
  readonly usedBy: readonly UsageRef[];
}

export interface LiuKeyParams {
  readonly level: 128 | 192 | 256;
  readonly m: number;
  readonly nbits: number;
}

export interface FdhopeKeyParams {
  /** The dataset whose UDM / DM the key was fitted to. */
  readonly datasetId?: string;
  /** Number of message intervals (3..8). */
  readonly intervals: number;
}

export interface CkksKeyParams {
  /** Parameter set name, e.g. `default-128` (spec/crypto.md §5.1). */
  readonly parameterSet: string;
  readonly polyModulusDegree: number;
  readonly coeffModulusBits: readonly number[];
  readonly scaleBits: number;
  readonly hasRelinKeys: boolean;
  readonly hasGaloisKeys: boolean;
  /** Rotation steps the Galois keys cover, when known (generated key sets; imported ones may not say). */
  readonly galoisSteps?: readonly number[];
}

export interface LiuKeyRecord extends KeyRecordBase {
  readonly scheme: 'liu';
  readonly params: LiuKeyParams;
}
export interface FdhopeKeyRecord extends KeyRecordBase {
  readonly scheme: 'fdhope';
  readonly params: FdhopeKeyParams;
}
export interface CkksKeyRecord extends KeyRecordBase {
  readonly scheme: 'ckks';
  readonly params: CkksKeyParams;
}
export type KeyRecord = LiuKeyRecord | FdhopeKeyRecord | CkksKeyRecord;

/** Key material as the crypto engine consumes it. Structured-cloneable (crosses into workers). */
export interface LiuMaterial {
  readonly scheme: 'liu';
  readonly key: LiuSecretKey;
}
export interface FdhopeMaterial {
  readonly scheme: 'fdhope';
  readonly key: FdhopeKey;
}
export interface CkksMaterial {
  readonly scheme: 'ckks';
  /** Context, public, relinearization and Galois keys: what a Rory worker may receive (D4). */
  readonly publicBundle: CkksPublicBundle;
  /** SEAL-serialised secret key. Never leaves this browser except inside a passphrase backup. */
  readonly secretKey: Uint8Array;
}
export type KeyMaterial = LiuMaterial | FdhopeMaterial | CkksMaterial;

/** Input for a new key; the store assigns `id` and `createdAt` unless restoring a backup. */
export type NewKeyRecord = DistributiveOmit<KeyRecord, 'id' | 'createdAt' | 'usedBy'> & { readonly usedBy?: readonly UsageRef[] };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What deleting a key breaks. */
export interface DeletionImpact {
  readonly record: KeyRecord;
  /** Jobs and datasets whose ciphertexts can no longer be decrypted (or, for FDHOPE, extended). */
  readonly undecryptable: readonly UsageRef[];
  /** One sentence for the confirmation dialog. */
  readonly summary: string;
}

export interface KeyStore {
  /** Every record, newest first. Metadata only. */
  list(): Promise<KeyRecord[]>;
  get(id: string): Promise<KeyRecord | undefined>;
  /** Stores a new key (wrapped at rest) and returns its record. */
  add(record: NewKeyRecord, material: KeyMaterial): Promise<KeyRecord>;
  /**
   * Stores a record with its existing id and date (backup import). Returns 'exists' and leaves the
   * store unchanged when a key with that id is already present.
   */
  restore(record: KeyRecord, material: KeyMaterial): Promise<'added' | 'exists'>;
  /**
   * Unwraps a key's material for the crypto engine.
   * @throws AppError INVALID_KEY (no such key), KEYSTORE_FAILURE (damaged or modified at rest).
   */
  loadMaterial(id: string): Promise<KeyMaterial>;
  /** The public part of a CKKS key set (no unwrapping). @throws AppError INVALID_KEY */
  loadPublicBundle(id: string): Promise<CkksPublicBundle>;
  rename(id: string, label: string): Promise<KeyRecord>;
  /** Records that a job or dataset depends on the key (idempotent). */
  addUsage(id: string, ref: UsageRef): Promise<KeyRecord>;
  removeUsage(id: string, ref: Pick<UsageRef, 'kind' | 'id'>): Promise<KeyRecord>;
  /** What {@link delete} would make undecryptable, for the confirmation dialog. */
  deletionImpact(id: string): Promise<DeletionImpact>;
  /** Deletes the key and its material; returns what became undecryptable. */
  delete(id: string): Promise<DeletionImpact>;
}
