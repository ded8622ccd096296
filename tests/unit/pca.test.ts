import { describe, expect, it } from 'vitest';
import { matrix } from '@/lib/data/matrix';
import { pca2 } from '@/lib/data/pca';

describe('pca2', () => {
  it('finds the direction of largest variance and its share', () => {
    // Points on the line y = 2x plus a tiny orthogonal wobble: PC1 ∥ (1,2)/√5, explains ~all variance.
    const n = 50;
    const data = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      const t = i - n / 2;
      const w = (i % 2 ? 1 : -1) * 0.01;
      data[2 * i] = t - 2 * w;
      data[2 * i + 1] = 2 * t + w;
    }
    const p = pca2(matrix(data, [n, 2]));
    expect(p.explained[0]).toBeGreaterThan(0.9999);
    expect(p.explained[0] + p.explained[1]).toBeCloseTo(1, 10);
    // Projections onto PC1 are ±√5·t (sign is arbitrary); distances are preserved.
    const r = Math.abs(p.points[2 * 10] - p.points[2 * 11]);
    expect(r).toBeCloseTo(Math.sqrt(5), 3);
  });

  it('handles a single column and constant data', () => {
    const p = pca2(matrix(new Float64Array([1, 1, 1]), [3, 1]));
    expect(Array.from(p.points)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(p.explained).toEqual([0, 0]);
  });
});
