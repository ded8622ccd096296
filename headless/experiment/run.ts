/**
 * @module headless/experiment/run
 * Runs an experiment plan (plan.ts): each case `repetitions` times through `jobs/run-job.ts` (the
 * registry's runners, as the browser and `rory serve` run them), appending every run's events to
 * `trace.csv` as soon as it ends (a crash keeps what was measured), then writes `summary.csv`
 * (trace.ts). A failed run is recorded (its events end with FAILED) and the experiment goes on.
 *
 * Keys: a CKKS key set is chosen (or created) once per algorithm and data shape, before the
 * repetitions, so key generation never lands in a measured run; Liu and FDHOPE keys are fresh per
 * run (they are part of a job). A plan with a plaintext-uploading algorithm that neither the plan
 * nor RORY_ACKNOWLEDGE acknowledges is refused before anything runs (D3).
 */
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, toAppError } from '@/lib/errors';
import type { Matrix } from '@/lib/data/matrix';
import { algorithmSpec, jobLeakageProfile } from '@/lib/rory/algorithms/registry';
import { acknowledgementKeysOf } from '@/lib/rory/leakage';
import { matrixId, newJobId } from '@/lib/rory/ids';
import type { JobLogEvent } from '@/lib/rory/kit';
import { ackFamily, isAcknowledged, type HeadlessExtras } from '../config';
import { readLabelsFile, readMatrixFile } from '../data/source';
import { chooseCkks } from '../keys/choose';
import { runHeadlessJob } from '../jobs/run-job';
import type { Runtime } from '../jobs/runtime';
import { expandPlan, jobParams, paramsLabel, type ExperimentPlan, type PlanDataset } from './plan';
import { csvLine, summarize, summaryCsv, TRACE_COLUMNS, traceRows, type RunRecord, type SummaryRow } from './trace';

export interface ExperimentResult {
  readonly tracePath: string;
  readonly summaryPath: string;
  readonly summary: readonly SummaryRow[];
  readonly runs: number;
  readonly failed: number;
  readonly skipped: ReturnType<typeof expandPlan>['skipped'];
}

interface LoadedDataset {
  readonly data: Matrix;
  readonly labels?: Int32Array;
  readonly test?: Matrix;
}

async function load(d: PlanDataset): Promise<LoadedDataset> {
  const { matrix, labels: inline } = await readMatrixFile(d.data, `${d.name} (data)`);
  const labels = d.labels ? await readLabelsFile(d.labels, `${d.name} (labels)`) : inline;
  const test = d.test ? (await readMatrixFile(d.test, `${d.name} (test)`)).matrix : undefined;
  return { data: matrix, labels, test };
}

/**
 * Throws ACK_REQUIRED (naming each algorithm and what it would upload) when the plan runs a
 * plaintext-uploading algorithm that neither the plan nor `extras` (RORY_ACKNOWLEDGE) acknowledges.
 */
export function refuseUnacknowledged(plan: ExperimentPlan, extras: Pick<HeadlessExtras, 'acknowledged'>): void {
  const acknowledged = (alg: string) => plan.acknowledge.has(ackFamily(alg)) || isAcknowledged(extras, alg);
  const refused = [...new Set(expandPlan(plan).cases.map((c) => c.algorithm))].filter((a) => jobLeakageProfile(a).requiresAcknowledgement && !acknowledged(a));
  if (refused.length === 0) return;
  const what = refused.map((a) => `${a} (${acknowledgementKeysOf(jobLeakageProfile(a)).join(', ')})`).join('; ');
  throw new AppError('ACK_REQUIRED', `plan runs unacknowledged plaintext uploads: ${refused.join(', ')}`, {
    userMessage: `The plan runs algorithms that send data to the cloud without encryption: ${what}. Nothing was run. If that is acceptable, add ${refused.map((a) => `"${ackFamily(a)}"`).join(', ')} to the plan's "acknowledge" list (or RORY_ACKNOWLEDGE); otherwise remove them.`,
  });
}

