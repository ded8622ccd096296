/**
 * @module workers/job.worker
 * The job Web Worker (issue #13 item 1): a thin comlink `expose` of workers/job-api.ts over the
 * browser's job controller (lib/jobs/browser.ts). It creates its own crypto worker pool — nested
 * dedicated workers, through the one `new Worker(new URL('./crypto.worker.ts', ...))` site in
 * crypto-client.ts — so encryption, storage transfers, hashing and matrix building all happen off
 * the page thread. Cancelling a job aborts it here, which terminates its busy crypto workers.
 */
import { expose } from 'comlink';
import { browserJobController } from '@/lib/jobs/browser';
import type { JobsMessage } from '@/lib/jobs/live';
import { browserCryptoEngine, setCryptoPoolSize } from './crypto-client';
import { createJobWorkerApi } from './job-api';

const scope = globalThis as unknown as { postMessage(message: JobsMessage): void };

expose(
  createJobWorkerApi({
    open: () => browserJobController({ engine: browserCryptoEngine(), setPoolSize: setCryptoPoolSize }),
    post: (m) => scope.postMessage(m),
  }),
);
