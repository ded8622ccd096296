/**
 * @module server/worker/algorithms/sknn-pqc/route
 * `POST /classification/pqc/sknn/predict` (docs/protocol-additions.md §4; spec/crypto.md §7.10):
 * step 1 computes packed squared distances (x_i − M_b)² (ct×ct, relinearize, rescale) per test
 * record and model block and stores `distances{R}` (E4, t rows × B ciphertexts); step 2 maps the
 * client's argmin indices `distancesindex{R}` to `{M}labels`. Public key objects only (D4).
 */
import { pythonShape } from '@/lib/data/matrix';
import type { DistancesBody } from '@/lib/rory/protocol';
import { H, keys } from '@/lib/rory/protocol';
import { HttpError, json, type Reply } from '../../../common/http';
import { epochSeconds, getMatrix, guardedRoute, HeaderParams, labelsReply, type WorkerRoute } from '../../kit';
import { labelsOfIndices } from '../sknn/route';

export const sknnPqcRoute: WorkerRoute = {
  algorithm: 'SKNN_PQC_PREDICT',
  path: '/classification/pqc/sknn/predict',
  create({ store, log, ckks: { evaluatorFor } }) {
    async function sknn1(hh: HeaderParams): Promise<Reply> {
      const started = epochSeconds();
      const m = hh.id(H.MODEL_ID, 500, 'model0');
      const r = hh.id(H.RECORDS_TEST_ID, 500, 'matrix0data');
      const mShape = hh.shape(H.ENCRYPTED_MODEL_SHAPE, 500) as number[];
      hh.req(H.ENCRYPTED_MODEL_DTYPE, 500);
      const rShape = hh.shape(H.ENCRYPTED_RECORDS_SHAPE, 500) as number[];
      hh.req(H.ENCRYPTED_RECORDS_DTYPE, 500);
      const numChunks = hh.int(H.NUM_CHUNKS, undefined, 503, 1);
      const R = hh.int(H.CKKS_ROWS_PER_CIPHERTEXT, undefined, 500, 1);
      if (mShape.length !== 2 || rShape.length !== 2 || mShape[1] !== rShape[1]) throw new HttpError(500, 'Encrypted-Model-Shape and Encrypted-Records-Shape must be (n, a) and (t, a)');
      const [n, a] = mShape;
      const t = rShape[0];
      const ev = await evaluatorFor(hh);
      if (!ev.keys.publicBundle().relinKeys) throw new HttpError(400, 'SKNN-PQC needs relinearization keys; upload the key set with its relinkey object');
      if (R * a > ev.context.slots) throw new HttpError(500, `${H.CKKS_ROWS_PER_CIPHERTEXT} × a = ${R * a} exceeds the ${ev.context.slots} slots`);
      const B = Math.ceil(n / R);
      const [model, test] = await Promise.all([store.getBytesMatrix(keys.encryptedMatrix(m), { force: true }), store.getBytesMatrix(keys.encryptedMatrix(r), { force: true })]);
      if (model.length !== B || model.some((row) => row.length !== 1)) throw new HttpError(503, `encrypted${m} must hold ${B} rows of one ciphertext (n = ${n}, R = ${R})`);
      if (test.length !== t || test.some((row) => row.length !== 1)) throw new HttpError(503, `encrypted${r} must hold ${t} rows of one ciphertext`);
      const distances = ev.scoped(() => {
        const blocks = model.map((row) => ev.load(row[0]));
        return test.map((row) => {
          const x = ev.load(row[0]);
          return blocks.map((mb) => ev.scoped(() => ev.save(ev.square(ev.sub(x, mb)))));
        });
      });
      const key = keys.distances(r);
      await store.putBytesMatrix(key, distances, { numChunks: Math.min(numChunks, t) });
      const serviceTime = epochSeconds() - started;
      log(`pqc sknn step 1 ${r}: ${t}×${B} ciphertext products in ${serviceTime.toFixed(3)} s`);
      const body: DistancesBody = { distances_id: key, distances_shape: pythonShape([t, n]), distances_dtype: 'ckks', service_time: serviceTime };
      return json(200, body, { [H.START_TIME]: String(started), [H.SERVICE_TIME]: String(serviceTime) });
    }

    async function sknn2(hh: HeaderParams): Promise<Reply> {
      const started = epochSeconds();
      const m = hh.id(H.MODEL_ID, 500, 'model0');
      const r = hh.id(H.RECORDS_TEST_ID, 500, 'matrix0data');
      const labels = (await getMatrix(store, keys.modelLabels(m), 'model labels')).data;
      const labelsShape = hh.shape(H.MODEL_LABELS_SHAPE, 500, false);
      if (labelsShape && labelsShape[labelsShape.length - 1] !== labels.length) {
        throw new HttpError(503, `model labels hold ${labels.length} values, Model-Labels-Shape says ${pythonShape(labelsShape)}`);
      }
      return labelsReply(await labelsOfIndices(store, r, labels), started);
    }

    return guardedRoute(503, async (hh) => {
      const step = hh.opt(H.STEP_INDEX) ?? '1';
      if (step === '1') return sknn1(hh);
      if (step === '2') return sknn2(hh);
      return json(200, {});
    });
  },
};
