/**
 * Validation indices (spec/crypto.md §8) against scikit-learn 1.2.1 values in
 * shared/vectors/kmeans-reference.json (`metrics`, `metrics_of_true_labels_internal`,
 * `uncapped_max_100.metrics`), plus small cases from sklearn's documented examples.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { matrix, type Matrix } from '@/lib/data/matrix';
import * as metrics from '@/lib/data/metrics';

interface Internal {
  silhouette_euclidean: number;
  davies_bouldin: number;
  calinski_harabasz: number;
}
interface External {
  adjusted_rand: number;
  adjusted_mutual_information: number;
  fowlkes_mallows: number;
  jaccard: number;
  jaccard_average: 'binary' | 'micro';
}
interface Ref {
  dataset: string;
  true_labels_file: string;
  k: number;
  labels: number[];
  metrics: { internal: Internal; external: External };
  metrics_of_true_labels_internal: Internal;
  uncapped_max_100: { labels: number[]; metrics: { internal: Internal; external: External } };
}

const SHARED = new URL('../../../shared/', import.meta.url);
const REF = JSON.parse(readFileSync(fileURLToPath(new URL('vectors/kmeans-reference.json', SHARED)), 'utf8')).datasets as Ref[];

function csv(name: string): Matrix {
  const rows = readFileSync(fileURLToPath(new URL(`datasets/${name}`, SHARED)), 'utf8').trim().split('\n').map((l) => l.split(',').map(Number));
  return matrix(Float64Array.from(rows.flat()), [rows.length, rows[0].length]);
}
const labelsFile = (name: string) => readFileSync(fileURLToPath(new URL(`datasets/${name}`, SHARED)), 'utf8').trim().split('\n').map(Number);

/** |got − want| ≤ 1e-9·max(1, |want|) (kmeans-reference.json tolerance). */
function near(got: number, want: number): void {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want)));
}

function checkInternal(X: Matrix, labels: ArrayLike<number>, want: Internal): void {
  const got = metrics.internalMetrics(X, labels);
  near(got.silhouette, want.silhouette_euclidean);
  near(got.daviesBouldin, want.davies_bouldin);
  near(got.calinskiHarabasz, want.calinski_harabasz);
}

function checkExternal(t: number[], p: number[], k: number, want: External): void {
  const got = metrics.externalMetrics(t, p, k);
  near(got.adjustedRand, want.adjusted_rand);
  near(got.adjustedMutualInfo, want.adjusted_mutual_information);
  near(got.fowlkesMallows, want.fowlkes_mallows);
  near(got.jaccard, want.jaccard);
  expect(got.jaccardAverage).toBe(want.jaccard_average);
}

describe('kmeans-reference.json metrics (sklearn 1.2.1)', () => {
  for (const r of REF) {
    const X = csv(r.dataset);
    const truth = labelsFile(r.true_labels_file);
    it(`${r.dataset}: internal and external indices of the reference labels`, () => {
      checkInternal(X, r.labels, r.metrics.internal);
      checkExternal(truth, r.labels, r.k, r.metrics.external);
    });
    it(`${r.dataset}: internal indices of the true labels`, () => checkInternal(X, truth, r.metrics_of_true_labels_internal));
    it(`${r.dataset}: indices of the uncapped (100-iteration) labels`, () => {
      checkInternal(X, r.uncapped_max_100.labels, r.uncapped_max_100.metrics.internal);
      checkExternal(truth, r.uncapped_max_100.labels, r.k, r.uncapped_max_100.metrics.external);
    });
  }
  it('blobs: Jaccard compares raw label values (ARI 1, Jaccard 0)', () => {
    const b = REF.find((r) => r.dataset.startsWith('blobs')) as Ref;
    const truth = labelsFile(b.true_labels_file);
    expect(metrics.adjustedRandIndex(truth, b.labels)).toBe(1);
    expect(metrics.jaccard(truth, b.labels, 'binary')).toBe(0);
    expect(metrics.jaccard(truth, b.labels.map((l) => 1 - l), 'binary')).toBe(1);
  });
});

