/**
 * The app's browser-side defences in Chromium (issue 12 findings 2 and 4,
 * docs/security-local-cloud.md): the static server's security headers on the real build (CSP
 * with the hashes of each page's inline scripts, anti-framing, nosniff, referrer, COOP), the
 * violation detector of the harness (page events and report-uri), framing by another origin
 * refused, the meta-tag policy of out/*.html enforced on a host that sends no headers, the
 * local cloud refusing a page from a foreign origin, and a DNS-rebinding name refused by Host.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '@/server/cloud';
import { CHROMIUM_FLAGS, OUT_DIR, startApp, type AppUnderTest } from './harness';

let app: AppUnderTest;
let cloud: LocalCloud;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'rory-e2e-sec-'));
  cloud = await startLocalCloud({ dataDir, workerPorts: [0] });
  app = await startApp({ cloud });
});

afterAll(async () => {
  await app?.close();
  await cloud?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** A plain file server with no security headers at all (a "header-less host"), or one fixed page. */
async function plainServer(body?: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    if (body !== undefined) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(body);
      return;
    }
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^\/+/, '');
    for (const candidate of [join(OUT_DIR, path), join(OUT_DIR, path, 'index.html')]) {
      const s = await stat(candidate).catch(() => null);
      if (s?.isFile()) {
        const type = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json' }[extname(candidate)];
        res.writeHead(200, { 'Content-Type': type ?? 'application/octet-stream' }).end(await readFile(candidate));
        return;
      }
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const directive = (csp: string, name: string) =>
  csp
    .split(';')
    .map((d) => d.trim().split(/\s+/))
    .find(([n]) => n === name)
    ?.slice(1);

describe('static server headers on the built app', () => {
  it('every page: CSP with exactly its inline-script hashes, anti-framing, nosniff, no-referrer, COOP; the meta tag is removed', async () => {
    for (const path of ['/', '/datasets/', '/jobs/', '/keys/', '/settings/', '/status/', '/no-such-page/']) {
      const res = await fetch(`${app.url}${path}`);
      const html = await res.text();
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(directive(csp, 'frame-ancestors')).toEqual(["'none'"]);
      expect(directive(csp, 'default-src')).toEqual(["'self'"]);
      expect(directive(csp, 'object-src')).toEqual(["'none'"]);
      expect(directive(csp, 'connect-src')?.sort()).toEqual(["'self'", cloud.managerUrl, cloud.routerUrl, ...cloud.workerUrls].sort());
      // The hashes are those of this page's inline scripts, computed here independently.
      const inline = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1]).digest('base64')}'`);
      expect(inline.length, path).toBeGreaterThan(0);
      expect(directive(csp, 'script-src')?.filter((s) => s.startsWith("'sha256-")).sort()).toEqual([...new Set(inline)].sort());
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toMatch(/'unsafe-eval'/);
      expect(html).not.toMatch(/http-equiv="Content-Security-Policy"/i);
    }
  });

  it('scripts, the WASM and config.json carry the policy too (a Web Worker gets its CSP from its own response)', async () => {
    const html = await (await fetch(`${app.url}/`)).text();
    const script = /<script src="([^"]+)"/.exec(html)![1];
    const wasm = (await readdir(join(OUT_DIR, '_next', 'static', 'media'))).find((f) => f.endsWith('.wasm'));
    expect(wasm).toBeDefined();
    for (const path of [script, `/_next/static/media/${wasm}`, '/config.json']) {
      const res = await fetch(`${app.url}${path}`);
      await res.arrayBuffer();
      expect(res.status, path).toBe(200);
      expect(directive(res.headers.get('content-security-policy') ?? '', 'script-src'), path).toEqual(["'self'", "'wasm-unsafe-eval'"]);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('refuses a foreign Origin and a foreign Host name', async () => {
    const foreign = await fetch(`${app.url}/config.json`, { headers: { Origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CSP in Chromium', () => {
  it('the harness sees a violation (page event and report-uri) when the page connects elsewhere', async () => {
    const { page, url } = app;
    await page.goto(`${url}/`);
    await page.getByRole('heading', { name: 'Rory Data Owner' }).waitFor();
    const outcome = await page.evaluate(() => fetch('http://127.0.0.1:9/nope').then(() => 'fetched', (e: Error) => e.name));
    expect(outcome).toBe('TypeError');
    await expect.poll(() => app.cspViolations.filter((v) => v.startsWith('connect-src blocked http://127.0.0.1:9/')).length).toBe(1);
    await expect.poll(() => app.server.cspReports.some((r) => r.directive === 'connect-src' && r.blockedUri.startsWith('http://127.0.0.1:9'))).toBe(true);
    await expect.poll(() => app.cspViolations.some((v) => v.startsWith('report: CSP blocked a connection from the app') && v.includes('--connect-src http://127.0.0.1:9'))).toBe(true);
    app.cspViolations.length = 0;
  });

  it('another origin cannot frame the app (frame-ancestors, X-Frame-Options); without the headers it could', async () => {
    const bare = await plainServer();
    const frameUrl = async (target: string, expectApp: boolean) => {
      const evil = await plainServer(`<!doctype html><title>evil</title><iframe id="f" src="${target}/jobs/" width="800" height="600"></iframe>`);
      try {
        const { page } = app;
        await page.goto(evil.url);
        await page.locator('#f').waitFor();
        const frame = page.frames().find((f) => f !== page.mainFrame())!;
        await frame.waitForLoadState('load');
        if (expectApp) await frame.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 20_000 });
        const nav = await frame.getByRole('navigation', { name: 'Main' }).count();
        return { url: frame.url(), nav };
      } finally {
        await evil.close();
      }
    };
    try {
      // Control: served without headers (the meta policy cannot carry frame-ancestors), the app can be framed.
      const open = await frameUrl(bare.url, true);
      expect(open).toEqual({ url: `${bare.url}/jobs/`, nav: 1 });
      // From server/static.ts: the browser refuses to render it inside another origin's page.
      const blocked = await frameUrl(app.url, false);
      expect(blocked.url).toMatch(/^chrome-error:/);
      expect(blocked.nav).toBe(0);
    } finally {
      await bare.close();
    }
  });

  it('on a host that sends no headers the meta-tag policy of out/*.html holds: the app runs clean, other origins are blocked', async () => {
    const bare = await plainServer();
    try {
      const res = await fetch(`${bare.url}/`);
      expect(res.headers.get('content-security-policy')).toBeNull();
      expect(await res.text()).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'sha256-`);
      const { page } = app;
      for (const path of ['/', '/datasets/', '/keys/', '/settings/']) {
        await page.goto(`${bare.url}${path}`);
        await page.getByRole('navigation', { name: 'Main' }).waitFor();
      }
      expect(app.cspViolations).toEqual([]);
      const outcome = await page.evaluate(() => fetch('https://evil.example/x').then(() => 'fetched', (e: Error) => e.name));
      expect(outcome).toBe('TypeError');
      await expect.poll(() => app.cspViolations.some((v) => v.startsWith('connect-src blocked https://evil.example/x'))).toBe(true);
      app.cspViolations.length = 0;
    } finally {
      await bare.close();
    }
  });
});

describe('the local cloud from a browser', () => {
  it('answers the app origin and refuses a page on another origin (no CORS grant)', async () => {
    const { page } = app;
    await page.goto(`${app.url}/`);
    const fromApp = await page.evaluate((u) => fetch(`${u}/clustering/test`).then((r) => r.status, (e: Error) => e.name), cloud.managerUrl);
    expect(fromApp).toBe(200);
    const evil = await plainServer('<!doctype html><title>evil</title>');
    try {
      await page.goto(evil.url);
      const urls = [`${cloud.managerUrl}/workers`, `${cloud.routerUrl}/api/v4/buckets/rory/metadata`, `${cloud.workerUrls[0]}/clustering/test`];
      for (const u of urls) {
        expect(await page.evaluate((x) => fetch(x).then((r) => `read ${r.status}`, (e: Error) => e.name), u), u).toBe('TypeError');
      }
      // A DELETE needs a preflight, which is refused: nothing is deleted.
      const del = await page.evaluate((x) => fetch(x, { method: 'DELETE' }).then((r) => `read ${r.status}`, (e: Error) => e.name), `${cloud.routerUrl}/api/v4/buckets/rory/bid/anything`);
      expect(del).toBe('TypeError');
    } finally {
      await evil.close();
    }
  });

  it('a DNS-rebinding name (evil.example → 127.0.0.1) gets 421 from the app and the cloud', async () => {
    const appPort = new URL(app.url).port;
    const managerPort = new URL(cloud.managerUrl).port;
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [...CHROMIUM_FLAGS, '--host-resolver-rules=MAP evil.example 127.0.0.1'],
    });
    try {
      const page = await browser.newPage();
      const res = await page.goto(`http://evil.example:${appPort}/`);
      expect(res?.status()).toBe(421);
      // Same origin as the rebinding page: the browser sends no preflight, the Host check stops it.
      const managerPage = await page.goto(`http://evil.example:${managerPort}/workers`);
      expect(managerPage?.status()).toBe(421);
      expect(await managerPage?.text()).not.toContain('rory-worker-0');
    } finally {
      await browser.close();
    }
  });
});
