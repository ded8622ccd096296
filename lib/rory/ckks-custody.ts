/**
 * @module rory/ckks-custody
 * How a worker gets the CKKS material it may hold (D4; spec/crypto.md §5.5; our addition to
 * spec/protocol.md §7.5, documented in docs/protocol-additions.md).
 *
 * Upstream mounts one key directory (`ctx`, `pubkey`, `secretkey`, `relinkey`, `rotatekey`) into
 * the client and worker containers, so workers hold the secret key. Here the Data Owner uploads
 * only the public files, as E2 byte blobs, under a content-addressed id
 * `C` ("ckks" + 32 hex digits of a SHA-256 over the public parts, see `ckksKeysId`):
 *
 *   `{C}ctx`, `{C}pubkey`, and when the key set has them `{C}relinkey`, `{C}rotatekey`
 *
 * and names `C` in the `Ckks-Keys-Id` header of every PQC worker call. The bytes are exactly the
 * Pyfhel files (the context with its 36-byte Pyfhel prefix), so a worker could also write them to
 * a key directory. There is no `{C}secretkey`. A worker recomputes the digest and refuses objects
 * that do not match the id, so storage cannot swap in other keys unnoticed.
 *
 * Isomorphic: no DOM, no Node modules.
 */
import { AppError } from '../errors';
import type { CkksPublicBundle } from '../crypto/ckks';
import { sha256HexOfParts } from '../storage/sha256';
import type { ObjectStore } from '../storage/types';

/** Header naming the public key objects of a PQC job (our addition; upstream workers ignore it). */
export const CKKS_KEYS_ID_HEADER = 'Ckks-Keys-Id';

/** Object suffixes, named like the upstream key files (spec/crypto.md §5.1). */
export const CKKS_KEY_OBJECTS = Object.freeze({ ctx: 'ctx', publicKey: 'pubkey', relinKeys: 'relinkey', galoisKeys: 'rotatekey' } as const);

const ID_PATTERN = /^ckks[0-9a-f]{32}$/;

type Parts = Pick<CkksPublicBundle, 'ctx' | 'publicKey' | 'relinKeys' | 'galoisKeys'>;

/** `[suffix, bytes]` of the public parts present, in id order. Never includes a secret key. */
function publicParts(b: Parts): [string, Uint8Array][] {
  const out: [string, Uint8Array][] = [
    [CKKS_KEY_OBJECTS.ctx, b.ctx],
    [CKKS_KEY_OBJECTS.publicKey, b.publicKey],
  ];
  if (b.relinKeys) out.push([CKKS_KEY_OBJECTS.relinKeys, b.relinKeys]);
  if (b.galoisKeys) out.push([CKKS_KEY_OBJECTS.galoisKeys, b.galoisKeys]);
  return out;
}

/**
 * The content-addressed id `C`: "ckks" + the first 32 hex digits of SHA-256 over every public part,
 * each framed as `suffix ‖ 0x00 ‖ u64le(length) ‖ bytes`, in the order ctx, pubkey, relinkey,
 * rotatekey (absent parts are skipped).
 */
export async function ckksKeysId(bundle: Parts): Promise<string> {
  const frames: Uint8Array[] = [];
  for (const [suffix, bytes] of publicParts(bundle)) {
    const head = new Uint8Array(suffix.length + 9);
    for (let i = 0; i < suffix.length; i++) head[i] = suffix.charCodeAt(i);
    new DataView(head.buffer).setBigUint64(suffix.length + 1, BigInt(bytes.length), true);
    frames.push(head, bytes);
  }
  return `ckks${(await sha256HexOfParts(frames)).slice(0, 32)}`;
}

export function isCkksKeysId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/**
 * Uploads the public objects of `bundle` that storage does not hold yet and returns `C` and the
 * keys written. Only ctx, public, relinearization and Galois keys are read: a secret key passed
 * by mistake is never uploaded.
 */
export async function uploadCkksPublicKeys(store: ObjectStore, bundle: CkksPublicBundle, opts: { signal?: AbortSignal } = {}): Promise<{ id: string; uploaded: string[] }> {
  const id = await ckksKeysId(bundle);
  const uploaded: string[] = [];
  for (const [suffix, bytes] of publicParts(bundle)) {
    const key = `${id}${suffix}`;
    // Content-addressed: whatever exists under this id came from the same bytes (workers verify).
    if (await store.exists(key, { signal: opts.signal })) continue;
    await store.putBlob(key, { dtype: 'uint8', shape: [bytes.length], data: bytes }, { signal: opts.signal });
    uploaded.push(key);
  }
  return { id, uploaded };
}

/**
 * Worker side: reads the public objects of `id` and checks that ctx and public key hash to it.
 * Relinearization and Galois keys are optional.
 * @throws AppError INVALID_KEY (malformed id, missing or mismatching objects)
 */
export async function loadCkksPublicBundle(store: ObjectStore, id: string, opts: { signal?: AbortSignal } = {}): Promise<CkksPublicBundle> {
  if (!isCkksKeysId(id)) throw new AppError('INVALID_KEY', `${CKKS_KEYS_ID_HEADER} must be "ckks" followed by 32 hex digits`);
  const read = async (suffix: string, required: boolean): Promise<Uint8Array | undefined> => {
    const key = `${id}${suffix}`;
    if (!required && !(await store.exists(key, opts))) return undefined;
    try {
      const nd = await store.getBlob(key, { force: true, signal: opts.signal });
      if (nd.dtype !== 'uint8' || !(nd.data instanceof Uint8Array)) throw new AppError('INVALID_KEY', `${key} is not a byte blob`);
      return nd.data;
    } catch (e) {
      if (e instanceof AppError && e.code === 'STORAGE_NOT_FOUND') {
        throw new AppError('INVALID_KEY', `CKKS public key object ${key} is missing; the Data Owner uploads it before calling the worker`);
      }
      throw e;
    }
  };
  const ctx = (await read(CKKS_KEY_OBJECTS.ctx, true)) as Uint8Array;
  const publicKey = (await read(CKKS_KEY_OBJECTS.publicKey, true)) as Uint8Array;
  const relinKeys = await read(CKKS_KEY_OBJECTS.relinKeys, false);
  const galoisKeys = await read(CKKS_KEY_OBJECTS.galoisKeys, false);
  const bundle: CkksPublicBundle = { ctx, publicKey, ...(relinKeys ? { relinKeys } : {}), ...(galoisKeys ? { galoisKeys } : {}) };
  if ((await ckksKeysId(bundle)) !== id) {
    throw new AppError('INVALID_KEY', `the stored CKKS public key objects do not hash to ${id}; refusing to use them`);
  }
  return bundle;
}

/** Every storage key the public objects of `id` may use (for clean-up and network audits). */
export function ckksKeyObjectKeys(id: string): string[] {
  return Object.values(CKKS_KEY_OBJECTS).map((s) => `${id}${s}`);
}
