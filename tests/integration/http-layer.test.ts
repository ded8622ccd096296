/**
 * The common HTTP layer (server/common/http.ts) and the static app server on it
 * (server/static.ts), on loopback without a build: routing (params, wildcard, 404, 405 with
 * Allow, HEAD, plain OPTIONS), error answers, streamed bodies closed whatever happens, and the
 * static server's CSP (per-page hashes, meta tag removed, connect-src following config.json and
 * later changes), violation reports, same-origin and Host checks.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError, json, listen, route, type Listening } from '@/server/common/http';
import { startStaticServer, type StaticServer } from '@/server/static';

describe('routing and errors', () => {
  let server: Listening;
  let base: string;
  const closed: string[] = [];

  beforeAll(async () => {
    server = await listen(
      [
        route('GET', '/items/:id', (ctx) => json(200, { id: ctx.params.id, q: ctx.query.get('q') })),
        route(['GET', 'DELETE'], '/files/*', (ctx) => json(200, { rest: ctx.params['*'] })),
        route('POST', '/boom', () => {
          throw new Error('exploded');
        }),
        route('POST', '/teapot', () => {
          throw new HttpError(418, 'short and stout', { headers: { 'X-Extra': '1' } });
        }),
        route('GET', '/stream', () => ({
          status: 200,
          headers: { 'Content-Type': 'application/octet-stream' },
          stream: {
            chunks: (async function* () {
              yield new Uint8Array([1, 2]);
              yield new Uint8Array([3]);
            })(),
            close: async () => void closed.push('stream'),
          },
        })),
        route('POST', '/echo', async (ctx) => json(200, { n: (await ctx.readBody()).length }), { maxBodyBytes: 10 }),
      ],
      0,
      '127.0.0.1',
    );
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(() => server.close({ now: true }));

  it('decodes params and wildcard rests; trailing slashes do not matter', async () => {
    expect(await (await fetch(`${base}/items/a%2Fb%20c/?q=1`)).json()).toEqual({ id: 'a/b c', q: '1' });
    expect(await (await fetch(`${base}/files/x/y%25z`)).json()).toEqual({ rest: 'x/y%z' });
    expect(await (await fetch(`${base}/files`)).json()).toEqual({ rest: '' });
  });

  it('404 and 405 (with Allow) as JSON with Error-Message; 400 on bad percent-encoding', async () => {
    const nf = await fetch(`${base}/nope`);
    expect(nf.status).toBe(404);
    expect(await nf.json()).toEqual({ error: 'not found: /nope' });
    const m = await fetch(`${base}/items/1`, { method: 'PUT' });
    expect(m.status).toBe(405);
    expect(m.headers.get('allow')).toBe('GET');
    expect(m.headers.get('error-message')).toBe('method PUT not allowed on /items/1');
    expect((await fetch(`${base}/items/%E0%A4%A`)).status).toBe(400);
  });

  it('HEAD answers GET routes without a body; a plain OPTIONS lists the methods', async () => {
    const h = await fetch(`${base}/stream`, { method: 'HEAD' });
    expect(h.status).toBe(200);
    expect((await h.arrayBuffer()).byteLength).toBe(0);
    expect(closed).toContain('stream');
    const o = await fetch(`${base}/files/a`, { method: 'OPTIONS' });
    expect(o.status).toBe(204);
    expect(o.headers.get('allow')).toBe('GET, DELETE, OPTIONS');
  });

  it('thrown errors: HttpError keeps its status and headers, anything else is a 500; both carry Error-Message', async () => {
    const boom = await fetch(`${base}/boom`, { method: 'POST' });
    expect(boom.status).toBe(500);
    expect(boom.headers.get('error-message')).toBe('exploded');
    const tea = await fetch(`${base}/teapot`, { method: 'POST' });
    expect(tea.status).toBe(418);
    expect(tea.headers.get('x-extra')).toBe('1');
    expect(await tea.json()).toEqual({ error: 'short and stout' });
  });

  it('streams bodies and closes the source; defensive headers on every answer', async () => {
    closed.length = 0;
    const r = await fetch(`${base}/stream`);
    expect([...new Uint8Array(await r.arrayBuffer())]).toEqual([1, 2, 3]);
    expect(closed).toEqual(['stream']);
    for (const h of ['x-content-type-options', 'content-security-policy', 'cross-origin-resource-policy', 'cache-control']) expect(r.headers.get(h), h).not.toBeNull();
  });

  it('a route reading its body gets it within its limit; past it, 413', async () => {
    expect(await (await fetch(`${base}/echo`, { method: 'POST', body: '12345' })).json()).toEqual({ n: 5 });
    expect((await fetch(`${base}/echo`, { method: 'POST', body: '12345678901' })).status).toBe(413);
  });
});

describe('static app server', () => {
  let root: string;
  let app: StaticServer;
  let workers: string[] = ['http://127.0.0.1:9000'];
  const logs: string[] = [];
  const inline = "console.log('hi')";
  const page = `<!DOCTYPE html><html><head><meta charSet="utf-8"/><meta http-equiv="Content-Security-Policy" content="default-src 'none'"/><script src="/a.js"></script></head><body><script>${inline}</script></body></html>`;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rory-static-'));
    await writeFile(join(root, 'index.html'), page);
    await mkdir(join(root, 'jobs'));
    await writeFile(join(root, 'jobs', 'index.html'), '<html><head></head><body><style>p{color:red}</style><p style="margin:0">jobs</p></body></html>');
    await writeFile(join(root, 'a.js'), 'void 0;');
    await writeFile(join(root, '404.html'), '<html><head></head><body>missing</body></html>');
    app = await startStaticServer({
      root,
      config: () => ({ settings: { RORY_MANAGER_IP_ADDR: '127.0.0.1', RORY_MANAGER_PORT: 6101, MICTLANX_ROUTERS: 'r0:127.0.0.1:63667' } }),
      connectSrc: () => workers,
      log: (l) => logs.push(l),
    });
  });
  afterAll(async () => {
    await app.close();
    await rm(root, { recursive: true, force: true });
  });

  const csp = async (path: string) => (await fetch(`${app.url}${path}`)).headers.get('content-security-policy') ?? '';

  it("pages carry their own inline hashes; the build's meta tag is removed; other files get the base policy", async () => {
    const res = await fetch(`${app.url}/`);
    const html = await res.text();
    expect(html).not.toContain('http-equiv');
    const hash = `'sha256-${createHash('sha256').update(inline).digest('base64')}'`;
    expect(res.headers.get('content-security-policy')).toContain(`script-src 'self' 'wasm-unsafe-eval' ${hash};`);
    expect(await csp('/jobs/')).toMatch(/style-src 'self' 'sha256-[^']+' 'unsafe-hashes' 'sha256-[^']+';/);
    expect(await csp('/a.js')).toContain("script-src 'self' 'wasm-unsafe-eval'; worker-src");
    const missing = await fetch(`${app.url}/nowhere`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('missing');
    expect(missing.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('connect-src follows config.json and the live connectSrc list', async () => {
    expect(await csp('/')).toContain("connect-src 'self' http://127.0.0.1:6101 http://127.0.0.1:63667 http://127.0.0.1:9000;");
    workers = ['http://127.0.0.1:9100', 'http://127.0.0.1:9101'];
    expect(await csp('/')).toContain("connect-src 'self' http://127.0.0.1:6101 http://127.0.0.1:63667 http://127.0.0.1:9100 http://127.0.0.1:9101;");
    expect(app.connectSrc()).toEqual(['http://127.0.0.1:6101', 'http://127.0.0.1:63667', 'http://127.0.0.1:9100', 'http://127.0.0.1:9101']);
  });

  it('keeps violation reports and logs what to do about a blocked cloud', async () => {
    const report = { 'csp-report': { 'document-uri': `${app.url}/status/`, 'effective-directive': 'connect-src', 'blocked-uri': 'http://10.0.0.5:6001/clustering/secure' } };
    const r = await fetch(`${app.url}/csp-report`, { method: 'POST', headers: { 'Content-Type': 'application/csp-report' }, body: JSON.stringify(report) });
    expect(r.status).toBe(204);
    expect(app.cspReports.at(-1)).toEqual({ documentUri: `${app.url}/status/`, directive: 'connect-src', blockedUri: 'http://10.0.0.5:6001/clustering/secure' });
    expect(logs.at(-1)).toMatch(/CSP blocked a connection from the app .* to http:\/\/10\.0\.0\.5:6001: .* restart with --connect-src http:\/\/10\.0\.0\.5:6001\./);
    expect((await fetch(`${app.url}/csp-report`, { method: 'POST', body: 'x'.repeat(20_000) })).status).toBe(413);
    expect((await fetch(`${app.url}/csp-report`, { method: 'POST', body: 'nope' })).status).toBe(400);
    expect((await fetch(`${app.url}/`, { method: 'PUT' })).status).toBe(405);
  });

  it('same origin passes, a foreign Origin or Host does not', async () => {
    const host = new URL(app.url).host;
    expect((await fetch(`${app.url}/config.json`, { headers: { Origin: `http://${host}` } })).status).toBe(200);
    expect((await fetch(`${app.url}/config.json`, { headers: { Origin: 'http://localhost:1' } })).status).toBe(403);
    const status = await new Promise<number>((resolve, reject) => {
      httpRequest(`${app.url}/`, { headers: { Host: 'rebind.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(421);
  });
});
