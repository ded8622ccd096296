/**
 * Which CKKS key sets a job can use (lib/jobs/ckks-fit.ts), shared by the jobs form and the job
 * controller: private k-means needs the rotation steps of its packing, which depend on the
 * dataset's shape, so a set generated for one dataset may not serve another (the set made for
 * blobs-100x5 lacks steps iris 150 × 4 needs: the form used to preselect it and the job failed
 * at start). Relinearization keys are required where the algorithm multiplies ciphertexts.
 */
import { describe, expect, it } from 'vitest';
import { CKKS_DEFAULT_PARAMS } from '@/lib/crypto/ckks/params';
import { ckksKeyFits, ckksStepsFor } from '@/lib/jobs/ckks-fit';
import type { CkksKeyRecord } from '@/lib/keystore/types';
import { REGISTRY } from '@/lib/rory/algorithms/registry';

function keySet(galoisSteps: readonly number[] | undefined, hasRelinKeys = true): CkksKeyRecord {
  return {
    id: 'ckks-test',
    scheme: 'ckks',
    label: 'test set',
    createdAt: 0,
    origin: 'generated',
    usedBy: [],
    params: {
      parameterSet: 'default-128',
      polyModulusDegree: CKKS_DEFAULT_PARAMS.polyModulusDegree,
      coeffModulusBits: [60, 40, 40, 60],
      scaleBits: 40,
      hasRelinKeys,
      hasGaloisKeys: galoisSteps !== undefined && galoisSteps.length > 0,
      galoisSteps,
    },
  };
}

const BLOBS100 = { rows: 100, cols: 5 };
const IRIS = { rows: 150, cols: 4 };

describe('CKKS key sets a job can use', () => {
  it('private k-means: a set made for blobs-100x5 does not fit iris 150 × 4, one made for iris does', () => {
    const spec = REGISTRY.PKMEANS;
    const forBlobs = ckksStepsFor(spec, BLOBS100);
    const forIris = ckksStepsFor(spec, IRIS);
    expect(forIris.length).toBeGreaterThan(0);
    expect(forIris.some((s) => !forBlobs.includes(s))).toBe(true);
    expect(ckksKeyFits(spec, keySet(forBlobs), BLOBS100)).toBe(true);
    expect(ckksKeyFits(spec, keySet(forBlobs), IRIS)).toBe(false);
    expect(ckksKeyFits(spec, keySet(forIris), IRIS)).toBe(true);
    expect(ckksKeyFits(spec, keySet([...new Set([...forBlobs, ...forIris])]), IRIS)).toBe(true);
    // An imported set that does not say which steps it covers is not assumed to cover them.
    expect(ckksKeyFits(spec, keySet(undefined), IRIS)).toBe(false);
    // Without relinearization keys nothing fits private k-means.
    expect(ckksKeyFits(spec, keySet(forIris, false), IRIS)).toBe(false);
  });

  it('algorithms without rotations accept any set with the relinearization keys they need', () => {
    for (const spec of Object.values(REGISTRY)) {
      const need = spec.needs.ckks;
      if (!need || need.galoisSteps) continue;
      expect(ckksStepsFor(spec, IRIS)).toEqual([]);
      expect(ckksKeyFits(spec, keySet(undefined, true), IRIS)).toBe(true);
      expect(ckksKeyFits(spec, keySet(undefined, false), IRIS)).toBe(!need.relin);
    }
    expect(ckksKeyFits(REGISTRY.DBSKMEANS, keySet(undefined, false), IRIS)).toBe(true);
  });
});
