/**
 * @module server/worker/algorithms/dbskmeans
 * DBSKMeans' worker computation (spec/crypto.md §7.2, §0.1 C1/C2/C5): exactly SKMeans' steps
 * (`skmeans.ts`) on an FDHOPE-encrypted UDM. FDHOPE keeps order and sign, so Σ|·| distances
 * work on ciphertexts; adding the FDHOPE-encrypted shift is approximate (FDHOPE is not
 * additive, spec/crypto.md §3.6), which is why DBSKMeans only matches plaintext k-means up to
 * a relabelling on well-separated data. `K` is honoured (C5).
 *
 * There is no decrypted shift on this side, so convergence is the client's `Is-Zero` decision.
 */
export { assign, encryptedMeans, step1, step1Problem, updateUdm, type Step1Input, type Step1Output } from './skmeans';
