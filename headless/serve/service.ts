/**
 * @module headless/serve/service
 * `rory serve`: the upstream Rory client service (spec/protocol.md §6) in Node — every client
 * route, with upstream's request headers, defaults and JSON reply fields, plus the project's
 * `/clustering/pqc/pkmeans` and `/clustering/pqc/dbsnnc`. Each request runs one job through
 * `jobs/run-job.ts` (the registry's runners, the same as the browser), reading its dataset from
 * SOURCE_PATH, logging upstream event names to LOG_PATH and writing the result to SINK_PATH.
 *
 * Differences from upstream, each on purpose:
 * - D3: a route whose protocol uploads plaintext (KMeans, NNC, KNN, SKMeans, SKMeans-PQC, SKNN,
 *   SKNN-PQC) answers **403** with the list of what would leave, before reading anything, unless
 *   the operator acknowledged that algorithm (`RORY_ACKNOWLEDGE`).
 * - Bad input is a **400** naming the header (upstream: a 500); any other failure a 500 with
 *   `Error-Message`, as upstream. Error bodies are `{"error": CODE, "message": …}`; messages never
 *   hold data, keys or ciphertext. A 500 is also written to stderr (algorithm, job and experiment
 *   id, code) so the operator sees it; 400s and 403s are the caller's to fix and are not.
 * - Storage ids are `{Plaintext-Matrix-Id}{job id}`, so concurrent or repeated requests never
 *   overwrite each other's objects (§12.10), and a job's objects are deleted when it ends unless
 *   RORY_KEEP_OBJECTS=1.
 * - Classification `train` reads and checks the model and its labels and keeps them (by
 *   Model-Id) for `predict`, which uploads model, labels and test records and runs the whole
 *   protocol in one job (our runners do train+predict together). `predict` falls back to the
 *   files named by Model-Filename / Model-Labels-Filename (the SDK sends both) when the model was
 *   not trained by this process.
 * - JSON is sent as `application/json` (upstream: `text/html`; the SDK does not look).
 * - The service listens on SERVER_IP_ADDR, default 127.0.0.1: like upstream it has no
 *   authentication, and it holds the keys.
 */
import { performance } from 'node:perf_hooks';
import { AppError, toAppError } from '@/lib/errors';
import { pythonShape, type Matrix } from '@/lib/data/matrix';
import { LIU_LEVELS } from '@/lib/crypto/liu/key';
import { algorithmSpec, jobLeakageProfile, leakageProfile } from '@/lib/rory/algorithms/registry';
import { matrixId, newJobId } from '@/lib/rory/ids';
import type { JobLogEvent } from '@/lib/rory/kit';
import type { LeakageProfile } from '@/lib/rory/leakage';
import { AccessPolicy, HttpError, json, listen, route, type Handler, type RequestContext, type Route } from '@/server/common/http';
import { isAcknowledged } from '../config';
import { readLabelsFile, readMatrixFile, sourcePath } from '../data/source';
import { serviceTimes, type LogContext } from '../jobs/events';
import { openJobLog, writeSinkResult } from '../jobs/log-file';
import { acknowledgeHint, runHeadlessJob } from '../jobs/run-job';
import type { Runtime } from '../jobs/runtime';
import {
  CLASSIFICATION_ROUTES,
  CLUSTERING_ROUTES,
  checkModelShapes,
  readClusteringRequest,
  readPredictRequest,
  readTrainRequest,
  type ClassificationRoute,
  type ClusteringRoute,
} from './requests';

export interface ServiceOptions {
  readonly host: string;
  /** 0 = a free port. */
  readonly port: number;
  /** Host names the service answers to besides loopback, NODE_ID and NODE_IP_ADDR. */
  readonly allowHosts?: readonly string[];
  /** One line per finished request. */
  readonly accessLog?: (line: string) => void;
  readonly warn?: (line: string) => void;
}

export interface Service {
  readonly url: string;
  readonly port: number;
  readonly routes: readonly string[];
  close(): Promise<void>;
}

const BAD_INPUT = new Set(['INVALID_ARGUMENT', 'CSV_INVALID', 'NPY_INVALID', 'DATA_MAGNITUDE', 'SHAPE_MISMATCH', 'INVALID_KEY_ID', 'INVALID_KEY']);

