/**
 * Router robustness (issue 12 finding 6) and the common HTTP layer's limits, against real
 * servers on loopback: unfinished uploads expire and are capped, slow-loris requests are cut
 * while long responses are not, an invalid `?content_type` neither throws nor leaks file
 * handles, stored HTML is never served as active content, and every route bounds its body.
 */
import { readdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { json, listen, route, type Listening } from '@/server/common/http';
import { createManager } from '@/server/manager';
import { createMictlanxRouter, servedContentType, type MictlanxRouterHandle } from '@/server/mictlanx';
import { createWorker } from '@/server/worker';

let dataDir: string;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'rory-router-robust-'));
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

let dirs = 0;
async function router(opts: Partial<Parameters<typeof createMictlanxRouter>[0]> = {}): Promise<MictlanxRouterHandle & { api: string }> {
  const r = await createMictlanxRouter({ dataDir: join(dataDir, `r${dirs++}`), ...opts });
  closers.push(() => r.close());
  return Object.assign(r, { api: `${r.url}/api/v4` });
}

const md = (key: string, size = 3) => JSON.stringify({ bucket_id: 'rory', key, ball_id: key.replace(/_\d+$/, ''), checksum: 'x', size, tags: { index: '0', num_chunks: '1' }, producer_id: 't' });

async function putObject(api: string, key: string, bytes: Uint8Array<ArrayBuffer>, extra: Record<string, unknown> = {}) {
  const meta = await fetch(`${api}/buckets/rory/metadata`, { method: 'POST', body: JSON.stringify({ ...JSON.parse(md(key, bytes.length)), ...extra }) });
  expect(meta.status).toBe(200);
  const { tasks_ids } = (await meta.json()) as { tasks_ids: string[] };
  const data = await fetch(`${api}/buckets/data/${tasks_ids[0]}/chunked`, { method: 'POST', body: bytes });
  expect(data.status).toBe(200);
}

/** Sends a request with a declared Content-Length but only `send` bytes of body; resolves with the status (or 0 when cut). */
function declaredBody(url: string, method: string, contentLength: number, send = 0): Promise<number> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { method, headers: { 'Content-Length': String(contentLength) } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.flushHeaders();
    if (send > 0) req.write(new Uint8Array(send));
  });
}

/** Opens a raw connection, writes `first`, then trickles `trickle` a byte at a time; resolves with ms until the server closes. */
function slowClient(port: number, first: string, trickle: string, everyMs: number): Promise<{ ms: number; reply: string }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = connect(port, '127.0.0.1');
    let reply = '';
    let i = 0;
    const timer = setInterval(() => {
      if (i < trickle.length && !s.destroyed) s.write(trickle[i++]);
    }, everyMs);
    s.on('data', (d) => (reply += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(timer);
      resolve({ ms: Date.now() - t0, reply });
    });
    s.write(first);
  });
}

describe('unfinished uploads are bounded', () => {
  it('metadata without data expires after the TTL (memory and disk)', async () => {
    const r = await router({ pendingTtlMs: 1_000 });
    expect((await fetch(`${r.api}/buckets/rory/metadata`, { method: 'POST', body: md('orphan_0') })).status).toBe(200);
    expect(r.pendingCount()).toBe(1);
    expect((await fetch(`${r.api}/buckets/rory/metadata/orphan_0`)).status).toBe(200);
    await expect.poll(() => r.pendingCount(), { timeout: 5_000, interval: 100 }).toBe(0);
    const gone = await fetch(`${r.api}/buckets/rory/metadata/orphan_0`);
    expect(gone.status).toBe(500);
    expect(((await gone.json()) as { detail: string }).detail).toMatch(/^404:/);
    expect((await readdir(join(r.dataDir, 'buckets', 'rory'))).filter((f) => f.startsWith('orphan'))).toEqual([]);
    // A finished upload is not touched by the TTL.
    await putObject(r.api, 'kept_0', new Uint8Array([1, 2, 3]));
    await new Promise((res) => setTimeout(res, 2_200));
    expect((await fetch(`${r.api}/buckets/rory/kept_0`)).status).toBe(200);
  });

  it('at most maxPending at once: the next post gets 503, finishing one frees a slot', async () => {
    const r = await router({ maxPending: 2 });
    const tasks: string[] = [];
    for (const k of ['p1_0', 'p2_0']) {
      const res = await fetch(`${r.api}/buckets/rory/metadata`, { method: 'POST', body: md(k) });
      expect(res.status).toBe(200);
      tasks.push(((await res.json()) as { tasks_ids: string[] }).tasks_ids[0]);
    }
    const third = await fetch(`${r.api}/buckets/rory/metadata`, { method: 'POST', body: md('p3_0') });
    expect(third.status).toBe(503);
    expect(((await third.json()) as { detail: string }).detail).toMatch(/Too many unfinished uploads \(2\)/);
    expect((await fetch(`${r.api}/buckets/data/${tasks[0]}/chunked`, { method: 'POST', body: new Uint8Array(3) })).status).toBe(200);
    expect(r.pendingCount()).toBe(1);
    expect((await fetch(`${r.api}/buckets/rory/metadata`, { method: 'POST', body: md('p3_0') })).status).toBe(200);
    // Deleting an unfinished upload frees its slot too.
    expect((await fetch(`${r.api}/buckets/rory/p2_0`, { method: 'DELETE' })).status).toBe(200);
    expect(r.pendingCount()).toBe(1);
  });
});

