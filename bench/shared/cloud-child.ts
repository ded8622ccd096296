/**
 * The local Rory cloud in a child process for Node benches (so the bench's CPU and memory figures
 * are the client's alone), and the headerless numeric CSVs the benches read.
 * A bench calls `serveCloudIfChild()` first thing (it returns true in the child, which then serves
 * until the parent disconnects) and `forkCloud(import.meta.url)` in the parent.
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { matrix, type Matrix } from '@/lib/data/matrix';

export interface CloudInfo {
  readonly routerPort: number;
  readonly managerUrl: string;
}

const FLAG = '--cloud-child';

/** Starts the bench file `moduleUrl` again as the cloud child with `workers` workers. */
export async function forkCloud(moduleUrl: string, workers: number): Promise<{ info: CloudInfo; stop: () => void }> {
  const child = fork(fileURLToPath(moduleUrl), [FLAG, String(workers)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const info = await new Promise<CloudInfo>((resolve, reject) => {
    child.once('message', (m) => resolve(m as CloudInfo));
    child.once('exit', (c) => reject(new Error(`cloud exited with ${c}`)));
  });
  return { info, stop: () => child.disconnect() };
}

/** In the cloud child: starts the cloud, reports its addresses, serves until the parent leaves; returns true. */
export async function serveCloudIfChild(): Promise<boolean> {
  if (process.argv[2] !== FLAG) return false;
  const { startLocalCloud } = await import('@/server/cloud');
  const dir = await mkdtemp(join(tmpdir(), 'rory-bench-'));
  const cloud = await startLocalCloud({ dataDir: dir, workerPorts: new Array(Number(process.argv[3] ?? 2)).fill(0) });
  process.send?.({ routerPort: cloud.routerPort, managerUrl: cloud.managerUrl } satisfies CloudInfo);
  process.on('disconnect', async () => {
    await cloud.close();
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  });
  return true;
}

/** A headerless numeric CSV (the bench datasets and generated blobs). */
export function parseNumericCsv(text: string): Matrix {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const cols = lines[0].split(',').length;
  const data = new Float64Array(lines.length * cols);
  lines.forEach((l, i) => l.split(',').forEach((c, j) => (data[i * cols + j] = Number(c))));
  return matrix(data, [lines.length, cols]);
}
