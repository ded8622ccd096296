/**
 * MictlanX client: retry, backoff, timeout, fail-over and error mapping (spec/mictlanx.md §4.1,
 * §4.4, §7). A scripted fake `fetch` is used ONLY here, for these control paths; everything else
 * is tested against the real local router in tests/integration/mictlanx.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { BACKOFF_CAP_MS, MictlanxClient, encodeBytesList, encodeBytesMatrix, type MictlanxClientOptions, type MictlanxRouter } from '@/lib/storage/mictlanx-client';
import { ndarray } from '@/lib/storage/ndarray';
import { fromHex, sha256Hex, toHex } from '@/lib/storage/sha256';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const A: MictlanxRouter = { id: 'router-a', host: '10.0.0.1', port: 60666, protocol: 'http' };
const B: MictlanxRouter = { id: 'router-b', host: '10.0.0.2', port: 60667, protocol: 'http' };

type Reply = { status: number; body?: unknown } | 'network' | 'hang';
interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** A fetch that answers from `script(call, n)` and records every call. */
function fakeFetch(script: (call: Call, n: number) => Reply) {
  const calls: Call[] = [];
  const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const call: Call = { method: init?.method ?? 'GET', url: String(input), headers: { ...((init?.headers as Record<string, string>) ?? {}) } };
    calls.push(call);
    const reply = script(call, calls.length - 1);
    if (reply === 'network') throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    if (reply === 'hang') {
      return new Promise<Response>((_, reject) => {
        const s = init?.signal;
        s?.addEventListener('abort', () => reject(s.reason), { once: true });
      });
    }
    const body = reply.body === undefined ? null : reply.body instanceof Uint8Array ? reply.body : JSON.stringify(reply.body);
    return new Response(body as BodyInit | null, { status: reply.status });
  }) as typeof fetch;
  return { fetch: f, calls };
}

function recordingSleep() {
  const waits: number[] = [];
  const sleep = async (ms: number, signal?: AbortSignal) => {
    waits.push(ms);
    if (signal?.aborted) throw new AppError('ABORTED', 'aborted');
  };
  return { sleep, waits };
}

function client(fetchFn: typeof fetch, extra: Partial<MictlanxClientOptions> = {}) {
  const { sleep, waits } = recordingSleep();
  const c = new MictlanxClient({ routers: [A], fetch: fetchFn, sleep, maxRetries: 3, random: () => 0.5, ...extra });
  return { c, waits };
}

const metadataOk = (key: string) => ({
  status: 200,
  body: { service_time: 0, peer_id: 'p', local_peer_id: 'p', metadata: { key, size: 8, checksum: 'x', tags: { index: '0', num_chunks: '1' }, content_type: 'application/octet-stream', producer_id: 't', ball_id: 'b', bucket_id: 'rory', is_disabled: false } },
});

