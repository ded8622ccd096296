/**
 * @module keystore/material
 * Encoding of key material to bytes for storage and backups, split into the secret part (wrapped
 * at rest, inside backups only) and the public part (CKKS context and public keys; D4).
 *
 * | scheme | secret bytes                                  | public bytes                       |
 * |--------|-----------------------------------------------|------------------------------------|
 * | liu    | parts container, json = {level, m, nbits, triples} (validated on read) | –             |
 * | fdhope | parts container, json = fdhope.serialize(key)  | –                                  |
 * | ckks   | SEAL secret key blob                           | ckks.packKeyBytes(public bundle)   |
 *
 * Decoding re-validates everything (a backup is untrusted input until proven otherwise).
 */
import { AppError } from '../errors';
import * as ckks from '../crypto/ckks';
import * as fdhope from '../crypto/fdhope';
import * as liu from '../crypto/liu';
import { decodeParts, encodeParts } from './codec';
import type { KeyMaterial, KeyScheme } from './types';

export interface EncodedMaterial {
  readonly secret: Uint8Array;
  readonly publicPart?: Uint8Array;
}

export function encodeMaterial(m: KeyMaterial): EncodedMaterial {
  switch (m.scheme) {
    case 'liu':
      return { secret: encodeParts({ scheme: 'liu', key: liu.validateKey(m.key) }) };
    case 'fdhope':
      return { secret: encodeParts({ scheme: 'fdhope', key: fdhope.serialize(m.key) }) };
    case 'ckks':
      if (!(m.secretKey instanceof Uint8Array)) throw new AppError('INVALID_KEY', 'CKKS material needs a secret key');
      return { secret: m.secretKey, publicPart: ckks.packKeyBytes(m.publicBundle) };
    default:
      throw new AppError('INVALID_ARGUMENT', 'unknown key scheme');
  }
}

/**
 * @throws AppError KEYSTORE_FAILURE (or the scheme's INVALID_KEY) when the bytes are not valid
 *   material of `scheme`.
 */
export function decodeMaterial(scheme: KeyScheme, secret: Uint8Array, publicPart?: Uint8Array): KeyMaterial {
  if (scheme === 'ckks') {
    if (!publicPart) throw malformed('CKKS key without its public part');
    ckks.parseSealHeader(secret, 'secret key');
    return { scheme: 'ckks', publicBundle: decodePublicBundle(publicPart), secretKey: secret };
  }
  const parts = decodeParts(secret);
  const json = parts?.json as { scheme?: unknown; key?: unknown } | undefined;
  if (!json || json.scheme !== scheme) throw malformed(`stored ${scheme} key is malformed`);
  if (scheme === 'liu') return { scheme: 'liu', key: liu.validateKey(json.key) };
  return { scheme: 'fdhope', key: fdhope.deserialize(json.key as ReturnType<typeof fdhope.serialize>) };
}

export function decodePublicBundle(bytes: Uint8Array): ckks.CkksPublicBundle {
  const b = ckks.unpackKeyBytes(bytes);
  // A public part must never carry a secret key (D4); drop it rather than pass it on.
  return b.secretKey === undefined
    ? b
    : { ctx: b.ctx, publicKey: b.publicKey, ...(b.relinKeys ? { relinKeys: b.relinKeys } : {}), ...(b.galoisKeys ? { galoisKeys: b.galoisKeys } : {}) };
}

function malformed(message: string): AppError {
  return new AppError('KEYSTORE_FAILURE', message, {
    userMessage: 'A stored key is damaged in this browser. Restore it from a key backup, or delete it.',
  });
}
