/**
 * Manager and worker HTTP clients (spec/protocol.md §4.2, §5, §8, §11) against scripted
 * `fetch` doubles: retries, typed errors, reply parsing.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { createManagerClient, fillWorkerUrlTemplate } from '@/lib/rory/manager-client';
import { createWorkerClient } from '@/lib/rory/worker-client';
import { parseDbskmeansStep2Reply, parseSkmeansStep2Reply, parseStep1Reply } from '@/lib/rory/algorithms/interactive-kmeans/replies';

type Script = (url: string, init: RequestInit) => Promise<Response>;
const fakeFetch = (script: Script) => ((url: string | URL | Request, init?: RequestInit) => script(String(url), init ?? {})) as typeof fetch;

async function codeOf(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('manager client', () => {
  it('retries network errors, sends Algorithm and prefers worker_url', async () => {
    let calls = 0;
    const seen: string[] = [];
    const m = createManagerClient({
      baseUrl: 'http://mgr:6000/',
      retryDelayMs: 1,
      fetch: fakeFetch(async (url, init) => {
        calls++;
        seen.push(`${url} ${new Headers(init.headers).get('Algorithm')}`);
        if (calls < 3) throw new TypeError('fetch failed');
        return new Response(JSON.stringify({ worker_id: 'rory-worker-1', worker_port: 9001, service_time: 0.001, worker_url: 'http://127.0.0.1:9001' }));
      }),
    });
    const a = await m.getWorker('SKMEANS');
    expect(calls).toBe(3);
    expect(seen[0]).toBe('http://mgr:6000/clustering/secure SKMEANS');
    expect(a).toEqual({ workerId: 'rory-worker-1', workerPort: 9001, url: 'http://127.0.0.1:9001', serviceTime: 0.001 });
  });

  it('builds http://worker_id:port for upstream managers, or uses the host override', async () => {
    const body = JSON.stringify({ worker_id: 'rory-worker-0', worker_port: 9000, service_time: 0 });
    const f = fakeFetch(async () => new Response(body));
    expect((await createManagerClient({ baseUrl: 'http://m', fetch: f }).getWorker('DBSKMEANS')).url).toBe('http://rory-worker-0:9000');
    expect((await createManagerClient({ baseUrl: 'http://m', fetch: f, workerHostOverride: 'localhost' }).getWorker('DBSKMEANS')).url).toBe(
      'http://localhost:9000',
    );
  });

  it('fills a worker URL template (proxied deployment) in preference to worker_url and the override', async () => {
    const body = JSON.stringify({ worker_id: 'rory-worker-3', worker_port: 9003, service_time: 0, worker_url: 'http://10.0.0.9:9003' });
    const f = fakeFetch(async () => new Response(body));
    const m = createManagerClient({ baseUrl: 'https://app.example/rory/manager', fetch: f, workerHostOverride: 'localhost', workerUrlTemplate: 'https://app.example/rory/workers/{worker_id}/{worker_port}/' });
    expect((await m.getWorker('DBSNNC')).url).toBe('https://app.example/rory/workers/rory-worker-3/9003');
    expect(fillWorkerUrlTemplate('http://{worker_id}:{worker_port}', 'a1b2c3d4e5f6', 9000)).toBe('http://a1b2c3d4e5f6:9000');
  });

  it('a Manager cannot steer a templated worker URL elsewhere: ids that are not host names are refused', async () => {
    for (const worker_id of ['evil.example/x', '../manager', 'a b', 'x@evil.example', '']) {
      const f = fakeFetch(async () => new Response(JSON.stringify({ worker_id, worker_port: 9000, service_time: 0 })));
      const m = createManagerClient({ baseUrl: 'http://m', fetch: f, workerUrlTemplate: 'https://app.example/rory/workers/{worker_id}/{worker_port}' });
      expect((await codeOf(m.getWorker('DBSNNC'))).code, worker_id).toBe('PROTOCOL_VIOLATION');
    }
  });

  it('maps 503 and upstream 500 SERVER_ERROR to NO_WORKERS, without retrying', async () => {
    let calls = 0;
    const m = createManagerClient({
      baseUrl: 'http://m',
      fetch: fakeFetch(async () => {
        calls++;
        return new Response(JSON.stringify({ error: 'no workers registered' }), { status: 503 });
      }),
    });
    expect((await codeOf(m.getWorker('SKMEANS'))).code).toBe('NO_WORKERS');
    expect(calls).toBe(1);
    const up = createManagerClient({ baseUrl: 'http://m', fetch: fakeFetch(async () => new Response('SERVER_ERROR', { status: 500 })) });
    expect((await codeOf(up.getWorker('SKMEANS'))).code).toBe('NO_WORKERS');
  });

  it('gives MANAGER_UNREACHABLE after the retries and PROTOCOL_VIOLATION on junk', async () => {
    let calls = 0;
    const down = createManagerClient({
      baseUrl: 'http://m',
      maxRetries: 2,
      retryDelayMs: 1,
      fetch: fakeFetch(async () => {
        calls++;
        throw new TypeError('fetch failed');
      }),
    });
    expect((await codeOf(down.getWorker('SKMEANS'))).code).toBe('MANAGER_UNREACHABLE');
    expect(calls).toBe(3);
    const junk = createManagerClient({ baseUrl: 'http://m', fetch: fakeFetch(async () => new Response(JSON.stringify({ worker_id: 'a b', worker_port: 1 }))) });
    expect((await codeOf(junk.getWorker('SKMEANS'))).code).toBe('PROTOCOL_VIOLATION');
  });

  it('stops retrying when aborted', async () => {
    const ac = new AbortController();
    const m = createManagerClient({
      baseUrl: 'http://m',
      retryDelayMs: 50,
      fetch: fakeFetch(async () => {
        ac.abort();
        throw new TypeError('fetch failed');
      }),
    });
    expect((await codeOf(m.getWorker('SKMEANS', { signal: ac.signal }))).code).toBe('ABORTED');
  });
});

describe('worker client', () => {
  it('posts headers and reads Rory response headers', async () => {
    let got: Headers | undefined;
    const w = createWorkerClient({
      baseUrl: 'http://w:9000',
      fetch: fakeFetch(async (_url, init) => {
        got = new Headers(init.headers);
        return new Response(null, { status: 204, headers: { 'Clustering-Status': '2', 'Service-Time': '0.5' } });
      }),
    });
    const r = await w.post('/clustering/skmeans', { 'Step-Index': '2', K: '3' });
    expect(got?.get('K')).toBe('3');
    expect(r.status).toBe(204);
    expect(parseSkmeansStep2Reply(r)).toEqual({ status: 2, serviceTime: 0.5 });
  });

  it('turns non-2xx into WORKER_ERROR with the Error-Message header', async () => {
    const w = createWorkerClient({
      baseUrl: 'http://w',
      fetch: fakeFetch(async () => new Response('missing header Num-Chunks', { status: 503, headers: { 'Error-Message': 'missing header Num-Chunks' } })),
    });
    const e = await codeOf(w.post('/clustering/skmeans', {}));
    expect(e.code).toBe('WORKER_ERROR');
    expect(e.details).toMatchObject({ status: 503, errorMessage: 'missing header Num-Chunks' });
    const rejected = createWorkerClient({ baseUrl: 'http://w', fetch: fakeFetch(async () => new Response('{"detail":[]}', { status: 422 })) });
    expect((await codeOf(rejected.post('/clustering/skmeans', {}))).code).toBe('PROTOCOL_VIOLATION');
  });

  it('distinguishes unreachable, timeout and abort', async () => {
    const down = createWorkerClient({ baseUrl: 'http://w', fetch: fakeFetch(async () => Promise.reject(new TypeError('fetch failed'))) });
    expect((await codeOf(down.post('/x', {}))).code).toBe('WORKER_UNREACHABLE');
    const hang: Script = (_u, init) =>
      new Promise((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason), { once: true }));
    const slow = createWorkerClient({ baseUrl: 'http://w', timeoutMs: 20, fetch: fakeFetch(hang) });
    expect((await codeOf(slow.post('/x', {}))).code).toBe('WORKER_TIMEOUT');
    const ac = new AbortController();
    const p = createWorkerClient({ baseUrl: 'http://w', fetch: fakeFetch(hang) }).post('/x', {}, { signal: ac.signal });
    ac.abort();
    expect((await codeOf(p)).code).toBe('ABORTED');
  });

  it('validates step-1 replies', async () => {
    const reply = (body: unknown) =>
      createWorkerClient({ baseUrl: 'http://w', fetch: fakeFetch(async () => new Response(JSON.stringify(body))) }).post('/s', {});
    const ok = parseStep1Reply(await reply({ label_vector: [0, 1, 1], encrypted_shift_matrix_id: 'Pencryptedshiftmatrix', n_iterations: 1 }), { n: 3, k: 2 });
    expect(Array.from(ok.labels)).toEqual([0, 1, 1]);
    expect(ok.encryptedShiftMatrixId).toBe('Pencryptedshiftmatrix');
    const bad = [
      { label_vector: [0, 2, 1], encrypted_shift_matrix_id: 'x' },
      { label_vector: [0, 1], encrypted_shift_matrix_id: 'x' },
      { label_vector: [0, 0.5, 1], encrypted_shift_matrix_id: 'x' },
      { label_vector: [0, 1, 1] },
    ];
    for (const b of bad) {
      const r = await reply(b);
      expect(() => parseStep1Reply(r, { n: 3, k: 2 })).toThrowError(expect.objectContaining({ code: 'PROTOCOL_VIOLATION' }));
    }
  });

  it('reads the DBSKMeans step-2 UDM shape and rejects a step 2 without status', async () => {
    const w = createWorkerClient({
      baseUrl: 'http://w',
      fetch: fakeFetch(async () => new Response(JSON.stringify({ encrypted_udm_shape: '(10, 2, 3)' }), { headers: { 'Clustering-Status': '2' } })),
    });
    expect(parseDbskmeansStep2Reply(await w.post('/d', {})).encryptedUdmShape).toEqual([10, 2, 3]);
    const nostatus = createWorkerClient({ baseUrl: 'http://w', fetch: fakeFetch(async () => new Response(null, { status: 204 })) });
    const r = await nostatus.post('/s', {});
    expect(() => parseSkmeansStep2Reply(r)).toThrowError(expect.objectContaining({ code: 'PROTOCOL_VIOLATION' }));
  });
});
