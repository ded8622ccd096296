/**
 * The pure parts of `rory serve` and `rory run`: the route table and header defaults of
 * spec/protocol.md §6 (headless/serve/requests.ts), Python `int()`/`float()` header parsing, the
 * reply timing fields and the upstream-shaped log lines (headless/jobs/events.ts), the source
 * file names a request may use (headless/data/source.ts), and the progress output
 * (headless/cli/progress.ts).
 */
import { describe, expect, it } from 'vitest';
import { REGISTRY } from '@/lib/rory/algorithms/registry';
import type { JobLogEvent } from '@/lib/rory/kit';
import { CLASSIFICATION_ROUTES, CLUSTERING_ROUTES, checkModelShapes, floatOf, intOf, readClusteringRequest, readPredictRequest, readTrainRequest } from '@/headless/serve/requests';
import { httpErrorOf } from '@/headless/serve/service';
import { logLine, serviceTimes } from '@/headless/jobs/events';
import { sourcePath } from '@/headless/data/source';
import { eventLine, progressLine } from '@/headless/cli/progress';
import { AppError } from '@/lib/errors';
import { expectAppError } from '../helpers/errors';

const headers = (h: Record<string, string>) => (name: string) => h[name];
const route = (path: string) => CLUSTERING_ROUTES.find((r) => r.path === path)!;

