/**
 * @module headless/experiment/plan
 * `rory experiment` plans (pure): a JSON file naming algorithms, datasets, a parameter grid,
 * repetitions, the algorithms whose plaintext uploads are accepted (D3) and the cloud, checked
 * field by field (each error names the field and says what to write), and expanded into the runs
 * to make: every algorithm × every dataset it can run on × every combination of the parameters it
 * uses. The format is documented in `rory experiment --help` and docs/headless.md.
 */
import { isAbsolute, join } from 'node:path';
import { AppError } from '@/lib/errors';
import { algorithmSpec } from '@/lib/rory/algorithms/registry';
import { isJobAlgorithm, type JobAlgorithm } from '@/lib/rory/algorithms/ids';
import { memberOf } from '@/lib/util/member-of';
import type { JobParams, ParamField } from '@/lib/rory/algorithms/spec';
import { ackFamily, acknowledgeableFamilies } from '../config';

export const PARAM_NAMES = ['k', 'maxIterations', 'threshold', 'sens', 'tolerance'] as const;
export type ParamName = (typeof PARAM_NAMES)[number];
const isParamName = memberOf(PARAM_NAMES);
export type ParamGrid = Partial<Record<ParamName, readonly number[]>>;

export interface PlanDataset {
  readonly name: string;
  /** Absolute paths. */
  readonly data: string;
  readonly labels?: string;
  readonly test?: string;
  readonly testLabels?: string;
  /** Per-dataset values that replace the plan's grid for these parameters. */
  readonly params: ParamGrid;
}

export interface ExperimentPlan {
  readonly id: string;
  readonly algorithms: readonly JobAlgorithm[];
  readonly datasets: readonly PlanDataset[];
  readonly grid: ParamGrid;
  readonly repetitions: number;
  /** Acknowledged algorithm families (`SKMEANS`, `KNN`, …). */
  readonly acknowledge: ReadonlySet<string>;
  readonly cloud: 'env' | 'local';
  /** Absolute output directory, when the plan names one. */
  readonly out?: string;
}

export interface ExperimentCase {
  readonly algorithm: JobAlgorithm;
  readonly dataset: PlanDataset;
  /** Only the parameters the algorithm uses. */
  readonly params: Partial<Record<ParamName, number>>;
}

export interface Expansion {
  readonly cases: readonly ExperimentCase[];
  readonly skipped: readonly { readonly algorithm: JobAlgorithm; readonly dataset: string; readonly why: string }[];
}

function bad(field: string, what: string): AppError {
  return new AppError('CONFIG_INVALID', `plan ${field}: ${what}`, {
    userMessage: `The experiment plan's ${field} ${what}. See \`rory experiment --help\` for the format.`,
    details: { field },
  });
}