describe('small cases (sklearn documentation examples)', () => {
  it('adjusted Rand index', () => {
    expect(metrics.adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 1])).toBe(1);
    expect(metrics.adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0])).toBe(1);
    expect(metrics.adjustedRandIndex([0, 0, 1, 2], [0, 0, 1, 1])).toBeCloseTo(0.5714285714285714, 15);
    expect(metrics.adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1])).toBe(-0.5);
    expect(metrics.adjustedRandIndex([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0);
    expect(metrics.adjustedRandIndex([], [])).toBe(1);
  });
  it('adjusted mutual information', () => {
    expect(metrics.adjustedMutualInfo([0, 0, 1, 1], [0, 0, 1, 1])).toBeCloseTo(1, 15);
    expect(metrics.adjustedMutualInfo([0, 0, 1, 1], [1, 1, 0, 0])).toBeCloseTo(1, 15);
    expect(metrics.adjustedMutualInfo([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0);
    expect(metrics.adjustedMutualInfo([3, 3, 3], [7, 7, 7])).toBe(1);
  });
  it('Fowlkes–Mallows', () => {
    expect(metrics.fowlkesMallows([0, 0, 1, 1], [0, 0, 1, 1])).toBe(1);
    expect(metrics.fowlkesMallows([0, 0, 1, 1], [1, 1, 0, 0])).toBe(1);
    expect(metrics.fowlkesMallows([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0);
  });
  it('Jaccard binary (pos_label 1) and micro', () => {
    expect(metrics.jaccard([0, 1, 1], [1, 1, 0], 'binary')).toBeCloseTo(1 / 3, 15);
    expect(metrics.jaccard([0, 1, 2, 3], [0, 2, 2, 3], 'micro')).toBe(0.6);
    expect(metrics.jaccard([0, 0], [0, 0], 'binary')).toBe(0); // no positive label: 0/0 → 0
    expect(metrics.jaccardAverageFor(2)).toBe('binary');
    expect(metrics.jaccardAverageFor(3)).toBe('micro');
    expect(() => metrics.jaccard([0, 1, 2], [0, 1, 2], 'binary')).toThrow(AppError);
    expect(() => metrics.jaccard([2, 3], [3, 2], 'binary')).toThrow(/posLabel/);
  });
  it('internal indices on a two-cluster line', () => {
    const X = matrix(Float64Array.from([0, 1, 10, 11]), [4, 1]);
    const labels = [0, 0, 1, 1];
    expect(metrics.silhouette(X, labels)).toBeCloseTo((9.5 / 10.5 + 8.5 / 9.5) / 2, 15);
    expect(metrics.daviesBouldin(X, labels)).toBeCloseTo(0.1, 15);
    expect(metrics.calinskiHarabasz(X, labels)).toBeCloseTo(200, 12);
    // A singleton cluster scores 0 in the silhouette.
    const Y = matrix(Float64Array.from([0, 1, 10]), [3, 1]);
    expect(metrics.silhouette(Y, [0, 0, 1])).toBeCloseTo((9 / 10 + 8 / 9) / 3, 15);
    // Labels are ranked by value, any numbering works.
    expect(metrics.silhouette(X, [7, 7, -1, -1])).toBe(metrics.silhouette(X, labels));
  });
  it('accuracy and confusion matrix', () => {
    expect(metrics.accuracy([0, 1, 2, 2], [0, 2, 2, 2])).toBe(0.75);
    const cm = metrics.confusionMatrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2]);
    expect(cm.labels).toEqual([0, 1, 2]);
    expect(cm.counts.shape).toEqual([3, 3]);
    expect(Array.from(cm.counts.data)).toEqual([2, 0, 0, 0, 0, 1, 1, 0, 2]);
  });
});

describe('negative tests', () => {
  const X = matrix(Float64Array.from([0, 1, 10, 11]), [4, 1]);
  it('internal indices need 2 ≤ #labels ≤ n − 1 and matching lengths', () => {
    expect(() => metrics.silhouette(X, [0, 0, 0, 0])).toThrow(/distinct labels/);
    expect(() => metrics.daviesBouldin(X, [0, 1, 2, 3])).toThrow(/distinct labels/);
    expect(() => metrics.calinskiHarabasz(X, [0, 1])).toThrow(/labels must have 4 entries/);
    expect(() => metrics.silhouette({ data: new Float64Array(4), shape: [4] }, [0, 0, 1, 1])).toThrow(AppError);
  });
  it('external indices need equal lengths and numeric labels', () => {
    expect(() => metrics.adjustedRandIndex([0, 1], [0])).toThrow(/labelsPred must have 2 entries/);
    expect(() => metrics.fowlkesMallows([0, Number.NaN], [0, 1])).toThrow(/labelsTrue\[1\]/);
    expect(() => metrics.accuracy([], [])).toThrow(AppError);
    expect(() => metrics.jaccard([0, 1], [0, 1], 'macro' as 'micro')).toThrow(/average/);
  });
});
