/**
 * @module jobs/browser
 * The browser's job controller, as the job Web Worker builds it (workers/job.worker.ts): IndexedDB
 * job, dataset and key stores (records only: secret keys are loaded inside the crypto workers), the
 * crypto engine the worker passes in (its own pool of nested crypto workers), and settings read
 * from the settings store, which also size that pool. Created once per worker; on creation it marks
 * jobs that were running when the page last closed as interrupted.
 */
import type { CryptoEngine } from '../engine/types';
import { browserKeyStore } from '../keystore';
import { createIdbDatasetStore } from '../datasets';
import { loadSettings } from '../settings-store';
import { JobController } from './controller';
import { createIdbJobStore } from './store';

export interface BrowserJobServices {
  readonly engine: CryptoEngine;
  /** Applies the MAX_WORKERS setting to the engine's pool. */
  readonly setPoolSize: (n: number) => void;
}

let shared: { controller: JobController; ready: Promise<void> } | undefined;

export function browserJobController(services: BrowserJobServices): { controller: JobController; ready: Promise<void> } {
  if (!shared) {
    const controller = new JobController({
      jobs: createIdbJobStore(),
      datasets: createIdbDatasetStore(),
      keys: browserKeyStore(),
      engine: services.engine,
      settings: async () => {
        const { settings } = await loadSettings();
        services.setPoolSize(settings.MAX_WORKERS);
        return settings;
      },
    });
    shared = { controller, ready: controller.recoverInterrupted().then(() => undefined) };
  }
  return shared;
}
