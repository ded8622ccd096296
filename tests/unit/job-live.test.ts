/**
 * Job state from the job worker to the page (lib/jobs/live.ts, issue #13 item 1): state changes are
 * posted at once, progress is coalesced to one message per job per LIVE_INTERVAL_MS, and the page's
 * mirror keeps records in memory with unchanged parts keeping their identity.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobChange } from '@/lib/jobs/controller';
import { broadcastChanges, CONNECTING, isJobsMessage, JobMirror, JOBS_MESSAGE, LIVE_INTERVAL_MS, type JobsMessage } from '@/lib/jobs/live';
import type { JobRecord } from '@/lib/jobs/types';

function record(id: string, patch: Partial<JobRecord> = {}): JobRecord {
  return {
    id,
    name: `job ${id}`,
    algorithm: 'DBSKMEANS',
    datasetId: 'ds1',
    params: { k: 2 },
    createdAt: Number(id.replace(/\D/g, '')) || 1,
    updatedAt: 1,
    status: 'running',
    storageId: `s${id}`,
    round: 0,
    progress: {},
    events: [],
    approvals: [],
    autoApprove: false,
    ...patch,
  };
}

/** A change source like JobController.subscribe, driven by the test. */
function source() {
  let listener: ((id: string, c: JobChange) => void) | undefined;
  return {
    subscribe: (l: (id: string, c: JobChange) => void) => {
      listener = l;
      return () => (listener = undefined);
    },
    fire: (id: string, c: JobChange) => listener?.(id, c),
    get subscribed() {
      return listener !== undefined;
    },
  };
}

describe('broadcastChanges (job worker side)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('posts state changes at once and coalesces progress to the newest record per interval', () => {
    const src = source();
    const sent: JobsMessage[] = [];
    const stop = broadcastChanges(src.subscribe, (m) => sent.push(m));
    src.fire('j1', { kind: 'state', job: record('j1'), running: true });
    expect(sent).toHaveLength(1);
    for (let i = 1; i <= 20; i++) src.fire('j1', { kind: 'live', job: record('j1', { progress: { encrypt: i / 20 } }), running: true });
    src.fire('j2', { kind: 'live', job: record('j2', { round: 3 }), running: true });
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(LIVE_INTERVAL_MS);
    expect(sent).toHaveLength(3);
    const j1 = sent.find((m) => m.type === 'update' && m.jobId === 'j1' && m.job?.progress.encrypt !== undefined);
    expect(j1).toMatchObject({ kind: JOBS_MESSAGE, type: 'update', running: true, job: { progress: { encrypt: 1 } } });
    expect(sent.every(isJobsMessage)).toBe(true);
    // comlink ignores messages without an id: a message never carries one at its top level.
    expect(sent.every((m) => !('id' in m))).toBe(true);
    stop();
    expect(src.subscribed).toBe(false);
  });

  it('a state change supersedes the pending progress of its job (no stale record after it)', () => {
    const src = source();
    const sent: JobsMessage[] = [];
    broadcastChanges(src.subscribe, (m) => sent.push(m));
    src.fire('j1', { kind: 'live', job: record('j1', { progress: { encrypt: 0.5 } }), running: true });
    src.fire('j1', { kind: 'state', job: record('j1', { status: 'awaiting-approval', progress: { encrypt: 0.6 } }), running: true });
    vi.advanceTimersByTime(10 * LIVE_INTERVAL_MS);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ type: 'update', job: { status: 'awaiting-approval' } });
    src.fire('j1', { kind: 'removed', running: false });
    expect(sent[1]).toEqual({ kind: JOBS_MESSAGE, type: 'update', jobId: 'j1', running: false, removed: true });
  });
});

