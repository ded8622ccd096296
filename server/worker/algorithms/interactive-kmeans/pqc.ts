/**
 * @module server/worker/algorithms/interactive-kmeans/pqc
 * SKMeans-PQC and DBSKMeans-PQC (`/clustering/pqc/skmeans`, `/clustering/pqc/dbskmeans`, Step-Index
 * 1|2; spec/protocol.md §5.6, §5.7; spec/crypto.md §7.6, §7.7; docs/protocol-additions.md §2):
 * assignment on the plain or FDHOPE UDM (the Liu worker's `assign` / `updateUdm`), CKKS centroids
 * Σ members × (1/|C_j|) with one rescale, an empty cluster keeping its previous centroid,
 * shift = previous − new (a fresh encryption of 0 when the centroid did not change: SEAL refuses
 * the transparent ciphertext an exact difference would be); `{P}centi`, `{P}centj`,
 * `{P}encryptedshiftmatrix` as E3 lists.
 *
 * D4: the evaluator is built from the public objects named by `Ckks-Keys-Id` (`../../ckks.ts`).
 * Status codes as upstream: step 1 failures 500 (missing Num-Chunks 503), step 2 failures 503;
 * `Ckks-Keys-Id` problems are 400. Errors carry `Error-Message`.
 */
import type * as ckks from '@/lib/crypto/ckks';
import { pythonShape, size } from '@/lib/data/matrix';
import { fromMatrix } from '@/lib/storage/ndarray';
import type { KmeansStep1Body } from '@/lib/rory/protocol';
import { ClusteringStatus, H, keys } from '@/lib/rory/protocol';
import { empty, HttpError, json, type Reply } from '../../../common/http';
import { epochSeconds, errorReply, fdhopeStep2Reply, getMatrix, HeaderParams, twoStepRoute, type RouteHandler, type WorkerServices } from '../../kit';
import { assign, updateUdm } from './compute';

function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

