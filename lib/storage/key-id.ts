/**
 * @module storage/key-id
 * The MictlanX naming rule for bucket ids, ball ids and keys: letters and digits, optionally
 * joined by single `-` or `_` (spec/mictlanx.md; the same rule lib/config.ts applies to the
 * bucket setting). Checked before any request, so a bad name fails fast and clearly instead of
 * producing a key the router or Python readers mishandle.
 */
import { AppError } from '../errors';

export const KEY_ID_PATTERN = /^[a-zA-Z0-9]+([a-zA-Z0-9]|[-_](?=[a-zA-Z0-9]))*$/;

export function isKeyId(id: unknown): id is string {
  return typeof id === 'string' && KEY_ID_PATTERN.test(id);
}

/**
 * @param what how the caller names the id in messages ("ball id", "bucket id")
 * @throws AppError INVALID_KEY_ID
 * @example assertKeyId('encryptedP0', 'ball id')
 */
export function assertKeyId(id: unknown, what = 'ball id'): asserts id is string {
  if (isKeyId(id)) return;
  // Ids are names, not secrets, but keep the echo short and printable.
  const shown = typeof id === 'string' ? JSON.stringify(id.length > 60 ? `${id.slice(0, 60)}…` : id) : typeof id;
  throw new AppError('INVALID_KEY_ID', `invalid ${what} ${shown}`, {
    userMessage: `The ${what} ${shown} is not a valid MictlanX name. Use only letters and digits, optionally joined by single "-" or "_" (for example "iris-2024_a").`,
    details: { what },
  });
}
