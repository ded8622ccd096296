/**
 * @module crypto/fdhope
 * FDHOPE, the frequency-/distribution-hiding order-preserving encryption of Rory
 * (spec/crypto.md §3): piecewise-affine maps between 3–8 message ranges and cipher ranges sized
 * by data density, plus uniform noise of width sens·scale.
 *
 * WHAT IT LEAKS, BY DESIGN (§3.6): the order and sign of every value (hence of every pairwise
 * difference in a UDM, and which records are nearest in a DM); approximate magnitudes (the map is
 * linear on each of only 3–8 pieces, so one known pair per range reveals the rest); equality up to
 * sens. Frequency hiding is weak: the noise is tiny (sens·scale). Ciphertexts are not additive:
 * Enc(u) + Enc(s) ≠ Enc(u + s), which makes DBSKMeans approximate.
 *
 * Order is exact for sens = 0 (up to one rounding at range boundaries). With noise it is kept for
 * two values in the same range whose gap exceeds sens; across a boundary into a much narrower
 * cipher range (e.g. an empty one, width 0.001) the noise of the lower value can exceed the
 * upper value's offset, so compare such values only when their gap exceeds sens·scale ratio.
 *
 * THERE IS NO DECRYPTION: the key only encrypts (consistently, for one dataset and its shifts).
 *
 * Import as a namespace: `import * as fdhope from '@/lib/crypto/fdhope'`.
 */
export { FDHOPE_MAX_RANGES, deserialize, serialize, validateKey } from './key';
export type { FdhopeKey } from './key';
export { encrypt, encryptInto, intervalId } from './scheme';
export { keygen, keygenWithDetails, roundHalfEven } from './keygen';
export type { FdhopeBlock, FdhopeKeygenInput, FdhopeKeygenOptions, FdhopeKeygenResult } from './keygen';

/** Upstream library default noise width for shift matrices (spec/crypto.md §3.2, §7.2). */
export const FDHOPE_DEFAULT_SENS = 1e-5;
/** Rory client default header `Sens` for the UDM / DM (spec/crypto.md §3.5). */
export const FDHOPE_CLIENT_SENS = 1e-8;
