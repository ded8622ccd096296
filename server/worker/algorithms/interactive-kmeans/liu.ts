/**
 * @module server/worker/algorithms/interactive-kmeans/liu
 * SKMeans and DBSKMeans on Liu ciphertexts (spec/protocol.md §5.2, §5.3; spec/crypto.md §7.1,
 * §7.2, §0.1), steps 1 and 2 of both, over the pure computation of `./compute.ts`.
 *
 * Decisions and deviations (D2)
 * - C1: after START, step 1 reads `{P}centj` (the previous round's new centroids) as the
 *   centroids to start from; `{P}centi` keeps what the round started from, as upstream writes it.
 * - C2/C5: see `./compute.ts`; DBSKMeans honours `K`.
 * - Convergence: upstream compares ciphertext centroids (MRE ≤ MIN_ERROR 0.015). Here step 2
 *   answers COMPLETED only on the client's decision: `Is-Zero: 1` when the header is present;
 *   otherwise, for SKMeans, when the plaintext shift the client uploaded is all zero within
 *   1e-6. DBSKMeans without `Is-Zero` never completes on its own (the client stops it).
 * - DBSKMeans responses do not echo the request headers (upstream echoes `Host`,
 *   `Content-Length`, …, which breaks HTTP framing); they carry the documented Rory headers.
 * - Shape headers are parsed as literals, never evaluated, and checked against the stored data.
 *
 * Status codes as upstream (spec/protocol.md §5.2, §5.3, §11): SKMeans step 1 missing
 * matrix shape/dtype or P → 500, missing Num-Chunks → 503, failures → 500; step 2 failures →
 * 503 (missing P → 500); invalid Step-Index → empty 200. DBSKMeans step 1 missing
 * shape/dtype headers → 400; step 2 missing UDM shape/dtype → 500, failures → 503; invalid
 * Step-Index → 400. Errors carry a one-line `Error-Message` header and the same text as body.
 */
import { size, pythonShape, type Matrix } from '@/lib/data/matrix';
import { fromMatrix } from '@/lib/storage/ndarray';
import type { KmeansStep1Body } from '@/lib/rory/protocol';
import { ClusteringStatus, H, keys } from '@/lib/rory/protocol';
import { empty, HttpError, json, type Reply } from '../../../common/http';
import { epochSeconds, errorReply, fdhopeStep2Reply, getMatrix, HeaderParams, twoStepRoute, type RouteHandler, type WorkerServices } from '../../kit';
import { shiftIsZero, step1, step1Problem, updateUdm } from './compute';

/** |S| bound under which an SKMeans plaintext shift counts as zero. */
export const SHIFT_ZERO_TOLERANCE = 1e-6;

