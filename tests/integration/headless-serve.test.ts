/**
 * `rory serve` (headless/serve/service.ts; spec/protocol.md §6) against the real local cloud on
 * loopback: the real `rory` command is started as a child process, and every client route is
 * called with exactly the headers the upstream Python SDK sends (`requests`' defaults plus the
 * SDK's own, `ShanelReyes/rory_client:roryclient/client.py`: kmeans, skmeans, dbskmeans,
 * skmeans_pqc, dbskmeans_pqc, nnc, dbsnnc, knn, sknn, sknn_pqc — train then predict, chained as
 * the SDK chains them), each reply validated against the SDK's pydantic models
 * (`roryclient/models`). SKMeans through the service reproduces
 * ../shared/vectors/kmeans-reference.json on iris; classification equals plaintext 1-NN.
 * Without RORY_ACKNOWLEDGE every plaintext route answers 403 listing what would leave, and a
 * storage scan shows nothing was uploaded; the encrypted routes run without it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matrix, rows as rowsOf, type Matrix } from '@/lib/data/matrix';
import { nearestNeighbourManhattan } from '@/lib/data/kmeans';
import { writeNpy } from '@/lib/data/npy';
import { acknowledgementKeys, jobLeakageProfile } from '@/lib/rory/algorithms/registry';
import type { JobAlgorithm } from '@/lib/rory/algorithms/ids';
import { acknowledgementKeysOf } from '@/lib/rory/leakage';
import type { Algorithm } from '@/lib/rory/protocol';
import { startLocalCloud, type LocalCloud } from '@/server/cloud';
import { MictlanxClient } from '@/lib/storage/mictlanx-client';
import { matrixId } from '@/lib/rory/ids';
import { kmeansReference, loadCsv } from '../helpers/datasets';
import { workerRoutes } from '../helpers/in-process-worker';
import { startRogueWorker } from '../helpers/rogue-worker';
import { route } from '@/server/common/http';
import { pydanticProblems, pyTuple, SDK_MODELS, sdkPost, startRoryServe, type RoryProcess } from '../helpers/headless';

const SHARED = new URL('../../../shared/datasets/', import.meta.url);

let cloud: LocalCloud;
let root: string;
let dataDir: string;
let plain: RoryProcess & { url: string };
let acked: RoryProcess & { url: string };

const CLUSTER_FILE = 'clusteringc0r30a5k2';
const MODEL_FILE = 'classificationc0r40a5model';
const LABELS_FILE = 'classificationc0r40a5modellabels';
const TEST_FILE = 'classificationc0r12a5data';

let model: Matrix;
let modelLabels: Int32Array;
let test: Matrix;

function labelsOf(name: string): Int32Array {
  return Int32Array.from(readFileSync(new URL(name, SHARED), 'utf8').split('\n').filter(Boolean).map(Number));
}

async function env(name: string, extra: Record<string, string>): Promise<Record<string, string>> {
  const router = new URL(cloud.routerUrl);
  const manager = new URL(cloud.managerUrl);
  return {
    SOURCE_PATH: join(root, 'source'),
    SINK_PATH: join(root, 'sink'),
    LOG_PATH: join(root, 'log'),
    KEYS_PATH: join(root, `keys-${name}`),
    RORY_KEYS_PASSPHRASE_FILE: join(root, 'passphrase'),
    MICTLANX_ROUTERS: `mictlanx-router-0:${router.hostname}:${router.port}`,
    RORY_MANAGER_IP_ADDR: manager.hostname,
    RORY_MANAGER_PORT: manager.port,
    RORY_DEBUG: '0',
    ...extra,
  };
}

/** Every stored chunk file of the router, with a hash of its bytes. */
async function storageSnapshot(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(p, createHash('sha256').update(await readFile(p)).digest('hex'));
    }
  };
  await walk(dataDir);
  return out;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rory-headless-'));
  dataDir = join(root, 'cloud');
  cloud = await startLocalCloud({ dataDir, workerPorts: [0, 0] });
  const source = join(root, 'source');
  await mkdir(source, { recursive: true });
  await copyFile(new URL('iris.csv', SHARED), join(source, 'iris.csv'));
  await writeFile(join(source, `${CLUSTER_FILE}.npy`), writeNpy(rowsOf(loadCsv('blobs-100x5-k2.csv'), 0, 30)));
  model = rowsOf(loadCsv('classification-train.csv'), 0, 40);
  modelLabels = labelsOf('classification-train.labels.csv').subarray(0, 40);
  test = rowsOf(loadCsv('classification-test.csv'), 0, 12);
  await writeFile(join(source, `${MODEL_FILE}.npy`), writeNpy(model));
  await writeFile(join(source, `${LABELS_FILE}.npy`), writeNpy(matrix(Float64Array.from(modelLabels), [40])));
  await writeFile(join(source, `${TEST_FILE}.npy`), writeNpy(test));
  await writeFile(join(root, 'passphrase'), 'correct horse battery staple\n');
  plain = await startRoryServe(await env('plain', {}));
  acked = await startRoryServe(await env('acked', { RORY_ACKNOWLEDGE: 'KMEANS,SKMEANS,SKMEANS_PQC,NNC,KNN,SKNN,SKNN_PQC' }));
});