/** The HTTP answer for an error: 400 bad input, 403 not acknowledged, 500 the rest (as upstream). */
export function httpErrorOf(e: unknown, ids: { experimentId?: string; jobId?: string } = {}): HttpError {
  const err = toAppError(e);
  const status = err.code === 'ACK_REQUIRED' ? 403 : BAD_INPUT.has(err.code) ? 400 : 500;
  return new HttpError(status, err.userMessage, {
    body: { error: err.code, message: err.userMessage, ...(ids.experimentId ? { experiment_id: ids.experimentId } : {}), ...(ids.jobId ? { job_id: ids.jobId } : {}) },
  });
}

/** The 403 of a plaintext route that was not acknowledged: what would leave, and how to allow it. */
export function forbidden(p: LeakageProfile, family: string): HttpError {
  const items = p.items.filter((i) => i.needsAck);
  const message = `${p.algorithm} would send data to the cloud without encryption: ${items.map((i) => i.key).join(', ')}. Nothing was read or sent. ${acknowledgeHint(family)}`;
  return new HttpError(403, message, {
    body: {
      error: 'ACK_REQUIRED',
      algorithm: p.algorithm,
      message,
      would_leave: items.map((i) => ({ key: i.key, form: i.form, per_round: i.perRound, description: i.description })),
      acknowledge_with: `RORY_ACKNOWLEDGE=${family}`,
    },
  });
}

const familyOf = (algorithm: string) => algorithm.replace(/_(TRAIN|PREDICT)$/, '');

interface TrainedModel {
  readonly model: Matrix;
  readonly labels: Int32Array;
}

/** Models kept between `train` and `predict`, by Model-Id (oldest dropped past the limit). */
const MAX_MODELS = 64;

