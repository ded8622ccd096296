/**
 * `rory run` and `rory experiment` (headless/cli/run.ts, headless/experiment/) as the real command,
 * against the real local cloud on loopback:
 * - `rory run` (PKMEANS, the default) on blobs-100x5-k2 writes a result JSON and a labels CSV whose
 *   labels equal ../shared/vectors/lloyd-reference.json; off a terminal it prints plain lines
 *   (no control characters); a plaintext-uploading algorithm without --acknowledge stops before
 *   anything is uploaded (exit 3, storage unchanged) and lists what would leave.
 * - `rory experiment` on two algorithms × two datasets × 3 repetitions writes trace.csv (one row
 *   per event per run, the documented columns) and summary.csv (one row per algorithm and
 *   dataset, median within [min, max]); SKMeans on blobs-100x5-k2 converges after the reference's
 *   3 iterations in every repetition (kmeans-reference.json).
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '@/server/cloud';
import { SUMMARY_COLUMNS, TRACE_COLUMNS } from '@/headless/experiment/trace';
import { kmeansReference } from '../helpers/datasets';
import { runRory, spawnRory } from '../helpers/headless';

const SHARED = new URL('../../../shared/', import.meta.url);
const dataset = (name: string) => new URL(`datasets/${name}`, SHARED).pathname;

let cloud: LocalCloud;
let root: string;
let env: Record<string, string>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rory-cli-'));
  cloud = await startLocalCloud({ dataDir: join(root, 'cloud'), workerPorts: [0, 0] });
  const router = new URL(cloud.routerUrl);
  const manager = new URL(cloud.managerUrl);
  env = {
    SINK_PATH: join(root, 'sink'),
    LOG_PATH: join(root, 'log'),
    KEYS_PATH: join(root, 'keys'),
    MICTLANX_ROUTERS: `mictlanx-router-0:${router.hostname}:${router.port}`,
    RORY_MANAGER_IP_ADDR: manager.hostname,
    RORY_MANAGER_PORT: manager.port,
  };
});

afterAll(async () => {
  await cloud?.close();
  await rm(root, { recursive: true, force: true });
});

async function chunkFiles(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(join(d, e.name));
    }
  };
  await walk(join(root, 'cloud'));
  return out.sort();
}

/** Splits a CSV produced by trace.ts (no field here holds a comma or a quote). */
const csv = (text: string) => text.trim().split('\n').map((l) => l.split(','));

