/**
 * Size budgets said before a job starts (issue #13 item 3; lib/rory/algorithms/size.ts,
 * lib/jobs/budget.ts): every algorithm's estimate, the n² ones named with formula and figure, the
 * budget refusal naming private k-means with its own (linear) figure, and the formulas checked as
 * properties (n² items grow 4× when n doubles, linear ones 2×).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '@/lib/config';
import { assertWithinBudget, formJobSize, jobSize, sizeInputOf } from '@/lib/jobs/budget';
import { JOB_ALGORITHMS, type JobAlgorithm } from '@/lib/rory/algorithms/ids';
import { REGISTRY } from '@/lib/rory/algorithms/registry';
import { CKKS_CIPHERTEXT_BYTES, describeEstimate, formatBytes, formatShape, leadItem } from '@/lib/rory/algorithms/size';

const QUADRATIC: JobAlgorithm[] = ['SKMEANS', 'DBSKMEANS', 'SKMEANS_PQC', 'DBSKMEANS_PQC', 'NNC', 'DBSNNC', 'DBSNNC_PQC'];
const UDM: JobAlgorithm[] = ['SKMEANS', 'DBSKMEANS', 'SKMEANS_PQC', 'DBSKMEANS_PQC'];
const LINEAR_CLUSTERING: JobAlgorithm[] = ['PKMEANS', 'KMEANS'];

describe('size estimates', () => {
  it('DBSKMeans on 10 000 × 8: an 8·n²·a-byte FDHOPE difference matrix, 6.4 GB, said in one sentence', () => {
    const input = { rows: 10_000, cols: 8, k: 4 };
    const e = REGISTRY.DBSKMEANS.estimate(input);
    const big = leadItem(e)!;
    expect(big).toMatchObject({ formula: '8·n²·a', bytes: 6.4e9, direction: 'up', growth: 'quadratic' });
    expect(big.what).toMatch(/FDHOPE difference matrix/);
    // Plus the Liu-128 dataset: 8·n·a·3 bytes.
    expect(e.totalBytes).toBe(6.4e9 + 8 * 10_000 * 8 * 3);
    expect(describeEstimate(e, input)).toBe(
      'Builds and uploads an 8·n²·a-byte FDHOPE difference matrix (UDM): 6.4 GB for 10 000 × 8. About 6.4 GB moved in all.',
    );
  });

  it('every n² algorithm says so; private k-means and k-means are linear', () => {
    for (const id of QUADRATIC) expect(REGISTRY[id].estimate({ rows: 500, cols: 4, k: 3 }).growth, id).toBe('quadratic');
    for (const id of LINEAR_CLUSTERING) expect(REGISTRY[id].estimate({ rows: 500, cols: 4, k: 3 }).growth, id).toBe('linear');
    for (const id of UDM) expect(leadItem(REGISTRY[id].estimate({ rows: 500, cols: 4 }))!.formula, id).toBe('8·n²·a');
    for (const id of ['NNC', 'DBSNNC', 'DBSNNC_PQC'] as const) expect(leadItem(REGISTRY[id].estimate({ rows: 500, cols: 4 }))!.formula, id).toBe('8·n²');
  });

  it('every algorithm has an estimate with named, positive items', () => {
    for (const id of JOB_ALGORITHMS) {
      const e = REGISTRY[id].estimate({ rows: 200, cols: 5, k: 3, testRows: 50 });
      expect(e.items.length, id).toBeGreaterThan(0);
      for (const item of e.items) {
        expect(item.what.length, id).toBeGreaterThan(3);
        expect(item.bytes, `${id} ${item.what}`).toBeGreaterThan(0);
      }
      expect(e.totalBytes).toBe(e.items.reduce((s, i) => s + i.bytes, 0));
    }
  });

  it('n² items grow fourfold when n doubles, everything else at most twofold (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 2, max: 10 }), fc.constantFrom(...JOB_ALGORITHMS), (n, a, k, id) => {
        const one = REGISTRY[id].estimate({ rows: n, cols: a, k, testRows: 50 });
        const two = REGISTRY[id].estimate({ rows: 2 * n, cols: a, k, testRows: 50 });
        one.items.forEach((item, i) => {
          const next = two.items[i];
          expect(next.what).toBe(item.what);
          if (item.growth === 'quadratic' && item.formula.includes('n²')) expect(next.bytes).toBe(4 * item.bytes);
          // Packed CKKS items round up to whole ciphertexts: ⌈2n/R⌉ ≤ 2⌈n/R⌉.
          else expect(next.bytes).toBeLessThanOrEqual(2 * item.bytes + 1e-9);
        });
      }),
    );
  });

  it('the Liu security level sets m; CKKS datasets count one ciphertext per record', () => {
    const at = (liuLevel: number) => REGISTRY.SKMEANS.estimate({ rows: 100, cols: 4, liuLevel }).items[0].bytes;
    expect([at(128), at(192), at(256)]).toEqual([8 * 100 * 4 * 3, 8 * 100 * 4 * 4, 8 * 100 * 4 * 6]);
    expect(REGISTRY.SKMEANS_PQC.estimate({ rows: 100, cols: 4 }).items[0].bytes).toBe(100 * CKKS_CIPHERTEXT_BYTES);
  });

  it('formats sizes and shapes as the form prints them', () => {
    expect([formatBytes(6.4e9), formatBytes(64e6), formatBytes(576e6), formatBytes(196_802), formatBytes(12)]).toEqual(['6.4 GB', '64 MB', '576 MB', '197 kB', '12 bytes']);
    expect(formatShape(10_000, 8)).toBe('10 000 × 8');
    expect(formatShape(1_234_567, 12)).toBe('1 234 567 × 12');
  });
});

describe('the size budget', () => {
  const settings = { ...DEFAULT_SETTINGS };
  const input = (rows: number, cols = 8, k = 4) => sizeInputOf({ rows, cols }, { k }, settings);

  it('refuses DBSKMeans on 10 000 × 8 at the default 1 GB, naming the size and private k-means with its figure', () => {
    expect(settings.JOB_SIZE_BUDGET_MB).toBe(1000);
    const v = jobSize('DBSKMEANS', input(10_000), settings.JOB_SIZE_BUDGET_MB);
    expect(v.ok).toBe(false);
    const pk = REGISTRY.PKMEANS.estimate(input(10_000));
    expect(v.message).toBe(
      `This job would build and move an 8·n²·a-byte FDHOPE difference matrix (UDM): 6.4 GB for 10 000 × 8, more than the job size budget of 1 GB (Settings → Job size budget). ` +
        `Use Private k-means (CKKS, exact) instead, which is linear in the number of records: about ${formatBytes(pk.totalBytes)} for this dataset.`,
    );
    expect(pk.totalBytes).toBeLessThan(1e9);
    expect(() => assertWithinBudget('DBSKMEANS', input(10_000), 1000)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', details: expect.objectContaining({ field: 'size' }), userMessage: v.message }),
    );
  });

  it('lets 1 000 × 8 and 3 000 × 8 DBSKMeans jobs through, and private k-means on 10 000 × 8', () => {
    expect(jobSize('DBSKMEANS', input(1000), 1000)).toMatchObject({ ok: true });
    const three = jobSize('DBSKMEANS', input(3000), 1000);
    expect(three.ok).toBe(true);
    expect(three.summary).toMatch(/^Builds and uploads an 8·n²·a-byte FDHOPE difference matrix \(UDM\): 576 MB for 3 000 × 8\./);
    const pk = jobSize('PKMEANS', input(10_000), 1000);
    expect(pk.ok).toBe(true);
    expect(pk.summary).toMatch(/linear in the number of records\.$/);
  });

  it('the budget is a setting: lower it and a small job is refused; when even private k-means does not fit, a smaller dataset is suggested', () => {
    expect(jobSize('DBSKMEANS', input(1000), 10).ok).toBe(false);
    const v = jobSize('SKMEANS_PQC', input(1000), 1);
    expect(v.ok).toBe(false);
    expect(v.message).toMatch(/Use a smaller dataset/);
    // The CKKS dataset (one ciphertext per record) outweighs the UDM at this n: the total is named too.
    expect(v.message).toMatch(/^This job would build and move an 8·n²·a-byte plaintext difference matrix \(UDM\): 64 MB for 1 000 × 8 \(261 MB in all\)/);
    // Private k-means itself is never pointed at itself.
    expect(jobSize('PKMEANS', input(100_000), 1).message).toMatch(/Use a smaller dataset/);
    // Classification has no private k-means alternative.
    expect(jobSize('SKNN_PREDICT', sizeInputOf({ rows: 100_000, cols: 8 }, {}, settings, { rows: 10_000 }), 1000).message).toMatch(/Use a smaller dataset/);
  });

  it('the form has no figure until it knows the dataset and the settings; a missing budget falls back to 1 GB', () => {
    expect(formJobSize('DBSKMEANS', undefined, {}, settings)).toBeUndefined();
    expect(formJobSize('DBSKMEANS', { rows: 10, cols: 2 }, {}, undefined)).toBeUndefined();
    expect(jobSize('DBSKMEANS', input(10_000), Number.NaN).budgetBytes).toBe(1e9);
  });
});
