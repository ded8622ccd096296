/**
 * @module jobs/browser
 * The page's job controller: IndexedDB job, dataset and key stores (records only: secret keys are
 * loaded inside the crypto workers), the platform's crypto engine, and settings from the settings
 * store. Created once per page; on creation it marks jobs that were running when the page last
 * closed as interrupted.
 */
import { browserKeyStore } from '../keystore';
import { createIdbDatasetStore } from '../datasets';
import { loadSettings } from '../settings-store';
import { platform } from '../platform';
import { JobController } from './controller';
import { createIdbJobStore } from './store';

let shared: { controller: JobController; ready: Promise<void> } | undefined;

export function browserJobController(): { controller: JobController; ready: Promise<void> } {
  if (!shared) {
    const controller = new JobController({
      jobs: createIdbJobStore(),
      datasets: createIdbDatasetStore(),
      keys: browserKeyStore(),
      engine: platform().engine(),
      settings: async () => {
        const { settings } = await loadSettings();
        platform().setPoolSize(settings.MAX_WORKERS);
        return settings;
      },
    });
    shared = { controller, ready: controller.recoverInterrupted().then(() => undefined) };
  }
  return shared;
}