/**
 * Runs `plan` with `rt` (its cloud must already be the one the plan wants); `log` gets one line per
 * run. Returns where the files are and the summary.
 */
export async function runExperiment(rt: Runtime, plan: ExperimentPlan, out: string, log: (line: string) => void = () => {}): Promise<ExperimentResult> {
  const { cases, skipped } = expandPlan(plan);
  refuseUnacknowledged(plan, rt.config.extras);
  const acknowledged = (alg: string) => plan.acknowledge.has(ackFamily(alg)) || isAcknowledged(rt.config.extras, alg);
  await mkdir(out, { recursive: true });
  const tracePath = join(out, 'trace.csv');
  const summaryPath = join(out, 'summary.csv');
  await writeFile(tracePath, csvLine(TRACE_COLUMNS));
  const loaded = new Map<string, LoadedDataset>();
  const records: RunRecord[] = [];
  let index = 0;
  for (const c of cases) {
    const spec = algorithmSpec(c.algorithm);
    let ds = loaded.get(c.dataset.name);
    if (!ds) loaded.set(c.dataset.name, (ds = await load(c.dataset)));
    const [n, a] = ds.data.shape;
    const label = paramsLabel(c.params);
    let ckks: string | undefined;
    if (spec.needs.ckks) {
      const t = performance.now();
      ckks = (await chooseCkks(rt.engine, rt.keys, spec, { shape: { rows: n, cols: a } })).id;
      log(`  CKKS key set for ${spec.id} on ${n}×${a}: ${ckks} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    }
    for (let rep = 1; rep <= plan.repetitions; rep++) {
      index++;
      const events: JobLogEvent[] = [];
      const jobId = newJobId();
      const cpu0 = process.cpuUsage();
      let ok = false;
      let totalMs: number | undefined;
      let iterations: number | undefined;
      let why = '';
      try {
        const { outcome } = await runHeadlessJob(rt, {
          algorithm: c.algorithm,
          jobId,
          storageId: matrixId('', jobId),
          datasetName: c.dataset.name,
          data: ds.data,
          labels: ds.labels,
          test: ds.test,
          params: jobParams(c),
          acknowledged: acknowledged(c.algorithm),
          keys: { ckks },
          onEvent: (e) => events.push(e),
        });
        ok = true;
        totalMs = outcome.totalMs;
        iterations = outcome.iterations;
      } catch (e) {
        const err = toAppError(e);
        why = `${err.code}: ${err.userMessage}`;
        if (!events.some((x) => x.name === 'FAILED')) events.push({ name: 'FAILED', at: Date.now(), detail: { code: err.code } });
      }
      const cpu = process.cpuUsage(cpu0);
      const record: RunRecord = {
        experimentId: plan.id,
        repetition: rep,
        algorithm: spec.id,
        dataset: c.dataset.name,
        n,
        a,
        k: c.params.k,
        params: label,
        events,
        ok,
        totalMs,
        iterations,
        cpuMs: (cpu.user + cpu.system) / 1000,
      };
      records.push(record);
      await appendFile(tracePath, traceRows(record));
      const what = `${spec.id} × ${c.dataset.name}${c.params.k !== undefined ? ` k=${c.params.k}` : ''}${label ? ` ${label}` : ''} #${rep}`;
      log(ok ? `[${index}/${cases.length * plan.repetitions}] ${what}: ${((totalMs ?? 0) / 1000).toFixed(2)} s${iterations !== undefined ? `, ${iterations} iterations` : ''}` : `[${index}/${cases.length * plan.repetitions}] ${what}: FAILED (${why})`);
    }
  }
  const summary = summarize(records);
  await writeFile(summaryPath, summaryCsv(summary));
  return { tracePath, summaryPath, summary, runs: records.length, failed: records.filter((r) => !r.ok).length, skipped };
}
