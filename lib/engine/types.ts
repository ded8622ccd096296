/**
 * @module engine/types
 * The one crypto engine interface of the app (spec/crypto.md §2.3–2.4 Liu, §3 FDHOPE, §5.2 and
 * §5.4 CKKS; style.md rule 8). Runners, the key pages, the headless service and benchmarks use it;
 * two implementations exist:
 * - the Web Worker pool (workers/crypto-client.ts) in the browser: chunks run in parallel workers;
 * - the in-process engine (`./in-process.ts`) for Node (tests, benches, the local cloud, CLI).
 *
 * Keys are named by their key-store id (`KeyId`), never passed as material: each implementation
 * loads the material from its key store inside the realm that computes (a crypto Web Worker in the
 * browser), so the page never holds secret key material. Keys are also created, imported and
 * backed up through the engine for the same reason.
 *
 * Layout conventions (flat Float64Array, C order, no nested arrays):
 * - Liu: `n` plaintext values ↔ `n·m` ciphertext components, each value's m components contiguous.
 * - FDHOPE: `n` values ↔ `n` ciphertexts.
 * - CKKS: an n×cols row-major matrix ↔ n serialized ciphertexts (one per row, slots 0..cols−1).
 */
import type { CkksParams, CkksPublicBundle } from '../crypto/ckks';
import type { LiuLevel, LiuRoundOptions } from '../crypto/liu';
import type { BackupImportReport } from '../keystore/backup';
import type { KeyFileNames, NamedFile } from '../keystore/pyfhel';
import type { CkksKeyRecord, FdhopeKeyRecord, LiuKeyRecord, UsageRef } from '../keystore/types';
import type { Progress } from './chunks';

export type { Progress } from './chunks';

/** A key-store id. The engine resolves it to material where the computation runs. */
export type KeyId = string;

export interface CallOptions {
  /** Aborting rejects with ABORTED; in the browser it also terminates the workers doing the work. */
  readonly signal?: AbortSignal;
  /** Progress after each finished chunk (or stage, for key generation). */
  readonly onProgress?: (p: Progress) => void;
}

export interface LiuCallOptions extends CallOptions {
  /** Upstream `LIU_ROUND` / `LIU_DECIMALS`: round plaintexts before encryption and results after decryption. */
  readonly rounding?: LiuRoundOptions;
}

export interface CkksKeygenRequest {
  readonly params: CkksParams;
  /** Relinearization keys (ct×ct: SKNN-PQC, PKMEANS). Default true. */
  readonly relinKeys?: boolean;
  /** Rotation steps for Galois keys (rotate-and-sum). Default none. */
  readonly galoisSteps?: readonly number[];
}

export interface CkksPublicInfo {
  readonly bundle: CkksPublicBundle;
  /** Slots per ciphertext (N/2). */
  readonly slots: number;
  /** Rotation steps its Galois keys cover, when known. */
  readonly galoisSteps?: readonly number[];
}

/** Metadata of a key the engine creates: its label and what uses it. */
export interface NewKeyMeta {
  readonly label: string;
  readonly usedBy?: readonly UsageRef[];
}

export interface CryptoEngine {
  /** Liu-encrypts `plain` (n values) to n·m components. The input is not modified or detached. */
  liuEncrypt(key: KeyId, plain: Float64Array, opts?: LiuCallOptions): Promise<Float64Array>;
  /** Liu-decrypts n·m components to n values. */
  liuDecrypt(key: KeyId, cipher: Float64Array, opts?: LiuCallOptions): Promise<Float64Array>;
  /** FDHOPE-encrypts n values with noise in [0, sens·scale) (spec/crypto.md §3). */
  fdhopeEncrypt(key: KeyId, plain: Float64Array, sens: number, opts?: CallOptions): Promise<Float64Array>;
  /**
   * Rows x ∈ [from, to) of the FDHOPE-encrypted UDM of `data` (n×`cols`), built and encrypted in
   * the engine with noise from ChaCha20(`seed`, x): the same seed gives the same ciphertexts, so a
   * streamed upload can produce the UDM twice (hash, then send) without holding it whole.
   */
  fdhopeEncryptUdmRows(key: KeyId, data: Float64Array, cols: number, rows: { readonly from: number; readonly to: number }, sens: number, seed: Uint8Array, opts?: CallOptions): Promise<Float64Array>;
  /**
   * Encrypts each row of an n×`cols` matrix with the key set's secret key: n seeded symmetric
   * ciphertexts (half the bytes of public-key ones; any SEAL 4 reader expands the seed).
   */
  ckksEncryptRows(key: KeyId, rows: Float64Array, cols: number, opts?: CallOptions): Promise<Uint8Array[]>;
  /** Decrypts ciphertexts, keeping the first `take` slots of each: an n×take matrix, flat. */
  ckksDecryptRows(key: KeyId, ciphertexts: readonly Uint8Array[], take: number, opts?: CallOptions): Promise<Float64Array>;
  /** The public half of a CKKS key set (what a worker may receive, D4) and its slot count. */
  ckksPublic(key: KeyId): Promise<CkksPublicInfo>;

  /** Generates and stores a Liu key (spec/crypto.md §2.2; re-drawn until valid). */
  createLiuKey(level: LiuLevel, meta: NewKeyMeta, opts?: CallOptions): Promise<LiuKeyRecord>;
  /** Fits an FDHOPE key to the values it will encrypt (a UDM or DM, flattened) and stores it. */
  createFdhopeKey(values: Float64Array, meta: NewKeyMeta & { readonly datasetId?: string }, opts?: CallOptions): Promise<FdhopeKeyRecord>;
  /** Fits an FDHOPE key to the UDM of `data` (n×`cols`) without building it (two passes over row blocks) and stores it. */
  createFdhopeKeyForUdm(data: Float64Array, cols: number, meta: NewKeyMeta & { readonly datasetId?: string }, opts?: CallOptions): Promise<FdhopeKeyRecord>;
  /** Generates and stores a CKKS key set (seconds at N ≥ 8192). Progress reports stages. */
  createCkksKey(request: CkksKeygenRequest, meta: NewKeyMeta, opts?: CallOptions): Promise<CkksKeyRecord>;
  /** Imports upstream (Pyfhel) key files, checking that the keys belong together. */
  importCkksFiles(files: readonly NamedFile[], names: KeyFileNames, label: string, opts?: CallOptions): Promise<CkksKeyRecord>;
  /** A passphrase-protected backup of the chosen keys (all when `ids` is absent): ciphertext only. */
  exportBackup(passphrase: string, ids?: readonly KeyId[]): Promise<string>;
  /** Restores keys from a backup made by {@link exportBackup}. */
  importBackup(text: string, passphrase: string): Promise<BackupImportReport>;
  /** Drops cached material of a key (after it was deleted from the key store). */
  forget(key: KeyId): Promise<void>;
  /** Frees workers and WASM memory. The engine restarts lazily on the next call. */
  dispose(): void;
}