export function liuKmeansRoutes(services: Pick<WorkerServices, 'store' | 'log'>, opts: { zeroTolerance?: number } = {}): { skmeans: RouteHandler; dbskmeans: RouteHandler } {
  const { store, log } = services;
  const tol = opts.zeroTolerance ?? SHIFT_ZERO_TOLERANCE;
  const toNd = fromMatrix;

  const get = (key: string, what: string): Promise<Matrix> => getMatrix(store, key, what);

  /** Step-1 computation shared by both algorithms, timed and logged. */
  async function runStep1(hh: HeaderParams, alg: 'SKMEANS' | 'DBSKMEANS', status400: number) {
    const t0 = performance.now();
    const startTime = epochSeconds();
    const p = hh.id(H.PLAINTEXT_MATRIX_ID, 500);
    const encId = hh.id(H.ENCRYPTED_MATRIX_ID, 500, keys.encryptedMatrix(p));
    const encShape = hh.shape(H.ENCRYPTED_MATRIX_SHAPE, status400) as number[];
    const encDtype = hh.req(H.ENCRYPTED_MATRIX_DTYPE, status400);
    let udmShapeHeader: number[] | undefined;
    let udmDtype = 'float64';
    if (alg === 'DBSKMEANS') {
      udmShapeHeader = hh.shape(H.ENCRYPTED_UDM_SHAPE, 400);
      udmDtype = hh.req(H.ENCRYPTED_UDM_DTYPE, 400);
    }
    const numChunks = hh.int(H.NUM_CHUNKS, undefined, 503, 1);
    const k = hh.int(H.K, 3, 500, 1);
    const m = hh.int(H.M, 3, 500, 2);
    const iterations = hh.int(H.ITERATIONS, 0, 500, 0);
    const status = hh.int(H.CLUSTERING_STATUS, ClusteringStatus.START, 500, 0);
    if (encShape.length !== 3 || encShape[2] !== m) throw new HttpError(500, `Encrypted-Matrix-Shape ${pythonShape(encShape)} does not end with M=${m}`);

    const udmKey = alg === 'SKMEANS' ? keys.udm(p) : keys.encryptedUdm(p);
    const [encrypted, udm, centPrev] = await Promise.all([
      get(encId, 'encrypted matrix'),
      get(udmKey, 'UDM'),
      status === ClusteringStatus.START ? Promise.resolve(undefined) : get(keys.centj(p), 'centroids'),
    ]);
    if (pythonShape(encrypted.shape) !== pythonShape(encShape)) {
      throw new HttpError(500, `stored ${encId} has shape ${pythonShape(encrypted.shape)}, header says ${pythonShape(encShape)}`);
    }
    if (udmShapeHeader && pythonShape(udm.shape) !== pythonShape(udmShapeHeader)) {
      throw new HttpError(500, `stored ${udmKey} has shape ${pythonShape(udm.shape)}, header says ${pythonShape(udmShapeHeader)}`);
    }
    const input = { encrypted, udm, k, centPrev };
    const problem = step1Problem(input);
    if (problem) throw new HttpError(500, problem);
    const out = step1(input);
    await Promise.all([
      store.putNdarray(keys.centi(p), toNd(out.centPrev), { numChunks: k }),
      store.putNdarray(keys.centj(p), toNd(out.centNew), { numChunks: k }),
      // DBSKMeans writes the shift in k chunks, SKMeans in Num-Chunks (spec/protocol.md §5.3).
      store.putNdarray(keys.encryptedShiftMatrix(p), toNd(out.shift), { numChunks: alg === 'SKMEANS' ? numChunks : k }),
    ]);
    const serviceTime = (performance.now() - t0) / 1000;
    log(`${alg.toLowerCase()} step 1 ${p} round ${iterations} in ${serviceTime.toFixed(3)} s`);
    return { p, out, encShape, encDtype, udm, udmDtype, iterations, k, startTime, serviceTime };
  }

  async function skmeans1(hh: HeaderParams): Promise<Reply> {
    const { startTime, serviceTime, ...r } = await runStep1(hh, 'SKMEANS', 500);
    const reply: KmeansStep1Body = {
      label_vector: Array.from(r.out.labels),
      service_time: serviceTime,
      n_iterations: r.iterations + 1,
      encrypted_shift_matrix_id: keys.encryptedShiftMatrix(r.p),
    };
    return json(
      200,
      reply,
      {
        [H.START_TIME]: String(startTime),
        [H.ENCRYPTED_MATRIX_DTYPE]: r.encDtype,
        [H.ENCRYPTED_MATRIX_SHAPE]: pythonShape(r.encShape),
        [H.UDM_MATRIX_DTYPE]: 'float64',
        [H.UDM_MATRIX_SHAPE]: pythonShape(r.udm.shape),
        [H.SERVICE_TIME]: String(serviceTime),
      },
    );
  }

  async function skmeans2(hh: HeaderParams): Promise<Reply> {
    const t0 = performance.now();
    const p = hh.id(H.PLAINTEXT_MATRIX_ID, 500);
    hh.id(H.ENCRYPTED_MATRIX_ID, 500);
    const startTime = Number(hh.opt(H.START_TIME));
    const total = () => String(Number.isFinite(startTime) && startTime > 0 ? epochSeconds() - startTime : (performance.now() - t0) / 1000);
    const k = hh.int(H.K, 3, 503, 1);
    const isZero = hh.opt(H.IS_ZERO);
    if (isZero === '1') return empty(204, { [H.CLUSTERING_STATUS]: String(ClusteringStatus.COMPLETED), [H.TOTAL_SERVICE_TIME]: total() });
    const shiftId = hh.id(H.SHIFT_MATRIX_ID, 503, keys.shiftMatrix(p));
    const shift = await get(shiftId, 'shift matrix');
    if (isZero === undefined && shiftIsZero(shift, tol)) {
      return empty(204, { [H.CLUSTERING_STATUS]: String(ClusteringStatus.COMPLETED), [H.TOTAL_SERVICE_TIME]: total() });
    }
    const encShape = hh.shape(H.ENCRYPTED_MATRIX_SHAPE, 503) as number[];
    const numChunks = hh.int(H.NUM_CHUNKS, undefined, 503, 1);
    const a = encShape[1];
    if (shift.shape.length !== 2 || shift.shape[0] !== k || shift.shape[1] !== a) {
      throw new HttpError(503, `shift matrix shape ${pythonShape(shift.shape)} is not (${k}, ${a})`);
    }
    const udm = await get(keys.udm(p), 'UDM');
    const updated = updateUdm(udm, shift, k);
    await store.putNdarray(keys.udm(p), toNd(updated), { numChunks });
    const serviceTime = (performance.now() - t0) / 1000;
    log(`skmeans step 2 ${p} in ${serviceTime.toFixed(3)} s`);
    return empty(204, {
      [H.CLUSTERING_STATUS]: String(ClusteringStatus.WORK_IN_PROGRESS),
      [H.END_TIME]: String(epochSeconds()),
      [H.SERVICE_TIME]: String(serviceTime),
    });
  }

  async function dbskmeans1(hh: HeaderParams): Promise<Reply> {
    const { startTime, serviceTime, ...r } = await runStep1(hh, 'DBSKMEANS', 400);
    return json(
      200,
      {
        label_vector: Array.from(r.out.labels),
        encrypted_shift_matrix_id: keys.encryptedShiftMatrix(r.p),
        // Upstream quirk kept: DBSKMeans echoes Iterations unchanged here (the header carries +1).
        n_iterations: r.iterations,
        service_time: serviceTime,
      },
      {
        [H.START_TIME]: String(startTime),
        [H.ENCRYPTED_MATRIX_DTYPE]: r.encDtype,
        [H.ENCRYPTED_MATRIX_SHAPE]: pythonShape(r.encShape),
        [H.ENCRYPTED_UDM_DTYPE]: r.udmDtype,
        [H.ENCRYPTED_UDM_SHAPE]: pythonShape(r.udm.shape),
        [H.SERVICE_TIME]: String(serviceTime),
        [H.ITERATIONS]: String(r.iterations + 1),
        [H.ENCRYPTED_SHIFT_MATRIX_ID]: keys.encryptedShiftMatrix(r.p),
      },
    );
  }

  async function dbskmeans2(hh: HeaderParams): Promise<Reply> {
    const t0 = performance.now();
    const p = hh.id(H.PLAINTEXT_MATRIX_ID, 500);
    hh.id(H.ENCRYPTED_MATRIX_ID, 500);
    const udmShape = hh.shape(H.ENCRYPTED_UDM_SHAPE, 500) as number[];
    const udmDtype = hh.req(H.ENCRYPTED_UDM_DTYPE, 500);
    const startTime = Number(hh.opt(H.START_TIME));
    const k = hh.int(H.K, 3, 503, 1);
    if (hh.opt(H.IS_ZERO) === '1') {
      const endTime = epochSeconds();
      const serviceTime = (performance.now() - t0) / 1000;
      const total = Number.isFinite(startTime) && startTime > 0 ? endTime - startTime : serviceTime;
      return json(
        200,
        { response_time: String(total), end_time: endTime, service_time: serviceTime, encrypted_udm_shape: pythonShape(udmShape), encrypted_udm_dtype: udmDtype },
        { [H.CLUSTERING_STATUS]: String(ClusteringStatus.COMPLETED), [H.TOTAL_SERVICE_TIME]: String(total) },
      );
    }
    const shiftId = hh.id(H.SHIFT_MATRIX_OPE_ID, 503, keys.shiftMatrixOpe(p));
    const numChunks = hh.int(H.NUM_CHUNKS, undefined, 503, 1);
    const [shift, udm] = await Promise.all([get(shiftId, 'FDHOPE shift matrix'), get(keys.encryptedUdm(p), 'encrypted UDM')]);
    if (pythonShape(udm.shape) !== pythonShape(udmShape)) {
      throw new HttpError(503, `stored encrypted UDM has shape ${pythonShape(udm.shape)}, header says ${pythonShape(udmShape)}`);
    }
    const a = udm.shape[2];
    if (shift.shape.length !== 2 || shift.shape[0] !== k || shift.shape[1] !== a || size(shift.shape) !== shift.data.length) {
      throw new HttpError(503, `FDHOPE shift shape ${pythonShape(shift.shape)} is not (${k}, ${a})`);
    }
    const updated = updateUdm(udm, shift, k);
    await store.putNdarray(keys.encryptedUdm(p), toNd(updated), { numChunks });
    const endTime = epochSeconds();
    const serviceTime = (performance.now() - t0) / 1000;
    log(`dbskmeans step 2 ${p} in ${serviceTime.toFixed(3)} s`);
    return fdhopeStep2Reply(updated.shape, udmDtype, endTime, serviceTime);
  }

  return {
    skmeans: twoStepRoute(skmeans1, skmeans2, () => empty(200)),
    dbskmeans: twoStepRoute(dbskmeans1, dbskmeans2, () => errorReply(new HttpError(400, 'invalid Step-Index'), 400)),
  };
}
