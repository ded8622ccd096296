/**
 * D8 on the real local cloud: every interactive algorithm against a worker that lies to turn the
 * Data Owner's approvals into a decryption oracle (issue #12 finding 1). The rogue worker runs the
 * honest route on the real router, then swaps the object the browser will decrypt:
 * - Liu SKMeans / DBSKMeans: the shift becomes unit-vector ciphertexts (plus one real entry, so the
 *   round does not look converged). On the old main, the plaintext `{P}shiftmatrix` uploaded after
 *   one approval was exactly the Liu decryption weights (the whole key); here the decrypted shift
 *   is compared with the one the browser recomputes and the job stops.
 * - CKKS SKMeans-PQC / DBSKMeans-PQC: the shift becomes k of the dataset's own row ciphertexts
 *   (the old main decrypted them and uploaded the records verbatim as "the shift").
 * - SKNN: the distances become unit-vector ciphertexts (refused before any decryption or approval).
 * - SKNN-PQC: the distances become the test records' own ciphertexts (refused after decryption,
 *   before any index is sent).
 * Each case asserts the refusal, the log, and a storage scan: nothing derived from a decryption
 * (shift, FDHOPE shift, indices) exists in storage.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ckks from '@/lib/crypto/ckks';
import { matrix, type Matrix } from '@/lib/data/matrix';
import { newJobId, matrixId } from '@/lib/rory/ids';
import { acknowledge, acknowledgeJob } from '@/lib/rory/algorithms/registry';
import type { KmeansAlgorithm } from '@/lib/rory/algorithms/interactive-kmeans/calls';
import { runKmeansJob } from '@/lib/rory/algorithms/interactive-kmeans/runner';
import { runSknnJob } from '@/lib/rory/algorithms/sknn/runner';
import { runSknnPqcJob } from '@/lib/rory/algorithms/sknn-pqc/runner';
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

let cloud: LocalCloud;
let dataDir: string;
let store: MictlanxClient;
let ckksSet: ckks.CkksKeySet;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'rory-liars-'));
  cloud = await startLocalCloud({ dataDir });
  store = new MictlanxClient({ routers: [{ id: 'mictlanx-router-0', host: '127.0.0.1', port: cloud.routerPort, protocol: 'http' }], bucket: cloud.bucket });
  ckksSet = await ckks.generateKeySet(ckks.CKKS_DEFAULT_PARAMS, { relinKeys: true });
});
afterAll(async () => {
  await cloud?.close();
  ckksSet?.dispose();
  await rm(dataDir, { recursive: true, force: true });
});

/** A rogue worker: the honest handler of `path`, then `tamper` on what it stored. */
async function rogue(path: string, tamper: (headers: (n: string) => string | undefined, store: MictlanxClient) => Promise<void>) {
  const liarStore = new MictlanxClient({ routers: [{ id: 'mictlanx-router-0', host: '127.0.0.1', port: cloud.routerPort, protocol: 'http' }], bucket: cloud.bucket });
  const honest = workerRoutes(liarStore).get(path)!;
  return startRogueWorker([
    route('POST', path, async (ctx): Promise<Reply> => {
      const h = (n: string) => ctx.header(n);
      const reply = await honest(h);
      if ((ctx.header('Step-Index') ?? '1') === '1' && reply.status === 200) await tamper(h, liarStore);
      return reply;
    }),
  ]);
}

interface Harness {
  readonly ctx: RunContext;
  readonly events: JobLogEvent[];
  readonly approvals: ApprovalRequest[];
  readonly liu: string;
  readonly ckks: string;
}

async function harness(managerUrl: string): Promise<Harness> {
  const t = testEngine();
  const events: JobLogEvent[] = [];
  const approvals: ApprovalRequest[] = [];
  return {
    events,
    approvals,
    liu: await t.liuKey(),
    ckks: await t.ckksKey(ckksSet),
    ctx: {
      store,
      manager: createManagerClient({ baseUrl: managerUrl }),
      workerFor: (a) => createWorkerClient({ baseUrl: a.url }),
      engine: t.engine,
      approve: async (r) => (approvals.push(r), 'approve'),
      onEvent: (e) => events.push(e),
    },
  };
}

/** Unit-vector Liu ciphertexts in every entry but the first (which stays real). */
function unitVectors(m: Matrix): Matrix {
  const [k, a, mm] = m.shape;
  const out = m.data.slice();
  for (let e = 1; e < k * a; e++) {
    for (let c = 0; c < mm; c++) out[e * mm + c] = c === (e - 1) % mm ? 1 : 0;
  }
  return matrix(out, [k, a, mm]);
}

const PATH: Record<KmeansAlgorithm, string> = {
  SKMEANS: '/clustering/skmeans',
  DBSKMEANS: '/clustering/dbskmeans',
  SKMEANS_PQC: '/clustering/pqc/skmeans',
  DBSKMEANS_PQC: '/clustering/pqc/dbskmeans',
};

