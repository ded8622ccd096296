/**
 * @module headless/cli/experiment
 * `rory experiment PLAN.json` (help.ts EXPERIMENT_HELP): reads and checks the plan, starts a local
 * cloud when the plan (or `--local-cloud`) asks for one, runs it (experiment/run.ts) and prints
 * where the trace and summary are, and the summary table.
 */
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AppError } from '@/lib/errors';
import { startChildCloud, type ChildCloud } from '../cloud/child';
import { createRuntime } from '../jobs/runtime';
import { parsePlan } from '../experiment/plan';
import { refuseUnacknowledged, runExperiment } from '../experiment/run';
import { summaryTable } from '../experiment/trace';
import { ENV_FILE_OPTION, loadConfig, readTextFile, UsageError } from './common';

/** The options `parseArgs` accepts (help.ts documents each; a unit test checks). */
export const EXPERIMENT_OPTIONS = {
  ...ENV_FILE_OPTION,
  out: { type: 'string' },
  'local-cloud': { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
} as const;

export async function experimentCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: EXPERIMENT_OPTIONS });
  const planPath = positionals[0];
  if (!planPath) throw new UsageError('experiment', 'give the plan file: rory experiment PLAN.json');
  const text = await readTextFile('The plan file', planPath);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AppError('CONFIG_INVALID', 'plan is not JSON', { cause: e, userMessage: `The plan file ${planPath} is not valid JSON (${e instanceof Error ? e.message : 'parse error'}).` });
  }
  const plan = parsePlan(json, dirname(resolve(planPath)));
  const say = (m: string) => (values.quiet ? undefined : console.error(m));
  const base = loadConfig(values['env-file']);
  try {
    refuseUnacknowledged(plan, base.extras);
  } catch (e) {
    if (!(e instanceof AppError) || e.code !== 'ACK_REQUIRED') throw e;
    console.error(`rory experiment: ${e.userMessage}`);
    return 3;
  }
  let cloud: ChildCloud | undefined;
  if (values['local-cloud'] || plan.cloud === 'local') {
    say('starting a local Rory cloud…');
    cloud = await startChildCloud();
  }
  try {
    const config = cloud ? loadConfig(values['env-file'], { ...cloud.settings }, { quiet: true }) : base;
    const out = values.out ? resolve(values.out) : (plan.out ?? resolve(config.settings.SINK_PATH, plan.id));
    const rt = await createRuntime(config);
    for (const n of rt.notes) say(`note: ${n}`);
    try {
      say(`experiment ${plan.id}: ${plan.algorithms.join(', ')} × ${plan.datasets.map((d) => d.name).join(', ')}, ${plan.repetitions} repetition(s) → ${out}`);
      const r = await runExperiment(rt, plan, out, say);
      for (const s of r.skipped) say(`skipped ${s.algorithm} × ${s.dataset}: ${s.why}`);
      console.log(summaryTable(r.summary));
      console.log(`\n${r.runs} run(s), ${r.failed} failed. Trace: ${r.tracePath}  Summary: ${r.summaryPath}`);
      return r.failed > 0 ? 1 : 0;
    } finally {
      rt.close();
    }
  } finally {
    await cloud?.close();
  }
}
