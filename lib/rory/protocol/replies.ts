/**
 * @module rory/protocol/replies
 * The JSON bodies Rory services answer with (spec/protocol.md §4, §5, docs/protocol-additions.md),
 * as zod schemas. The Data Owner parses every reply through `parseReply`; the local worker types
 * what it sends with the inferred types, so both sides share one definition. Unknown fields are
 * ignored (upstream adds timing fields freely); types of the known ones are enforced.
 *
 * Isomorphic: no DOM, no Node modules.
 */
import { z } from 'zod';
import { ProtocolError } from '../../errors';
import { tryParseJson } from '../../json';

const int = z.number().int();
const finite = z.number().finite();

/** `GET /clustering/test` of any component. */
export const TestReply = z.object({ component_type: z.string() });

/** `GET /clustering/secure` (§4.1); `worker_url` is the local manager's addition. */
export const WorkerAssignmentReply = z.object({
  worker_id: z.string(),
  worker_port: z.union([int, z.string().regex(/^\d{1,5}$/).transform(Number)]),
  worker_url: z.string().optional(),
  service_time: finite.optional(),
});

/** Step 1 of SKMeans / DBSKMeans and their PQC variants (§5.2, §5.3, §5.6, §5.7). */
export const KmeansStep1Reply = z.object({
  label_vector: z.array(int),
  encrypted_shift_matrix_id: z.string().min(1).optional(),
  n_iterations: int.optional(),
  service_time: finite.optional(),
});

/** Step 2 of DBSKMeans(-PQC): the FDHOPE UDM shape to echo next round. SKMeans step 2 has no body. */
export const FdhopeStep2Reply = z.object({
  encrypted_udm_shape: z.string().optional(),
  encrypted_udm_dtype: z.string().optional(),
  end_time: finite.optional(),
  service_time: finite.optional(),
  response_time: z.union([z.string(), finite]).optional(),
});

/** Any reply carrying cluster or class labels: NNC, DBSNNC, KMeans (+ iterations), KNN, SKNN step 2. */
export const LabelsReply = z.object({
  label_vector: z.array(finite),
  iterations: int.optional(),
  service_time: finite.optional(),
});

/** SKNN(-PQC) step 1 (§5.9, docs/protocol-additions.md §4). */
export const DistancesReply = z.object({
  distances_id: z.string().min(1),
  distances_shape: z.string().optional(),
  distances_dtype: z.string().optional(),
  service_time: finite.optional(),
});

/** PKMEANS step 1 (partial sums) and step 2 (distances) (docs/protocol-additions.md §5). */
export const PkmeansReply = z.object({
  partial_id: z.string().min(1).optional(),
  distances_id: z.string().min(1).optional(),
  distances_shape: z.string().optional(),
  service_time: finite.optional(),
});

export type PkmeansBody = z.infer<typeof PkmeansReply>;
export type TestReplyBody = z.infer<typeof TestReply>;
export type WorkerAssignmentBody = z.input<typeof WorkerAssignmentReply>;
export type KmeansStep1Body = z.infer<typeof KmeansStep1Reply>;
export type FdhopeStep2Body = z.infer<typeof FdhopeStep2Reply>;
export type LabelsBody = z.infer<typeof LabelsReply>;
export type DistancesBody = z.infer<typeof DistancesReply>;

/**
 * Parses a reply body with `schema`. An empty body parses as `{}` (optional-only schemas accept it).
 * @throws AppError PROTOCOL_VIOLATION naming `what` and the first problem (never the body itself).
 */
export function parseReply<S extends z.ZodType>(schema: S, text: string, what: string): z.infer<S> {
  const value = text.trim() === '' ? {} : tryParseJson(text);
  if (value === undefined) throw replyError(what, 'the body is not JSON');
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'body';
    throw replyError(what, `${where}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
}

function replyError(what: string, why: string): ProtocolError {
  return new ProtocolError('PROTOCOL_VIOLATION', `${what} reply: ${why}`, {
    userMessage: `The Rory service's answer to ${what} is not valid (${why}). The job stopped; nothing was decrypted.`,
  });
}
