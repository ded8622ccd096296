/**
 * @module rory/algorithms/skmeans
 * SKMeans (Liu data, plaintext UDM) as a pure state machine (spec/crypto.md §7.1;
 * spec/protocol.md §1.1, §5.2, §8). Leaks by design (D3): the plaintext UDM `{P}udm` and one
 * plaintext shift `{P}shiftmatrix` per round, so the job needs an acknowledgement
 * (`leakage.ts`). The shared reducer is in `interactive-kmeans.ts`.
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

export type SkmeansConfigInput = Omit<KmeansConfigInput, 'algorithm' | 'udmSens' | 'shiftSens'>;

/** Initial state of an SKMeans job. */
export function init(c: SkmeansConfigInput): KmeansState {
  return initialState(kmeansConfig({ ...c, algorithm: 'SKMEANS' }));
}

/** `next(state, event) → { state, effects }`. */
export function next(state: KmeansState, event: KmeansEvent): Transition {
  if (state.config.algorithm !== 'SKMEANS') throw new TypeError('not an SKMeans state');
  return nextKmeans(state, event);
}
