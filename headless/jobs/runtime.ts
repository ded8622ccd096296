/**
 * @module headless/jobs/runtime
 * Everything a headless job runs with, built once per process from the configuration: lib/'s
 * in-process crypto engine over the KEYS_PATH key store (layered: per-job Liu/FDHOPE keys in
 * memory), lib/'s MictlanX client, Manager client and worker clients — the same code the browser
 * runs (no second implementation), talking HTTP through node:http (`net/node-fetch.ts`).
 */
import { managerUrl, workerUrlTemplate, type Settings } from '@/lib/config';
import { createInProcessEngine, type InProcessEngine } from '@/lib/engine/in-process';
import type { MictlanxClient } from '@/lib/storage/mictlanx-client';
import { objectStoreFromSettings } from '@/lib/jobs/controller';
import type { ObjectStore } from '@/lib/storage/types';
import { createManagerClient, type ManagerClient, type WorkerAssignment } from '@/lib/rory/manager-client';
import { createWorkerClient, type WorkerClient } from '@/lib/rory/worker-client';
import type { HeadlessConfig } from '../config';
import { layeredKeyStore, openFileKeyStore, resolvePassphrase, type FileKeyStore, type LayeredKeyStore } from '../keys/file-store';
import { nodeFetch } from '../net/node-fetch';

export interface Runtime {
  readonly config: HeadlessConfig;
  readonly settings: Settings;
  /** Long-lived keys (KEYS_PATH). */
  readonly keyFile: FileKeyStore;
  /** What jobs use: `keyFile` plus per-job keys in memory. */
  readonly keys: LayeredKeyStore;
  readonly engine: InProcessEngine;
  readonly store: ObjectStore;
  readonly manager: ManagerClient;
  readonly workerFor: (a: WorkerAssignment) => WorkerClient;
  /** Warnings for the operator (e.g. keys kept in memory only). */
  readonly notes: readonly string[];
  close(): void;
}

export function objectStoreFor(s: Settings): MictlanxClient {
  return objectStoreFromSettings(s, nodeFetch);
}

export async function createRuntime(config: HeadlessConfig): Promise<Runtime> {
  const s = config.settings;
  const passphrase = await resolvePassphrase(config.extras);
  const keyFile = await openFileKeyStore(s.KEYS_PATH, passphrase);
  const keys = layeredKeyStore(keyFile);
  const engine = createInProcessEngine({ keys });
  const workerTimeoutMs = s.WORKER_TIMEOUT * 1000;
  const notes: string[] = [];
  if (!keyFile.persistent) {
    notes.push(
      `No RORY_KEYS_PASSPHRASE: CKKS key sets this process creates stay in memory and are lost at exit. Set RORY_KEYS_PASSPHRASE (or RORY_KEYS_PASSPHRASE_FILE) to keep them in ${keyFile.file}.`,
    );
  }
  return {
    config,
    settings: s,
    keyFile,
    keys,
    engine,
    store: objectStoreFor(s),
    manager: createManagerClient({
      baseUrl: managerUrl(s),
      workerUrlTemplate: workerUrlTemplate(s),
      fetch: nodeFetch,
      ...(config.extras.testing ? { workerHostOverride: 'localhost' } : {}),
    }),
    workerFor: (a) => createWorkerClient({ baseUrl: a.url, timeoutMs: workerTimeoutMs, fetch: nodeFetch }),
    notes,
    close: () => engine.dispose(),
  };
}