describe('rory run', () => {
  it('PKMEANS (the default) on blobs-100x5-k2: result JSON and labels CSV equal lloyd-reference.json; plain lines off a terminal', async () => {
    const lloyd = JSON.parse(readFileSync(new URL('vectors/lloyd-reference.json', SHARED), 'utf8')) as Record<string, { labels: number[]; iterations: number }>;
    const out = join(root, 'run', 'blobs');
    const r = await runRory(['run', '--data', dataset('blobs-100x5-k2.csv'), '--labels', dataset('blobs-100x5-k2.labels.csv'), '--k', '2', '--out', out], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`${out}.json`);
    const result = JSON.parse(await readFile(`${out}.json`, 'utf8')) as { algorithm: string; labels: number[]; iterations: number; verification: { ok: boolean }; metrics: Record<string, number> };
    expect(result.algorithm).toBe('PKMEANS');
    expect(result.labels).toEqual(lloyd.blobs100.labels);
    expect(result.iterations).toBe(lloyd.blobs100.iterations);
    expect(result.verification.ok).toBe(true);
    expect(result.metrics.adjustedRand).toBe(1);
    expect((await readFile(`${out}.labels.csv`, 'utf8')).trim().split('\n').map(Number)).toEqual(lloyd.blobs100.labels);
    // Not a terminal: one plain line per event, no carriage returns or escape sequences.
    expect(r.stderr.includes('\r') || r.stderr.includes('\u001b')).toBe(false);
    for (const e of ['SEGMENT.ENCRYPT', 'PUT', 'GET.WORKER', 'RUN1', 'DECRYPT', 'VERIFY', 'ITERATION.COMPLETED', 'COMPLETED']) expect(r.stderr).toMatch(new RegExp(`^${e.replace('.', '\\.')}\\b`, 'm'));
  });

  it('SKMEANS without --acknowledge stops before anything is sent (exit 3) and lists what would leave', async () => {
    const before = await chunkFiles();
    const r = await runRory(['run', '--algorithm', 'SKMEANS', '--data', dataset('blobs-100x5-k2.csv'), '--k', '2'], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/WITHOUT encryption/);
    expect(r.stderr).toMatch(/\{P\}udm/);
    expect(r.stderr).toMatch(/\{P\}shiftmatrix/);
    expect(r.stderr).toMatch(/--acknowledge/);
    expect(await chunkFiles()).toEqual(before);
  });

  it('a mistake on the command line says what to do (exit 2)', async () => {
    const r = await runRory(['run', '--k', '2'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--data FILE is required/);
    expect(r.stderr).toMatch(/See rory run --help/);
  });
});

describe('rory experiment', () => {
  it('2 algorithms × 2 datasets × 3 repetitions: trace and summary with their columns and row counts', async () => {
    const dir = join(root, 'exp');
    const plan = {
      id: 'clitest',
      algorithms: ['SKMEANS', 'DBSNNC'],
      datasets: [
        { name: 'blobs', data: dataset('blobs-100x5-k2.csv'), params: { k: 2 } },
        { name: 'iris', data: dataset('iris.csv'), params: { k: 3 } },
      ],
      params: { maxIterations: 10 },
      repetitions: 3,
      acknowledge: ['SKMEANS'],
      out: join(dir, 'out'),
    };
    await writeFile(join(root, 'plan.json'), JSON.stringify(plan));
    const r = await runRory(['experiment', join(root, 'plan.json')], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/12 run\(s\), 0 failed/);

    const trace = csv(await readFile(join(dir, 'out', 'trace.csv'), 'utf8'));
    expect(trace[0]).toEqual([...TRACE_COLUMNS]);
    const rows = trace.slice(1).map((cells) => Object.fromEntries(TRACE_COLUMNS.map((c, i) => [c, cells[i]])));
    for (const row of rows) expect(Object.keys(row)).toHaveLength(TRACE_COLUMNS.length);
    const runs = new Set(rows.map((x) => `${x.algorithm}|${x.dataset}|${x.repetition}`));
    expect(runs.size).toBe(12);
    // One COMPLETED per run; every row belongs to the experiment and has a duration.
    expect(rows.filter((x) => x.event === 'COMPLETED')).toHaveLength(12);
    for (const x of rows) {
      expect(x.experiment_id).toBe('clitest');
      expect(Number.isFinite(Number(x.duration))).toBe(true);
    }
    const blobs = rows.filter((x) => x.dataset === 'blobs');
    expect(new Set(blobs.map((x) => `${x.n}x${x.a}`))).toEqual(new Set(['100x5']));
    expect(new Set(rows.filter((x) => x.algorithm === 'SKMEANS').map((x) => x.k))).toEqual(new Set(['2', '3']));
    expect(new Set(rows.filter((x) => x.algorithm === 'DBSNNC').map((x) => x.k))).toEqual(new Set(['']));
    const ref = kmeansReference()['blobs-100x5-k2.csv'];
    for (const rep of ['1', '2', '3']) {
      const its = rows.filter((x) => x.algorithm === 'SKMEANS' && x.dataset === 'blobs' && x.repetition === rep && x.event === 'ITERATION.COMPLETED');
      expect(its.map((x) => x.round)).toEqual(Array.from({ length: ref.iterations }, (_, i) => String(i + 1)));
    }
    const puts = rows.filter((x) => x.event === 'PUT');
    expect(puts.length).toBeGreaterThan(0);
    expect(puts.some((x) => Number(x.bytes) > 0)).toBe(true);

    const summary = csv(await readFile(join(dir, 'out', 'summary.csv'), 'utf8'));
    expect(summary[0]).toEqual([...SUMMARY_COLUMNS]);
    expect(summary).toHaveLength(1 + 4);
    const srows = summary.slice(1).map((cells) => Object.fromEntries(SUMMARY_COLUMNS.map((c, i) => [c, cells[i]])));
    expect(srows.map((x) => `${x.algorithm}|${x.dataset}`).sort()).toEqual(['DBSNNC|blobs', 'DBSNNC|iris', 'SKMEANS|blobs', 'SKMEANS|iris']);
    for (const x of srows) {
      expect(x.runs).toBe('3');
      expect(x.failed).toBe('0');
      expect(Number(x.min_s)).toBeLessThanOrEqual(Number(x.median_s));
      expect(Number(x.median_s)).toBeLessThanOrEqual(Number(x.max_s));
      expect(Number(x.iqr_s)).toBeGreaterThanOrEqual(0);
    }
    expect(srows.find((x) => x.algorithm === 'SKMEANS' && x.dataset === 'blobs')!.median_iterations).toBe(String(ref.iterations));
    expect(r.stdout).toMatch(/median s/);
  });

  it('a plan running a plaintext-uploading algorithm it does not acknowledge is refused before any run', async () => {
    const out = join(root, 'noack');
    await writeFile(join(root, 'noack.json'), JSON.stringify({ algorithms: ['DBSNNC', 'SKMEANS'], datasets: [dataset('blobs-100x5-k2.csv')], out }));
    const before = await chunkFiles();
    const r = await runRory(['experiment', join(root, 'noack.json')], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/SKMEANS \(\{P\}udm, \{P\}shiftmatrix\)/);
    expect(r.stderr).toMatch(/"acknowledge"/);
    expect(await readdir(out).catch(() => [])).toEqual([]);
    expect(await chunkFiles()).toEqual(before);
  });

  it('a plan with a mistake is refused with the field named', async () => {
    await writeFile(join(root, 'bad.json'), JSON.stringify({ algorithms: ['PKMEANS'], datasets: ['x.csv'], repetitions: 0 }));
    const r = await runRory(['experiment', join(root, 'bad.json')], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/repetitions must be a whole number from 1 to 1000/);
  });
});

describe('rory cloud', () => {
  it('--json prints the addresses and the settings that point a Data Owner at it; SIGTERM stops it cleanly', async () => {
    const p = spawnRory(['cloud', '--router-port', '0', '--manager-port', '0', '--worker-ports', '0', '--data-dir', join(root, 'cloud2'), '--json'], {});
    try {
      await expect.poll(() => p.stdout.length, { timeout: 60_000 }).toBeGreaterThan(0);
      const info = JSON.parse(p.stdout[0]) as { managerUrl: string; routerUrl: string; workerUrls: string[]; settings: Record<string, string> };
      expect(info.workerUrls).toHaveLength(1);
      const manager = new URL(info.managerUrl);
      expect(info.settings).toEqual({ MICTLANX_ROUTERS: `mictlanx-router-0:${new URL(info.routerUrl).hostname}:${new URL(info.routerUrl).port}`, RORY_MANAGER_IP_ADDR: manager.hostname, RORY_MANAGER_PORT: manager.port });
      const test = await fetch(`${info.managerUrl}/clustering/test`);
      expect(await test.json()).toEqual({ component_type: 'manager' });
    } finally {
      expect(await p.stop()).toBe(0);
    }
  });
});