afterAll(async () => {
  expect(await plain?.stop()).toBe(0);
  expect(await acked?.stop()).toBe(0);
  await cloud?.close();
  await rm(root, { recursive: true, force: true });
});

/** The SDK's header sets, with its defaults (roryclient/client.py). */
const sdk = {
  kmeans: (id: string, file: string, k = 2) => ({ Extension: 'npy', K: String(k), 'Plaintext-Matrix-Filename': file, 'Plaintext-Matrix-Id': id, 'Num-Chunks': '2' }),
  skmeans: (id: string, file: string, k = 2, maxIterations = 5, extension = 'npy') => ({
    'Experiment-Iteration': '0',
    Extension: extension,
    K: String(k),
    'Max-Iterations': String(maxIterations),
    'Num-Chunks': '2',
    'Plaintext-Matrix-Filename': file,
    'Plaintext-Matrix-Id': id,
  }),
  dbskmeans: (id: string, file: string) => ({ ...sdk.skmeans(id, file), Sens: '1e-11' }),
  dbskmeansPqc: (id: string, file: string) => ({ ...sdk.skmeans(id, file), Sens: '0.00000000001' }),
  nnc: (id: string, file: string) => ({ Extension: 'npy', 'Plaintext-Matrix-Filename': file, 'Plaintext-Matrix-Id': id, Threshold: '1.4' }),
  dbsnnc: (id: string, file: string) => ({ Extension: 'npy', 'Plaintext-Matrix-Filename': file, 'Plaintext-Matrix-Id': id, Threshold: '1.4', 'Num-Chunks': '2', Sens: '1e-11' }),
  train: (modelId: string, withChunks: boolean) => ({
    'Model-Filename': MODEL_FILE,
    'Model-Id': modelId,
    'Model-Labels-Filename': LABELS_FILE,
    ...(withChunks ? { 'Num-Chunks': '2' } : {}),
    Extension: 'npy',
  }),
};

function expectLabels(v: unknown, n: number, allowed: (x: number) => boolean): number[] {
  expect(Array.isArray(v)).toBe(true);
  const labels = v as number[];
  expect(labels).toHaveLength(n);
  for (const x of labels) expect(allowed(x)).toBe(true);
  return labels;
}

