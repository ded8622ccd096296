/**
 * End-to-end harness: serves the built static export (out/) on 127.0.0.1, optionally with the
 * local Rory cloud, and drives Debian Chromium through playwright-core with a fresh profile.
 * `npm run test:e2e` builds the export first.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startStaticServer, type StaticServer } from '@/server/static';

export const OUT_DIR = join(process.cwd(), 'out');
export const SHARED = join(process.cwd(), '..', 'shared');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

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

export interface AppUnderTest {
  readonly url: string;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and uncaught page errors seen so far. */
  readonly pageErrors: string[];
  close(): Promise<void>;
}

export async function startApp(opts: { config?: () => unknown } = {}): Promise<AppUnderTest> {
  if (!existsSync(join(OUT_DIR, 'index.html'))) throw new Error('out/ is missing: run `npm run build` first (npm run test:e2e does).');
  const server: StaticServer = await startStaticServer({ root: OUT_DIR, config: opts.config });
  const profile = await mkdtemp(join(tmpdir(), 'rory-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_FLAGS,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return {
    url: server.url,
    context,
    page,
    pageErrors,
    async close() {
      await context.close();
      await server.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