describe('JobMirror (page side)', () => {
  it('starts connecting, takes the list, follows updates, removals and the running set', () => {
    const mirror = new JobMirror();
    const seen: number[] = [];
    mirror.subscribe(() => seen.push(mirror.snapshot().jobs.length));
    expect(mirror.snapshot()).toBe(CONNECTING);
    mirror.apply({ kind: JOBS_MESSAGE, type: 'reset', jobs: [record('j1'), record('j2')], running: ['j2'] });
    const s1 = mirror.snapshot();
    expect(s1.status).toBe('ready');
    expect(s1.jobs.map((j) => j.id)).toEqual(['j2', 'j1']); // newest first
    expect([...s1.running]).toEqual(['j2']);
    expect(mirror.snapshot()).toBe(s1); // stable between changes (useSyncExternalStore)
    mirror.apply({ kind: JOBS_MESSAGE, type: 'update', jobId: 'j3', job: record('j3'), running: true });
    mirror.apply({ kind: JOBS_MESSAGE, type: 'update', jobId: 'j2', job: record('j2', { status: 'completed' }), running: false });
    mirror.apply({ kind: JOBS_MESSAGE, type: 'update', jobId: 'j1', running: false, removed: true });
    const s2 = mirror.snapshot();
    expect(s2.jobs.map((j) => [j.id, j.status])).toEqual([
      ['j3', 'running'],
      ['j2', 'completed'],
    ]);
    expect([...s2.running]).toEqual(['j3']);
    expect(seen).toEqual([2, 3, 3, 2]);
  });

  it('keeps the identity of unchanged events, approvals and params across progress updates', () => {
    const mirror = new JobMirror();
    const events = [{ at: 5, name: 'STARTED' }];
    mirror.apply({ kind: JOBS_MESSAGE, type: 'reset', jobs: [record('j1', { events })], running: ['j1'] });
    const before = mirror.snapshot().byId.get('j1')!;
    // Structured cloning gives equal but new arrays each message.
    mirror.apply({ kind: JOBS_MESSAGE, type: 'update', jobId: 'j1', job: record('j1', { events: [{ at: 5, name: 'STARTED' }], progress: { encrypt: 0.5 } }), running: true });
    const after = mirror.snapshot().byId.get('j1')!;
    expect(after).not.toBe(before);
    expect(after.progress.encrypt).toBe(0.5);
    expect(after.events).toBe(before.events);
    expect(after.approvals).toBe(before.approvals);
    expect(after.params).toBe(before.params);
    mirror.apply({ kind: JOBS_MESSAGE, type: 'update', jobId: 'j1', job: record('j1', { events: [...events, { at: 6, name: 'PUT' }] }), running: true });
    expect(mirror.snapshot().byId.get('j1')!.events).not.toBe(before.events);
    expect(mirror.snapshot().byId.get('j1')!.events).toHaveLength(2);
  });

  it('keeps a stable record across progress-only updates, and replaces it on any other change', () => {
    const mirror = new JobMirror();
    mirror.apply({ kind: JOBS_MESSAGE, type: 'reset', jobs: [record('j1', { events: [{ at: 5, name: 'STARTED' }] })], running: ['j1'] });
    const stable = mirror.snapshot().stableById.get('j1')!;
    for (let i = 1; i <= 5; i++) {
      mirror.apply({
        kind: JOBS_MESSAGE,
        type: 'update',
        jobId: 'j1',
        job: record('j1', { events: [{ at: 5, name: 'STARTED' }], round: i, updatedAt: 10 + i, progress: { encrypt: i / 5 } }),
        running: true,
      });
      expect(mirror.snapshot().stableById.get('j1')).toBe(stable);
      expect(mirror.snapshot().byId.get('j1')!.progress.encrypt).toBe(i / 5);
    }
    mirror.apply({ kind: JOBS_MESSAGE, type: 'update', jobId: 'j1', job: record('j1', { events: [{ at: 5, name: 'STARTED' }], status: 'awaiting-approval' }), running: true });
    expect(mirror.snapshot().stableById.get('j1')).not.toBe(stable);
    expect(mirror.snapshot().stableById.get('j1')!.status).toBe('awaiting-approval');
    const withApproval = mirror.snapshot().stableById.get('j1')!;
    mirror.apply({
      kind: JOBS_MESSAGE,
      type: 'update',
      jobId: 'j1',
      job: record('j1', { events: [{ at: 5, name: 'STARTED' }, { at: 7, name: 'PUT' }], status: 'awaiting-approval' }),
      running: true,
    });
    expect(mirror.snapshot().stableById.get('j1')).not.toBe(withApproval);
  });

  it('reports a worker that failed', () => {
    const mirror = new JobMirror();
    mirror.fail({ code: 'JOBSTORE_FAILURE', message: 'x', userMessage: 'The job records could not be read.' });
    expect(mirror.snapshot()).toMatchObject({ status: 'failed', error: { code: 'JOBSTORE_FAILURE' } });
  });
});
