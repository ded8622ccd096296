/**
 * D9, the local cloud trusts no origin (issue 12 finding 2), against the real router, manager
 * and workers on loopback. Each case reproduces the review's attack from `Origin:
 * https://evil.example` and fails on the code before the fix: object bytes readable, a DELETE
 * preflight granted, Private Network Access granted, worker registrations hijacked so that
 * `/clustering/secure` hands out the attacker's URL, and DNS-rebinding Host names answered.
 * Requests without an Origin (Node clients, upstream workers) keep working.
 */
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MictlanxClient } from '@/lib/storage/mictlanx-client';
import { ndarray } from '@/lib/storage/ndarray';
import { startLocalCloud, type LocalCloud } from '@/server/cloud';
import { createWorker } from '@/server/worker';

const APP = 'http://127.0.0.1:3000';
const EVIL = 'https://evil.example';

let cloud: LocalCloud;
let dataDir: string;
let api: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'rory-cloud-sec-'));
  cloud = await startLocalCloud({ dataDir, workerPorts: [0, 0], allowedOrigins: [APP] });
  api = `${cloud.routerUrl}/api/v4`;
  const client = new MictlanxClient({ routers: [{ id: 'r0', host: '127.0.0.1', port: cloud.routerPort, protocol: 'http' }], bucket: 'rory', maxRetries: 0 });
  await client.putNdarray('secret', ndarray('float64', [2, 2], new Float64Array([1.5, 2.5, 3.5, 4.5])), { numChunks: 1 });
});

