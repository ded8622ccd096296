/**
 * End-to-end job time on a local Rory cloud for every algorithm, as a plan for `rory experiment`
 * (headless/experiment/; the plan is bench/plans/jobs.json): the k-means family and the NNC family
 * on one clustering dataset (default blobs-1000x8-k4, k = 4) and classification on the 200 × 5 /
 * 50 × 5 split, through the same runners as the app. The cloud runs in a child process, so the
 * client CPU column is the Data Owner's alone. `rory experiment` prints the summary (median,
 * IQR, min, max of the job time; crypto, transfer and worker time; MB up; client CPU) and writes
 * trace.csv and summary.csv under bench/results/.
 *
 * Run: `npx tsx bench/jobs.ts [runs=1] [dataset=blobs-1000x8-k4.csv] [k=4] [only=ALG,ALG…]`
 * (the same as `npx rory experiment bench/plans/jobs.json` for the defaults).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '@/headless/cli/main';

const PLAN = fileURLToPath(new URL('./plans/jobs.json', import.meta.url));
const SHARED = fileURLToPath(new URL('../../shared/datasets/', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

const [runs = '1', dataset = 'blobs-1000x8-k4.csv', k = '4', only = ''] = process.argv.slice(2);
const plan = JSON.parse(await readFile(PLAN, 'utf8')) as { algorithms: string[]; datasets: Record<string, unknown>[]; repetitions: number; out: string; id: string };
const stem = dataset.replace(/\.csv$/, '');
plan.repetitions = Number(runs);
plan.id = `jobs-${stem}-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}`;
plan.out = join(RESULTS, plan.id);
plan.datasets = [
  { name: stem, data: join(SHARED, dataset), labels: join(SHARED, `${stem}.labels.csv`), params: { k: Number(k) } },
  ...plan.datasets.slice(1).map((d) => Object.fromEntries(Object.entries(d).map(([key, v]) => [key, typeof v === 'string' && v.startsWith('../') ? join(SHARED, v.replace(/^.*\//, '')) : v]))),
];
if (only) plan.algorithms = only.split(',');
const dir = await mkdtemp(join(tmpdir(), 'rory-bench-plan-'));
try {
  await writeFile(join(dir, 'plan.json'), JSON.stringify(plan, null, 1));
  process.exitCode = await main(['experiment', join(dir, 'plan.json')]);
} finally {
  await rm(dir, { recursive: true, force: true });
}
