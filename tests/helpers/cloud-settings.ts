/**
 * A local Rory cloud on loopback for integration tests, and the app settings that point at it
 * (fewer MictlanX retries, so failure tests end quickly).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SETTINGS, type Settings } from '@/lib/config';
import { startLocalCloud, type LocalCloud } from '@/server/cloud';

export interface TestCloud {
  readonly cloud: LocalCloud;
  readonly settings: Settings;
  close(): Promise<void>;
}

export async function startTestCloud(prefix: string): Promise<TestCloud> {
  const dataDir = await mkdtemp(join(tmpdir(), prefix));
  const cloud = await startLocalCloud({ dataDir });
  const router = new URL(cloud.routerUrl);
  const manager = new URL(cloud.managerUrl);
  const settings: Settings = {
    ...DEFAULT_SETTINGS,
    RORY_MANAGER_IP_ADDR: manager.hostname,
    RORY_MANAGER_PORT: Number(manager.port),
    MICTLANX_ROUTERS: `mictlanx-router-0:${router.hostname}:${router.port}`,
    MICTLANX_MAX_RETRIES: 2,
  };
  return {
    cloud,
    settings,
    async close() {
      await cloud.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
