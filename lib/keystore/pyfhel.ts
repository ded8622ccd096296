/**
 * @module keystore/pyfhel
 * Upstream CKKS key files (spec/crypto.md §5.1, §5.5; vectors/ckks-pyfhel/README.md):
 * - import a Pyfhel key directory (`ctx`, public key, secret key, `relinkey`, optional
 *   `rotatekey`) into the key store, after checking that the keys belong together;
 * - export the PUBLIC files only (`ctx`, public key, `relinkey`, `rotatekey`) for upstream
 *   workers (D4: the secret key is never written for a worker);
 * - our own public bundle (one file, ckks.packKeyBytes) for the local cloud's workers.
 *
 * The public and secret key file names come from the settings PUBKEY_FILENAME and
 * SECRET_KEY_FILENAME (upstream defaults `pubkey`, `secretkey`).
 */
import { AppError } from '../errors';
import { ckksParamSetName, packKeyBytes, type CkksParams, type CkksPublicBundle } from '../crypto/ckks';
import type { CkksKeyParams, CkksKeyRecord, KeyStore } from './types';

export interface KeyFileNames {
  /** PUBKEY_FILENAME (default `pubkey`). */
  readonly pubkey: string;
  /** SECRET_KEY_FILENAME (default `secretkey`). */
  readonly secretkey: string;
}

export const DEFAULT_KEY_FILE_NAMES: KeyFileNames = Object.freeze({ pubkey: 'pubkey', secretkey: 'secretkey' });

export interface NamedFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** What the crypto engine reports about an opened key set (workers/engine.ts `ckksInspect`). */
export interface CkksInspection {
  readonly params: CkksParams;
  readonly hasSecretKey: boolean;
  readonly hasRelinKeys: boolean;
  readonly hasGaloisKeys: boolean;
}

/** Upstream key set bytes, keyed by role. */
export interface UpstreamKeySet {
  readonly publicBundle: CkksPublicBundle;
  readonly secretKey: Uint8Array;
}

/**
 * Maps picked files to key roles by name (a directory's path prefix is ignored).
 * @throws AppError INVALID_ARGUMENT naming the missing files; unrelated files are ignored.
 */
export function upstreamKeySetFromFiles(files: readonly NamedFile[], names: KeyFileNames = DEFAULT_KEY_FILE_NAMES): UpstreamKeySet {
  const byName = new Map(files.map((f) => [baseName(f.name), f.bytes]));
  const ctx = byName.get('ctx');
  const publicKey = byName.get(names.pubkey);
  const secretKey = byName.get(names.secretkey);
  const missing = [ctx ? null : 'ctx', publicKey ? null : names.pubkey, secretKey ? null : names.secretkey].filter((x): x is string => x !== null);
  if (missing.length > 0) {
    throw new AppError('INVALID_ARGUMENT', `missing key files: ${missing.join(', ')}`, {
      userMessage: `Select the upstream key files together: ctx, ${names.pubkey}, ${names.secretkey}, and relinkey / rotatekey if you have them. Missing: ${missing.join(', ')}.`,
    });
  }
  const relinKeys = byName.get('relinkey');
  const galoisKeys = byName.get('rotatekey');
  return {
    publicBundle: { ctx: ctx!, publicKey: publicKey!, ...(relinKeys ? { relinKeys } : {}), ...(galoisKeys ? { galoisKeys } : {}) },
    secretKey: secretKey!,
  };
}

/**
 * Imports an upstream key set: `inspect` (the crypto engine, in a worker) opens it and checks the
 * secret key against the public key; the set is then stored like a generated one.
 */
export async function importUpstreamKeySet(
  store: KeyStore,
  keySet: UpstreamKeySet,
  inspect: (bytes: CkksPublicBundle & { secretKey: Uint8Array }) => Promise<CkksInspection>,
  label: string,
): Promise<CkksKeyRecord> {
  const info = await inspect({ ...keySet.publicBundle, secretKey: keySet.secretKey });
  if (!info.hasSecretKey) throw new AppError('INVALID_KEY', 'imported key set has no secret key');
  const record = await store.add(
    { scheme: 'ckks', label, origin: 'pyfhel', params: ckksKeyParams(info.params, info.hasRelinKeys, info.hasGaloisKeys) },
    { scheme: 'ckks', publicBundle: keySet.publicBundle, secretKey: keySet.secretKey },
  );
  return record as CkksKeyRecord;
}

/** Record parameters for a CKKS key set, naming the matching Rory parameter set (`default-128`, `ml-128`, …) if any. */
export function ckksKeyParams(p: CkksParams, hasRelinKeys: boolean, hasGaloisKeys: boolean, galoisSteps?: readonly number[]): CkksKeyParams {
  return {
    ...(galoisSteps && galoisSteps.length > 0 ? { galoisSteps: [...galoisSteps] } : {}),
    parameterSet: ckksParameterSetName(p),
    polyModulusDegree: p.polyModulusDegree,
    coeffModulusBits: [...p.coeffModulusBits],
    scaleBits: p.scaleBits,
    hasRelinKeys,
    hasGaloisKeys,
  };
}

/** The parameter set name (`default-128` …), or `custom`. */
export function ckksParameterSetName(p: CkksParams): string {
  return ckksParamSetName(p) ?? 'custom';
}

/**
 * The files an upstream worker may receive (D4): `ctx`, the public key under PUBKEY_FILENAME,
 * `relinkey` and `rotatekey` when present. Never the secret key.
 */
export function upstreamPublicFiles(bundle: CkksPublicBundle, names: Pick<KeyFileNames, 'pubkey'> = DEFAULT_KEY_FILE_NAMES): NamedFile[] {
  const files: NamedFile[] = [
    { name: 'ctx', bytes: bundle.ctx },
    { name: names.pubkey, bytes: bundle.publicKey },
  ];
  if (bundle.relinKeys) files.push({ name: 'relinkey', bytes: bundle.relinKeys });
  if (bundle.galoisKeys) files.push({ name: 'rotatekey', bytes: bundle.galoisKeys });
  return files;
}

/** Our one-file public bundle (context + public, relinearization and Galois keys). */
export function publicBundleFile(bundle: CkksPublicBundle, keyId: string): NamedFile {
  return { name: `rory-ckks-public-${keyId}.bin`, bytes: packKeyBytes(bundle) };
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1];
}