describe('configuration', () => {
  it('parses MICTLANX_ROUTERS lists', () => {
    expect(MictlanxClient.parseRouters('mictlanx-router-0:127.0.0.1:63666', 'http')).toEqual([{ id: 'mictlanx-router-0', host: '127.0.0.1', port: 63666, protocol: 'http' }]);
    expect(MictlanxClient.parseRouters(' r0:a.example:1, r1:localhost:65535\nr2:b:80 ', 'https').map((r) => [r.id, r.host, r.port, r.protocol])).toEqual([
      ['r0', 'a.example', 1, 'https'],
      ['r1', 'localhost', 65535, 'https'],
      ['r2', 'b', 80, 'https'],
    ]);
    for (const bad of ['', 'r0:host', 'r0:host:0', 'r0:host:70000', 'r0:host:12a', 'r 0:host:1', 'r0:ho st:1', 'r0::1', 'r0:h:1:2', '-r:h:1']) {
      expect(() => MictlanxClient.parseRouters(bad, 'http'), bad).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
  });

  it('derives router URLs like lib/config (https drops the port) unless baseUrl is given', () => {
    expect(MictlanxClient.routerUrl(A)).toBe('http://10.0.0.1:60666');
    expect(MictlanxClient.routerUrl({ ...A, protocol: 'https' })).toBe('https://10.0.0.1');
    expect(MictlanxClient.routerUrl({ ...A, baseUrl: 'https://proxy.example/mictlanx/' })).toBe('https://proxy.example/mictlanx');
  });

  it('refuses no routers, bad buckets and bad limits', () => {
    const { fetch } = fakeFetch(() => ({ status: 200 }));
    expect(() => new MictlanxClient({ routers: [], fetch })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => new MictlanxClient({ routers: [A], fetch, bucket: 'bad bucket' })).toThrow(expect.objectContaining({ code: 'INVALID_KEY_ID' }));
    expect(() => new MictlanxClient({ routers: [A], fetch, maxParallel: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new MictlanxClient({ routers: [A], fetch, maxRetries: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('checks ball ids before any request', async () => {
    const calls: string[] = [];
    const { c } = client((async (input: RequestInfo | URL) => {
      calls.push(String(input));
      throw new Error('no request expected');
    }) as typeof fetch);
    const arr = ndarray('float64', [1], new Float64Array([1]));
    for (const bad of ['a b', 'a__b', 'x-', '', 'a/b', '../etc']) {
      await expect(c.putNdarray(bad, arr)).rejects.toMatchObject({ code: 'INVALID_KEY_ID' });
      await expect(c.getNdarray(bad)).rejects.toMatchObject({ code: 'INVALID_KEY_ID' });
      await expect(c.putBlob(bad, arr)).rejects.toMatchObject({ code: 'INVALID_KEY_ID' });
      await expect(c.getBlob(bad)).rejects.toMatchObject({ code: 'INVALID_KEY_ID' });
      await expect(c.putBytesList(bad, [])).rejects.toMatchObject({ code: 'INVALID_KEY_ID' });
      await expect(c.getBytesMatrix(bad)).rejects.toMatchObject({ code: 'INVALID_KEY_ID' });
      await expect(c.deleteBall(bad)).rejects.toMatchObject({ code: 'INVALID_KEY_ID' });
      await expect(c.exists(bad)).rejects.toMatchObject({ code: 'INVALID_KEY_ID' });
      await expect(c.getMerged(bad)).rejects.toMatchObject({ code: 'INVALID_KEY_ID' });
      await expect(c.ballChunks(bad)).rejects.toMatchObject({ code: 'INVALID_KEY_ID' });
    }
    expect(calls).toHaveLength(0);
  });
});

describe('backoff', () => {
  it('doubles from 1 s, caps at 5 s, and jitters within [50%, 100%]', () => {
    const lo = new MictlanxClient({ routers: [A], random: () => 0 });
    const hi = new MictlanxClient({ routers: [A], random: () => 0.999999 });
    expect([0, 1, 2, 3, 4, 9].map((n) => lo.backoffMs(n))).toEqual([500, 1000, 2000, 2500, 2500, 2500]);
    expect([0, 1, 2, 3, 4, 9].map((n) => hi.backoffMs(n))).toEqual([1000, 2000, 4000, 5000, 5000, 5000]);
    const real = new MictlanxClient({ routers: [A] });
    for (let n = 0; n < 50; n++) expect(real.backoffMs(n)).toBeLessThanOrEqual(BACKOFF_CAP_MS);
  });
});

describe('retries', () => {
  it('retries 5xx with growing waits, then succeeds', async () => {
    const { fetch, calls } = fakeFetch((_, n) => (n < 2 ? { status: 503, body: { detail: 'busy' } } : metadataOk('b_0')));
    const { c, waits } = client(fetch);
    await expect(c.exists('b')).resolves.toBe(true);
    expect(calls).toHaveLength(3);
    expect(calls[0].url).toBe('http://10.0.0.1:60666/api/v4/buckets/rory/metadata/b_0');
    expect(waits).toEqual([750, 1500]);
  });

  it('treats 404 and "404:"-500 as not found, without retrying', async () => {
    for (const reply of [{ status: 500, body: { detail: '404: No available peers' } }, { status: 404, body: { detail: 'x' } }]) {
      const { fetch, calls } = fakeFetch(() => reply);
      const { c, waits } = client(fetch);
      await expect(c.exists('b')).resolves.toBe(false);
      await expect(c.getNdarray('b')).rejects.toMatchObject({ code: 'STORAGE_NOT_FOUND', details: { ballId: 'b' } });
      expect(calls).toHaveLength(2);
      expect(waits).toEqual([]);
    }
  });

  it('gives up after maxRetries with STORAGE_FAILURE naming the router', async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 500, body: { detail: 'All connection attempts failed' } }));
    const { c, waits } = client(fetch, { maxRetries: 4 });
    const err = await c.exists('ball1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORAGE_FAILURE', status: 500 });
    expect((err as AppError).userMessage).toContain('http://10.0.0.1:60666');
    expect((err as AppError).userMessage).toContain('All connection attempts failed');
    expect(calls).toHaveLength(5);
    expect(waits).toEqual([750, 1500, 3000, 3750]);
  });

  it('does not retry other 4xx answers', async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 400, body: { detail: 'Bucket ID mismatch: rory != x' } }));
    const { c } = client(fetch);
    await expect(c.exists('b')).rejects.toMatchObject({ code: 'STORAGE_FAILURE', status: 400 });
    expect(calls).toHaveLength(1);
  });

  it('maps network errors to STORAGE_UNREACHABLE with what to check', async () => {
    const { fetch, calls } = fakeFetch(() => 'network');
    const { c, waits } = client(fetch, { maxRetries: 2 });
    const err = (await c.getNdarray('b').catch((e: unknown) => e)) as AppError;
    expect(err.code).toBe('STORAGE_UNREACHABLE');
    expect(err.userMessage).toContain('Check that the MictlanX router at http://10.0.0.1:60666 is running and reachable');
    expect(err.message).toContain('ECONNREFUSED');
    expect(calls).toHaveLength(3);
    expect(waits).toHaveLength(2);
  });

  it('times out each request and retries, then reports the timeout', async () => {
    const { fetch, calls } = fakeFetch(() => 'hang');
    const { c } = client(fetch, { maxRetries: 1, timeoutMs: 40 });
    const t0 = Date.now();
    const err = (await c.exists('b').catch((e: unknown) => e)) as AppError;
    expect(err.code).toBe('STORAGE_UNREACHABLE');
    expect(err.message).toContain('no answer within');
    expect(calls).toHaveLength(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(70);
  });

  it('stops at once when the caller aborts (no further attempts)', async () => {
    const ctrl = new AbortController();
    const { fetch, calls } = fakeFetch(() => 'hang');
    const { c } = client(fetch, { maxRetries: 5, timeoutMs: 60_000 });
    const p = c.exists('b', { signal: ctrl.signal });
    setTimeout(() => ctrl.abort(), 20);
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    expect(calls).toHaveLength(1);
    await expect(c.exists('b', { signal: ctrl.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(calls).toHaveLength(1);
  });

  it('an abort during the backoff wait ends the retry loop', async () => {
    const ctrl = new AbortController();
    const { fetch, calls } = fakeFetch(() => ({ status: 503 }));
    const c = new MictlanxClient({
      routers: [A],
      fetch,
      maxRetries: 5,
      sleep: async (_ms, signal) => {
        ctrl.abort();
        if (signal?.aborted) throw new AppError('ABORTED', 'aborted');
      },
    });
    await expect(c.exists('b', { signal: ctrl.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(calls).toHaveLength(1);
  });
});

describe('fail-over', () => {
  it('switches to the next router on a network error without waiting, and stays there', async () => {
    const { fetch, calls } = fakeFetch((call) => (call.url.startsWith('http://10.0.0.1') ? 'network' : metadataOk('b_0')));
    const { c, waits } = client(fetch, { routers: [A, B] });
    await expect(c.exists('b')).resolves.toBe(true);
    await expect(c.exists('b')).resolves.toBe(true);
    expect(calls.map((x) => new URL(x.url).host)).toEqual(['10.0.0.1:60666', '10.0.0.2:60667', '10.0.0.2:60667']);
    expect(waits).toEqual([]);
  });

  it('waits once every router has failed in a round, and names all of them', async () => {
    const { fetch, calls } = fakeFetch(() => 'network');
    const { c, waits } = client(fetch, { routers: [A, B], maxRetries: 3 });
    const err = (await c.exists('b').catch((e: unknown) => e)) as AppError;
    expect(err.code).toBe('STORAGE_UNREACHABLE');
    expect(err.userMessage).toContain('http://10.0.0.1:60666, http://10.0.0.2:60667');
    expect(calls).toHaveLength(4);
    expect(waits).toEqual([750]);
  });
});

describe('retry paths of a put', () => {
  const small = ndarray('float64', [1], new Float64Array([2.5]));

  it('deletes the ball first, looping until n_deletes is 0', async () => {
    let deletes = 0;
    const { fetch, calls } = fakeFetch((call) => {
      if (call.method === 'DELETE') return { status: 200, body: { n_deletes: deletes++ < 2 ? 3 : 0, ball_id: 'b' } };
      if (call.url.endsWith('/metadata')) return { status: 200, body: { tasks_ids: ['T1'], replicas: ['p'] } };
      return { status: 200, body: { peer_ids: ['p'], key: 'b_0', size: 8 } };
    });
    const { c } = client(fetch);
    await c.putNdarray('b', small);
    expect(calls.map((x) => `${x.method} ${new URL(x.url).pathname}`)).toEqual([
      'DELETE /api/v4/buckets/rory/bid/b',
      'DELETE /api/v4/buckets/rory/bid/b',
      'DELETE /api/v4/buckets/rory/bid/b',
      'POST /api/v4/buckets/rory/metadata',
      'POST /api/v4/buckets/data/T1/chunked',
    ]);
    expect(calls[0].headers.Force).toBe('1');
  });

  it('on the 666-404 deletes the chunk key and puts again', async () => {
    let metadataPosts = 0;
    const { fetch, calls } = fakeFetch((call) => {
      if (call.method === 'DELETE') return call.url.includes('/bid/') ? { status: 200, body: { n_deletes: 0 } } : { status: 200, body: { n_deletes: 1, key: 'b_0' } };
      if (call.url.endsWith('/metadata')) {
        return metadataPosts++ === 0
          ? { status: 404, body: { detail: { msg: 'No available peers.', code: 666, key: 'b_0' } } }
          : { status: 200, body: { tasks_ids: ['T2'] } };
      }
      return { status: 200, body: { peer_ids: ['p'] } };
    });
    const { c, waits } = client(fetch);
    await c.putNdarray('b', small);
    expect(calls.map((x) => `${x.method} ${new URL(x.url).pathname}`)).toEqual([
      'DELETE /api/v4/buckets/rory/bid/b',
      'POST /api/v4/buckets/rory/metadata',
      'DELETE /api/v4/buckets/rory/b_0',
      'POST /api/v4/buckets/rory/metadata',
      'POST /api/v4/buckets/data/T2/chunked',
    ]);
    expect(waits).toEqual([]);
  });

  it('redoes both steps when no peer took the data (peer_ids empty), and reports a persistent 666 as a conflict', async () => {
    let dataPosts = 0;
    let metadataPosts = 0;
    const { fetch, calls } = fakeFetch((call) => {
      if (call.method === 'DELETE') return { status: 200, body: { n_deletes: 0 } };
      if (call.url.endsWith('/metadata')) return metadataPosts++ === 0 ? { status: 200, body: { tasks_ids: ['T1'] } } : metadataPosts === 2 ? { status: 404, body: { detail: { code: 666 } } } : { status: 200, body: { tasks_ids: ['T3'] } };
      return { status: 200, body: { peer_ids: dataPosts++ === 0 ? [] : ['p'] } };
    });
    const { c, waits } = client(fetch);
    await c.putNdarray('b', small);
    expect(calls.filter((x) => x.url.includes('/data/')).map((x) => new URL(x.url).pathname)).toEqual(['/api/v4/buckets/data/T1/chunked', '/api/v4/buckets/data/T3/chunked']);
    expect(waits).toHaveLength(1);

    const always666 = fakeFetch((call) => (call.method === 'DELETE' ? { status: 200, body: { n_deletes: 0 } } : { status: 404, body: { detail: { code: 666 } } }));
    const { c: c2 } = client(always666.fetch, { maxRetries: 2 });
    await expect(c2.putNdarray('b', small)).rejects.toMatchObject({ code: 'STORAGE_CONFLICT' });
  });
});

describe('E3/E4 chunking (pure; encodings.json E3/E4)', () => {
  const vectors = JSON.parse(readFileSync(fileURLToPath(new URL('../../../shared/vectors/encodings.json', import.meta.url)), 'utf8'));

  it('one E3 chunk is exactly mictlanx Chunk.from_list of the items, with the Python tag set', async () => {
    const items = (vectors.E3.items_hex as string[]).map(fromHex);
    const ball = await encodeBytesList('P0centi', items, { numChunks: 1, tags: { note: 'x' } });
    expect(ball.chunks).toHaveLength(1);
    expect(toHex(ball.chunks[0].payload)).toBe(vectors.E3.mictlanx_Chunk_from_list_payload_hex);
    const sum = await sha256Hex(ball.chunks[0].payload);
    expect(ball.chunks[0].checksum).toBe(sum);
    expect(ball.chunks[0].tags).toEqual({ index: '0', num_chunks: '1', chunk_size: String(ball.chunks[0].payload.byteLength), group_id: 'P0centi', full_checksum: sum, note: 'x' });
  });

  it('E3 items are grouped with the E1 row rule (7 items, N=4 → 6 chunks); E4 rows likewise', async () => {
    const items = Array.from({ length: 7 }, (_, i) => new Uint8Array([i]));
    const ball = await encodeBytesList('ct', items, { numChunks: 4 });
    expect(ball.chunks.map((c) => c.tags.num_chunks)).toEqual(Array(6).fill('6'));
    const rows = (vectors.E4.items_hex as string[][]).map((r) => r.map(fromHex));
    const e4 = await encodeBytesMatrix('dist', rows, { numChunks: 1 });
    expect(toHex(e4.chunks[0].payload)).toBe(vectors.E4.pickle_hex_by_protocol['4']);
    await expect(encodeBytesList('ct', [1 as unknown as Uint8Array])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
