/**
 * @module jobs/live
 * Job state as it travels from the job Web Worker to the page (issue #13 item 1). The worker's
 * JobController reports every change with the new record (jobs/controller.ts); `broadcastChanges`
 * turns those into messages — state changes at once, progress and log events of a running job
 * coalesced to at most one message per job every LIVE_INTERVAL_MS — and the page's `JobMirror`
 * keeps the records in memory for `useSyncExternalStore` (lib/queries/jobs.ts). The page never
 * reads job records from IndexedDB itself and never rewrites them.
 *
 * Messages are plain objects tagged `kind: 'rory-jobs'` with no `id` field, so they share the
 * worker's channel with comlink (which ignores messages without an id) and keep their order
 * relative to comlink's replies: a created job is in the mirror before `create()` resolves.
 *
 * Pure and isomorphic: no DOM, no worker globals; tests drive both ends over a MessageChannel.
 */
import type { SerializedError } from '../errors';
import type { JobChange } from './controller';
import type { JobEvent, JobRecord } from './types';

export const JOBS_MESSAGE = 'rory-jobs';
/** Progress and events of one running job reach the page at most this often. */
export const LIVE_INTERVAL_MS = 250;

export type JobsMessage =
  | { readonly kind: typeof JOBS_MESSAGE; readonly type: 'reset'; readonly jobs: readonly JobRecord[]; readonly running: readonly string[] }
  | { readonly kind: typeof JOBS_MESSAGE; readonly type: 'update'; readonly jobId: string; readonly job?: JobRecord; readonly running: boolean; readonly removed?: boolean }
  | { readonly kind: typeof JOBS_MESSAGE; readonly type: 'failed'; readonly error: SerializedError };

export function isJobsMessage(data: unknown): data is JobsMessage {
  return typeof data === 'object' && data !== null && (data as { kind?: unknown }).kind === JOBS_MESSAGE;
}

/** A source of job changes (JobController.subscribe). */
export type ChangeSource = (listener: (jobId: string, change: JobChange) => void) => () => void;

/**
 * Posts every change of `source` as a message. `state` and `removed` changes go at once (after
 * dropping the job's pending live message, which they supersede); `live` changes are held and the
 * newest is sent LIVE_INTERVAL_MS after the first. Returns the unsubscribe function.
 */
export function broadcastChanges(source: ChangeSource, post: (m: JobsMessage) => void, intervalMs = LIVE_INTERVAL_MS): () => void {
  const pending = new Map<string, { change: JobChange; timer: ReturnType<typeof setTimeout> }>();
  const send = (jobId: string, c: JobChange) =>
    post(c.kind === 'removed' ? { kind: JOBS_MESSAGE, type: 'update', jobId, running: false, removed: true } : { kind: JOBS_MESSAGE, type: 'update', jobId, job: c.job, running: c.running });
  const unsubscribe = source((jobId, change) => {
    const held = pending.get(jobId);
    if (change.kind === 'live') {
      if (held) held.change = change;
      else {
        const entry = {
          change,
          timer: setTimeout(() => {
            pending.delete(jobId);
            send(jobId, entry.change);
          }, intervalMs),
        };
        pending.set(jobId, entry);
      }
      return;
    }
    if (held) {
      clearTimeout(held.timer);
      pending.delete(jobId);
    }
    send(jobId, change);
  });
  return () => {
    unsubscribe();
    for (const p of pending.values()) clearTimeout(p.timer);
    pending.clear();
  };
}

/** What the page knows about jobs at one moment (immutable; a new object after each change). */
export interface JobsSnapshot {
  /** `connecting` until the job worker sent its list; `failed` when it could not start. */
  readonly status: 'connecting' | 'ready' | 'failed';
  readonly error?: SerializedError;
  /** Newest first. */
  readonly jobs: readonly JobRecord[];
  /** Each job's latest record (progress included). */
  readonly byId: ReadonlyMap<string, JobRecord>;
  /**
   * Each job's record as of its last change other than progress (round, progress, updatedAt): the
   * same object across progress ticks, so a view of everything but the progress skips those.
   */
  readonly stableById: ReadonlyMap<string, JobRecord>;
  readonly running: ReadonlySet<string>;
}

export const CONNECTING: JobsSnapshot = Object.freeze({
  status: 'connecting',
  jobs: Object.freeze([]),
  byId: new Map<string, JobRecord>(),
  stableById: new Map<string, JobRecord>(),
  running: new Set<string>(),
});

