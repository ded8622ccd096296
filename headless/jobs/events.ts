/**
 * @module headless/jobs/events
 * A job's events as the upstream client logs and reports them (pure): the per-job log lines in
 * upstream's `ExperimentLogEntry` shape (`ShanelReyes/rory:client/src/models`: event,
 * experiment_id, algorithm, id, start_time, end_time, time in seconds, worker_id, num_chunks, k,
 * iterations, security_level, m, …) with the project's round and byte counts added, and the
 * `service_time_*` fields of the client service's JSON replies (spec/protocol.md §6):
 * - `service_time_client`: from the request's arrival until the worker was requested (reading,
 *   encrypting, uploading);
 * - `service_time_manager`: the `GET.WORKER` calls;
 * - `service_time_worker`: from the worker's assignment to the end of the job (every round,
 *   including the client's decryptions in between, as upstream measures it);
 * - `response_time_*` / `service_time_predict`: arrival to end.
 * Event names are upstream's (LOCAL.READ, SEGMENT.ENCRYPT, UDM.GENERATION, PUT, GET.WORKER,
 * RUN1, GET, DECRYPT, ITERATION.COMPLETED, COMPLETED) plus the project's (VERIFY, APPROVAL,
 * FDHOPE.*, KEYGEN, DECRYPTION.REFUSED, FAILED, OBJECTS.DELETED).
 */
import type { JobLogEvent } from '@/lib/rory/kit';

/** What every log line of a job repeats. */
export interface LogContext {
  readonly experimentId: string;
  readonly algorithm: string;
  /** Upstream's `id`: the Plaintext-Matrix-Id or Model-Id the caller gave. */
  readonly id: string;
  readonly jobId: string;
  readonly numChunks: number;
  readonly k?: number;
  readonly securityLevel?: number;
  readonly m?: number;
}

export interface LogLine {
  readonly event: string;
  readonly experiment_id: string;
  readonly algorithm: string;
  readonly id: string;
  readonly job_id: string;
  readonly start_time: number;
  readonly end_time: number;
  readonly time: number;
  /** 1-based round, or null outside rounds. */
  readonly round: number | null;
  readonly bytes: number | null;
  readonly worker_id: string;
  readonly num_chunks: number;
  readonly k: number;
  readonly iterations: number;
  readonly security_level: number;
  readonly m: number;
  readonly description: string;
}

/** Start of an event in epoch milliseconds. */
export function startOf(e: JobLogEvent): number {
  return e.at - (e.durationMs ?? 0);
}

export function bytesOf(e: JobLogEvent): number | undefined {
  const b = e.detail?.bytes;
  return typeof b === 'number' && Number.isFinite(b) ? b : undefined;
}

/** One upstream-shaped log line (times in epoch seconds, durations in seconds). */
export function logLine(e: JobLogEvent, c: LogContext, extra: { workerId?: string; iterations?: number } = {}): LogLine {
  const detail = Object.entries(e.detail ?? {})
    .filter(([k]) => k !== 'bytes')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const workerId = typeof e.detail?.workerId === 'string' ? e.detail.workerId : (extra.workerId ?? '');
  return {
    event: e.name,
    experiment_id: c.experimentId,
    algorithm: c.algorithm,
    id: c.id,
    job_id: c.jobId,
    start_time: startOf(e) / 1000,
    end_time: e.at / 1000,
    time: (e.durationMs ?? 0) / 1000,
    round: e.round === undefined ? null : e.round + 1,
    bytes: bytesOf(e) ?? null,
    worker_id: workerId,
    num_chunks: c.numChunks,
    k: c.k ?? 0,
    iterations: extra.iterations ?? 0,
    security_level: c.securityLevel ?? -1,
    m: c.m ?? 0,
    description: detail,
  };
}

export interface ServiceTimes {
  readonly service_time_client: number;
  readonly service_time_manager: number;
  readonly service_time_worker: number;
  readonly response_time: number;
}

/**
 * The reply's timing fields, in seconds, from a job's events and its arrival and end (epoch ms).
 * Without a GET.WORKER event (a job that failed before) the client time is the whole time.
 */
export function serviceTimes(events: readonly JobLogEvent[], arrivalMs: number, endMs: number): ServiceTimes {
  const gets = events.filter((e) => e.name === 'GET.WORKER');
  const total = Math.max(0, endMs - arrivalMs);
  if (gets.length === 0) return { service_time_client: total / 1000, service_time_manager: 0, service_time_worker: 0, response_time: total / 1000 };
  const firstStart = Math.min(...gets.map(startOf));
  const lastEnd = Math.max(...gets.map((e) => e.at));
  const manager = gets.reduce((s, e) => s + (e.durationMs ?? 0), 0);
  return {
    service_time_client: Math.max(0, firstStart - arrivalMs) / 1000,
    service_time_manager: manager / 1000,
    service_time_worker: Math.max(0, endMs - lastEnd) / 1000,
    response_time: total / 1000,
  };
}
