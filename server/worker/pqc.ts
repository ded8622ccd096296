/**
 * @module server/worker/pqc
 * The worker's CKKS (PQC) routes (spec/protocol.md §5.6, §5.7, §5.10, §7.3; spec/crypto.md §5.3,
 * §7.6–7.10; docs/protocol-additions.md §1–4):
 * - `POST /clustering/pqc/skmeans` and `/clustering/pqc/dbskmeans` (Step-Index 1|2): assignment
 *   on the plain or FDHOPE UDM (the Liu worker's `assign` / `updateUdm`), CKKS centroids
 *   Σ members × (1/|C_j|) with one rescale, an empty cluster keeping its previous centroid,
 *   shift = previous − new (a fresh encryption of 0 when the centroid did not change: SEAL
 *   refuses the transparent ciphertext an exact difference would be); `{P}centi`, `{P}centj`,
 *   `{P}encryptedshiftmatrix` as E3 lists.
 * - `POST /clustering/pqc/dbsnnc` (absent upstream): DBSNNC with a CKKS dataset it does not read.
 * - `POST /classification/pqc/sknn/predict`: packed squared distances (x_i − M_b)², then labels.
 *
 * D4: the evaluator is built from the public objects named by `Ckks-Keys-Id` (verified against
 * their digest); this worker never reads a secret key. Evaluators are cached per id (LRU of 4),
 * and the CKKS dataset between rounds while its `full_checksum` is unchanged (`CiphertextCache`).
 * Status codes as upstream: step 1 failures 500 (missing Num-Chunks 503), step 2 failures 503;
 * our `Ckks-Keys-Id` problems are 400. Errors carry `Error-Message`.
 */
import * as ckks from '@/lib/crypto/ckks';
import { AppError } from '@/lib/errors';
import { pythonShape, size, type Matrix } from '@/lib/data/matrix';
import type { NdArray, ObjectStore } from '@/lib/storage/types';
import { ClusteringStatus, CKKS_KEYS_ID, H, keys } from '@/lib/rory/headers';
import { isCkksKeysId, loadCkksPublicBundle } from '@/lib/rory/ckks-custody';
import { empty, HttpError, json, type Reply } from '../common/http';
import { assign, updateUdm } from './algorithms/skmeans';
import { errorReply, fdhopeStep2Reply, HeaderParams, toMatrix, type HeaderReader } from './core';
import { createNncRoutes } from './nnc';
import { CLASSIFY_HEADERS } from './classify';

const MAX_CACHED_EVALUATORS = 4;
const ROWS_PER_CIPHERTEXT = 'Ckks-Rows-Per-Ciphertext';
const epochSeconds = () => Date.now() / 1000;

export interface PqcRouteOptions {
  readonly log?: (line: string) => void;
  /** Bytes of immutable inputs (the CKKS dataset) kept between rounds; default 512 MiB, 0 = off. */
  readonly cacheBytes?: number;
}

/**
 * Ciphertext lists read before, by ball id, valid while the ball's `full_checksum` is unchanged.
 * The dataset `encrypted{P}` is read every round; with the cache only its metadata is. Content is
 * verified against the checksum when first read, so a hit returns exactly the stored bytes.
 */
export class CiphertextCache {
  readonly #entries = new Map<string, { sum: string; items: Uint8Array[]; bytes: number }>();
  #bytes = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly budget: number,
  ) {}

  async getBytesList(key: string): Promise<Uint8Array[]> {
    const sumOf = this.store.fullChecksum?.bind(this.store);
    const before = this.budget > 0 && sumOf ? await sumOf(key) : undefined;
    const hit = before === undefined ? undefined : this.#entries.get(key);
    if (hit && hit.sum === before) {
      this.hits++;
      this.#entries.delete(key); // most recently used last
      this.#entries.set(key, hit);
      return hit.items;
    }
    this.misses++;
    const items = await this.store.getBytesList(key, { force: true });
    const bytes = items.reduce((s, b) => s + b.length, 0);
    // Cache only when the ball did not change while it was read.
    if (before !== undefined && sumOf && bytes <= this.budget && (await sumOf(key)) === before) {
      this.#drop(key);
      this.#entries.set(key, { sum: before, items, bytes });
      this.#bytes += bytes;
      for (const [k] of this.#entries) {
        if (this.#bytes <= this.budget) break;
        this.#drop(k);
      }
    }
    return items;
  }

  #drop(key: string): void {
    const e = this.#entries.get(key);
    if (!e) return;
    this.#bytes -= e.bytes;
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }
}