afterAll(async () => {
  await cloud?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** A request with any Host header (fetch cannot set it), read whole. */
function rawRequest(url: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

const preflight = (url: string, origin: string, method: string, extra: Record<string, string> = {}) =>
  fetch(url, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': 'force,content-type', ...extra } });

function expectNoGrant(r: Response) {
  expect(r.headers.get('access-control-allow-origin')).toBeNull();
  expect(r.headers.get('access-control-allow-credentials')).toBeNull();
  expect(r.headers.get('access-control-allow-methods')).toBeNull();
  expect(r.headers.get('access-control-allow-private-network')).toBeNull();
}

describe('requests from a foreign origin get no CORS grant', () => {
  it('router: object bytes, metadata, merged ball: refused, nothing leaked', async () => {
    for (const url of [`${api}/buckets/rory/secret_0`, `${api}/buckets/rory/secret/merge`, `${api}/buckets/rory/metadata`, `${api}/buckets/rory/metadata/secret/chunks`]) {
      const r = await fetch(url, { headers: { Origin: EVIL } });
      const body = await r.text();
      expect(r.status, url).toBe(403);
      expectNoGrant(r);
      expect(body).not.toContain('secret_0');
      expect(body).toMatch(/Origin https:\/\/evil\.example may not use this server/);
    }
  });

  it('router: a DELETE preflight is refused and the object survives', async () => {
    const r = await preflight(`${api}/buckets/rory/bid/secret`, EVIL, 'DELETE');
    expect(r.status).toBe(403);
    expectNoGrant(r);
    expect((await fetch(`${api}/buckets/rory/secret_0`)).status).toBe(200);
  });

  it('Private Network Access preflights are granted to the app origin only', async () => {
    const targets = [`${api}/buckets/rory/metadata`, `${cloud.managerUrl}/clustering/secure`, `${cloud.workerUrls[0]}/clustering/skmeans`];
    for (const url of targets) {
      const evil = await preflight(url, EVIL, 'POST', { 'Access-Control-Request-Private-Network': 'true' });
      expect(evil.status, url).toBe(403);
      expectNoGrant(evil);
      const app = await preflight(url, APP, 'POST', { 'Access-Control-Request-Private-Network': 'true' });
      expect(app.status, url).toBe(204);
      expect(app.headers.get('access-control-allow-origin')).toBe(APP);
      expect(app.headers.get('access-control-allow-private-network')).toBe('true');
      expect(app.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('manager and workers: simple requests and preflights refused; `Origin: null` too', async () => {
    for (const url of [`${cloud.managerUrl}/clustering/secure`, `${cloud.managerUrl}/workers`, `${cloud.workerUrls[1]}/clustering/test`]) {
      for (const origin of [EVIL, 'null', 'http://127.0.0.1:3001', 'http://localhost:3000']) {
        const r = await fetch(url, { headers: { Origin: origin } });
        await r.arrayBuffer();
        expect(r.status, `${url} from ${origin}`).toBe(403);
        expectNoGrant(r);
      }
      const pre = await preflight(url, EVIL, 'POST');
      expect(pre.status).toBe(403);
      expectNoGrant(pre);
    }
  });

  it('the app origin still gets its grant (echoed, never `*`, never credentials); Node clients need none', async () => {
    const r = await fetch(`${api}/buckets/rory/secret_0`, { headers: { Origin: APP } });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe(APP);
    expect(r.headers.get('access-control-allow-credentials')).toBeNull();
    expect(r.headers.get('vary')).toContain('Origin');
    expect(new Float64Array(await r.arrayBuffer())).toEqual(new Float64Array([1.5, 2.5, 3.5, 4.5]));
    const node = await fetch(`${cloud.managerUrl}/clustering/secure`);
    expect(node.status).toBe(200);
    expect(node.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('origins can be allowed after start (the app server listens on port 0 in tests)', async () => {
    const later = 'http://127.0.0.1:45678';
    expect((await fetch(`${cloud.managerUrl}/clustering/test`, { headers: { Origin: later } })).status).toBe(403);
    cloud.allowOrigin(later);
    const r = await fetch(`${cloud.workerUrls[0]}/clustering/test`, { headers: { Origin: later } });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe(later);
  });
});

describe('worker registration needs the token', () => {
  const register = (headers: Record<string, string>) =>
    fetch(`${cloud.managerUrl}/workers/started`, { method: 'POST', headers: { 'Worker-Id': 'rory-worker-0', 'Worker-Port': '4444', 'Worker-Host': '127.0.0.1', ...headers } });

  it('without or with a wrong token: refused, nothing overwritten, /clustering/secure keeps handing out the real workers', async () => {
    const before = JSON.stringify(cloud.manager.workers());
    const none = await register({});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(none.headers.get('error-message')).toMatch(/registration token/);
    expect((await register({ Authorization: 'Bearer wrong-token-wrong-token' })).status).toBe(403);
    expect((await register({ Authorization: `Bearer ${cloud.registrationToken}x` })).status).toBe(403);
    expect((await register({ Authorization: cloud.registrationToken })).status).toBe(401);
    // A new id is not registered either.
    expect((await register({ 'Worker-Id': 'liar' })).status).toBe(401);
    expect(JSON.stringify(cloud.manager.workers())).toBe(before);
    for (let i = 0; i < 6; i++) {
      const got = (await (await fetch(`${cloud.managerUrl}/clustering/secure`)).json()) as { worker_url: string };
      expect(cloud.workerUrls).toContain(got.worker_url);
    }
  });

  it('the token is random per cloud and long', async () => {
    expect(cloud.registrationToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const other = await startLocalCloud({ dataDir: join(dataDir, 'other'), workerPorts: [] });
    try {
      expect(other.registrationToken).not.toBe(cloud.registrationToken);
    } finally {
      await other.close();
    }
  });

  it('a worker started with a wrong token is refused and says why', async () => {
    const w = await createWorker({
      managerUrl: cloud.managerUrl,
      nodeId: 'rory-worker-x',
      registrationToken: 'not-the-token-not-the-token',
      registerRetryMs: 50,
      store: { routers: [{ id: 'r0', host: '127.0.0.1', port: cloud.routerPort }] },
    });
    try {
      await expect(w.registered).rejects.toThrow(/refused the registration \(HTTP 403\).*registration token/);
      expect(cloud.manager.workers().map((x) => x.workerId)).not.toContain('rory-worker-x');
    } finally {
      await w.close();
    }
  });
});

describe('DNS rebinding: a foreign Host name is refused', () => {
  it('router, manager, worker answer 421 with a clear message to Host: evil.example', async () => {
    const targets = [`${api}/buckets/rory/secret_0`, `${cloud.managerUrl}/workers`, `${cloud.workerUrls[0]}/clustering/test`];
    for (const url of targets) {
      const port = new URL(url).port;
      const r = await rawRequest(url, { headers: { Host: `evil.example:${port}` } });
      expect(r.status, url).toBe(421);
      expect(r.headers['error-message']).toMatch(/Host "evil\.example:\d+" is not a name of this server/);
      expect(r.body).not.toContain('rory-worker');
      expect(r.body).not.toContain('secret');
      // Loopback names keep working.
      expect((await rawRequest(url, { headers: { Host: `localhost:${port}` } })).status, url).toBe(200);
    }
  });
});
