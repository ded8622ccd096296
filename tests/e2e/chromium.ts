/**
 * How the e2e suites and the Chromium benches launch the browser and point the app at a local
 * cloud: the Chromium flags and the config.json settings. Free of vitest, so benches (plain tsx
 * scripts, bench/) can import it; tests/e2e/harness.ts re-exports both.
 */
import type { LocalCloud } from '@/server/cloud';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** config.json settings pointing the app at `cloud`. */
export function cloudConfig(cloud: Pick<LocalCloud, 'routerUrl' | 'managerUrl'>): () => unknown {
  const router = new URL(cloud.routerUrl);
  const manager = new URL(cloud.managerUrl);
  return () => ({
    settings: {
      RORY_MANAGER_IP_ADDR: manager.hostname,
      RORY_MANAGER_PORT: Number(manager.port),
      MICTLANX_ROUTERS: `mictlanx-router-0:${router.hostname}:${router.port}`,
    },
  });
}
