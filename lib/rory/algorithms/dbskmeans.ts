/**
 * @module rory/algorithms/dbskmeans
 * DBSKMeans (Liu data, FDHOPE UDM) as a pure state machine (spec/crypto.md §7.2, §0.1 C5;
 * spec/protocol.md §5.3, §8). The UDM is FDHOPE-encrypted with `udmSens` (default 1e-8, the
 * client's `Sens` default); each round's decrypted shift is FDHOPE-encrypted with the SAME key
 * and `shiftSens` (default 1e-5, the library default) into `{P}shiftmatrixope`. The client
 * echoes the worker's `encrypted_udm_shape` as `Encrypted-Udm-Shape`. Nothing in plaintext
 * leaves the browser (FDHOPE still reveals order and sign). Shared reducer: `interactive-kmeans.ts`.
 */
import {
  initialState,
  kmeansConfig,
  next as nextKmeans,
  type KmeansConfigInput,
  type KmeansEvent,
  type KmeansState,
  type Transition,
} from './interactive-kmeans';

export type DbskmeansConfigInput = Omit<KmeansConfigInput, 'algorithm'>;

/** Initial state of a DBSKMeans job. */
export function init(c: DbskmeansConfigInput): KmeansState {
  return initialState(kmeansConfig({ ...c, algorithm: 'DBSKMEANS', acknowledged: c.acknowledged ?? true }));
}

/** `next(state, event) → { state, effects }`. */
export function next(state: KmeansState, event: KmeansEvent): Transition {
  if (state.config.algorithm !== 'DBSKMEANS') throw new TypeError('not a DBSKMeans state');
  return nextKmeans(state, event);
}
