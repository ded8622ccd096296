/**
 * The local cloud's HTTP surface on loopback (spec/protocol.md §4, §5.0, §11, §12.1): manager
 * registry and round robin, 503 without workers, 403/400 answers, worker health, error
 * propagation with `Error-Message`, and CORS for the app's origin on every route including
 * preflights (D9: only that origin; foreign origins are covered by cloud-security.test.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { createManagerClient } from '@/lib/rory/manager-client';
import { createWorkerClient } from '@/lib/rory/worker-client';
import { startLocalCloud, type LocalCloud } from '@/server/cloud';
import { createManager } from '@/server/manager';

let cloud: LocalCloud;
let dataDir: string;
const ORIGIN = 'http://127.0.0.1:3000';

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'rory-cloud-http-'));
  cloud = await startLocalCloud({ dataDir, workerPorts: [0, 0], allowedOrigins: [ORIGIN] });
});

afterAll(async () => {
  await cloud?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('manager', () => {
  it('answers /clustering/test as the manager', async () => {
    for (const method of ['GET', 'POST']) {
      const r = await fetch(`${cloud.managerUrl}/clustering/test`, { method });
      expect(r.status).toBe(200);
      expect(r.headers.get('Component-Type')).toBe('manager');
      expect(await r.json()).toEqual({ component_type: 'manager' });
    }
  });

  it('lists both registered workers and hands them out round robin', async () => {
    const workers = (await (await fetch(`${cloud.managerUrl}/workers`)).json()) as Record<string, { workerId: string; port: number; isStarted: boolean }>;
    expect(Object.keys(workers).sort()).toEqual(['rory-worker-0', 'rory-worker-1']);
    expect(workers['rory-worker-0']).toMatchObject({ workerId: 'rory-worker-0', isStarted: true });
    const m = createManagerClient({ baseUrl: cloud.managerUrl });
    const a = await m.getWorker('SKMEANS');
    const b = await m.getWorker('SKMEANS');
    const c = await m.getWorker('SKMEANS');
    expect(a.workerId).not.toBe(b.workerId);
    expect(c.workerId).toBe(a.workerId);
    expect(cloud.workerUrls).toContain(a.url);
    const health = await createWorkerClient({ baseUrl: a.url }).test();
    expect(health).toBeUndefined();
    expect((await m.health()).latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('answers POST /clustering/secure with 403 and bad registrations with 400, without blocking later ones', async () => {
    expect((await fetch(`${cloud.managerUrl}/clustering/secure`, { method: 'POST' })).status).toBe(403);
    const auth = { Authorization: `Bearer ${cloud.registrationToken}` };
    const bad = await fetch(`${cloud.managerUrl}/workers/started`, { method: 'POST', headers: { ...auth, 'Worker-Id': 'x' } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'missing header' });
    expect((await fetch(`${cloud.managerUrl}/workers/started`, { method: 'POST', headers: { ...auth, 'Worker-Id': 'x', 'Worker-Port': '99999' } })).status).toBe(400);
    // A registration after the failed one still works (upstream leaks its lock here).
    const m2 = await createManager();
    const auth2 = { Authorization: `Bearer ${m2.registrationToken}` };
    try {
      expect((await fetch(`${m2.url}/workers/started`, { method: 'POST', headers: auth2 })).status).toBe(400);
      const ok = await fetch(`${m2.url}/workers/started`, { method: 'POST', headers: { ...auth2, 'Worker-Id': 'w9', 'Worker-Port': '9009', 'Worker-Host': '127.0.0.1' } });
      expect(ok.status).toBe(204);
      expect(m2.workers()).toEqual([{ workerId: 'w9', port: 9009, isStarted: true, host: '127.0.0.1' }]);
      const got = (await (await fetch(`${m2.url}/clustering/secure`, { headers: { Algorithm: 'SKMEANS' } })).json()) as Record<string, unknown>;
      expect(got).toMatchObject({ worker_id: 'w9', worker_port: 9009, worker_url: 'http://127.0.0.1:9009' });
      expect(typeof got.service_time).toBe('number');
    } finally {
      await m2.close();
    }
  });

  it('answers 503 JSON when no worker is registered (client: NO_WORKERS)', async () => {
    const lonely = await createManager();
    try {
      const r = await fetch(`${lonely.url}/clustering/secure`);
      expect(r.status).toBe(503);
      expect(await r.json()).toMatchObject({ error: 'no workers registered' });
      const e = await createManagerClient({ baseUrl: lonely.url })
        .getWorker('DBSKMEANS')
        .then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).code).toBe('NO_WORKERS');
    } finally {
      await lonely.close();
    }
  });
});

describe('worker', () => {
  it('answers both /test routes as a worker', async () => {
    for (const path of ['/clustering/test', '/classification/test']) {
      const r = await fetch(`${cloud.workerUrls[0]}${path}`);
      expect(r.headers.get('Component-Type')).toBe('worker');
      expect(await r.json()).toEqual({ component_type: 'worker' });
    }
  });

  it('propagates errors with their status and a readable Error-Message', async () => {
    const r = await fetch(`${cloud.workerUrls[0]}/clustering/skmeans`, {
      method: 'POST',
      headers: { Origin: ORIGIN, 'Step-Index': '1', 'Plaintext-Matrix-Id': 'nothing', 'Encrypted-Matrix-Shape': '(1, 1, 3)', 'Encrypted-Matrix-Dtype': 'float32' },
    });
    expect(r.status).toBe(503);
    expect(r.headers.get('Error-Message')).toBe('missing header Num-Chunks');
    expect(r.headers.get('Access-Control-Expose-Headers')).toContain('Error-Message');
    const w = createWorkerClient({ baseUrl: cloud.workerUrls[1] });
    const e = await w.post('/clustering/dbskmeans', { 'Step-Index': '1', 'Plaintext-Matrix-Id': 'nothing' }).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('PROTOCOL_VIOLATION');
    expect((e as AppError).details).toMatchObject({ status: 400, errorMessage: 'missing header Encrypted-Matrix-Shape' });
    const missing = await w
      .post('/clustering/skmeans', { 'Step-Index': '1', 'Plaintext-Matrix-Id': 'nothing', 'Encrypted-Matrix-Shape': '(1, 1, 3)', 'Encrypted-Matrix-Dtype': 'float32', 'Num-Chunks': '1' })
      .then(() => undefined, (x: unknown) => x);
    expect((missing as AppError).code).toBe('WORKER_ERROR');
    expect((missing as AppError).details).toMatchObject({ status: 500 });
    expect(String((missing as AppError).details?.errorMessage)).toMatch(/not found|encryptednothing/);
  });
});

describe('CORS', () => {
  const expose = ['Clustering-Status', 'Service-Time', 'Total-Service-Time', 'End-Time', 'Start-Time', 'Iterations', 'Encrypted-Udm-Shape', 'Encrypted-Udm-Dtype', 'Encrypted-Shift-Matrix-Id', 'Error-Message', 'Component-Type', 'Encrypted-Matrix-Shape', 'Encrypted-Matrix-Dtype', 'Udm-Matrix-Shape', 'Udm-Matrix-Dtype'];

  it('answers preflights on every route of manager and worker', async () => {
    const targets = [
      `${cloud.managerUrl}/clustering/secure`,
      `${cloud.managerUrl}/clustering/test`,
      `${cloud.workerUrls[0]}/clustering/skmeans`,
      `${cloud.workerUrls[0]}/clustering/dbskmeans`,
    ];
    for (const url of targets) {
      const r = await fetch(url, {
        method: 'OPTIONS',
        headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'step-index,k,plaintext-matrix-id' },
      });
      expect(r.status).toBe(204);
      expect(r.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
      expect(r.headers.get('Access-Control-Allow-Headers')).toBe('*');
      expect(r.headers.get('Access-Control-Allow-Methods')).toBe('GET, POST, OPTIONS');
    }
  });

  it('exposes every Rory response header on normal answers, errors and 404s', async () => {
    for (const url of [`${cloud.managerUrl}/clustering/secure`, `${cloud.workerUrls[0]}/clustering/test`, `${cloud.workerUrls[0]}/nope`]) {
      const r = await fetch(url, { headers: { Origin: ORIGIN } });
      await r.arrayBuffer();
      expect(r.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
      const list = (r.headers.get('Access-Control-Expose-Headers') ?? '').split(',').map((s) => s.trim());
      for (const h of expose) expect(list, `${url} exposes ${h}`).toContain(h);
    }
    // Node clients and upstream workers send no Origin: answered, with no CORS grant at all.
    const noOrigin = await fetch(`${cloud.managerUrl}/clustering/test`);
    expect(noOrigin.status).toBe(200);
    expect(noOrigin.headers.get('Access-Control-Allow-Origin')).toBeNull();
    expect(noOrigin.headers.get('Access-Control-Allow-Credentials')).toBeNull();
  });
});
