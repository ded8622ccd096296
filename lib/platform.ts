/**
 * @module platform
 * Services that only the embedding app can create, installed once at start-up: the browser app
 * installs the Web Worker crypto pool and the job Web Worker's client (app/platform.ts); Node code
 * never calls this (it builds an in-process engine and passes it explicitly). This keeps lib/ free of imports from workers/ while
 * page-side hooks (lib/queries) can reach the engine.
 */
import { AppError } from './errors';
import type { CryptoEngine } from './engine/types';
import type { JobService } from './jobs/service';

export interface Platform {
  /** The crypto engine (browser: the crypto worker pool). */
  readonly engine: () => CryptoEngine;
  /** Applies the MAX_WORKERS setting to the engine's pool. */
  readonly setPoolSize: (n: number) => void;
  /** Jobs (browser: the job Web Worker, which has its own crypto pool). */
  readonly jobs: () => JobService;
}

let installed: Platform | undefined;

export function installPlatform(p: Platform): void {
  installed = p;
}

export function platform(): Platform {
  if (!installed) {
    throw new AppError('INTERNAL', 'platform services are not installed', {
      userMessage: 'The app did not start completely (background workers are missing). Reload the page.',
    });
  }
  return installed;
}
