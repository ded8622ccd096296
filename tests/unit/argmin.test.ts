/**
 * Nearest-record choice from decrypted distances (lib/rory/algorithms/classification.ts): the
 * argmin of the decrypted values, with near-ties (within the decryption error) decided by the
 * browser's exact distances, so SKNN's indices equal plaintext 1-NN whatever the Liu key.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argminRows, argminRowsResolved } from '@/lib/rory/algorithms/classification';

describe('argmin of decrypted distances', () => {
  it('a near-tie swapped by decryption error is decided by the exact distances', () => {
    const exact = [[3, 2.0000001, 2, 5]];
    const decrypted = [[3, 2.0000001 - 2e-7, 2 + 1e-9, 5]]; // noise swapped columns 1 and 2
    expect(Array.from(argminRows((i, j) => decrypted[i][j], 1, 4))).toEqual([1]);
    expect(Array.from(argminRowsResolved((i, j) => decrypted[i][j], (i, j) => exact[i][j], 1, 4, 1e-6))).toEqual([2]);
  });

  it('equals the exact argmin (first minimum on ties) whenever the decryption error is below the band', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.double({ min: -1e-8, max: 1e-8, noNaN: true }), { minLength: 24, maxLength: 24 }),
        (rows, noise) => {
          const exact = (i: number, j: number) => rows[i][j] / 4;
          const approx = (i: number, j: number) => exact(i, j) + noise[i * 4 + j];
          expect(Array.from(argminRowsResolved(approx, exact, rows.length, 4, 1e-6))).toEqual(Array.from(argminRows(exact, rows.length, 4)));
        },
      ),
    );
  });
});
