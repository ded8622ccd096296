/**
 * @module crypto/ckks
 * CKKS over node-seal 7 (SEAL 4.1 in WASM), compatible with Pyfhel 3.5 files and ciphertexts
 * (spec/crypto.md §5, §7.6, §7.10; spec/protocol.md §7.3). Import as a namespace:
 *
 * @example
 * import * as ckks from '@/lib/crypto/ckks';
 * const keys = await ckks.generateKeySet(ckks.CKKS_DEFAULT_PARAMS, { galoisSteps: [1, 2] });
 * const rows = keys.encryptRows(plain);                 // one ciphertext per row
 * const worker = await ckks.CkksEvaluator.fromPublicBundle(keys.publicBundle()); // no secret key
 * const sum = worker.scoped(() => worker.save(worker.sum(worker.loadAll(rows))));
 * const m = keys.decryptRows([sum], plain.shape[1]);
 * worker.dispose(); keys.dispose();
 *
 * Every class here owns SEAL objects on the WASM heap: call `dispose()` when done.
 */
export { loadSeal, scope, guard, SealScope, type Seal, type SealInitOptions, type SealObject } from './seal';
export { toSealError, sealErrorParts } from './errors';
export {
  CKKS_PARAMS,
  CKKS_DEFAULT_PARAMS,
  CKKS_SCALE_BITS,
  ckksParams,
  ckksParamSetName,
  assertCkksParams,
  type CkksMode,
  type CkksParams,
  type CkksSecurityLevel,
} from './params';
export { parseSealHeader, hasSealMagic, SEAL_HEADER_BYTES, type CkksCompression, type SealHeader } from './header';
export {
  PYFHEL_FILE_NAMES,
  parsePyfhelContext,
  encodePyfhelContext,
  pyfhelPrefixLength,
  type PyfhelContextPrefix,
  type PyfhelFileName,
  type PyfhelKeyFiles,
} from './pyfhel';
export { CkksContext, type CkksContextBytesOptions, type CkksLevelInfo } from './context';
export {
  CkksKeySet,
  generateKeySet,
  openKeySet,
  toPyfhelFiles,
  fromPyfhelFiles,
  importPyfhelFiles,
  packKeyBytes,
  unpackKeyBytes,
  galoisElement,
  type CkksPublicBundle,
  type CkksKeySetBytes,
  type CkksKeyBytes,
  type CkksKeyGenOptions,
  type CkksLoadOptions,
  type CkksSerializeOptions,
  type CkksEncryptOptions,
} from './keys';
export { CkksEvaluator, withEvaluator, CKKS_SCALE_TOLERANCE, type CkksCipher, type CkksRescaleOptions } from './evaluator';
