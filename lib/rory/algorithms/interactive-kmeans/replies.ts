/**
 * @module rory/algorithms/interactive-kmeans/replies
 * Parsing of the k-means family's worker answers (spec/protocol.md §5.2, §5.3, §5.6, §5.7) with the
 * schemas of `rory/protocol`: step 1 is 200 JSON `{label_vector, encrypted_shift_matrix_id,
 * n_iterations, service_time}`; step 2 is a `Clustering-Status` header (0 completed, 2 continue)
 * on a 204 (SKMeans) or on 200 JSON with `encrypted_udm_shape` (DBSKMeans).
 */
import { ProtocolError } from '../../../errors';
import { FdhopeStep2Reply, H, KmeansStep1Reply, parsePythonShape, parseReply } from '../../protocol';
import type { WorkerReply } from '../../worker-client';

function violation(what: string): ProtocolError {
  return new ProtocolError('PROTOCOL_VIOLATION', what, { userMessage: `The Rory worker answered outside the protocol: ${what}.` });
}

export interface Step1Reply {
  readonly labels: Int32Array;
  readonly encryptedShiftMatrixId: string;
  readonly nIterations?: number;
  readonly serviceTime?: number;
}

/** Step 1: `n` labels, each an integer in [0, k), and the shift object's name. */
export function parseStep1Reply(reply: WorkerReply, expect: { n: number; k: number }): Step1Reply {
  if (reply.status !== 200) throw violation(`step 1 answered HTTP ${reply.status}, expected 200`);
  const body = parseReply(KmeansStep1Reply, reply.text, 'step 1');
  const lv = body.label_vector;
  if (lv.length !== expect.n) throw violation(`step 1 label_vector must hold ${expect.n} labels`);
  const labels = new Int32Array(expect.n);
  for (let i = 0; i < lv.length; i++) {
    if (lv[i] < 0 || lv[i] >= expect.k) throw violation(`step 1 label ${i} is not a cluster index in [0, ${expect.k})`);
    labels[i] = lv[i];
  }
  const id = body.encrypted_shift_matrix_id ?? reply.rory.encryptedShiftMatrixId;
  if (id === undefined || id === '') throw violation('step 1 names no encrypted_shift_matrix_id');
  return { labels, encryptedShiftMatrixId: id, nIterations: body.n_iterations, serviceTime: body.service_time ?? reply.rory.serviceTime };
}

export interface Step2Reply {
  /** Clustering-Status header (0 completed, 2 continue). */
  readonly status: 0 | 2;
  /** DBSKMeans: the FDHOPE UDM shape to echo as `Encrypted-Udm-Shape` next round. */
  readonly encryptedUdmShape?: number[];
  readonly serviceTime?: number;
}

/** SKMeans step 2: 204 (an empty 200 is tolerated) with `Clustering-Status` 0 or 2. */
export function parseSkmeansStep2Reply(reply: WorkerReply): Step2Reply {
  const s = reply.rory.clusteringStatus;
  if (s === undefined) throw violation('step 2 sent no Clustering-Status header (is it exposed through CORS?)');
  if (s === 1) throw violation('step 2 answered Clustering-Status 1 (START)');
  return { status: s, serviceTime: reply.rory.serviceTime ?? reply.rory.totalServiceTime };
}

/** DBSKMeans step 2: 200 JSON with `encrypted_udm_shape` (or the header), `Clustering-Status`. */
export function parseDbskmeansStep2Reply(reply: WorkerReply): Step2Reply {
  const base = parseSkmeansStep2Reply(reply);
  const body = parseReply(FdhopeStep2Reply, reply.text, 'step 2');
  const shapeText = body.encrypted_udm_shape ?? reply.headers.get(H.ENCRYPTED_UDM_SHAPE) ?? undefined;
  let encryptedUdmShape: number[] | undefined;
  if (shapeText !== undefined) {
    try {
      encryptedUdmShape = parsePythonShape(shapeText);
    } catch {
      throw violation('step 2 encrypted_udm_shape is not a shape');
    }
  }
  return { ...base, encryptedUdmShape };
}