/**
 * The page's in-memory copy of the job records, fed by JobsMessages, for `useSyncExternalStore`.
 * Unchanged parts of a record keep their identity across updates (events, approvals, params,
 * result), so views memoised on them do not re-render on a progress tick.
 */
export class JobMirror {
  private state: JobsSnapshot = CONNECTING;
  private readonly listeners = new Set<() => void>();

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = (): JobsSnapshot => this.state;

  apply(m: JobsMessage): void {
    if (m.type === 'failed') {
      this.set({ ...this.state, status: 'failed', error: m.error });
      return;
    }
    if (m.type === 'reset') {
      const byId = new Map<string, JobRecord>();
      const stableById = new Map<string, JobRecord>();
      for (const j of m.jobs) this.put(byId, stableById, j);
      this.set(build(byId, stableById, new Set(m.running)));
      return;
    }
    const byId = new Map(this.state.byId);
    const stableById = new Map(this.state.stableById);
    const running = new Set(this.state.running);
    if (m.removed) {
      byId.delete(m.jobId);
      stableById.delete(m.jobId);
      running.delete(m.jobId);
    } else {
      if (m.job) this.put(byId, stableById, m.job);
      if (m.running) running.add(m.jobId);
      else running.delete(m.jobId);
    }
    this.set(build(byId, stableById, running));
  }

  private put(byId: Map<string, JobRecord>, stableById: Map<string, JobRecord>, job: JobRecord): void {
    const next = reuse(this.state.byId.get(job.id), job);
    byId.set(job.id, next);
    const stable = this.state.stableById.get(job.id);
    stableById.set(job.id, stable && onlyProgressDiffers(stable, next) ? stable : next);
  }

  /** The job worker failed (could not start, crashed): views show `error`. */
  fail(error: SerializedError): void {
    this.apply({ kind: JOBS_MESSAGE, type: 'failed', error });
  }

  private set(s: JobsSnapshot): void {
    this.state = s;
    for (const l of [...this.listeners]) l();
  }
}

function build(byId: Map<string, JobRecord>, stableById: Map<string, JobRecord>, running: Set<string>): JobsSnapshot {
  const jobs = [...byId.values()].sort((a, b) => b.createdAt - a.createdAt);
  return Object.freeze({ status: 'ready' as const, jobs, byId, stableById, running });
}

/** Fields that change on every progress tick; every other field makes a record "stable"-new. */
const PROGRESS_FIELDS = new Set(['progress', 'round', 'updatedAt']);
/** Fields `reuse` already gave their previous identity when equal (possibly large: compared by identity). */
const REUSED_FIELDS = new Set(['events', 'approvals', 'params', 'result']);

/** Whether `b` differs from `a` (after `reuse`) only in round, progress and updatedAt. */
function onlyProgressDiffers(a: JobRecord, b: JobRecord): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (PROGRESS_FIELDS.has(k)) continue;
    const x = (a as unknown as Record<string, unknown>)[k];
    const y = (b as unknown as Record<string, unknown>)[k];
    if (x === y) continue;
    if (REUSED_FIELDS.has(k) || typeof x !== 'object' || typeof y !== 'object' || !sameJson(x, y)) return false;
  }
  return true;
}

/** `next`, with the parts equal to `prev`'s taken from `prev` (so their identity is kept). */
function reuse(prev: JobRecord | undefined, next: JobRecord): JobRecord {
  if (!prev) return next;
  return {
    ...next,
    events: sameEvents(prev.events, next.events) ? prev.events : next.events,
    approvals: sameJson(prev.approvals, next.approvals) ? prev.approvals : next.approvals,
    params: sameJson(prev.params, next.params) ? prev.params : next.params,
    // A result is set once, when the job completes; a rerun clears it first.
    result: prev.result && next.result && prev.status === next.status && prev.result.labels.length === next.result.labels.length ? prev.result : next.result,
  };
}

/** Events are only ever appended (and trimmed at the front): equal length and last event = equal. */
function sameEvents(a: readonly JobEvent[], b: readonly JobEvent[]): boolean {
  if (a.length !== b.length) return false;
  if (a.length === 0) return true;
  const x = a[a.length - 1];
  const y = b[b.length - 1];
  return x.at === y.at && x.name === y.name && x.detail === y.detail && a[0].at === b[0].at;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