export async function startService(rt: Runtime, o: ServiceOptions): Promise<Service> {
  const s = rt.settings;
  const warn = o.warn ?? ((m: string) => console.error(m));
  const models = new Map<string, TrainedModel>();
  const remember = (id: string, m: TrainedModel) => {
    models.delete(id);
    models.set(id, m);
    if (models.size > MAX_MODELS) models.delete(models.keys().next().value as string);
  };

  const requireAck = (algorithm: string, p: LeakageProfile) => {
    if (p.requiresAcknowledgement && !isAcknowledged(rt.config.extras, algorithm)) throw forbidden(p, familyOf(algorithm));
  };

  /** Runs `body` with a job log; maps failures to HTTP errors after logging FAILED. */
  async function withJob<T>(
    c: Omit<LogContext, 'jobId' | 'numChunks'>,
    body: (jobId: string, onEvent: (e: JobLogEvent) => void, events: JobLogEvent[]) => Promise<T>,
  ): Promise<T> {
    const jobId = newJobId();
    const log = openJobLog(s.LOG_PATH, { ...c, jobId, numChunks: s.NUM_CHUNKS }, warn);
    const events: JobLogEvent[] = [];
    let workerId: string | undefined;
    const onEvent = (e: JobLogEvent) => {
      events.push(e);
      if (e.name === 'GET.WORKER' && typeof e.detail?.workerId === 'string') workerId = e.detail.workerId;
      log.write(e, { workerId });
    };
    try {
      return await body(jobId, onEvent, events);
    } catch (e) {
      const err = toAppError(e);
      if (!events.some((x) => x.name === 'FAILED')) onEvent({ name: 'FAILED', at: Date.now(), detail: { code: err.code } });
      const http = httpErrorOf(err, { experimentId: c.experimentId, jobId });
      if (http.status >= 500) warn(`${c.algorithm} job ${jobId} (experiment ${c.experimentId}) failed: ${err.code}: ${err.message}`);
      throw http;
    } finally {
      await log.flush();
    }
  }

  async function readTimed(path: string, what: string, onEvent: (e: JobLogEvent) => void) {
    const t = performance.now();
    const r = await readMatrixFile(path, what);
    onEvent({ name: 'LOCAL.READ', at: Date.now(), durationMs: performance.now() - t, detail: { file: what, shape: pythonShape(r.matrix.shape) } });
    return r;
  }

  const guard = (h: Handler): Handler => async (ctx) => {
    try {
      return await h(ctx);
    } catch (e) {
      throw e instanceof HttpError ? e : httpErrorOf(e);
    }
  };

  const clustering = (r: ClusteringRoute): Handler =>
    guard(async (ctx: RequestContext) => {
      const arrival = Date.now();
      const spec = algorithmSpec(r.algorithm);
      const req = readClusteringRequest(r, ctx.header, { maxIterations: s.MAX_ITERATIONS });
      requireAck(r.algorithm, jobLeakageProfile(spec.id));
      const path = sourcePath(s.SOURCE_PATH, req.filename, req.extension);
      const logCtx = { experimentId: req.experimentId, algorithm: spec.wire, id: req.plaintextMatrixId, k: req.params.k, securityLevel: s.LIU_SECURITY_LEVEL, m: spec.needs.liu ? LIU_LEVELS[s.LIU_SECURITY_LEVEL as 128].m : 0 };
      return withJob(logCtx, async (jobId, onEvent, events) => {
        const { matrix } = await readTimed(path, 'Plaintext-Matrix-Filename', onEvent);
        const { outcome } = await runHeadlessJob(rt, {
          algorithm: spec.id,
          jobId,
          storageId: matrixId(req.plaintextMatrixId, jobId),
          datasetName: req.filename,
          data: matrix,
          params: req.params,
          acknowledged: true,
          onEvent,
        });
        const times = serviceTimes(events, arrival, Date.now());
        const reply = {
          label_vector: Array.from(outcome.labels),
          ...(r.iterations ? { iterations: outcome.iterations ?? 0 } : {}),
          algorithm: spec.wire,
          worker_id: outcome.workerId ?? '',
          service_time_manager: times.service_time_manager,
          service_time_worker: times.service_time_worker,
          service_time_client: times.service_time_client,
          response_time_clustering: times.response_time,
        };
        await writeSinkResult(
          s.SINK_PATH,
          req.experimentId,
          jobId,
          {
            ...reply,
            experiment_id: req.experimentId,
            experiment_iteration: req.experimentIteration,
            job_id: jobId,
            plaintext_matrix_id: req.plaintextMatrixId,
            source: path,
            shape: matrix.shape,
            params: req.params,
            converged: outcome.converged,
            verification: outcome.verification,
            threshold: outcome.threshold,
            clusters: outcome.clusters,
            timings_ms: { ...outcome.timings, total: outcome.totalMs },
          },
          warn,
        );
        return json(200, reply);
      });
    });

  const train = (r: ClassificationRoute): Handler =>
    guard(async (ctx) => {
      const arrival = Date.now();
      const req = readTrainRequest(r, ctx.header);
      requireAck(r.trainWire, leakageProfile(r.trainWire));
      const modelPath = sourcePath(s.SOURCE_PATH, req.modelFilename, req.extension, 'Model-Filename');
      const labelsPath = sourcePath(s.SOURCE_PATH, req.labelsFilename, req.extension, 'Model-Labels-Filename');
      return withJob({ experimentId: req.experimentId, algorithm: r.trainWire, id: req.modelId }, async (jobId, onEvent) => {
        const { matrix } = await readTimed(modelPath, 'Model-Filename', onEvent);
        const t = performance.now();
        const labels = await readLabelsFile(labelsPath, 'Model-Labels-Filename');
        onEvent({ name: 'LOCAL.READ', at: Date.now(), durationMs: performance.now() - t, detail: { file: 'Model-Labels-Filename', shape: pythonShape([labels.length]) } });
        const [n, a] = matrix.shape;
        if (labels.length !== n) {
          throw new AppError('SHAPE_MISMATCH', 'model labels', {
            userMessage: `The model has ${n} records but its labels file has ${labels.length} labels. Give one label per record.`,
          });
        }
        remember(req.modelId, { model: matrix, labels });
        onEvent({ name: 'COMPLETED', at: Date.now(), durationMs: Date.now() - arrival, detail: { shape: pythonShape([n, a]) } });
        const responseTime = (Date.now() - arrival) / 1000;
        const m = LIU_LEVELS[s.LIU_SECURITY_LEVEL as 128].m;
        return json(200, {
          response_time: r.responseTimeAsString ? String(responseTime) : responseTime,
          ...(r.encryptedShape === 'none' ? {} : { encrypted_model_shape: pythonShape(r.encryptedShape === 'liu' ? [n, a, m] : [n, a]), encrypted_model_dtype: 'float32' }),
          algorithm: r.trainWire,
          model_labels_shape: [1, n],
        });
      });
    });

  const predict = (r: ClassificationRoute): Handler =>
    guard(async (ctx) => {
      const arrival = Date.now();
      const spec = algorithmSpec(r.algorithm);
      const req = readPredictRequest(r, ctx.header);
      requireAck(r.algorithm, jobLeakageProfile(spec.id));
      const testPath = sourcePath(s.SOURCE_PATH, req.recordsTestFilename, req.extension, 'Records-Test-Filename');
      return withJob({ experimentId: req.experimentId, algorithm: spec.wire, id: req.modelId }, async (jobId, onEvent, events) => {
        let trained = models.get(req.modelId);
        if (!trained) {
          const { matrix } = await readTimed(sourcePath(s.SOURCE_PATH, req.modelFilename, req.extension, 'Model-Filename'), 'Model-Filename', onEvent);
          trained = { model: matrix, labels: await readLabelsFile(sourcePath(s.SOURCE_PATH, req.labelsFilename, req.extension, 'Model-Labels-Filename'), 'Model-Labels-Filename') };
        }
        const [n, a] = trained.model.shape;
        checkModelShapes(req, n, a);
        const { matrix: test } = await readTimed(testPath, 'Records-Test-Filename', onEvent);
        const { outcome } = await runHeadlessJob(rt, {
          algorithm: spec.id,
          jobId,
          storageId: matrixId(req.modelId, jobId),
          datasetName: req.modelFilename,
          data: trained.model,
          labels: trained.labels,
          test,
          params: { testDatasetId: req.recordsTestFilename },
          acknowledged: true,
          onEvent,
        });
        const times = serviceTimes(events, arrival, Date.now());
        const reply = {
          label_vector: Array.from(outcome.labels),
          worker_id: outcome.workerId ?? '',
          service_time_manager: times.service_time_manager,
          service_time_worker: times.service_time_worker,
          service_time_client: times.service_time_client,
          service_time_predict: times.response_time,
          algorithm: spec.wire,
        };
        await writeSinkResult(
          s.SINK_PATH,
          req.experimentId,
          jobId,
          { ...reply, experiment_id: req.experimentId, job_id: jobId, model_id: req.modelId, records_test_id: req.recordsTestId, timings_ms: { ...outcome.timings, total: outcome.totalMs } },
          warn,
        );
        return json(200, reply);
      });
    });

  const test = (): Handler => () => json(200, { component_type: 'client' }, { 'Component-Type': 'client' });

  const routes: Route[] = [
    route(['GET', 'POST'], '/clustering/test', test()),
    route(['GET', 'POST'], '/classification/test', test()),
    ...CLUSTERING_ROUTES.map((r) => route('POST', r.path, clustering(r))),
    ...CLASSIFICATION_ROUTES.flatMap((r) => [route('POST', `${r.base}/train`, train(r)), route('POST', `${r.base}/predict`, predict(r))]),
  ];
  const access = new AccessPolicy({ hosts: [s.NODE_ID, s.NODE_IP_ADDR, ...(o.allowHosts ?? [])] });
  const server = await listen(routes, o.port, o.host, {
    access,
    accessLog: o.accessLog,
    errorBody: (status, message) => ({ error: status === 404 ? 'NOT_FOUND' : status === 405 ? 'METHOD_NOT_ALLOWED' : 'ERROR', message }),
    onError: (e) => warn(`internal error: ${toAppError(e).message}`),
  });
  const host = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${server.port}`,
    port: server.port,
    routes: routes.map((x) => `${x.methods.join('|')} ${x.path}`),
    close: () => server.close(),
  };
}
