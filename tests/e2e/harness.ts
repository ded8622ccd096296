/**
 * End-to-end harness: serves the built static export (out/) on 127.0.0.1 through
 * server/static.ts (with its CSP and security headers), optionally wired to a local Rory cloud,
 * and drives Debian Chromium through playwright-core with a fresh profile.
 * `npm run test:e2e` builds the export first.
 *
 * Zero CSP violations (issue 12 finding 4): every page gets a `securitypolicyviolation`
 * listener before any of its scripts run (addInitScript → exposed binding), and the static
 * server's report-uri endpoint catches violations in Web Workers too. Importing this module
 * registers an afterEach hook that fails the running test on any violation seen during it.
 *
 * With `cloud`, the harness does the wiring `npm start` does: the cloud's router, manager and
 * workers go into the CSP connect-src (and config.json unless `config` is given), and the app's
 * origin is allowed by the cloud (D9) once the static server listens on its port.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterEach, expect } from 'vitest';
import { appOrigins, type LocalCloud } from '@/server/cloud';
import { startStaticServer, type StaticServer } from '@/server/static';
import { CHROMIUM_FLAGS, cloudConfig } from './chromium';

export { CHROMIUM_FLAGS, cloudConfig } from './chromium';

export const OUT_DIR = join(process.cwd(), 'out');
export const SHARED = join(process.cwd(), '..', 'shared');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';


export interface AppUnderTest {
  readonly url: string;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and uncaught page errors seen so far. */
  readonly pageErrors: string[];
  /**
   * CSP violations seen since the last check (page events and server reports). The afterEach
   * hook of this module fails the test when it is not empty, then clears it; a test that
   * provokes a violation on purpose asserts on it and empties it.
   */
  readonly cspViolations: string[];
  readonly server: StaticServer;
  close(): Promise<void>;
}

/** What the harness needs of a local cloud to wire the app to it. */
export type CloudForApp = Pick<LocalCloud, 'routerUrl' | 'managerUrl' | 'workerUrls' | 'allowOrigin'>;

const running = new Set<AppUnderTest>();

afterEach(async () => {
  if (running.size === 0) return;
  // Reports sent with report-uri travel asynchronously: give them a moment.
  await new Promise((r) => setTimeout(r, 150));
  const seen = [...running].flatMap((app) => app.cspViolations.splice(0));
  expect(seen, 'Content-Security-Policy violations during this test').toEqual([]);
});

interface ViolationBinding {
  __roryCspViolation(text: string): void;
}

export async function startApp(opts: { config?: () => unknown; cloud?: CloudForApp; root?: string } = {}): Promise<AppUnderTest> {
  const root = opts.root ?? OUT_DIR;
  if (!existsSync(join(root, 'index.html'))) throw new Error('out/ is missing: run `npm run build` first (npm run test:e2e does).');
  const cspViolations: string[] = [];
  const cloud = opts.cloud;
  const server: StaticServer = await startStaticServer({
    root,
    config: opts.config ?? (cloud ? cloudConfig(cloud) : undefined),
    connectSrc: cloud ? [cloud.routerUrl, cloud.managerUrl, ...cloud.workerUrls] : [],
    log: (line) => cspViolations.push(`report: ${line}`),
  });
  cloud?.allowOrigin(...appOrigins('127.0.0.1', server.port));
  const profile = await mkdtemp(join(tmpdir(), 'rory-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_FLAGS,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
  });
  await context.exposeBinding('__roryCspViolation', (_source, text: string) => {
    cspViolations.push(text);
  });
  await context.addInitScript(() => {
    window.addEventListener('securitypolicyviolation', (e) => {
      const w = window as unknown as ViolationBinding;
      w.__roryCspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline code'} on ${e.documentURI} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const app: AppUnderTest = {
    url: server.url,
    context,
    page,
    pageErrors,
    cspViolations,
    server,
    async close() {
      running.delete(app);
      await context.close();
      await server.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
  running.add(app);
  return app;
}