describe('timeouts: slow requests are cut, slow responses are not', () => {
  it('headers trickled in (slow-loris) are cut after headersTimeout', async () => {
    const r = await router({ requestTimeoutMs: 1_500, headersTimeoutMs: 800 });
    const { ms, reply } = await slowClient(r.port, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: ' + 'a'.repeat(100), 200);
    expect(ms).toBeLessThan(6_000);
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a body trickled in is cut after requestTimeout', async () => {
    const r = await router({ requestTimeoutMs: 1_500, headersTimeoutMs: 800 });
    const head = `POST /api/v4/buckets/rory/metadata HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n\r\n{`;
    const { ms, reply } = await slowClient(r.port, head, ' '.repeat(400), 200);
    expect(ms).toBeLessThan(7_000);
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a handler computing longer than requestTimeout still answers (worker steps take minutes)', async () => {
    const slow: Listening = await listen([route('POST', '/compute', async () => new Promise((res) => setTimeout(() => res(json(200, { done: true })), 2_500)))], 0, '127.0.0.1', {
      requestTimeoutMs: 1_000,
      headersTimeoutMs: 500,
    });
    closers.push(() => slow.close({ now: true }));
    const r = await fetch(`http://127.0.0.1:${slow.port}/compute`, { method: 'POST' });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ done: true });
  });
});

describe('object bytes are inert and content_type cannot break the answer', () => {
  const html = new Uint8Array(new TextEncoder().encode('<script>alert(document.domain)</script>'));

  it('stored or requested text/html is served as application/octet-stream, attachment, nosniff, sandboxed', async () => {
    const r = await router();
    await putObject(r.api, 'page_0', html, { content_type: 'text/html' });
    for (const url of [`${r.api}/buckets/rory/page_0`, `${r.api}/buckets/rory/page_0?content_type=text/html`, `${r.api}/buckets/rory/page/merge?content_type=image/svg%2Bxml`, `${r.api}/buckets/rory/page_0?content_type=text/html&attachment=true&filename=x.html`]) {
      const res = await fetch(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type'), url).toBe('application/octet-stream');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-disposition')).toMatch(/^attachment/);
      expect(res.headers.get('content-security-policy')).toContain('sandbox');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(html);
    }
    const plain = await fetch(`${r.api}/buckets/rory/page_0?content_type=text/plain;charset=utf-8`);
    expect(plain.headers.get('content-type')).toBe('text/plain');
    await plain.arrayBuffer();
  });

  it('an invalid content_type or file name answers 200 and leaks no file handle', async () => {
    const r = await router();
    await putObject(r.api, 'obj_0', new Uint8Array([7, 8, 9]));
    const fds = async () => (await readdir('/proc/self/fd')).length;
    const before = await fds();
    const bad = ['%E2%9C%93', 'text/html%0D%0AX-Evil:%201', '%00', 'a'.repeat(5000)];
    for (let i = 0; i < 40; i++) {
      const ct = bad[i % bad.length];
      const res = await fetch(`${r.api}/buckets/rory/obj_0?content_type=${ct}&filename=%E2%9C%93%22%0D%0A.bin`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      expect(res.headers.get('x-evil')).toBeNull();
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="____.bin"');
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array([7, 8, 9]));
    }
    expect(await fds()).toBeLessThan(before + 10);
  });

  it('servedContentType keeps passive types only', () => {
    expect(servedContentType('application/octet-stream')).toBe('application/octet-stream');
    expect(servedContentType('APPLICATION/JSON; charset=utf-8')).toBe('application/json');
    for (const active of ['text/html', 'application/xhtml+xml', 'image/svg+xml', 'text/xml', 'application/javascript', 'text/javascript', 'application/pdf', '', null, undefined, 'text/html\r\nX: 1']) {
      expect(servedContentType(active)).toBe('application/octet-stream');
    }
  });
});

describe('bounded bodies on every route', () => {
  it('router: metadata over 1 MiB and chunks over maxChunkBytes are refused with 413 before they are read', async () => {
    const r = await router({ maxChunkBytes: 1_000 });
    expect(await declaredBody(`${r.api}/buckets/rory/metadata`, 'POST', 2 * 1024 * 1024)).toBe(413);
    const meta = await fetch(`${r.api}/buckets/rory/metadata`, { method: 'POST', body: md('big_0', 5_000) });
    const task = ((await meta.json()) as { tasks_ids: string[] }).tasks_ids[0];
    expect(await declaredBody(`${r.api}/buckets/data/${task}/chunked`, 'POST', 5_000)).toBe(413);
    // Routes that take no body: 64 KiB at most.
    expect(await declaredBody(`${r.api}/buckets/rory/metadata/big_0/chunks`, 'GET', 100_000)).toBe(413);
    expect(await declaredBody(`${r.api}/buckets/rory/big_0`, 'DELETE', 100_000)).toBe(413);
    // Within the limits all is well.
    expect((await fetch(`${r.api}/buckets/rory/metadata`, { method: 'POST', body: md('small_0', 10) })).status).toBe(200);
  });

  it('manager and worker: bodies over 64 KiB get 413, small ones are ignored as before', async () => {
    const manager = await createManager();
    closers.push(() => manager.close());
    const worker = await createWorker({ store: { routers: [{ id: 'r0', host: '127.0.0.1', port: 1 }] } });
    closers.push(() => worker.close());
    for (const url of [`${manager.url}/clustering/test`, `${worker.url}/clustering/test`, `${worker.url}/clustering/skmeans`]) {
      expect(await declaredBody(url, 'POST', 65 * 1024), url).toBe(413);
    }
    const ok = await fetch(`${worker.url}/clustering/test`, { method: 'POST', body: 'ignored' });
    expect(ok.status).toBe(200);
  });
});