export function pqcKmeansRoutes(services: WorkerServices): { skmeans: RouteHandler; dbskmeans: RouteHandler } {
  const { store, log } = services;
  const { evaluatorFor, cache } = services.ckks;
  const nd = fromMatrix;
  const getMatrix_ = (key: string, what: string) => getMatrix(store, key, what);

  async function step1(hh: HeaderParams, fdhope: boolean): Promise<Reply> {
    const t0 = performance.now();
    const startTime = epochSeconds();
    const p = hh.id(H.PLAINTEXT_MATRIX_ID, 500);
    const encId = hh.id(H.ENCRYPTED_MATRIX_ID, 500, keys.encryptedMatrix(p));
    const encShape = hh.shape(H.ENCRYPTED_MATRIX_SHAPE, 500) as number[];
    const encDtype = hh.req(H.ENCRYPTED_MATRIX_DTYPE, 500);
    let udmShapeHeader: number[] | undefined;
    let udmDtype = 'float64';
    if (fdhope) {
      udmShapeHeader = hh.shape(H.ENCRYPTED_UDM_SHAPE, 400);
      udmDtype = hh.req(H.ENCRYPTED_UDM_DTYPE, 400);
    }
    const numChunks = hh.int(H.NUM_CHUNKS, undefined, 503, 1);
    const k = hh.int(H.K, 3, 500, 1);
    const iterations = hh.int(H.ITERATIONS, 0, 500, 0);
    const status = hh.int(H.CLUSTERING_STATUS, ClusteringStatus.START, 500, 0);
    if (encShape.length !== 2) throw new HttpError(500, `Encrypted-Matrix-Shape ${pythonShape(encShape)} must be (n, a): one ciphertext per record`);
    const [n, a] = encShape;
    if (k > n) throw new HttpError(500, `K must be an integer in [1, ${n}]`);
    const ev = await evaluatorFor(hh);

    const udmKey = fdhope ? keys.encryptedUdm(p) : keys.udm(p);
    const [records, udm, prev] = await Promise.all([
      cache.getBytesList(encId),
      getMatrix_(udmKey, 'UDM'),
      status === ClusteringStatus.START ? Promise.resolve(undefined) : store.getBytesList(keys.centj(p), { force: true }),
    ]);
    if (records.length !== n) throw new HttpError(500, `stored ${encId} holds ${records.length} ciphertexts, header says ${n} records`);
    if (udmShapeHeader && pythonShape(udm.shape) !== pythonShape(udmShapeHeader)) {
      throw new HttpError(500, `stored ${udmKey} has shape ${pythonShape(udm.shape)}, header says ${pythonShape(udmShapeHeader)}`);
    }
    const u = udm.shape;
    if (u.length !== 3 || u[0] !== n || u[2] !== a || (u[1] !== n && u[1] !== k) || size(u) !== udm.data.length) {
      throw new HttpError(500, `UDM shape ${pythonShape(u)} must be (${n}, ${n}, ${a}) or (${n}, ${k}, ${a})`);
    }
    if (prev && prev.length !== k) throw new HttpError(500, `stored ${keys.centj(p)} holds ${prev.length} ciphertexts, expected K = ${k}`);

    const labels = assign(udm, k);
    const out = ev.scoped(() => {
      const cts = ev.loadAll(records);
      const centPrev = prev ? ev.loadAll(prev) : cts.slice(0, k);
      const centi: Uint8Array[] = [];
      const centj: Uint8Array[] = [];
      const shift: Uint8Array[] = [];
      for (let y = 0; y < k; y++) {
        const members: ckks.CkksCipher[] = [];
        for (let x = 0; x < n; x++) if (labels[x] === y) members.push(cts[x]);
        // An empty cluster keeps its previous centroid (spec/crypto.md §5.3), so its shift is 0.
        const cNew = members.length === 0 ? centPrev[y] : ev.multiplyPlain(ev.sum(members), 1 / members.length);
        const before = ev.save(centPrev[y]);
        const after = members.length === 0 ? before : ev.save(cNew);
        centi.push(before);
        centj.push(after);
        // An unchanged centroid is the same ciphertext, bit for bit (the operations are
        // deterministic); SEAL refuses the transparent difference, so send a fresh encryption of 0.
        shift.push(sameBytes(before, after) ? ev.save(ev.encrypt(new Float64Array(a))) : ev.save(ev.sub(centPrev[y], cNew)));
      }
      return { centi, centj, shift };
    });
    const chunks = Math.min(numChunks, k);
    await Promise.all([
      store.putBytesList(keys.centi(p), out.centi, { numChunks: chunks }),
      store.putBytesList(keys.centj(p), out.centj, { numChunks: chunks }),
      store.putBytesList(keys.encryptedShiftMatrix(p), out.shift, { numChunks: chunks }),
    ]);
    const serviceTime = (performance.now() - t0) / 1000;
    log(`pqc ${fdhope ? 'dbskmeans' : 'skmeans'} step 1 ${p} round ${iterations} in ${serviceTime.toFixed(3)} s`);
    const body: KmeansStep1Body = {
      label_vector: Array.from(labels),
      service_time: serviceTime,
      n_iterations: iterations + 1,
      encrypted_shift_matrix_id: keys.encryptedShiftMatrix(p),
    };
    const headers: Record<string, string> = {
      [H.START_TIME]: String(startTime),
      [H.ENCRYPTED_MATRIX_DTYPE]: encDtype,
      [H.ENCRYPTED_MATRIX_SHAPE]: pythonShape(encShape),
      [H.SERVICE_TIME]: String(serviceTime),
      [H.ENCRYPTED_SHIFT_MATRIX_ID]: keys.encryptedShiftMatrix(p),
    };
    if (fdhope) {
      headers[H.ENCRYPTED_UDM_DTYPE] = udmDtype;
      headers[H.ENCRYPTED_UDM_SHAPE] = pythonShape(udm.shape);
    } else {
      headers[H.UDM_MATRIX_DTYPE] = 'float64';
      headers[H.UDM_MATRIX_SHAPE] = pythonShape(udm.shape);
    }
    return json(200, body, headers);
  }

  async function step2(hh: HeaderParams, fdhope: boolean): Promise<Reply> {
    const t0 = performance.now();
    const p = hh.id(H.PLAINTEXT_MATRIX_ID, 500);
    const k = hh.int(H.K, 3, 503, 1);
    const startTime = Number(hh.opt(H.START_TIME));
    const isZero = hh.opt(H.IS_ZERO);
    if (isZero !== '0' && isZero !== '1') throw new HttpError(503, `${H.IS_ZERO} is required and must be "0" or "1"`);
    const udmShapeHeader = fdhope ? (hh.shape(H.ENCRYPTED_UDM_SHAPE, 500) as number[]) : undefined;
    const udmDtype = fdhope ? hh.req(H.ENCRYPTED_UDM_DTYPE, 500) : 'float64';
    const total = () => (Number.isFinite(startTime) && startTime > 0 ? epochSeconds() - startTime : (performance.now() - t0) / 1000);
    if (isZero === '1') {
      if (!fdhope) return empty(204, { [H.CLUSTERING_STATUS]: String(ClusteringStatus.COMPLETED), [H.TOTAL_SERVICE_TIME]: String(total()) });
      const endTime = epochSeconds();
      return json(
        200,
        { response_time: String(total()), end_time: endTime, service_time: (performance.now() - t0) / 1000, encrypted_udm_shape: pythonShape(udmShapeHeader!), encrypted_udm_dtype: udmDtype },
        { [H.CLUSTERING_STATUS]: String(ClusteringStatus.COMPLETED), [H.TOTAL_SERVICE_TIME]: String(total()) },
      );
    }
    const numChunks = hh.int(H.NUM_CHUNKS, undefined, 503, 1);
    const udmKey = fdhope ? keys.encryptedUdm(p) : keys.udm(p);
    const shiftId = fdhope ? hh.id(H.SHIFT_MATRIX_OPE_ID, 503, keys.shiftMatrixOpe(p)) : hh.id(H.SHIFT_MATRIX_ID, 503, keys.shiftMatrix(p));
    const [shift, udm] = await Promise.all([getMatrix_(shiftId, 'shift matrix'), getMatrix_(udmKey, 'UDM')]);
    if (udmShapeHeader && pythonShape(udm.shape) !== pythonShape(udmShapeHeader)) {
      throw new HttpError(503, `stored ${udmKey} has shape ${pythonShape(udm.shape)}, header says ${pythonShape(udmShapeHeader)}`);
    }
    const a = udm.shape[2];
    if (udm.shape.length !== 3 || shift.shape.length !== 2 || shift.shape[0] !== k || shift.shape[1] !== a || size(shift.shape) !== shift.data.length) {
      throw new HttpError(503, `shift matrix shape ${pythonShape(shift.shape)} is not (${k}, ${a})`);
    }
    const updated = updateUdm(udm, shift, k);
    await store.putNdarray(udmKey, nd(updated), { numChunks, tags: { full_shape: pythonShape(updated.shape), full_dtype: 'float64' } });
    const endTime = epochSeconds();
    const serviceTime = (performance.now() - t0) / 1000;
    log(`pqc ${fdhope ? 'dbskmeans' : 'skmeans'} step 2 ${p} in ${serviceTime.toFixed(3)} s`);
    if (!fdhope) {
      return empty(204, { [H.CLUSTERING_STATUS]: String(ClusteringStatus.WORK_IN_PROGRESS), [H.END_TIME]: String(endTime), [H.SERVICE_TIME]: String(serviceTime) });
    }
    return fdhopeStep2Reply(updated.shape, udmDtype, endTime, serviceTime);
  }

  return {
    skmeans: twoStepRoute((hh) => step1(hh, false), (hh) => step2(hh, false), () => empty(200)),
    dbskmeans: twoStepRoute((hh) => step1(hh, true), (hh) => step2(hh, true), () => errorReply(new HttpError(400, 'invalid Step-Index'), 400)),
  };
}
