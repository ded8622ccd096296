/**
 * @module jobs/store
 * Job persistence: IndexedDB (idb-keyval store `rory-jobs`) in the browser, in memory in tests.
 * Writes are serialised per job so a burst of progress events never reorders updates.
 */
import { createStore, del, entries, get, set, type UseStore } from 'idb-keyval';
import { AppError, toAppError } from '../errors';
import type { JobRecord } from './types';

export interface JobStore {
  list(): Promise<JobRecord[]>;
  get(id: string): Promise<JobRecord | undefined>;
  put(job: JobRecord): Promise<void>;
  /** Read-modify-write of one job; `fn` returns the new record. */
  update(id: string, fn: (job: JobRecord) => JobRecord): Promise<JobRecord>;
  delete(id: string): Promise<void>;
}

function serialised(): <T>(id: string, task: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return (id, task) => {
    const prev = tails.get(id) ?? Promise.resolve();
    const next = prev.then(task, task);
    tails.set(id, next.catch(() => undefined));
    return next;
  };
}

export function createMemoryJobStore(): JobStore {
  const jobs = new Map<string, JobRecord>();
  const queue = serialised();
  return {
    list: async () => [...jobs.values()].sort((a, b) => b.createdAt - a.createdAt),
    get: async (id) => jobs.get(id),
    put: async (job) => void jobs.set(job.id, job),
    update: (id, fn) =>
      queue(id, async () => {
        const cur = jobs.get(id);
        if (!cur) throw new AppError('INVALID_ARGUMENT', `no job ${id}`, { userMessage: 'This job no longer exists.' });
        const next = fn(cur);
        jobs.set(id, next);
        return next;
      }),
    delete: async (id) => void jobs.delete(id),
  };
}

export function createIdbJobStore(): JobStore {
  let db: UseStore | undefined;
  const store = () => (db ??= createStore('rory-jobs', 'jobs'));
  const queue = serialised();
  const guard = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (e) {
      // Quota and abort keep their own codes; anything else is the job store failing.
      throw toAppError(e, 'JOBSTORE_FAILURE');
    }
  };
  return {
    list: async () => (await guard(entries<string, JobRecord>(store()))).map(([, j]) => j).sort((a, b) => b.createdAt - a.createdAt),
    get: (id) => guard(get<JobRecord>(id, store())),
    put: (job) => queue(job.id, () => guard(set(job.id, job, store()))),
    update: (id, fn) =>
      queue(id, async () => {
        const cur = await guard(get<JobRecord>(id, store()));
        if (!cur) throw new AppError('INVALID_ARGUMENT', `no job ${id}`, { userMessage: 'This job no longer exists.' });
        const next = fn(cur);
        await guard(set(id, next, store()));
        return next;
      }),
    delete: (id) => queue(id, () => guard(del(id, store()))),
  };
}
