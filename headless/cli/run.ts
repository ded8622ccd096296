/**
 * @module headless/cli/run
 * `rory run` (help.ts RUN_HELP): one job on a local file against the configured cloud (or a local
 * one started for it), through `jobs/run-job.ts`. Shows progress (a bar on a terminal, plain lines
 * otherwise), refuses a plaintext-uploading algorithm unless `--acknowledge` is given (listing
 * what would leave), and writes the result as JSON (labels, iterations, verification, metrics,
 * timings) and the labels as CSV (one integer per line, like the `*.labels.csv` datasets).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { toAppError } from '@/lib/errors';
import { accuracy, externalMetrics, internalMetrics } from '@/lib/data/metrics';
import { algorithmSpec, jobLeakageProfile } from '@/lib/rory/algorithms/registry';
import type { JobParams } from '@/lib/rory/algorithms/spec';
import { matrixId, newJobId } from '@/lib/rory/ids';
import { startChildCloud, type ChildCloud } from '../cloud/child';
import { readLabelsFile, readMatrixFile, safeJoin } from '../data/source';
import { acknowledgeHint, runHeadlessJob } from '../jobs/run-job';
import { createRuntime } from '../jobs/runtime';
import { jobAlgorithmOf } from '../experiment/plan';
import { ENV_FILE_OPTION, intOption, loadConfig, numberOption, UsageError } from './common';
import { progressView } from './progress';

/** The options `parseArgs` accepts (help.ts documents each; a unit test checks). */
export const RUN_OPTIONS = {
  ...ENV_FILE_OPTION,
  algorithm: { type: 'string', default: 'PKMEANS' },
  data: { type: 'string' },
  labels: { type: 'string' },
  test: { type: 'string' },
  'test-labels': { type: 'string' },
  k: { type: 'string' },
  'max-iterations': { type: 'string' },
  threshold: { type: 'string' },
  sens: { type: 'string' },
  tolerance: { type: 'string' },
  acknowledge: { type: 'boolean', default: false },
  'liu-key': { type: 'string' },
  'ckks-key': { type: 'string' },
  out: { type: 'string' },
  'local-cloud': { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
} as const;

export async function runCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: RUN_OPTIONS });
  const algorithm = jobAlgorithmOf(values.algorithm);
  if (!algorithm) throw new UsageError('run', `--algorithm ${values.algorithm} is not an algorithm`);
  if (!values.data) throw new UsageError('run', '--data FILE is required (a CSV or NPY dataset)');
  const spec = algorithmSpec(algorithm);
  if (spec.kind === 'classification' && (!values.test || !values.labels)) {
    throw new UsageError('run', `${spec.id} classifies --test records with a model: give --data (training set), --labels (its classes) and --test`);
  }
  const profile = jobLeakageProfile(spec.id);
  if (profile.requiresAcknowledgement && !values.acknowledge) {
    const items = profile.items.filter((i) => i.needsAck);
    console.error(`${spec.id} sends data to the cloud WITHOUT encryption:`);
    for (const i of items) console.error(`  - ${i.key}${i.perRound ? ' (every round)' : ''}: ${i.description}`);
    console.error(`Nothing was read or sent. Add --acknowledge to accept this, or run an algorithm that encrypts everything (PKMEANS, DBSKMEANS, DBSNNC, SKNN…). ${acknowledgeHint(spec.id.replace(/_PREDICT$/, '')).replace(/^If that is acceptable, /, 'For rory serve: ')}`);
    return 3;
  }
  const params: JobParams = {
    k: intOption('run', 'k', values.k, 1, 100_000),
    maxIterations: intOption('run', 'max-iterations', values['max-iterations'], 1, 1000),
    threshold: numberOption('run', 'threshold', values.threshold),
    sens: numberOption('run', 'sens', values.sens),
    tolerance: numberOption('run', 'tolerance', values.tolerance),
    ...(spec.kind === 'classification' ? { testDatasetId: 'test' } : {}),
  };
  const quiet = values.quiet;
  const say = (m: string) => (quiet ? undefined : console.error(m));

  const { matrix: data, labels: inline } = await readMatrixFile(values.data, '--data');
  const labels = values.labels ? await readLabelsFile(values.labels, '--labels') : inline;
  const test = values.test ? (await readMatrixFile(values.test, '--test')).matrix : undefined;
  const testLabels = values['test-labels'] ? await readLabelsFile(values['test-labels'], '--test-labels') : undefined;

  let cloud: ChildCloud | undefined;
  if (values['local-cloud']) {
    say('starting a local Rory cloud…');
    cloud = await startChildCloud();
  }
  try {
    const config = loadConfig(values['env-file'], cloud ? { ...cloud.settings } : {});
    const rt = await createRuntime(config);
    for (const n of rt.notes) say(`note: ${n}`);
    const name = basename(values.data).replace(/\.(csv|npy)$/i, '');
    const jobId = newJobId();
    say(`${spec.id} on ${values.data} (${data.shape[0]} × ${data.shape[1]}), job ${jobId}`);
    const view = progressView(process.stderr, { quiet });
    let outcome;
    try {
      outcome = (
        await runHeadlessJob(rt, {
          algorithm: spec.id,
          jobId,
          storageId: matrixId('', jobId),
          datasetName: name,
          data,
          labels: spec.kind === 'classification' ? labels : undefined,
          test,
          params,
          acknowledged: values.acknowledge,
          keys: { liu: values['liu-key'], ckks: values['ckks-key'] },
          onEvent: (e) => view.event(e),
          onProgress: (p) => view.progress(p),
        })
      ).outcome;
    } finally {
      view.done();
      rt.close();
    }
    const metrics: Record<string, number | string> = {};
    const add = (f: () => object) => {
      try {
        for (const [k, v] of Object.entries(f())) if (typeof v === 'number' ? Number.isFinite(v) : typeof v === 'string') metrics[k] = v;
      } catch (e) {
        say(`note: metrics skipped: ${toAppError(e).userMessage}`);
      }
    };
    if (spec.kind === 'clustering') {
      add(() => internalMetrics(data, outcome.labels));
      if (labels) add(() => externalMetrics(labels, outcome.labels, outcome.clusters ?? new Set(outcome.labels).size));
    } else if (testLabels) add(() => ({ accuracy: accuracy(testLabels, outcome.labels) }));
    const prefix = values.out ?? safeJoin(config.settings.SINK_PATH, `${name}.${jobId}`);
    await mkdir(dirname(prefix), { recursive: true });
    const result = {
      algorithm: spec.id,
      job_id: jobId,
      data: values.data,
      shape: data.shape,
      params,
      labels: Array.from(outcome.labels),
      iterations: outcome.iterations,
      converged: outcome.converged,
      verification: outcome.verification,
      threshold: outcome.threshold,
      clusters: outcome.clusters,
      centroids: outcome.centroids ? { shape: outcome.centroids.shape, data: Array.from(outcome.centroids.data) } : undefined,
      metrics,
      worker_id: outcome.workerId,
      timings_ms: { ...outcome.timings, total: outcome.totalMs },
    };
    await writeFile(`${prefix}.json`, JSON.stringify(result, null, 1) + '\n');
    await writeFile(`${prefix}.labels.csv`, Array.from(outcome.labels).join('\n') + '\n');
    const summary = [
      `${spec.id}: ${outcome.labels.length} labels`,
      outcome.iterations !== undefined ? `${outcome.iterations} iterations${outcome.converged === false ? ' (cap reached)' : ''}` : '',
      outcome.verification ? `verification ${outcome.verification.ok ? 'passed' : 'FAILED'}` : '',
      ...Object.entries(metrics)
        .filter(([, v]) => typeof v === 'number')
        .map(([k, v]) => `${k} ${(v as number).toFixed(4)}`),
      `${(outcome.totalMs / 1000).toFixed(2)} s`,
    ].filter(Boolean);
    say(summary.join(', '));
    console.log(`${prefix}.json`);
    return outcome.verification && !outcome.verification.ok ? 4 : 0;
  } finally {
    await cloud?.close();
  }
}