describe('client routes (spec/protocol.md §6)', () => {
  it('cover every upstream client route plus pkmeans and pqc/dbsnnc, each on an algorithm of the registry', () => {
    const paths = [...CLUSTERING_ROUTES.map((r) => r.path), ...CLASSIFICATION_ROUTES.flatMap((r) => [`${r.base}/train`, `${r.base}/predict`])];
    expect(paths.sort()).toEqual(
      [
        '/clustering/kmeans',
        '/clustering/skmeans',
        '/clustering/dbskmeans',
        '/clustering/dbsnnc',
        '/clustering/nnc',
        '/clustering/pqc/skmeans',
        '/clustering/pqc/dbskmeans',
        '/clustering/pqc/pkmeans',
        '/clustering/pqc/dbsnnc',
        '/classification/knn/train',
        '/classification/knn/predict',
        '/classification/sknn/train',
        '/classification/sknn/predict',
        '/classification/pqc/sknn/train',
        '/classification/pqc/sknn/predict',
      ].sort(),
    );
    for (const r of [...CLUSTERING_ROUTES, ...CLASSIFICATION_ROUTES]) expect(REGISTRY[r.algorithm]).toBeDefined();
    expect(new Set(CLUSTERING_ROUTES.map((r) => r.algorithm)).size).toBe(CLUSTERING_ROUTES.length);
  });

  it('apply upstream’s defaults when headers are absent', () => {
    const env = { maxIterations: 10 };
    expect(readClusteringRequest(route('/clustering/kmeans'), headers({}), env)).toMatchObject({ plaintextMatrixId: 'matrix-0', filename: 'matrix-0', extension: 'csv', params: { k: 3 } });
    expect(readClusteringRequest(route('/clustering/dbskmeans'), headers({}), env)).toMatchObject({ plaintextMatrixId: 'matrix0', filename: 'matrix0', params: { k: 3, maxIterations: 10, sens: 1e-8 } });
    expect(readClusteringRequest(route('/clustering/dbsnnc'), headers({}), env)).toMatchObject({ plaintextMatrixId: 'matrix0', filename: 'matrix-0', params: { threshold: -1, sens: 1e-8 } });
    expect(readClusteringRequest(route('/clustering/nnc'), headers({}), env).params).toEqual({ threshold: -1 });
    const r = readClusteringRequest(route('/clustering/dbsnnc'), headers({}), env);
    expect(r.experimentId).toMatch(/^[0-9a-f]{10}$/);
    expect(readTrainRequest(CLASSIFICATION_ROUTES[0], headers({}))).toMatchObject({ modelId: 'matrix0model', modelFilename: 'matrix0model', labelsFilename: 'matrix0modellabels', extension: 'npy' });
    expect(readTrainRequest(CLASSIFICATION_ROUTES[1], headers({ 'Model-Id': 'm1' }))).toMatchObject({ modelId: 'm1', modelFilename: 'm1', labelsFilename: 'm1labels' });
  });

  it('K is required where upstream reads int(request_headers.get("K")): skmeans and the PQC k-means routes', () => {
    for (const p of ['/clustering/skmeans', '/clustering/pqc/skmeans', '/clustering/pqc/dbskmeans']) {
      expectAppError(() => readClusteringRequest(route(p), headers({}), { maxIterations: 10 }), 'INVALID_ARGUMENT', 'header K');
    }
    expect(readClusteringRequest(route('/clustering/skmeans'), headers({ K: '4', 'Max-Iterations': '5' }), { maxIterations: 10 }).params).toEqual({ k: 4, maxIterations: 5 });
  });

  it('parses headers as Python int() and float() do', () => {
    expect(intOf('K', ' 3 ')).toBe(3);
    expect(intOf('K', '+3')).toBe(3);
    expectAppError(() => intOf('K', '3.0'), 'INVALID_ARGUMENT', 'header K');
    expectAppError(() => intOf('K', 'three'), 'INVALID_ARGUMENT');
    expect(floatOf('Sens', '1e-11')).toBe(1e-11);
    expect(floatOf('Sens', '0.00000000001')).toBe(1e-11);
    expect(floatOf('Threshold', '-1')).toBe(-1);
    expect(floatOf('Threshold', '.5')).toBe(0.5);
    expectAppError(() => floatOf('Sens', 'NaN'), 'INVALID_ARGUMENT');
    expectAppError(() => floatOf('Sens', '0x10'), 'INVALID_ARGUMENT');
  });

  it('predict routes require what upstream requires, and the shapes must match the model', () => {
    const sknn = CLASSIFICATION_ROUTES.find((r) => r.base === '/classification/sknn')!;
    expectAppError(() => readPredictRequest(sknn, headers({ 'Encrypted-Model-Shape': '(4, 2, 3)', 'Encrypted-Model-Dtype': 'float32' })), 'INVALID_ARGUMENT', 'Model-Labels-Shape');
    const p = readPredictRequest(sknn, headers({ 'Encrypted-Model-Shape': '(4, 2, 3)', 'Encrypted-Model-Dtype': 'float32', 'Model-Labels-Shape': '[1, 4]' }));
    expect(p).toMatchObject({ modelId: 'model0', recordsTestId: 'matrix0data', recordsTestFilename: 'matrix0data', modelLabelsShape: [1, 4], encryptedModelShape: [4, 2, 3] });
    checkModelShapes(p, 4, 2);
    expectAppError(() => checkModelShapes(p, 5, 2), 'INVALID_ARGUMENT', 'Model-Labels-Shape');
    expectAppError(() => checkModelShapes({ ...p, modelLabelsShape: undefined }, 4, 3), 'INVALID_ARGUMENT', 'Encrypted-Model-Shape');
    expectAppError(() => readPredictRequest(sknn, headers({ 'Encrypted-Model-Shape': 'eval(1)', 'Encrypted-Model-Dtype': 'x', 'Model-Labels-Shape': '(1, 4)' })), 'INVALID_ARGUMENT');
  });

  it('maps errors to statuses: bad input 400, not acknowledged 403, the rest 500; the body never carries the developer text', () => {
    expect(httpErrorOf(new AppError('CSV_INVALID', 'x')).status).toBe(400);
    expect(httpErrorOf(new AppError('ACK_REQUIRED', 'x')).status).toBe(403);
    const e = httpErrorOf(new AppError('WORKER_ERROR', 'internal detail', { userMessage: 'The worker failed.' }), { jobId: 'job1' });
    expect(e.status).toBe(500);
    expect(e.body).toEqual({ error: 'WORKER_ERROR', message: 'The worker failed.', job_id: 'job1' });
    expect(httpErrorOf(new Error('boom')).status).toBe(500);
  });
});

