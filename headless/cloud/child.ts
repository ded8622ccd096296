/**
 * @module headless/cloud/child
 * A local Rory cloud (server/cloud.ts) in a child process, for `rory run --local-cloud` and
 * `rory experiment` with `"cloud": "local"`: `rory cloud --json` on free ports and a temporary data
 * directory. In its own process the cloud's work (the workers' computation, the router's disk)
 * does not count in the Data Owner's CPU time, so experiment figures split cleanly.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AppError } from '@/lib/errors';

/** What `rory cloud --json` prints. */
export interface CloudInfo {
  readonly routerUrl: string;
  readonly managerUrl: string;
  readonly workerUrls: readonly string[];
  /** Settings that point a Data Owner at this cloud. */
  readonly settings: { readonly MICTLANX_ROUTERS: string; readonly RORY_MANAGER_IP_ADDR: string; readonly RORY_MANAGER_PORT: string };
}

export interface ChildCloud extends CloudInfo {
  close(): Promise<void>;
}

const BIN = fileURLToPath(new URL('../../bin/rory.mjs', import.meta.url));

export async function startChildCloud(opts: { workers?: number; timeoutMs?: number } = {}): Promise<ChildCloud> {
  const dir = await mkdtemp(join(tmpdir(), 'rory-cloud-'));
  const workers = Array.from({ length: opts.workers ?? 2 }, () => '0').join(',');
  const child = spawn(process.execPath, [BIN, 'cloud', '--router-port', '0', '--manager-port', '0', '--worker-ports', workers, '--data-dir', dir, '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const cleanup = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const info = await new Promise<CloudInfo>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer within the time limit')), opts.timeoutMs ?? 60_000);
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', (l) => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(l) as CloudInfo);
        } catch {
          reject(new Error('unexpected output'));
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`it exited with code ${code}`));
      });
    });
    child.stdout!.resume();
    return { ...info, close: cleanup };
  } catch (e) {
    await cleanup();
    throw new AppError('INTERNAL', `local cloud did not start: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
      userMessage: 'The local Rory cloud did not start (see the messages above). Try `npx rory cloud` on its own to see why.',
    });
  }
}
