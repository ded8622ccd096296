/**
 * @module server/worker/algorithms/pkmeans/route
 * `POST /clustering/pqc/pkmeans` (spec/private-kmeans.md §4–§5; docs/protocol-additions.md §5),
 * this project's private k-means, two calls per worker per round:
 * - `Step-Index: 1` — partial sums over this worker's blocks (`Pkmeans-Block-Range from:to`) of
 *   the packed dataset `encrypted{P}` (E3, B ciphertexts) times this round's masks
 *   `{P}masksw{w}` (E4, k rows × its blocks); stores `{P}partialw{w}` (E3, k ciphertexts).
 * - `Step-Index: 2` — reads the partials of all `Pkmeans-Workers` W workers, adds them, replicates
 *   each cluster mean over the record positions and squares the differences for its blocks;
 *   stores `{P}distancesw{w}` (E4, k rows × its blocks).
 * Public CKKS objects only (`Ckks-Keys-Id`, D4); the dataset is cached between rounds. Failures:
 * 400 for key problems, 500 otherwise, with `Error-Message`.
 */
import { pythonShape } from '@/lib/data/matrix';
import type { PkmeansBody } from '@/lib/rory/protocol';
import { H, keys } from '@/lib/rory/protocol';
import { HttpError, json, type Reply } from '../../../common/http';
import { epochSeconds, guardedRoute, HeaderParams, type WorkerRoute, type WorkerServices } from '../../kit';
import { distances, partialSums } from './compute';

/** Most workers one round may be split over (bounds the partials a worker reads). */
export const MAX_PKMEANS_WORKERS = 64;

interface Call {
  readonly p: string;
  readonly n: number;
  readonly a: number;
  readonly k: number;
  readonly R: number;
  readonly stride: number;
  readonly B: number;
  readonly from: number;
  readonly to: number;
  readonly w: number;
  readonly W: number;
  readonly numChunks: number;
  readonly iteration: number;
}

function parseCall(hh: HeaderParams, slots: number): Call {
  const p = hh.id(H.PLAINTEXT_MATRIX_ID, 500);
  const shape = hh.shape(H.ENCRYPTED_MATRIX_SHAPE, 500) as number[];
  if (shape.length !== 2) throw new HttpError(500, `${H.ENCRYPTED_MATRIX_SHAPE} must be (n, a)`);
  const [n, a] = shape;
  const k = hh.int(H.K, undefined, 500, 1);
  const R = hh.int(H.CKKS_ROWS_PER_CIPHERTEXT, undefined, 500, 1);
  const stride = hh.int(H.CKKS_RECORD_STRIDE, undefined, 500, 1);
  if ((stride & (stride - 1)) !== 0 || stride < a || stride * R !== slots) {
    throw new HttpError(500, `${H.CKKS_RECORD_STRIDE} × ${H.CKKS_ROWS_PER_CIPHERTEXT} must equal the ${slots} slots, with a power-of-two stride ≥ a`);
  }
  if (k > n) throw new HttpError(500, `K must be at most the number of records (${n})`);
  const B = Math.ceil(n / R);
  const range = hh.opt(H.PKMEANS_BLOCK_RANGE) ?? `0:${B}`;
  const m = /^(\d{1,9}):(\d{1,9})$/.exec(range);
  const from = m ? Number(m[1]) : -1;
  const to = m ? Number(m[2]) : -1;
  if (!m || from >= to || to > B) throw new HttpError(500, `${H.PKMEANS_BLOCK_RANGE} must be from:to within 0:${B}`);
  const W = hh.int(H.PKMEANS_WORKERS, 1, 500, 1);
  const w = hh.int(H.PKMEANS_WORKER_INDEX, 0, 500, 0);
  if (W > MAX_PKMEANS_WORKERS || w >= W) throw new HttpError(500, `${H.PKMEANS_WORKER_INDEX} must be below ${H.PKMEANS_WORKERS} (at most ${MAX_PKMEANS_WORKERS})`);
  return { p, n, a, k, R, stride, B, from, to, w, W, numChunks: hh.int(H.NUM_CHUNKS, 1, 500, 1), iteration: hh.int(H.ITERATIONS, 0, 500, 0) };
}

async function step(services: WorkerServices, hh: HeaderParams, index: '1' | '2'): Promise<Reply> {
  const started = epochSeconds();
  const { store, log, ckks } = services;
  const ev = await ckks.evaluatorFor(hh);
  const c = parseCall(hh, ev.context.slots);
  const encId = hh.id(H.ENCRYPTED_MATRIX_ID, 500, keys.encryptedMatrix(c.p));
  const dataset = await ckks.cache.getBytesList(encId);
  if (dataset.length !== c.B) throw new HttpError(500, `${encId} holds ${dataset.length} ciphertexts, expected ${c.B}`);
  const mine = c.to - c.from;
  const mineData = dataset.slice(c.from, c.to);
  let reply: PkmeansBody;
  if (index === '1') {
    const masks = await store.getBytesMatrix(keys.pkmeansMasks(c.p, c.w), { force: true, expect: { shape: [c.k, mine] } });
    if (masks.length !== c.k || masks.some((row) => row.length !== mine)) throw new HttpError(500, `masks must be ${c.k} rows of ${mine} ciphertexts`);
    // SEAL work is synchronous and scoped: every ciphertext made here is freed before returning.
    const partial = ev.scoped(() =>
      partialSums(
        ev,
        ev.loadAll(mineData),
        masks.map((row) => ev.loadAll(row)),
      ).map((x) => ev.save(x)),
    );
    const id = keys.pkmeansPartial(c.p, c.w);
    await store.putBytesList(id, partial, { numChunks: Math.min(c.numChunks, c.k) });
    reply = { partial_id: id };
  } else {
    const partials = await Promise.all(
      Array.from({ length: c.W }, (_, v) => store.getBytesList(keys.pkmeansPartial(c.p, v), { force: true, expect: { shape: [c.k] } })),
    );
    if (partials.some((list) => list.length !== c.k)) throw new HttpError(500, `every partial must hold ${c.k} ciphertexts`);
    const out = ev.scoped(() =>
      distances(
        ev,
        ev.loadAll(mineData),
        partials.map((list) => ev.loadAll(list)),
        c,
      ).map((row) => row.map((q) => ev.save(q))),
    );
    const id = keys.pkmeansDistances(c.p, c.w);
    await store.putBytesMatrix(id, out, { numChunks: Math.min(c.numChunks, c.k) });
    reply = { distances_id: id, distances_shape: pythonShape([c.k, mine]) };
  }
  const serviceTime = epochSeconds() - started;
  log(`pkmeans step ${index} ${c.p} round ${c.iteration} blocks ${c.from}:${c.to} in ${serviceTime.toFixed(3)} s`);
  return json(200, { ...reply, service_time: serviceTime }, { [H.SERVICE_TIME]: String(serviceTime) });
}

export const pkmeansRoute: WorkerRoute = {
  algorithm: 'PKMEANS',
  path: '/clustering/pqc/pkmeans',
  create: (services) => guardedRoute(500, async (hh) => {
    const index = hh.opt(H.STEP_INDEX) ?? '1';
    if (index !== '1' && index !== '2') throw new HttpError(400, `${H.STEP_INDEX} must be 1 or 2`);
    return step(services, hh, index);
  }),
};
