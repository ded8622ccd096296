/**
 * The algorithm registries (lib/rory/algorithms/registry.ts, server/worker/algorithms/registry.ts)
 * and the error catalogue: every algorithm a job can run has a leakage profile, a validator, a
 * runner, a title and summary, storage keys and worker routes that the local worker really serves;
 * every error code has a message for the UI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USER_MESSAGES, ERROR_CODES } from '@/lib/errors';
import { JOB_ALGORITHMS } from '@/lib/rory/algorithms/ids';
import { algorithms, algorithmSpec, ckksKeyFits, jobLeakageProfile, REGISTRY } from '@/lib/rory/algorithms/registry';
import type { CkksKeyParams } from '@/lib/keystore/types';
import { ALGORITHMS } from '@/lib/rory/protocol';
import { WORKER_ROUTES } from '@/server/worker/algorithms/registry';
import { createWorker, type Worker } from '@/server/worker';
import { MemoryStore } from '../helpers/memory-store';

let worker: Worker;
beforeAll(async () => {
  worker = await createWorker({ store: new MemoryStore() });
});
afterAll(async () => {
  await worker?.close();
});

describe('the algorithm registry', () => {
  it('lists exactly the job algorithms, each under its own id and with a wire name the Manager knows', () => {
    expect(Object.keys(REGISTRY).sort()).toEqual([...JOB_ALGORITHMS].sort());
    for (const id of JOB_ALGORITHMS) {
      const spec = REGISTRY[id];
      expect(spec.id).toBe(id);
      expect(ALGORITHMS).toContain(spec.wire);
      expect(algorithmSpec(id)).toBe(spec);
    }
    expect(algorithms().map((a) => a.id).sort()).toEqual([...JOB_ALGORITHMS].sort());
    expect(() => algorithmSpec('NOPE')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  for (const id of JOB_ALGORITHMS) {
    it(`${id}: leakage profile, validator, runner, label, storage keys and a worker route`, async () => {
      const spec = REGISTRY[id];
      expect(spec.title.length).toBeGreaterThan(3);
      expect(spec.summary.length).toBeGreaterThan(20);
      expect(spec.workerLearns.length).toBeGreaterThan(20);
      const profile = jobLeakageProfile(id);
      expect(profile.items.length).toBeGreaterThan(0);
      // Plaintext items need an acknowledgement, ciphertexts do not (D3).
      for (const item of profile.items) expect(item.needsAck).toBe(item.form === 'plaintext');
      // No profile ever lists a secret key (D4).
      expect(profile.items.some((i) => /secret/i.test(i.key))).toBe(false);
      expect(typeof spec.validate).toBe('function');
      expect(typeof spec.run).toBe('function');
      expect(spec.fields.length).toBeGreaterThan(0);
      const keys = spec.objectKeys('P0');
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((k) => k.includes('P0'))).toBe(true);
      expect(spec.routes.length).toBeGreaterThan(0);
      for (const path of spec.routes) {
        expect(WORKER_ROUTES.map((r) => r.path)).toContain(path);
        expect(WORKER_ROUTES.find((r) => r.path === path)?.algorithm).toBe(id);
        // The worker serves it over HTTP: without headers it answers an upstream error status, never 404/405.
        const res = await fetch(`${worker.url}${path}`, { method: 'POST' });
        await res.arrayBuffer();
        expect([200, 204, 400, 500, 503]).toContain(res.status);
      }
      // A CKKS algorithm says which keys it needs; a Liu one needs no CKKS set.
      if (spec.needs.ckks === false) expect(profile.items.some((i) => i.form === 'ckks' && i.key.startsWith('encrypted'))).toBe(false);
    });
  }

  it('validators refuse what cannot run and accept the defaults', () => {
    const ctx = { rows: 10, cols: 3, hasLabels: true, test: { rows: 5, cols: 3, hasLabels: true } };
    for (const spec of Object.values(REGISTRY)) {
      const params = spec.kind === 'classification' ? { testDatasetId: 'ds1' } : {};
      expect(() => spec.validate(params, ctx)).not.toThrow();
      if (spec.fields.includes('k')) expect(() => spec.validate({ k: 11 }, ctx)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { field: 'k' } }));
      if (spec.fields.includes('threshold')) expect(() => spec.validate({ threshold: -3 }, ctx)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      if (spec.kind === 'classification') expect(() => spec.validate({}, ctx)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });

  it('every worker route belongs to a registered algorithm', () => {
    for (const r of WORKER_ROUTES) expect(JOB_ALGORITHMS).toContain(r.algorithm);
    expect(new Set(WORKER_ROUTES.map((r) => r.path)).size).toBe(WORKER_ROUTES.length);
  });
});

describe('which CKKS key sets fit a job', () => {
  const set = (over: Partial<CkksKeyParams>): CkksKeyParams => ({
    parameterSet: 'default-128',
    polyModulusDegree: 8192,
    coeffModulusBits: [60, 40, 40, 60],
    scaleBits: 40,
    hasRelinKeys: true,
    hasGaloisKeys: true,
    ...over,
  });
  it('private k-means needs the rotation steps of the dataset shape: a set made for 5 columns does not fit 4', () => {
    const forFive = algorithmSpec('PKMEANS').needs.ckks;
    if (!forFive || !forFive.galoisSteps) throw new Error('PKMEANS must declare its rotation steps');
    const steps5 = forFive.galoisSteps({ rows: 100, cols: 5, slots: 4096 });
    const steps4 = forFive.galoisSteps({ rows: 150, cols: 4, slots: 4096 });
    expect(steps4).not.toEqual(steps5);
    expect(ckksKeyFits('PKMEANS', set({ galoisSteps: steps5 }), { rows: 100, cols: 5 })).toBe(true);
    expect(ckksKeyFits('PKMEANS', set({ galoisSteps: steps5 }), { rows: 150, cols: 4 })).toBe(false);
    expect(ckksKeyFits('PKMEANS', set({ galoisSteps: [...steps5, ...steps4] }), { rows: 150, cols: 4 })).toBe(true);
    expect(ckksKeyFits('PKMEANS', set({ hasGaloisKeys: false }), { rows: 150, cols: 4 })).toBe(false);
    expect(ckksKeyFits('PKMEANS', set({ hasRelinKeys: false, galoisSteps: steps4 }), { rows: 150, cols: 4 })).toBe(false);
    // An imported set that does not list its steps: the runner checks what the worker needs.
    expect(ckksKeyFits('PKMEANS', set({}), { rows: 150, cols: 4 })).toBe(true);
  });
  it('the other CKKS algorithms need no rotations; Liu-only algorithms need no CKKS set', () => {
    expect(ckksKeyFits('SKMEANS_PQC', set({ hasGaloisKeys: false }), { rows: 150, cols: 4 })).toBe(true);
    expect(ckksKeyFits('SKMEANS', set({}), { rows: 150, cols: 4 })).toBe(false);
  });
});

describe('error messages', () => {
  it('every error code has a user-facing message that says what to do', () => {
    for (const code of ERROR_CODES) {
      const m = DEFAULT_USER_MESSAGES[code];
      expect(m, code).toBeTruthy();
      expect(m.endsWith('.'), code).toBe(true);
      expect(m).not.toMatch(/undefined|\[object|Error:/);
    }
  });
});