describe('a worker probing for a decryption oracle in the k-means family', () => {
  for (const algorithm of ['SKMEANS', 'DBSKMEANS', 'SKMEANS_PQC', 'DBSKMEANS_PQC'] as const) {
    const pqc = algorithm.endsWith('_PQC');
    it(`${algorithm}: forged shift ciphertexts (${pqc ? "the dataset's own rows" : 'unit vectors'}) stop the job; no shift reaches storage`, async () => {
      const l = await rogue(PATH[algorithm], async (h, s) => {
        const p = h('Plaintext-Matrix-Id') as string;
        const key = `${p}encryptedshiftmatrix`;
        if (pqc) {
          const k = Number(h('K'));
          const rows = await s.getBytesList(`encrypted${p}`, { force: true });
          await s.putBytesList(key, rows.slice(0, k), { numChunks: 1 });
        } else {
          const nd = await s.getNdarray(key, { force: true });
          const bad = unitVectors(matrix(nd.data as Float64Array, nd.shape));
          await s.putNdarray(key, { dtype: 'float64', shape: bad.shape, data: bad.data }, { numChunks: 1 });
        }
      });
      try {
        const h = await harness(l.managerUrl);
        const jobId = newJobId();
        const p = matrixId('liar', jobId);
        const e = await rejection(
          runKmeansJob(
            {
              algorithm,
              jobId,
              matrixId: p,
              data: loadCsv('blobs-100x5-k2.csv'),
              k: 2,
              keys: pqc ? { ckks: h.ckks } : { liu: h.liu },
              acknowledgement: algorithm === 'SKMEANS' || algorithm === 'SKMEANS_PQC' ? acknowledge(algorithm) : undefined,
            },
            h.ctx,
          ),
        );
        expect(e.code).toBe('DECRYPTION_REFUSED');
        expect(e.userMessage).toMatch(/does not match what your own data says/);
        expect(h.events.some((x) => x.name === 'DECRYPTION.REFUSED' && x.detail?.stage === 'verification')).toBe(true);
        expect(h.events.some((x) => x.name === 'DECRYPT')).toBe(false);
        // Storage scan: nothing derived from the forged decryption was uploaded.
        expect(await store.exists(`${p}shiftmatrix`)).toBe(false);
        expect(await store.exists(`${p}shiftmatrixope`)).toBe(false);
        const balls = (await store.listBucket()).map((b) => b.ballId).filter((id) => id.includes(p));
        expect(balls.filter((id) => /shiftmatrix(ope)?$/.test(id))).toEqual([`${p}encryptedshiftmatrix`]);
      } finally {
        await l.close();
      }
    });
  }
});

describe('a worker probing for a decryption oracle in classification', async () => {
  const model = loadCsv('classification-train.csv');
  const test = loadCsv('classification-test.csv');
  const modelLabels = Int32Array.from({ length: model.shape[0] }, (_, i) => i % 2);

  it('SKNN: forged distance ciphertexts are refused before any approval or decryption; no index is sent', async () => {
    const l = await rogue('/classification/sknn/predict', async (h, s) => {
      const key = `distances${h('Records-Test-Id')}`;
      const nd = await s.getNdarray(key, { force: true });
      const bad = unitVectors(matrix(nd.data as Float64Array, [nd.shape[0] * nd.shape[1], 1, nd.shape[2]]));
      await s.putNdarray(key, { dtype: 'float64', shape: nd.shape, data: bad.data }, { numChunks: 1 });
    });
    try {
      const h = await harness(l.managerUrl);
      const id = `liar${newJobId()}`;
      const e = await rejection(runSknnJob({ jobId: 'j', storageId: id, model, modelLabels, test, keys: { liu: h.liu }, acknowledgement: acknowledgeJob('SKNN_PREDICT') }, h.ctx));
      expect(e.code).toBe('DECRYPTION_REFUSED');
      expect(h.approvals).toEqual([]);
      expect(h.events.some((x) => x.name === 'DECRYPT')).toBe(false);
      expect(await store.exists(`distancesindex${id}test`)).toBe(false);
    } finally {
      await l.close();
    }
  });

  it("SKNN-PQC: the test records' own ciphertexts as distances are refused after decryption; no index is sent", async () => {
    const l = await rogue('/classification/pqc/sknn/predict', async (h, s) => {
      const r = h('Records-Test-Id') as string;
      const rows = await s.getBytesMatrix(`encrypted${r}`, { force: true });
      const dist = await s.getBytesMatrix(`distances${r}`, { force: true });
      await s.putBytesMatrix(`distances${r}`, dist.map((row, i) => row.map(() => rows[i][0])), { numChunks: 1 });
    });
    try {
      const h = await harness(l.managerUrl);
      const id = `liar${newJobId()}`;
      const e = await rejection(runSknnPqcJob({ jobId: 'j', storageId: id, model, modelLabels, test, keys: { ckks: h.ckks }, acknowledgement: acknowledgeJob('SKNN_PQC_PREDICT') }, h.ctx));
      expect(e.code).toBe('DECRYPTION_REFUSED');
      expect(h.events.some((x) => x.name === 'DECRYPTION.REFUSED' && x.detail?.stage === 'verification')).toBe(true);
      expect(await store.exists(`distancesindex${id}test`)).toBe(false);
    } finally {
      await l.close();
    }
  });
});
