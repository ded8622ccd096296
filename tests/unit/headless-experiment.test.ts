/**
 * `rory experiment`'s pure parts: plan checking and expansion (headless/experiment/plan.ts), the
 * trace and summary (headless/experiment/trace.ts: quantiles as numpy's default linear method,
 * CSV quoting), the up-front refusal of unacknowledged plaintext uploads (experiment/run.ts), and
 * the help texts (every option a command accepts is documented with `--name`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AppError } from '@/lib/errors';
import { algorithmSpec, jobLeakageProfile } from '@/lib/rory/algorithms/registry';
import { acknowledgementKeysOf } from '@/lib/rory/leakage';
import { refuseUnacknowledged } from '@/headless/experiment/run';
import type { JobLogEvent } from '@/lib/rory/kit';
import { combinations, expandPlan, jobAlgorithmOf, paramsLabel, parsePlan } from '@/headless/experiment/plan';
import { csvField, median, quantile, summarize, summaryCsv, SUMMARY_COLUMNS, traceRows, TRACE_COLUMNS, type RunRecord } from '@/headless/experiment/trace';
import { HELP, MAIN_HELP } from '@/headless/cli/help';
import { CLOUD_OPTIONS, SERVE_OPTIONS } from '@/headless/cli/serve';
import { KEYS_OPTIONS } from '@/headless/cli/keys';
import { RUN_OPTIONS } from '@/headless/cli/run';
import { EXPERIMENT_OPTIONS } from '@/headless/cli/experiment';
import { expectAppError } from '../helpers/errors';

const base = {
  algorithms: ['PKMEANS', 'nnc', 'SKNN'],
  datasets: ['data/iris.csv', { name: 'cls', data: 'tr.csv', labels: 'tr.l.csv', test: 'te.csv' }],
  params: { k: [2, 3], maxIterations: 10, threshold: [0.5, 1] },
  repetitions: 3,
  acknowledge: ['nnc', 'SKNN_PREDICT'],
};

describe('experiment plans', () => {
  it('resolve paths against the plan’s directory, accept algorithm aliases and normalise acknowledgements', () => {
    const p = parsePlan(base, '/plans', new Date('2026-01-02T03:04:05Z'));
    expect(p.id).toBe('exp-20260102030405');
    expect(p.algorithms).toEqual(['PKMEANS', 'NNC', 'SKNN_PREDICT']);
    expect(p.datasets[0]).toEqual({ name: 'iris', data: '/plans/data/iris.csv', labels: undefined, test: undefined, testLabels: undefined, params: {} });
    expect(p.datasets[1]).toMatchObject({ name: 'cls', data: '/plans/tr.csv', labels: '/plans/tr.l.csv', test: '/plans/te.csv' });
    expect([...p.acknowledge].sort()).toEqual(['NNC', 'SKNN']);
    expect(p).toMatchObject({ repetitions: 3, cloud: 'env', grid: { k: [2, 3], maxIterations: [10], threshold: [0.5, 1] } });
    expect(jobAlgorithmOf('sknn-pqc')).toBe('SKNN_PQC_PREDICT');
    expect(jobAlgorithmOf('LR')).toBeUndefined();
  });

  it('expand to each algorithm × each dataset it fits × the combinations of the parameters it uses', () => {
    const { cases, skipped } = expandPlan(parsePlan(base, '/p'));
    const pk = cases.filter((c) => c.algorithm === 'PKMEANS');
    expect(pk.map((c) => c.params)).toEqual([
      { k: 2, maxIterations: 10 },
      { k: 3, maxIterations: 10 },
    ]);
    expect(cases.filter((c) => c.algorithm === 'NNC').map((c) => c.params)).toEqual([{ threshold: 0.5 }, { threshold: 1 }]);
    expect(cases.filter((c) => c.algorithm === 'SKNN_PREDICT').map((c) => [c.dataset.name, c.params])).toEqual([['cls', {}]]);
    expect(skipped.map((s) => `${s.algorithm}×${s.dataset}`).sort()).toEqual(['NNC×cls', 'PKMEANS×cls', 'SKNN_PREDICT×iris']);
    for (const c of cases) for (const k of Object.keys(c.params)) expect(algorithmSpec(c.algorithm).fields).toContain(k);
  });

  it('a dataset’s own parameters replace the grid for it', () => {
    const p = parsePlan({ algorithms: ['PKMEANS'], datasets: [{ data: 'a.csv', params: { k: 4 } }, 'b.csv'], params: { k: [2, 3] } }, '/');
    expect(expandPlan(p).cases.map((c) => `${c.dataset.name}:${c.params.k}`)).toEqual(['a:4', 'b:2', 'b:3']);
  });

  it('combinations is the cartesian product of the grid', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { minLength: 1, maxLength: 4 }), fc.array(fc.integer(), { minLength: 1, maxLength: 4 }), (ks, ts) => {
        const k = [...new Set(ks)];
        const t = [...new Set(ts)];
        const all = combinations({ k, threshold: t });
        expect(all).toHaveLength(k.length * t.length);
        expect(new Set(all.map((c) => `${c.k}/${c.threshold}`)).size).toBe(all.length);
      }),
    );
    expect(combinations({})).toEqual([{}]);
    expect(paramsLabel({ k: 3, maxIterations: 5, sens: 1e-8 })).toBe('maxIterations=5;sens=1e-8');
  });

  it('mistakes name the field and point at the help', () => {
    const bad = (plan: unknown, field: string) => expectAppError(() => parsePlan(plan, '/'), 'CONFIG_INVALID', field);
    bad([], 'file');
    bad({ ...base, colour: 1 }, 'colour');
    bad({ ...base, algorithms: [] }, 'algorithms');
    bad({ ...base, algorithms: ['PKMEANS', 'QUICKSORT'] }, 'algorithms[1]');
    bad({ ...base, datasets: [{ labels: 'x' }] }, 'datasets[0].data');
    bad({ ...base, datasets: ['a/x.csv', 'b/x.csv'] }, 'datasets');
    bad({ ...base, params: { k: 'three' } }, 'params.k');
    bad({ ...base, params: { iterations: 3 } }, 'params.iterations');
    bad({ ...base, repetitions: 1.5 }, 'repetitions');
    bad({ ...base, acknowledge: ['PKMEANS'] }, 'acknowledge');
    bad({ ...base, cloud: 'aws' }, 'cloud');
    bad({ ...base, id: '../x' }, 'id');
    expectAppError(() => expandPlan(parsePlan({ algorithms: ['SKNN'], datasets: ['x.csv'] }, '/')), 'CONFIG_INVALID');
  });

  it('a plaintext-uploading algorithm that would run is refused unless the plan or RORY_ACKNOWLEDGE accepts it', () => {
    const none = { acknowledged: new Set<string>() };
    const plan = (o: object) => parsePlan({ algorithms: ['PKMEANS', 'SKMEANS', 'DBSNNC'], datasets: ['a.csv'], ...o }, '/');
    expectAppError(() => refuseUnacknowledged(plan({}), none), 'ACK_REQUIRED', 'SKMEANS');
    let message = '';
    try {
      refuseUnacknowledged(plan({}), none);
    } catch (e) {
      message = (e as AppError).userMessage;
    }
    expect(message).toContain(`SKMEANS (${acknowledgementKeysOf(jobLeakageProfile('SKMEANS')).join(', ')})`);
    expect(message).not.toMatch(/PKMEANS|DBSNNC/);
    expect(() => refuseUnacknowledged(plan({ acknowledge: ['skmeans'] }), none)).not.toThrow();
    expect(() => refuseUnacknowledged(plan({}), { acknowledged: new Set(['SKMEANS']) })).not.toThrow();
    // KNN has no dataset it fits here (no test set): it would not run, so it is not refused.
    expect(() => refuseUnacknowledged(parsePlan({ algorithms: ['PKMEANS', 'KNN'], datasets: ['a.csv'] }, '/'), none)).not.toThrow();
  });
});

describe('trace and summary', () => {
  const run = (rep: number, totalMs: number | undefined, extra: Partial<RunRecord> = {}): RunRecord => ({
    experimentId: 'e',
    repetition: rep,
    algorithm: 'SKMEANS',
    dataset: 'iris',
    n: 150,
    a: 4,
    k: 3,
    params: '',
    ok: totalMs !== undefined,
    totalMs,
    iterations: 10,
    cpuMs: 500,
    events: [
      { name: 'PUT', at: 0, durationMs: 100, detail: { bytes: 2_000_000 } },
      { name: 'DECRYPT', at: 0, durationMs: 50, round: 0 },
      { name: 'RUN1', at: 0, durationMs: 300, round: 0 },
    ] as JobLogEvent[],
    ...extra,
  });

  it('quantiles are numpy’s default (linear interpolation)', () => {
    // numpy.quantile([1, 2, 3, 4], [0.25, 0.5, 0.75]) = [1.75, 2.5, 3.25]
    expect([0.25, 0.5, 0.75].map((q) => quantile([1, 2, 3, 4], q))).toEqual([1.75, 2.5, 3.25]);
    expect(median([5, 1, 3])).toBe(3);
    expect(quantile([7], 0.25)).toBe(7);
    expect(Number.isNaN(quantile([], 0.5))).toBe(true);
  });

  it('one trace row per event, in the documented columns', () => {
    const rows = traceRows(run(2, 1000)).trim().split('\n');
    expect(rows).toEqual(['e,2,SKMEANS,iris,150,4,3,,PUT,,0.1,2000000', 'e,2,SKMEANS,iris,150,4,3,,DECRYPT,1,0.05,', 'e,2,SKMEANS,iris,150,4,3,,RUN1,1,0.3,']);
    for (const r of rows) expect(r.split(',')).toHaveLength(TRACE_COLUMNS.length);
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField(undefined)).toBe('');
  });

  it('summarises per algorithm, dataset and parameters; failures are counted apart', () => {
    const rows = summarize([run(1, 1000), run(2, 3000), run(3, 2000), run(4, undefined), run(1, 500, { dataset: 'blobs' })]);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ algorithm: 'SKMEANS', dataset: 'iris', runs: 4, failed: 1, median_s: 2, iqr_s: 1, min_s: 1, max_s: 3, median_iterations: 10, median_crypto_s: 0.05, median_transfer_s: 0.1, median_worker_s: 0.3, median_mb_up: 2, median_client_cpu_s: 0.5 });
    expect(rows[1]).toMatchObject({ dataset: 'blobs', runs: 1, failed: 0, median_s: 0.5, iqr_s: 0 });
    const text = summaryCsv(rows).trim().split('\n');
    expect(text[0]).toBe(SUMMARY_COLUMNS.join(','));
    expect(text).toHaveLength(3);
  });
});

describe('help', () => {
  it('documents every option each command accepts, with an example', () => {
    const table: [string, Record<string, unknown>][] = [
      ['serve', SERVE_OPTIONS],
      ['cloud', CLOUD_OPTIONS],
      ['keys', KEYS_OPTIONS],
      ['run', RUN_OPTIONS],
      ['experiment', EXPERIMENT_OPTIONS],
    ];
    for (const [cmd, options] of table) {
      for (const name of Object.keys(options)) {
        const text = name === 'env-file' ? MAIN_HELP : HELP[cmd];
        expect(text, `${cmd} --${name}`).toContain(`--${name}`);
      }
      expect(HELP[cmd], cmd).toMatch(/Examples?:/);
      expect(MAIN_HELP).toContain(cmd);
    }
  });
});