describe('rory serve: upstream client routes with the SDK headers', () => {
  it('/clustering/test and /classification/test answer component_type client', async () => {
    for (const path of ['/clustering/test', '/classification/test']) {
      for (const method of ['GET', 'POST']) {
        const r = await sdkPost(acked.url, path, {}, method);
        expect(r.status).toBe(200);
        expect(r.json).toEqual({ component_type: 'client' });
        expect(r.headers['component-type']).toBe('client');
      }
    }
  });

  it('SKMeans (the SDK skmeans call, csv, K 3, Max-Iterations 10) reproduces kmeans-reference.json on iris; the job log has the upstream events', async () => {
    const ref = kmeansReference()['iris.csv'];
    const r = await sdkPost(acked.url, '/clustering/skmeans', { ...sdk.skmeans('irisskm', 'iris', 3, 10, 'csv'), 'Experiment-Id': 'irisref' });
    expect(r.status, r.text).toBe(200);
    expect(pydanticProblems(r.json, SDK_MODELS.KmeansResponse)).toEqual([]);
    const body = r.json as { label_vector: number[]; iterations: number; algorithm: string; worker_id: string };
    expect(body.label_vector).toEqual(ref.labels);
    expect(body.iterations).toBe(ref.iterations);
    expect(body.algorithm).toBe('SKMEANS');
    expect(body.worker_id).toMatch(/^rory-worker-\d$/);
    const logs = (await readdir(join(root, 'log'))).filter((f) => f.startsWith('irisref.'));
    expect(logs).toHaveLength(1);
    const lines = (await readFile(join(root, 'log', logs[0]), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const names = new Set(lines.map((l) => l.event));
    for (const e of ['LOCAL.READ', 'SEGMENT.ENCRYPT', 'UDM.GENERATION', 'PUT', 'GET.WORKER', 'RUN1', 'GET', 'DECRYPT', 'ITERATION.COMPLETED', 'COMPLETED']) expect(names, e).toContain(e);
    expect(lines.filter((l) => l.event === 'ITERATION.COMPLETED')).toHaveLength(10);
    for (const l of lines) {
      expect(l).toMatchObject({ experiment_id: 'irisref', algorithm: 'SKMEANS', id: 'irisskm', num_chunks: 4, k: 3, security_level: 128, m: 3 });
      expect(typeof l.start_time).toBe('number');
      expect(l.time).toBeCloseTo((l.end_time as number) - (l.start_time as number), 6);
    }
    const sink = JSON.parse(await readFile(join(root, 'sink', logs[0].replace(/\.jsonl$/, '.json')), 'utf8')) as { label_vector: number[]; verification: { ok: boolean }; job_id: string };
    expect(sink.label_vector).toEqual(ref.labels);
    expect(sink.verification.ok).toBe(true);
    // The job's objects (its own ids, never the caller's bare Plaintext-Matrix-Id) are gone from storage.
    const p = matrixId('irisskm', sink.job_id);
    const store = new MictlanxClient({ routers: [{ id: 'mictlanx-router-0', host: '127.0.0.1', port: cloud.routerPort, protocol: 'http' }] });
    for (const key of [`encrypted${p}`, `${p}udm`, `${p}shiftmatrix`, `${p}encryptedshiftmatrix`, `${p}centi`]) expect(await store.exists(key), key).toBe(false);
    expect(lines.some((l) => l.event === 'OBJECTS.DELETED')).toBe(true);
  });

  it('kmeans, skmeans, dbskmeans, skmeans_pqc, dbskmeans_pqc (KmeansResponse) and the project’s pkmeans', async () => {
    const calls: [string, Record<string, string>, string][] = [
      ['/clustering/kmeans', sdk.kmeans('kmx', CLUSTER_FILE), 'KMEANS'],
      ['/clustering/skmeans', sdk.skmeans('skmx', CLUSTER_FILE), 'SKMEANS'],
      ['/clustering/dbskmeans', sdk.dbskmeans('dbskmx', CLUSTER_FILE), 'DBSKMEANS'],
      ['/clustering/pqc/skmeans', sdk.skmeans('skmpqcx', CLUSTER_FILE), 'SKMEANS_PQC'],
      ['/clustering/pqc/dbskmeans', sdk.dbskmeansPqc('dbskmpqcx', CLUSTER_FILE), 'DBSKMEANS_PQC'],
      ['/clustering/pqc/pkmeans', sdk.skmeans('pkmx', CLUSTER_FILE), 'PKMEANS'],
    ];
    for (const [path, headers, algorithm] of calls) {
      const r = await sdkPost(acked.url, path, headers);
      expect(r.status, `${path}: ${r.text}`).toBe(200);
      expect(pydanticProblems(r.json, SDK_MODELS.KmeansResponse), path).toEqual([]);
      const body = r.json as { label_vector: number[]; algorithm: string; iterations: number };
      expect(body.algorithm).toBe(algorithm);
      expectLabels(body.label_vector, 30, (x) => x === 0 || x === 1);
      if (algorithm !== 'KMEANS') expect(body.iterations).toBeLessThanOrEqual(5);
    }
  });

  it('nnc, dbsnnc (NncResponse) and the project’s pqc/dbsnnc', async () => {
    for (const [path, headers, algorithm] of [
      ['/clustering/nnc', sdk.nnc('nncx', CLUSTER_FILE), 'NNC'],
      ['/clustering/dbsnnc', sdk.dbsnnc('dbsnncx', CLUSTER_FILE), 'DBSNNC'],
      ['/clustering/pqc/dbsnnc', sdk.dbsnnc('dbsnncpqcx', CLUSTER_FILE), 'DBSNNC_PQC'],
    ] as const) {
      const r = await sdkPost(acked.url, path, headers);
      expect(r.status, `${path}: ${r.text}`).toBe(200);
      expect(pydanticProblems(r.json, SDK_MODELS.NncResponse), path).toEqual([]);
      expect((r.json as { algorithm: string }).algorithm).toBe(algorithm);
      expect((r.json as Record<string, unknown>).iterations).toBeUndefined();
      expectLabels((r.json as { label_vector: unknown }).label_vector, 30, (x) => Number.isInteger(x) && x >= 0 && x < 30);
    }
  });

  it('knn, sknn, sknn_pqc: train then predict as the SDK chains them; labels equal plaintext 1-NN', async () => {
    const manhattan = Array.from(nearestNeighbourManhattan(model, modelLabels, test).labels);
    const [t, a] = test.shape;
    const euclid = Array.from({ length: t }, (_, i) => {
      let best = 0;
      let bestD = Infinity;
      for (let j = 0; j < model.shape[0]; j++) {
        let d = 0;
        for (let z = 0; z < a; z++) d += (test.data[i * a + z] - model.data[j * a + z]) ** 2;
        if (d < bestD) [best, bestD] = [j, d];
      }
      return modelLabels[best];
    });
    const cases = [
      { base: '/classification/knn', id: 'knn1a', chunks: false, trainModel: SDK_MODELS.KnnTrainResponse, wire: 'KNN', expected: manhattan },
      { base: '/classification/sknn', id: 'sknn1a', chunks: true, trainModel: SDK_MODELS.SknnTrainResponse, wire: 'SKNN', expected: manhattan },
      { base: '/classification/pqc/sknn', id: 'sknnpqc1a', chunks: true, trainModel: SDK_MODELS.SknnTrainResponse, wire: 'SKNN_PQC', expected: euclid },
    ];
    for (const c of cases) {
      const tr = await sdkPost(acked.url, `${c.base}/train`, sdk.train(c.id, c.chunks));
      expect(tr.status, `${c.base}/train: ${tr.text}`).toBe(200);
      expect(pydanticProblems(tr.json, c.trainModel), c.base).toEqual([]);
      const train = tr.json as { algorithm: string; model_labels_shape: number[]; encrypted_model_shape?: string; encrypted_model_dtype?: string; response_time: unknown };
      expect(train.algorithm).toBe(`${c.wire}_TRAIN`);
      expect(train.model_labels_shape).toEqual([1, 40]);
      if (c.wire === 'SKNN') expect(train.encrypted_model_shape).toBe('(40, 5, 3)');
      if (c.wire === 'SKNN_PQC') {
        expect(train.encrypted_model_shape).toBe('(40, 5)');
        expect(typeof train.response_time).toBe('string');
      }
      const predictHeaders: Record<string, string> =
        c.wire === 'KNN'
          ? { ...sdk.train(c.id, false), 'Records-Test-Id': `${c.id}r`, 'Records-Test-Filename': TEST_FILE, 'Model-Labels-Shape': pyTuple(train.model_labels_shape) }
          : c.wire === 'SKNN'
            ? {
                'Model-Filename': MODEL_FILE,
                'Model-Id': c.id,
                'Model-Labels-Filename': LABELS_FILE,
                'Records-Test-Id': `${c.id}r`,
                'Records-Test-Filename': TEST_FILE,
                Extension: 'npy',
                'Num-Chunks': '2',
                'Encrypted-Model-Shape': train.encrypted_model_shape!,
                'Encrypted-Model-Dtype': train.encrypted_model_dtype!,
                'Model-Labels-Shape': pyTuple(train.model_labels_shape),
              }
            : {
                Extension: 'npy',
                'Model-Id': c.id,
                'Model-Filename': MODEL_FILE,
                'Model-Labels-Filename': LABELS_FILE,
                'Records-Test-Id': `${c.id}r`,
                'Records-Test-Filename': TEST_FILE,
                'Num-Chunks': '2',
                'Encrypted-Model-Shape': train.encrypted_model_shape!,
                'Encrypted-Model-Dtype': train.encrypted_model_dtype!,
              };
      const pr = await sdkPost(acked.url, `${c.base}/predict`, predictHeaders);
      expect(pr.status, `${c.base}/predict: ${pr.text}`).toBe(200);
      expect(pydanticProblems(pr.json, SDK_MODELS.KnnPredictResponse), c.base).toEqual([]);
      const body = pr.json as { label_vector: number[]; algorithm: string };
      expect(body.algorithm).toBe(`${c.wire}_PREDICT`);
      expect(body.label_vector, c.base).toEqual(c.expected);
    }
  });

  it('bad input is a 400 naming the header, with a message that says what to do (and no operator warning)', async () => {
    const warningsBefore = acked.stderr.filter((l) => / failed: /.test(l)).length;
    const missingK = await sdkPost(acked.url, '/clustering/skmeans', { 'Plaintext-Matrix-Filename': CLUSTER_FILE, Extension: 'npy' });
    expect(missingK.status).toBe(400);
    expect(missingK.headers['error-message']).toMatch(/K header is required/);
    const traversal = await sdkPost(acked.url, '/clustering/pqc/pkmeans', { 'Plaintext-Matrix-Filename': '../passphrase', Extension: 'npy' });
    expect(traversal.status).toBe(400);
    expect((traversal.json as { error: string }).error).toBe('INVALID_ARGUMENT');
    const missing = await sdkPost(acked.url, '/clustering/pqc/pkmeans', { 'Plaintext-Matrix-Filename': 'nosuchfile', Extension: 'npy' });
    expect(missing.status).toBe(400);
    expect((missing.json as { message: string }).message).toMatch(/does not exist.*Put the dataset there/);
    const shape = await sdkPost(acked.url, '/classification/knn/predict', { ...sdk.train('knnbad', false), 'Records-Test-Filename': TEST_FILE, 'Model-Labels-Shape': '(1, 7)' });
    expect(shape.status).toBe(400);
    expect(shape.headers['error-message']).toMatch(/Model-Labels-Shape.*does not match/);
    await new Promise((r) => setTimeout(r, 200));
    expect(acked.stderr.filter((l) => / failed: /.test(l)).length).toBe(warningsBefore);
  });
});

describe('rory serve without RORY_ACKNOWLEDGE (D3)', () => {
  it('every plaintext route answers 403 listing what would leave, and nothing reaches storage', async () => {
    const before = await storageSnapshot();
    const routes: [string, Record<string, string>, string][] = [
      ['/clustering/kmeans', sdk.kmeans('nokm', CLUSTER_FILE), 'KMEANS'],
      ['/clustering/skmeans', sdk.skmeans('noskm', CLUSTER_FILE), 'SKMEANS'],
      ['/clustering/pqc/skmeans', sdk.skmeans('noskmpqc', CLUSTER_FILE), 'SKMEANS_PQC'],
      ['/clustering/nnc', sdk.nnc('nonnc', CLUSTER_FILE), 'NNC'],
      ['/classification/knn/train', sdk.train('noknn', false), 'KNN_TRAIN'],
      ['/classification/knn/predict', { ...sdk.train('noknn', false), 'Records-Test-Filename': TEST_FILE, 'Model-Labels-Shape': '(1, 40)' }, 'KNN_PREDICT'],
      ['/classification/sknn/train', sdk.train('nosknn', true), 'SKNN_TRAIN'],
      [
        '/classification/sknn/predict',
        { ...sdk.train('nosknn', true), 'Records-Test-Filename': TEST_FILE, 'Encrypted-Model-Shape': '(40, 5, 3)', 'Encrypted-Model-Dtype': 'float32', 'Model-Labels-Shape': '(1, 40)' },
        'SKNN_PREDICT',
      ],
      ['/classification/pqc/sknn/train', sdk.train('nosknnpqc', true), 'SKNN_PQC_TRAIN'],
      ['/classification/pqc/sknn/predict', { ...sdk.train('nosknnpqc', true), 'Records-Test-Filename': TEST_FILE, 'Encrypted-Model-Shape': '(40, 5)', 'Encrypted-Model-Dtype': 'float32' }, 'SKNN_PQC_PREDICT'],
    ];
    for (const [path, headers, algorithm] of routes) {
      const r = await sdkPost(plain.url, path, headers);
      expect(r.status, path).toBe(403);
      const body = r.json as { error: string; would_leave: { key: string; form: string }[]; acknowledge_with: string };
      expect(body.error).toBe('ACK_REQUIRED');
      // A train route lists its phase's uploads; a predict route uploads model, labels and test
      // records in one job here, so it lists the whole job's.
      const expected = algorithm.endsWith('_TRAIN') ? acknowledgementKeys(algorithm as Algorithm) : acknowledgementKeysOf(jobLeakageProfile(algorithm as JobAlgorithm));
      expect(body.would_leave.map((i) => i.key).sort()).toEqual([...expected].sort());
      for (const i of body.would_leave) expect(i.form).toBe('plaintext');
      expect(body.acknowledge_with).toBe(`RORY_ACKNOWLEDGE=${algorithm.replace(/_(TRAIN|PREDICT)$/, '')}`);
      expect(r.headers['error-message']).toMatch(/without encryption/);
    }
    expect(await storageSnapshot()).toEqual(before);
  });

  it('the routes that encrypt everything run without an acknowledgement', async () => {
    const r = await sdkPost(plain.url, '/clustering/dbsnnc', sdk.dbsnnc('noackdbsnnc', CLUSTER_FILE));
    expect(r.status, r.text).toBe(200);
    expect(pydanticProblems(r.json, SDK_MODELS.NncResponse)).toEqual([]);
  });
});

describe('rory serve with a lying worker (D8 still applies under the approval policy)', () => {
  it('a tampered shift matrix is refused: 500 DECRYPTION_REFUSED, nothing decrypted, nothing derived uploaded', async () => {
    const liarStore = new MictlanxClient({ routers: [{ id: 'mictlanx-router-0', host: '127.0.0.1', port: cloud.routerPort, protocol: 'http' }] });
    const skmeans = workerRoutes(liarStore).get('/clustering/skmeans')!;
    const liar = await startRogueWorker([
      route('POST', '/clustering/skmeans', async (ctx) => {
        const reply = await skmeans((n) => ctx.header(n));
        if (ctx.header('Step-Index') === '1' && reply.status === 200) {
          const key = `${ctx.header('Plaintext-Matrix-Id')}encryptedshiftmatrix`;
          const nd = await liarStore.getNdarray(key);
          const d = (nd.data as Float64Array).slice();
          d[0] = Number.POSITIVE_INFINITY;
          await liarStore.putNdarray(key, { dtype: 'float64', shape: nd.shape, data: d });
        }
        return reply;
      }),
    ]);
    const manager = new URL(liar.managerUrl);
    const svc = await startRoryServe(await env('liar', { RORY_ACKNOWLEDGE: 'SKMEANS', RORY_MANAGER_PORT: manager.port, RORY_KEEP_OBJECTS: '1' }));
    try {
      const r = await sdkPost(svc.url, '/clustering/skmeans', { ...sdk.skmeans('liarskm', CLUSTER_FILE), 'Experiment-Id': 'liar' });
      expect(r.status).toBe(500);
      const body = r.json as { error: string; job_id: string };
      expect(body.error).toBe('DECRYPTION_REFUSED');
      const log = (await readFile(join(root, 'log', `liar.${body.job_id}.jsonl`), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { event: string }).event);
      expect(log).toContain('DECRYPTION.REFUSED');
      expect(log).not.toContain('DECRYPT');
      expect(log[log.length - 1]).toBe('FAILED');
      const p = matrixId('liarskm', body.job_id);
      expect(await liarStore.exists(`${p}encryptedshiftmatrix`)).toBe(true);
      expect(await liarStore.exists(`${p}shiftmatrix`)).toBe(false);
      // A 500 is the operator's problem, not the caller's: the service says so on stderr.
      await new Promise((r) => setTimeout(r, 200));
      expect(svc.stderr.join('\n')).toMatch(new RegExp(`SKMEANS job ${body.job_id} \\(experiment liar\\) failed: DECRYPTION_REFUSED`));
    } finally {
      expect(await svc.stop()).toBe(0);
      await liar.close();
    }
  });
});