/** `--algorithm`/plan names: job names, plus `KNN`, `SKNN`, `SKNN_PQC` for the classification jobs. */
export function jobAlgorithmOf(name: string): JobAlgorithm | undefined {
  const n = name.trim().toUpperCase().replace(/-/g, '_');
  if (isJobAlgorithm(n)) return n;
  const p = `${n}_PREDICT`;
  return isJobAlgorithm(p) ? p : undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function numberList(field: string, v: unknown): number[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw bad(field, 'is an empty list (give a number or a list of numbers)');
  for (const x of list) if (typeof x !== 'number' || !Number.isFinite(x)) throw bad(field, 'must be a number or a list of numbers');
  return [...new Set(list as number[])];
}

function grid(field: string, v: unknown): ParamGrid {
  if (v === undefined) return {};
  if (!isObject(v)) throw bad(field, `must be an object such as {"k": [2, 3]}`);
  const out: Partial<Record<ParamName, number[]>> = {};
  for (const [k, val] of Object.entries(v)) {
    if (!isParamName(k)) throw bad(`${field}.${k}`, `is not a parameter (use ${PARAM_NAMES.join(', ')})`);
    out[k] = numberList(`${field}.${k}`, val);
  }
  return out;
}

function path(baseDir: string, field: string, v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') throw bad(field, 'must be a file path');
  return isAbsolute(v) ? v : join(baseDir, v);
}

const stem = (p: string) => p.replace(/^.*[\\/]/, '').replace(/\.(csv|npy)$/i, '');

/**
 * Checks a parsed plan file. `baseDir` resolves relative paths (the plan file's directory).
 * @throws AppError CONFIG_INVALID naming the field
 */
export function parsePlan(json: unknown, baseDir: string, now: Date = new Date()): ExperimentPlan {
  if (!isObject(json)) throw bad('file', 'must be a JSON object');
  const known = ['id', 'algorithms', 'datasets', 'params', 'repetitions', 'acknowledge', 'cloud', 'out'];
  for (const k of Object.keys(json)) if (!known.includes(k)) throw bad(k, `is not a plan field (use ${known.join(', ')})`);
  const id = json.id === undefined ? `exp-${now.toISOString().slice(0, 19).replace(/[-:T]/g, '')}` : json.id;
  if (typeof id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(id)) throw bad('id', 'must be 1-64 letters, digits, . _ or -');
  if (!Array.isArray(json.algorithms) || json.algorithms.length === 0) throw bad('algorithms', 'must be a non-empty list such as ["PKMEANS"]');
  const algorithms = json.algorithms.map((a, i) => {
    const alg = typeof a === 'string' ? jobAlgorithmOf(a) : undefined;
    if (!alg) throw bad(`algorithms[${i}]`, `is not an algorithm (${String(a).slice(0, 30)}); use PKMEANS, DBSKMEANS, SKMEANS, SKMEANS_PQC, DBSKMEANS_PQC, DBSNNC, DBSNNC_PQC, NNC, KMEANS, KNN, SKNN or SKNN_PQC`);
    return alg;
  });
  if (!Array.isArray(json.datasets) || json.datasets.length === 0) throw bad('datasets', 'must be a non-empty list of files or {"data": …} objects');
  const datasets = json.datasets.map((d, i): PlanDataset => {
    const f = `datasets[${i}]`;
    if (typeof d === 'string') return { name: stem(d), data: path(baseDir, f, d), params: {} };
    if (!isObject(d)) throw bad(f, 'must be a file path or an object with "data"');
    for (const k of Object.keys(d)) if (!['name', 'data', 'labels', 'test', 'testLabels', 'params'].includes(k)) throw bad(`${f}.${k}`, 'is not a dataset field (use name, data, labels, test, testLabels, params)');
    const data = path(baseDir, `${f}.data`, d.data);
    const name = d.name === undefined ? stem(data) : d.name;
    if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw bad(`${f}.name`, 'must be 1-64 letters, digits, . _ or -');
    const opt = (k: 'labels' | 'test' | 'testLabels') => (d[k] === undefined ? undefined : path(baseDir, `${f}.${k}`, d[k]));
    return { name, data, labels: opt('labels'), test: opt('test'), testLabels: opt('testLabels'), params: grid(`${f}.params`, d.params) };
  });
  const names = datasets.map((d) => d.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw bad('datasets', `name the dataset ${dup} twice; give each a distinct "name"`);
  const repetitions = json.repetitions ?? 1;
  if (typeof repetitions !== 'number' || !Number.isInteger(repetitions) || repetitions < 1 || repetitions > 1000) throw bad('repetitions', 'must be a whole number from 1 to 1000');
  const ackList = json.acknowledge ?? [];
  if (!Array.isArray(ackList) || ackList.some((a) => typeof a !== 'string')) throw bad('acknowledge', 'must be a list of algorithm names such as ["SKMEANS"]');
  const valid = acknowledgeableFamilies();
  const acknowledge = new Set((ackList as string[]).map(ackFamily));
  for (const a of acknowledge) if (!valid.includes(a)) throw bad('acknowledge', `names ${a}, which uploads nothing in plaintext or does not exist (only ${valid.join(', ')} need it)`);
  const cloud = json.cloud ?? 'env';
  if (cloud !== 'env' && cloud !== 'local') throw bad('cloud', 'must be "env" (the configured cloud) or "local" (start one)');
  const out = json.out === undefined ? undefined : path(baseDir, 'out', json.out);
  return { id, algorithms, datasets, grid: grid('params', json.params), repetitions, acknowledge, cloud, out };
}

const FIELD_OF: Readonly<Record<ParamName, ParamField>> = { k: 'k', maxIterations: 'maxIterations', threshold: 'threshold', sens: 'sens', tolerance: 'tolerance' };

/** Every combination of the values in `g` (one empty combination for an empty grid). */
export function combinations(g: ParamGrid): Partial<Record<ParamName, number>>[] {
  let out: Partial<Record<ParamName, number>>[] = [{}];
  for (const name of PARAM_NAMES) {
    const values = g[name];
    if (!values) continue;
    out = out.flatMap((c) => values.map((v) => ({ ...c, [name]: v })));
  }
  return out;
}

/** The runs of a plan, in plan order (algorithm, then dataset, then parameters). */
export function expandPlan(plan: ExperimentPlan): Expansion {
  const cases: ExperimentCase[] = [];
  const skipped: { algorithm: JobAlgorithm; dataset: string; why: string }[] = [];
  for (const algorithm of plan.algorithms) {
    const spec = algorithmSpec(algorithm);
    for (const dataset of plan.datasets) {
      if (spec.kind === 'classification' && (!dataset.test || !dataset.labels)) {
        skipped.push({ algorithm, dataset: dataset.name, why: 'a classification algorithm needs "test" and "labels"' });
        continue;
      }
      if (spec.kind === 'clustering' && dataset.test) {
        skipped.push({ algorithm, dataset: dataset.name, why: 'a classification dataset (it has "test")' });
        continue;
      }
      const merged: ParamGrid = { ...plan.grid, ...dataset.params };
      const relevant: ParamGrid = {};
      for (const name of PARAM_NAMES) if (merged[name] && spec.fields.includes(FIELD_OF[name])) relevant[name] = merged[name];
      for (const params of combinations(relevant)) cases.push({ algorithm, dataset, params });
    }
  }
  if (cases.length === 0) {
    throw new AppError('CONFIG_INVALID', 'plan has no runnable pair', {
      userMessage: `The experiment plan has no algorithm and dataset that fit together: ${skipped.map((s) => `${s.algorithm} × ${s.dataset} (${s.why})`).join('; ')}.`,
    });
  }
  return { cases, skipped };
}

/** A case's parameters as job parameters. */
export function jobParams(c: ExperimentCase): JobParams {
  return { ...c.params, ...(c.dataset.test ? { testDatasetId: 'test' } : {}) };
}

/** `maxIterations=5;sens=1e-8` (k has its own column; empty when nothing else). */
export function paramsLabel(p: Partial<Record<ParamName, number>>): string {
  return PARAM_NAMES.filter((n) => n !== 'k' && p[n] !== undefined)
    .map((n) => `${n}=${p[n]}`)
    .join(';');
}