function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function nd(m: Matrix): NdArray<'float64'> {
  return { dtype: 'float64', shape: m.shape, data: m.data };
}

export function createPqcRoutes(store: ObjectStore, opts: PqcRouteOptions = {}) {
  const log = opts.log ?? (() => {});
  const evaluators = new Map<string, Promise<ckks.CkksEvaluator>>();
  const cache = new CiphertextCache(store, opts.cacheBytes ?? 512 * 1024 * 1024);
  const nnc = createNncRoutes(store);

  /** The evaluator of the public objects named by `Ckks-Keys-Id` (400 when absent or not verifiable). */
  async function evaluatorFor(hh: HeaderParams): Promise<ckks.CkksEvaluator> {
    const id = hh.opt(CKKS_KEYS_ID);
    if (!id) throw new HttpError(400, `missing header ${CKKS_KEYS_ID}: this worker computes with the Data Owner's public CKKS objects only and never loads a secret key`);
    if (!isCkksKeysId(id)) throw new HttpError(400, `${CKKS_KEYS_ID} must be "ckks" followed by 32 hex digits`);
    let p = evaluators.get(id);
    if (p) {
      evaluators.delete(id); // re-insert: most recently used last
      evaluators.set(id, p);
      return p;
    }
    p = (async () => {
      try {
        return await ckks.CkksEvaluator.fromPublicBundle(await loadCkksPublicBundle(store, id));
      } catch (e) {
        evaluators.delete(id);
        if (e instanceof AppError && (e.code === 'INVALID_KEY' || e.code === 'CRYPTO_FAILURE')) throw new HttpError(400, e.message);
        throw e;
      }
    })();
    evaluators.set(id, p);
    while (evaluators.size > MAX_CACHED_EVALUATORS) {
      const [oldest, ev] = evaluators.entries().next().value as [string, Promise<ckks.CkksEvaluator>];
      evaluators.delete(oldest);
      ev.then((e) => e.dispose(), () => undefined);
    }
    return p;
  }

  const getMatrix = async (key: string, what: string) => toMatrix(await store.getNdarray(key, { force: true }), what);

  // ---- SKMeans-PQC / DBSKMeans-PQC ----------------------------------------------------------------

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
      getMatrix(udmKey, 'UDM'),
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
    const body = {
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
    const [shift, udm] = await Promise.all([getMatrix(shiftId, 'shift matrix'), getMatrix(udmKey, 'UDM')]);
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

  async function kmeansRoute(h: HeaderReader, fdhope: boolean): Promise<Reply> {
    const hh = new HeaderParams(h);
    const step = hh.opt(H.STEP_INDEX) ?? '1';
    if (step === '1') {
      try {
        return await step1(hh, fdhope);
      } catch (e) {
        return errorReply(e, 500);
      }
    }
    if (step === '2') {
      try {
        return await step2(hh, fdhope);
      } catch (e) {
        return errorReply(e, 503);
      }
    }
    return fdhope ? errorReply(new HttpError(400, 'invalid Step-Index'), 400) : empty(200);
  }

  // ---- SKNN-PQC -----------------------------------------------------------------------------------

  async function sknn1(hh: HeaderParams): Promise<Reply> {
    const started = epochSeconds();
    const m = hh.id(CLASSIFY_HEADERS.MODEL_ID, 500, 'model0');
    const r = hh.id(CLASSIFY_HEADERS.RECORDS_TEST_ID, 500, 'matrix0data');
    const mShape = hh.shape(CLASSIFY_HEADERS.ENCRYPTED_MODEL_SHAPE, 500) as number[];
    hh.req(CLASSIFY_HEADERS.ENCRYPTED_MODEL_DTYPE, 500);
    const rShape = hh.shape(CLASSIFY_HEADERS.ENCRYPTED_RECORDS_SHAPE, 500) as number[];
    hh.req(CLASSIFY_HEADERS.ENCRYPTED_RECORDS_DTYPE, 500);
    const numChunks = hh.int(H.NUM_CHUNKS, undefined, 503, 1);
    const R = hh.int(ROWS_PER_CIPHERTEXT, undefined, 500, 1);
    if (mShape.length !== 2 || rShape.length !== 2 || mShape[1] !== rShape[1]) throw new HttpError(500, 'Encrypted-Model-Shape and Encrypted-Records-Shape must be (n, a) and (t, a)');
    const [n, a] = mShape;
    const t = rShape[0];
    const ev = await evaluatorFor(hh);
    if (!ev.keys.publicBundle().relinKeys) throw new HttpError(400, 'SKNN-PQC needs relinearization keys; upload the key set with its relinkey object');
    if (R * a > ev.context.slots) throw new HttpError(500, `${ROWS_PER_CIPHERTEXT} × a = ${R * a} exceeds the ${ev.context.slots} slots`);
    const B = Math.ceil(n / R);
    const [model, test] = await Promise.all([store.getBytesMatrix(`encrypted${m}`, { force: true }), store.getBytesMatrix(`encrypted${r}`, { force: true })]);
    if (model.length !== B || model.some((row) => row.length !== 1)) throw new HttpError(503, `encrypted${m} must hold ${B} rows of one ciphertext (n = ${n}, R = ${R})`);
    if (test.length !== t || test.some((row) => row.length !== 1)) throw new HttpError(503, `encrypted${r} must hold ${t} rows of one ciphertext`);
    const distances = ev.scoped(() => {
      const blocks = model.map((row) => ev.load(row[0]));
      return test.map((row) => {
        const x = ev.load(row[0]);
        return blocks.map((mb) => ev.scoped(() => ev.save(ev.square(ev.sub(x, mb)))));
      });
    });
    const key = `distances${r}`;
    await store.putBytesMatrix(key, distances, { numChunks: Math.min(numChunks, t) });
    const serviceTime = epochSeconds() - started;
    log(`pqc sknn step 1 ${r}: ${t}×${B} ciphertext products in ${serviceTime.toFixed(3)} s`);
    return json(200, { distances_id: key, distances_shape: pythonShape([t, n]), distances_dtype: 'ckks', service_time: serviceTime }, { [H.START_TIME]: String(started), [H.SERVICE_TIME]: String(serviceTime) });
  }

  async function sknn2(hh: HeaderParams): Promise<Reply> {
    const started = epochSeconds();
    const m = hh.id(CLASSIFY_HEADERS.MODEL_ID, 500, 'model0');
    const r = hh.id(CLASSIFY_HEADERS.RECORDS_TEST_ID, 500, 'matrix0data');
    const labels = (await getMatrix(`${m}labels`, 'model labels')).data;
    const labelsShape = hh.shape(CLASSIFY_HEADERS.MODEL_LABELS_SHAPE, 500, false);
    if (labelsShape && labelsShape[labelsShape.length - 1] !== labels.length) {
      throw new HttpError(503, `model labels hold ${labels.length} values, Model-Labels-Shape says ${pythonShape(labelsShape)}`);
    }
    const idx = await store.getNdarray(`distancesindex${r}`, { force: true });
    if (idx.dtype !== 'int64') throw new HttpError(503, `distancesindex must be int64, got ${idx.dtype}`);
    if (idx.shape.length !== 2 || (idx.shape[0] !== 1 && idx.shape[1] !== 1)) throw new HttpError(503, `distancesindex must have shape (1, t) or (t, 1), got ${pythonShape(idx.shape)}`);
    const out = Array.from(idx.data as BigInt64Array, (v) => {
      const j = Number(v);
      if (!Number.isInteger(j) || j < 0 || j >= labels.length) throw new HttpError(503, 'an index is outside the model');
      return labels[j];
    });
    const serviceTime = epochSeconds() - started;
    return json(200, { label_vector: out, service_time: serviceTime }, { [H.SERVICE_TIME]: String(serviceTime) });
  }

  return {
    skmeans: (h: HeaderReader) => kmeansRoute(h, false),
    dbskmeans: (h: HeaderReader) => kmeansRoute(h, true),

    /** DBSNNC with a CKKS dataset (E3, `(n, a)`); the worker clusters on the FDHOPE DM only. */
    async dbsnnc(h: HeaderReader): Promise<Reply> {
      const shape = h(H.ENCRYPTED_MATRIX_SHAPE);
      if (shape !== undefined && !/^\(\s*\d+\s*,\s*\d+\s*\)$/.test(shape.trim())) {
        return errorReply(new HttpError(500, 'Encrypted-Matrix-Shape must be (n, a) for a CKKS dataset'), 500);
      }
      return nnc.dbsnnc(h);
    },

    async sknn(h: HeaderReader): Promise<Reply> {
      const hh = new HeaderParams(h);
      const step = hh.opt(H.STEP_INDEX) ?? '1';
      try {
        if (step === '1') return await sknn1(hh);
        if (step === '2') return await sknn2(hh);
        return json(200, {});
      } catch (e) {
        return errorReply(e, 503);
      }
    },

    /** Frees the cached evaluators and ciphertexts. */
    dispose(): void {
      for (const p of evaluators.values()) p.then((e) => e.dispose(), () => undefined);
      evaluators.clear();
      cache.clear();
    },
  };
}
