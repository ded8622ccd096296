/**
 * Private k-means (spec/private-kmeans.md) end to end on the REAL local cloud (router, manager, two
 * workers on 127.0.0.1): labels and iteration counts equal ../shared/vectors/lloyd-reference.json
 * exactly on iris, blobs-100x5-k2 and blobs-1000x8-k4; two workers give the same labels as one;
 * only ciphertexts and public keys reach storage; lying workers (wrong distances, ciphertexts under
 * another key set, wrong counts) end in a clear refusal with nothing derived uploaded.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ckks from '@/lib/crypto/ckks';
import { newJobId } from '@/lib/rory/ids';
import { packingLayout, rotationSteps } from '@/lib/rory/algorithms/pkmeans/packing';
import { runPkmeansJob, type PkmeansJob } from '@/lib/rory/algorithms/pkmeans/runner';
import type { ApprovalRequest, JobLogEvent, RunContext } from '@/lib/rory/kit';
import { createManagerClient } from '@/lib/rory/manager-client';
import { createWorkerClient } from '@/lib/rory/worker-client';
import { MictlanxClient } from '@/lib/storage/mictlanx-client';
import { startLocalCloud, type LocalCloud } from '@/server/cloud';
import { route, type Reply } from '@/server/common/http';
import { loadCsv } from '../helpers/datasets';
import { testEngine } from '../helpers/engine';
import { rejection } from '../helpers/errors';
import { workerRoutes } from '../helpers/in-process-worker';
import { startRogueWorker } from '../helpers/rogue-worker';

interface LloydRun {
  readonly dataset: string;
  readonly k: number;
  readonly iterations: number;
  readonly labels: number[];
  readonly centroids: number[][];
}
const LLOYD = JSON.parse(readFileSync(new URL('../../../shared/vectors/lloyd-reference.json', import.meta.url), 'utf8')) as Record<string, LloydRun>;

let cloud: LocalCloud;
let dataDir: string;
let store: MictlanxClient;
let keySet: ckks.CkksKeySet;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'rory-pkmeans-'));
  cloud = await startLocalCloud({ dataDir, workerPorts: [0, 0] });
  store = new MictlanxClient({ routers: [{ id: 'mictlanx-router-0', host: '127.0.0.1', port: cloud.routerPort, protocol: 'http' }], bucket: cloud.bucket });
  // Every power-of-two step up to slots/2: covers the replication steps of any stride.
  const steps = Array.from({ length: 11 }, (_, j) => 2 ** (j + 1));
  keySet = await ckks.generateKeySet(ckks.CKKS_DEFAULT_PARAMS, { relinKeys: true, galoisSteps: steps });
});
afterAll(async () => {
  await cloud?.close();
  keySet?.dispose();
  await rm(dataDir, { recursive: true, force: true });
});

async function run(file: string, k: number, opts: { workers?: number; managerUrl?: string; maxIterations?: number; approve?: (r: ApprovalRequest) => 'approve' | 'deny' | 'approve-all' } = {}) {
  const t = testEngine();
  const ckksKey = await t.ckksKey(keySet);
  const events: JobLogEvent[] = [];
  const approvals: ApprovalRequest[] = [];
  const ctx: RunContext = {
    store,
    manager: createManagerClient({ baseUrl: opts.managerUrl ?? cloud.managerUrl }),
    workerFor: (a) => createWorkerClient({ baseUrl: a.url }),
    engine: t.engine,
    approve: async (r) => (approvals.push(r), opts.approve ? opts.approve(r) : 'approve'),
    onEvent: (e) => events.push(e),
  };
  const jobId = newJobId();
  const job: PkmeansJob = { jobId, matrixId: `pk${jobId}`, data: loadCsv(file), k, keys: { ckks: ckksKey }, maxIterations: opts.maxIterations ?? 20, workers: opts.workers };
  return { promise: runPkmeansJob(job, ctx), events, approvals, p: job.matrixId };
}

describe('private k-means on the local cloud', () => {
  for (const key of ['iris', 'blobs100', 'blobs1000'] as const) {
    it(`${LLOYD[key].dataset}, k=${LLOYD[key].k}: labels and iterations equal lloyd-reference.json exactly`, async () => {
      const ref = LLOYD[key];
      const r = await run(ref.dataset, ref.k);
      const out = await r.promise;
      expect(Array.from(out.labels)).toEqual(ref.labels);
      expect(out.iterations).toBe(ref.iterations);
      expect(out.converged).toBe(true);
      out.centroids.data.forEach((v, i) => expect(Math.abs(v - ref.centroids.flat()[i])).toBeLessThan(1e-9 * Math.max(1, Math.abs(v))));
      expect(out.verification.ok).toBe(true);
      // One approval per round, each for n×k distances; every round verified.
      expect(r.approvals).toHaveLength(ref.iterations + 1);
      expect(r.approvals[0].shape).toEqual([ref.labels.length, ref.k]);
      expect(r.events.filter((e) => e.name === 'VERIFY')).toHaveLength(ref.iterations + 1);
      console.log(`PKMEANS ${ref.dataset}: ${out.rounds} rounds on ${out.workerIds.length} worker(s), ${(out.totalMs / 1000).toFixed(1)} s, max deviation ${out.verification.maxError.toExponential(2)}`);
    });
  }

  it('two workers give exactly the labels of one worker (blobs-1000, blocks split between them)', async () => {
    const one = await (await run('blobs-1000x8-k4.csv', 4, { workers: 1 })).promise;
    const two = await (await run('blobs-1000x8-k4.csv', 4, { workers: 2 })).promise;
    expect(one.workerIds).toHaveLength(1);
    expect(two.workerIds).toHaveLength(2);
    expect(new Set(two.workerIds).size).toBe(2);
    expect(Array.from(two.labels)).toEqual(Array.from(one.labels));
    expect(two.iterations).toBe(one.iterations);
  });

  it('stops at the iteration cap without converging, and a denial stops the job cleanly', async () => {
    const capped = await (await run('iris.csv', 3, { maxIterations: 3 })).promise;
    expect(capped.converged).toBe(false);
    expect(capped.iterations).toBe(3);
    const denied = await run('blobs-100x5-k2.csv', 2, { approve: () => 'deny' });
    const e = await rejection(denied.promise);
    expect(e.code).toBe('APPROVAL_DENIED');
    expect(denied.events.some((x) => x.name === 'DECRYPT')).toBe(false);
  });

  it('storage holds only ciphertexts and public key objects: no record, label or centroid value, no secret key', async () => {
    const r = await run('blobs-100x5-k2.csv', 2);
    const out = await r.promise;
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const name of await readdir(dir)) {
        const p = join(dir, name);
        if ((await stat(p)).isDirectory()) await walk(p);
        else files.push(p);
      }
    };
    await walk(dataDir);
    const d = loadCsv('blobs-100x5-k2.csv');
    // Positive control: the public key is found; then no float64 of a record, of a centroid, no label vector, no secret key.
    const pk = Buffer.from(keySet.publicBundle().publicKey.subarray(64, 128));
    const sk = Buffer.from(keySet.toBytes({ compression: 'none' }).secretKey.subarray(64, 128));
    const needles = [...Array.from(d.data.subarray(0, 20)), ...Array.from(out.centroids.data)].map((v) => Buffer.from(new Float64Array([v]).buffer));
    const labelsText = Buffer.from(JSON.stringify(Array.from(out.labels)).slice(1, 40));
    let foundPk = false;
    for (const f of files) {
      const b = await readFile(f);
      foundPk ||= b.includes(pk);
      expect(b.includes(sk)).toBe(false);
      for (const nd of needles) expect(b.includes(nd)).toBe(false);
      expect(b.includes(labelsText)).toBe(false);
    }
    expect(foundPk).toBe(true);
    const layout = packingLayout(100, 5, 4096);
    expect(rotationSteps(layout)).toEqual([8, 16, 32, 64, 128, 256, 512, 1024, 2048]);
  });
});

describe('a lying private k-means worker', () => {
  /** A worker whose step 2 runs honestly, then `tamper`s its stored distances. */
  async function liar(tamper: (rows: Uint8Array[][], ctx: { p: string; s: MictlanxClient }) => Promise<Uint8Array[][]>) {
    const s = new MictlanxClient({ routers: [{ id: 'mictlanx-router-0', host: '127.0.0.1', port: cloud.routerPort, protocol: 'http' }], bucket: cloud.bucket });
    const honest = workerRoutes(s).get('/clustering/pqc/pkmeans')!;
    return startRogueWorker([
      route('POST', '/clustering/pqc/pkmeans', async (ctx): Promise<Reply> => {
        const reply = await honest((n) => ctx.header(n));
        if (ctx.header('Step-Index') === '2' && reply.status === 200) {
          const p = ctx.header('Plaintext-Matrix-Id') as string;
          const key = `${p}distancesw${ctx.header('Pkmeans-Worker-Index') ?? '0'}`;
          const rows = await s.getBytesMatrix(key, { force: true });
          await s.putBytesMatrix(key, await tamper(rows, { p, s }), { numChunks: 1 });
        }
        return reply;
      }),
    ]);
  }

  const cases: [string, (rows: Uint8Array[][], ctx: { p: string; s: MictlanxClient }) => Promise<Uint8Array[][]>][] = [
    [
      'wrong distances (cluster 0 and 1 swapped)',
      async (rows) => [rows[1], rows[0], ...rows.slice(2)],
    ],
    ['the dataset ciphertexts instead of distances', async (rows, { p, s }) => {
      const data = await s.getBytesList(`encrypted${p}`, { force: true });
      return rows.map((r) => r.map((_, j) => data[j]));
    }],
    [
      'ciphertexts under another key set',
      async (rows) => {
        const other = await ckks.generateKeySet(ckks.CKKS_DEFAULT_PARAMS, { relinKeys: false });
        try {
          return rows.map((r) => r.map(() => other.encryptRow(Float64Array.of(0.5, 0.25))));
        } finally {
          other.dispose();
        }
      },
    ],
    ['one cluster row fewer (wrong counts)', async (rows) => rows.slice(1)],
  ];

  for (const [what, tamper] of cases) {
    it(`${what}: refused with a clear message; no next-round masks are sent`, async () => {
      const l = await liar(tamper);
      try {
        const r = await run('blobs-100x5-k2.csv', 2, { managerUrl: l.managerUrl });
        const e = await rejection(r.promise);
        expect(e.code).toBe('DECRYPTION_REFUSED');
        expect(e.userMessage.length).toBeGreaterThan(40);
        expect(r.events.some((x) => x.name === 'DECRYPTION.REFUSED')).toBe(true);
        // Round 1's masks were sent before the lie; nothing after it (no second round).
        expect(r.events.filter((x) => x.name === 'RUN1')).toHaveLength(1);
        expect(r.events.some((x) => x.name === 'ITERATION.COMPLETED')).toBe(false);
      } finally {
        await l.close();
      }
    });
  }
});
