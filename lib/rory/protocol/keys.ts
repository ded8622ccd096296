/**
 * @module rory/protocol/keys
 * Storage keys of the Rory protocol (spec/protocol.md §7.5; spec/crypto.md §6) and of this
 * project's additions (docs/protocol-additions.md), built in one place. `P` is the
 * Plaintext-Matrix-Id of a clustering job, `M` a Model-Id and `R` a Records-Test-Id of a
 * classification job, `C` the content-addressed id of a CKKS public key set.
 *
 * Isomorphic: no DOM, no Node modules.
 */

export const keys = Object.freeze({
  /** The plaintext dataset (KMEANS E2 blob, NNC E1 matrix). */
  plaintext: (p: string) => p,
  encryptedMatrix: (p: string) => `encrypted${p}`,
  udm: (p: string) => `${p}udm`,
  encryptedUdm: (p: string) => `${p}encryptedudm`,
  centi: (p: string) => `${p}centi`,
  centj: (p: string) => `${p}centj`,
  encryptedShiftMatrix: (p: string) => `${p}encryptedshiftmatrix`,
  shiftMatrix: (p: string) => `${p}shiftmatrix`,
  shiftMatrixOpe: (p: string) => `${p}shiftmatrixope`,
  /** PQC: CKKS-encrypted zero matrix k×a. */
  initsm: (p: string) => `${p}initsm`,
  /** NNC: plaintext distance matrix. */
  dm: (p: string) => `${p}dm`,
  /** DBSNNC: FDHOPE distance matrix. */
  encryptedDm: (p: string) => `${p}encrypteddm`,
  /** Classification: the training labels of model `M`. */
  modelLabels: (m: string) => `${m}labels`,
  /** SKNN step 1 output for test records `R`. */
  distances: (r: string) => `distances${r}`,
  /** SKNN: the client's argmin indices for test records `R`. */
  distancesIndex: (r: string) => `distancesindex${r}`,
  /** PKMEANS: this round's cluster masks for worker w (E4, k rows × the worker's blocks). */
  pkmeansMasks: (p: string, w: number) => `${p}masksw${w}`,
  /** PKMEANS: worker w's unrescaled partial sums Σ_b X_b ⊙ M[c][b] (E3, k ciphertexts). */
  pkmeansPartial: (p: string, w: number) => `${p}partialw${w}`,
  /** PKMEANS: worker w's squared differences (E4, k rows × the worker's blocks). */
  pkmeansDistances: (p: string, w: number) => `${p}distancesw${w}`,
  /** Classification job ids derived from a job's storage id. */
  modelId: (storageId: string) => `${storageId}model`,
  testId: (storageId: string) => `${storageId}test`,
});

/** CKKS public key objects under a content-addressed id `C` (docs/protocol-additions.md §1). */
export const CKKS_KEY_OBJECTS = Object.freeze({ ctx: 'ctx', publicKey: 'pubkey', relinKeys: 'relinkey', galoisKeys: 'rotatekey' } as const);
