/**
 * @module crypto/liu
 * Liu's symmetric "homomorphic" scheme as Rory implements it (spec/crypto.md §2): real-valued,
 * no modulus, ciphertext = m float64s, decryption = a fixed linear functional.
 *
 * LEGACY, INSECURE — kept for wire compatibility with Rory (D5). What it leaks (§2.8):
 * - ciphertext-only: component 0 ≈ k_0·t_0·v, so ratios of plaintexts (to ~1e-6) and their order
 *   are visible without the key;
 * - known plaintext: m (plaintext, ciphertext) pairs give the decryption weights, hence all data;
 * - no integrity: ciphertexts can be combined and altered at will.
 *
 * Import as a namespace: `import * as liu from '@/lib/crypto/liu'`, then `liu.encrypt(sk, v, rb)`.
 */
export { LIU_DEFAULT_LEVEL, LIU_LEVELS, isLiuLevel, keygen, validateKey } from './key';
export type { LiuLevel, LiuSecretKey } from './key';
export { LIU_DEFAULT_DECIMALS, pythonRound } from './round';
export type { LiuRoundOptions } from './round';
export {
  LIU_MAX_ABS_PLAINTEXT,
  decrypt,
  decryptInto,
  decryptTensor,
  decryptWeights,
  encrypt,
  encryptInto,
  encryptMatrix,
  encryptScalarWithR,
} from './scheme';
export { add, decryptMul, mul, mulScalar, sub } from './homomorphic';
