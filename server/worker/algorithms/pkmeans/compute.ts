/**
 * @module server/worker/algorithms/pkmeans/compute
 * Private k-means, the worker's arithmetic (spec/private-kmeans.md §4, §5): everything on CKKS
 * ciphertexts with the Data Owner's public keys (no secret key, D4).
 *
 * Phase A (`partialSums`): for each cluster c, Σ_b X_b ⊙ M[c][b] over this worker's blocks —
 *   ct×ct products, relinearized, summed, NOT rescaled, so partials of several workers add exactly.
 * Phase B (`distances`): S_c = rescale(Σ_w partial_w[c]); replicate over record positions with
 *   rotations by stride·2^j (j < log2 R), so every record position holds μ_c; then for each of this
 *   worker's blocks Q = (X_b − S_c)² (relinearized, rescaled). The client decrypts Q and sums the a
 *   slots of each record itself: no rotation within a record is needed (fewer Galois keys and
 *   3·k·B fewer rotations per round than summing here, with the same ciphertext count).
 *
 * Depth: one ct×ct (masks) and one square — two rescales, the default N = 8192 {60, 40, 40, 60} set.
 */
import type * as ckks from '@/lib/crypto/ckks';

/** Σ_b blocks[b] ⊙ masks[c][b] for each c, unrescaled (scale Δ², level of the inputs). */
export function partialSums(ev: ckks.CkksEvaluator, blocks: readonly ckks.CkksCipher[], masks: readonly (readonly ckks.CkksCipher[])[]): ckks.CkksCipher[] {
  return masks.map((row) =>
    ev.scoped(() => {
      const products = row.map((m, b) => ev.multiply(blocks[b], m, { rescale: false }));
      return products.length === 1 ? products[0] : ev.sum(products);
    }),
  );
}

/**
 * Distances of this worker's blocks to every cluster mean: k rows × blocks.length ciphertexts,
 * slot r·stride + z of row c, column b holding (x_{bR+r, z} − μ_{c, z})².
 */
export function distances(
  ev: ckks.CkksEvaluator,
  blocks: readonly ckks.CkksCipher[],
  partials: readonly (readonly ckks.CkksCipher[])[],
  layout: { readonly stride: number; readonly R: number },
): ckks.CkksCipher[][] {
  const k = partials[0].length;
  const out: ckks.CkksCipher[][] = [];
  for (let c = 0; c < k; c++) {
    const mean = ev.scoped(() => {
      const total = partials.length === 1 ? partials[0][c] : ev.sum(partials.map((p) => p[c]));
      let s = ev.rescale(total);
      for (let step = layout.stride; step < layout.stride * layout.R; step *= 2) s = ev.add(s, ev.rotate(s, step));
      return s;
    });
    out.push(blocks.map((x) => ev.scoped(() => ev.square(ev.sub(x, mean)))));
    ev.free(mean);
  }
  return out;
}
