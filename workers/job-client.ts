/**
 * @module workers/job-client
 * The page's side of the job Web Worker (issue #13 item 1): a `JobService` (lib/jobs/service.ts)
 * that starts the worker on first use, keeps the job records it is sent in a JobMirror
 * (lib/jobs/live.ts) for `useSyncExternalStore`, and forwards commands with comlink. Nothing here
 * encrypts, hashes, uploads or builds matrices: the page thread only renders.
 *
 * If the worker dies (a crash, out of memory), it is replaced: the new worker marks the jobs that
 * were running as interrupted, exactly as a reload does, and the mirror shows that.
 *
 * This is the only module that creates job workers, with the literal
 * `new Worker(new URL('./job.worker.ts', import.meta.url))` that webpack turns into a worker chunk.
 */
import { releaseProxy, wrap, type Remote } from 'comlink';
import { AppError, toAppError } from '@/lib/errors';
import { isJobsMessage, JobMirror } from '@/lib/jobs/live';
import type { JobService } from '@/lib/jobs/service';
import type { JobWorkerApi } from './job-api';

function createJobWorker(): Worker {
  return new Worker(new URL('./job.worker.ts', import.meta.url));
}

export interface JobServiceOptions {
  /** Creates the worker; default the bundled job worker (tests pass an in-process stand-in). */
  readonly create?: () => Worker;
}

export function createJobService(options: JobServiceOptions = {}): JobService {
  const mirror = new JobMirror();
  let current: { worker: Worker; remote: Remote<JobWorkerApi> } | undefined;

  const connect = () => {
    if (current) return current.remote;
    const worker = (options.create ?? createJobWorker)();
    const remote = wrap<JobWorkerApi>(worker);
    const me = { worker, remote };
    current = me;
    worker.addEventListener('message', (ev: MessageEvent) => {
      if (current === me && isJobsMessage(ev.data)) mirror.apply(ev.data);
    });
    worker.addEventListener('error', (ev: ErrorEvent) => {
      ev.preventDefault?.();
      if (current !== me) return;
      current = undefined;
      remote[releaseProxy]();
      worker.terminate();
      mirror.fail(
        new AppError('INTERNAL', `job worker failed: ${ev.message}`, {
          userMessage: 'The background job runner stopped unexpectedly; running jobs were interrupted. Reloading the job list…',
        }).toJSON(),
      );
      connect();
    });
    remote.connect().catch((e: unknown) => current === me && mirror.fail(toAppError(e, 'JOBSTORE_FAILURE').toJSON()));
    return remote;
  };

  const call = async <T>(f: (r: Remote<JobWorkerApi>) => Promise<T>): Promise<T> => {
    try {
      return await f(connect());
    } catch (e) {
      throw toAppError(e);
    }
  };

  return {
    subscribe(listener) {
      connect();
      return mirror.subscribe(listener);
    },
    snapshot: mirror.snapshot,
    create: (input) => call((r) => r.create(input)),
    acknowledge: (id) => call((r) => r.acknowledge(id)),
    start: (id) => call((r) => r.start(id)),
    decide: (id, approvalId, decision) => call((r) => r.decide(id, approvalId, decision)),
    cancel: (id) => call((r) => r.cancel(id)),
    remove: (id) => call((r) => r.remove(id)),
    deleteObjects: (id) => call((r) => r.deleteObjects(id)),
  };
}

let shared: JobService | undefined;

/** The page's job service (browser only). */
export function browserJobService(): JobService {
  if (typeof Worker === 'undefined') {
    throw new AppError('INTERNAL', 'Web Workers are not available here', {
      userMessage: 'This browser cannot run background workers, which jobs need. Use a current Chrome, Firefox or Safari.',
    });
  }
  return (shared ??= createJobService());
}