describe('source files', () => {
  it('are {SOURCE_PATH}/{name}.{csv|npy}; names that leave SOURCE_PATH or other extensions are refused', () => {
    expect(sourcePath('/rory/source', 'iris', 'csv')).toBe('/rory/source/iris.csv');
    expect(sourcePath('/rory/source', 'sub/dir/x-1_a.b', 'npy')).toBe('/rory/source/sub/dir/x-1_a.b.npy');
    for (const bad of ['../etc/passwd', 'a/../../b', '/abs', 'a\\b', '', 'a b', 'a/./b']) expectAppError(() => sourcePath('/rory/source', bad, 'csv'), 'INVALID_ARGUMENT');
    expectAppError(() => sourcePath('/rory/source', 'iris', 'json'), 'INVALID_ARGUMENT', 'Extension');
  });
});

describe('reply times and log lines', () => {
  const ev = (name: string, endMs: number, durationMs?: number, extra: Partial<JobLogEvent> = {}): JobLogEvent => ({ name, at: endMs, durationMs, ...extra });

  it('split the job at the worker request: client before it, manager during it, worker after it', () => {
    const events = [ev('LOCAL.READ', 1_100, 100), ev('PUT', 1_500, 300), ev('GET.WORKER', 1_600, 50), ev('RUN1', 2_000, 300), ev('COMPLETED', 2_400, 1_400)];
    expect(serviceTimes(events, 1_000, 2_500)).toEqual({ service_time_client: 0.55, service_time_manager: 0.05, service_time_worker: 0.9, response_time: 1.5 });
    // Several workers (PKMEANS): from the first request to the last assignment.
    const two = [ev('GET.WORKER', 1_200, 100), ev('GET.WORKER', 1_400, 100)];
    expect(serviceTimes(two, 1_000, 2_000)).toEqual({ service_time_client: 0.1, service_time_manager: 0.2, service_time_worker: 0.6, response_time: 1 });
    expect(serviceTimes([], 1_000, 1_250)).toEqual({ service_time_client: 0.25, service_time_manager: 0, service_time_worker: 0, response_time: 0.25 });
  });

  it('log lines have upstream’s ExperimentLogEntry fields, times in seconds, 1-based rounds and bytes', () => {
    const l = logLine(ev('PUT', 5_000, 250, { round: 2, detail: { key: 'p1shiftmatrix', bytes: 96 } }), { experimentId: 'e1', algorithm: 'SKMEANS', id: 'matrix0', jobId: 'job1', numChunks: 4, k: 3, securityLevel: 128, m: 3 }, { workerId: 'rory-worker-0' });
    expect(l).toEqual({
      event: 'PUT',
      experiment_id: 'e1',
      algorithm: 'SKMEANS',
      id: 'matrix0',
      job_id: 'job1',
      start_time: 4.75,
      end_time: 5,
      time: 0.25,
      round: 3,
      bytes: 96,
      worker_id: 'rory-worker-0',
      num_chunks: 4,
      k: 3,
      iterations: 0,
      security_level: 128,
      m: 3,
      description: 'key=p1shiftmatrix',
    });
  });
});

describe('progress output', () => {
  it('a bar with the round, phase and current step; one plain line per event', () => {
    expect(progressLine({ phase: 'step1', round: 3, maxIterations: 10, crypto: { what: 'encrypting', done: 2, total: 5 } }, 12_345)).toBe('[#######.................]  round 3/10  step1  encrypting 40%  12.3 s');
    expect(progressLine({ phase: 'gettingWorker', round: 0 }, 0)).toBe('[........................]  gettingWorker  0.0 s');
    expect(eventLine({ name: 'GET', at: 0, durationMs: 153, round: 1, detail: { key: 'x', bytes: 2_500_000 } })).toBe('GET  round 2  0.153 s  2.5 MB  key=x');
    expect(eventLine({ name: 'COMPLETED', at: 0 })).toBe('COMPLETED');
  });
});
