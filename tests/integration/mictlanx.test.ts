/**
 * The MictlanX client against the real local router (server/mictlanx) on 127.0.0.1, random ports,
 * temporary data directories: E1/E2/E3/E4 round trips, the router's API v4 semantics and CORS
 * (spec/mictlanx.md §4, §6, with the D9 deviations of server/mictlanx), restarts and kills mid-upload, on-disk corruption, unreachable
 * routers and fail-over.
 */
import { request as httpRequest } from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { MictlanxClient, type MictlanxClientOptions, type MictlanxRouter } from '@/lib/storage/mictlanx-client';
import { ndarray, ndarrayToBytes } from '@/lib/storage/ndarray';
import { sha256Hex, toHex } from '@/lib/storage/sha256';
import type { NdArray } from '@/lib/storage/types';
import { AccessPolicy } from '@/server/common/http';
import { createMictlanxRouter, type MictlanxRouterHandle } from '@/server/mictlanx';
import { encodeE1 } from '@/lib/storage/e1';
import { encodePayloads } from '@/lib/storage/e3e4';
import { freePort } from '../helpers/net';

const noSleep = async () => {};

function routerOf(port: number, id = 'mictlanx-router-0'): MictlanxRouter {
  return { id, host: '127.0.0.1', port, protocol: 'http' };
}

function clientFor(port: number | number[], extra: Partial<MictlanxClientOptions> = {}) {
  const ports = Array.isArray(port) ? port : [port];
  return new MictlanxClient({ routers: ports.map((p, i) => routerOf(p, `r${i}`)), maxRetries: 2, sleep: noSleep, timeoutMs: 20_000, ...extra });
}

function expectSameArray(got: NdArray, want: NdArray) {
  expect(got.dtype).toBe(want.dtype);
  expect(got.shape).toEqual(want.shape);
  expect(toHex(ndarrayToBytes(got))).toBe(toHex(ndarrayToBytes(want)));
}

/** Deterministic pseudo-random doubles (test data only). */
function doubles(n: number, seed = 1): Float64Array {
  const out = new Float64Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out[i] = (x / 2147483648 - 0.5) * 10 ** ((i % 7) - 3);
  }
  return out;
}

async function bucketFiles(dataDir: string): Promise<string[]> {
  return readdir(join(dataDir, 'buckets', 'rory')).catch(() => []);
}

/** Data files of a ball, by chunk key, from the router's records on disk. */
async function dataFilesOf(dataDir: string, ballId: string): Promise<Map<string, string>> {
  const dir = join(dataDir, 'buckets', 'rory');
  const out = new Map<string, string>();
  for (const name of await bucketFiles(dataDir)) {
    if (!name.endsWith('.json')) continue;
    const rec = JSON.parse(await readFile(join(dir, name), 'utf8'));
    if (rec.metadata.ball_id === ballId && rec.dataFile) out.set(rec.metadata.key, join(dir, rec.dataFile));
  }
  return out;
}

interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

async function raw(url: string, method: string, opts: { headers?: Record<string, string>; body?: string | Uint8Array } = {}): Promise<RawReply> {
  const res = await fetch(url, { method, headers: opts.headers, body: opts.body as BodyInit | undefined });
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => (headers[k] = v));
  return { status: res.status, headers, body: await res.text() };
}

describe('local MictlanX router + client', () => {
  let dataDir: string;
  let router: MictlanxRouterHandle;
  let client: MictlanxClient;
  let api: string;
  const seen: { method: string; url: string; headers: Readonly<Record<string, string | string[] | undefined>> }[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mictlanx-it-'));
    router = await createMictlanxRouter({ dataDir, onRequest: (r) => seen.push(r), access: new AccessPolicy({ origins: ['http://localhost:3000'] }) });
    api = `${router.url}/api/v4`;
    client = clientFor(router.port);
  });

  afterAll(async () => {
    await router?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  describe('E1 round trips', () => {
    const int64s = new BigInt64Array([0n, 1n, -1n, 2147483648n, -(2n ** 63n), 2n ** 63n - 1n, 9007199254740993n, -9007199254740993n, 7n, -7n, 123456789n, -987654321n, 3n, 4n, 5n, 6n]);
    const shapes: [string, NdArray, number, number][] = [
      ['float64 5×4', ndarray('float64', [5, 4], doubles(20)), 4, 4],
      ['float32 3×7', ndarray('float32', [3, 7], Float32Array.from(doubles(21, 7))), 4, 3],
      ['int64 8×2 with extremes', ndarray('int64', [8, 2], int64s), 4, 4],
      ['1-D float64 (7,)', ndarray('float64', [7], doubles(7, 3)), 4, 6],
      ['3-D Liu tensor 5×2×3', ndarray('float64', [5, 2, 3], doubles(30, 5)), 4, 4],
      ['rows < chunks 2×3', ndarray('float64', [2, 3], doubles(6, 9)), 4, 2],
      ['7 rows / 4 chunks → 6', ndarray('float64', [7, 3], doubles(21, 11)), 4, 6],
      ['one chunk 10×10', ndarray('float64', [10, 10], doubles(100, 13)), 1, 1],
      ['int64 vector (1,)', ndarray('int64', [1], new BigInt64Array([-(2n ** 63n)])), 4, 1],
    ];
    shapes.forEach(([name, arr, n, expectedChunks], k) => {
      it(`${name}: put, get, merge, chunk list`, async () => {
        const ball = `shape${k}`;
        const progress: number[] = [];
        await client.putNdarray(ball, arr, { numChunks: n, tags: { full_shape: `(${arr.shape.join(', ')})` } });
        expect(await client.exists(ball)).toBe(true);
        const got = await client.getNdarray(ball, { onProgress: (p) => progress.push(p.doneChunks) });
        expectSameArray(got, arr);
        expect(progress.at(-1)).toBe(expectedChunks);
        const chunks = await client.ballChunks(ball);
        expect(chunks.map((c) => c.key)).toEqual(Array.from({ length: expectedChunks }, (_, i) => `${ball}_${i}`));
        expect(chunks.every((c) => c.tags.num_chunks === String(expectedChunks) && c.tags.full_shape !== undefined)).toBe(true);
        expect(toHex(await client.getMerged(ball))).toBe(toHex(ndarrayToBytes(arr)));
      });
    });

    it('stores exactly the metadata of the vectors (the router keeps tags and checksums verbatim)', async () => {
      const arr = ndarray('float64', [7, 3], doubles(21, 17));
      const encoded = await encodeE1('vecball', arr, { numChunks: 4, tags: { full_shape: '(7, 3)', full_dtype: 'float64' } });
      await client.putNdarray('vecball', arr, { numChunks: 4, tags: { full_shape: '(7, 3)', full_dtype: 'float64' } });
      const chunks = await client.ballChunks('vecball');
      expect(chunks.map((c) => [c.key, c.size, c.checksum, c.tags, c.producer_id, c.bucket_id, c.ball_id])).toEqual(
        encoded.chunks.map((c) => [c.key, c.payload.byteLength, c.checksum, c.tags, 'rory-client-0', 'rory', 'vecball']),
      );
    });

    it('a streamed put (putNdarrayStream) stores exactly what putNdarray stores, producing the array twice in bounded ranges', async () => {
      const shape = [23, 5, 3];
      const values = doubles(23 * 15, 29);
      const arr = ndarray('float64', shape, values);
      const tags = { full_shape: '(23, 5, 3)', full_dtype: 'float64' };
      const asked: [number, number][] = [];
      const source = {
        shape,
        rows: async (from: number, to: number) => {
          asked.push([from, to]);
          return values.slice(from * 15, to * 15);
        },
      };
      const progress: number[] = [];
      await client.putNdarrayStream('streamball', source, { numChunks: 4, tags, onProgress: (p) => progress.push(p.doneBytes) });
      await client.putNdarray('wholeball', arr, { numChunks: 4, tags });
      const streamed = await client.ballChunks('streamball');
      const whole = await client.ballChunks('wholeball');
      const strip = (c: (typeof whole)[number]) => [c.key.replace(/^\w+ball/, ''), c.size, c.checksum, { ...c.tags, group_id: '' }];
      expect(streamed.map(strip)).toEqual(whole.map(strip));
      expect(streamed[0].tags.full_checksum).toBe(await sha256Hex(ndarrayToBytes(arr)));
      expectSameArray(await client.getNdarray('streamball'), arr);
      // Two passes over all 23 rows, and no range larger than a chunk (≤ 6 rows here).
      const rowsAsked = asked.reduce((s2, [f, t]) => s2 + (t - f), 0);
      expect(rowsAsked).toBe(2 * 23);
      expect(Math.max(...asked.map(([f, t]) => t - f))).toBeLessThanOrEqual(6);
      expect(progress.at(-1)).toBe(23 * 15 * 8);
    });

    it('a streamed source that changes between its two passes cannot produce a ball that reads back', async () => {
      let pass = 0;
      const source = {
        shape: [4, 2],
        rows: async (from: number, to: number) => {
          if (from === 0) pass++;
          return new Float64Array((to - from) * 2).fill(pass);
        },
      };
      await client.putNdarrayStream('driftball', source, { numChunks: 2 });
      await expect(client.getNdarray('driftball')).rejects.toMatchObject({ code: 'STORAGE_INTEGRITY' });
    });

    it('a streamed chunk reaches an injected fetch as a Blob (as in browsers), gathered once: a retried upload resends it', async () => {
      const values = doubles(12 * 3, 41);
      const asked: [number, number][] = [];
      const source = {
        shape: [12, 3],
        rows: async (from: number, to: number) => {
          asked.push([from, to]);
          return values.slice(from * 3, to * 3);
        },
      };
      const bodies: string[] = [];
      let dataPosts = 0;
      const flaky: typeof fetch = async (input, init) => {
        if (String(input).includes('/chunked')) {
          bodies.push(init?.body instanceof Blob ? `Blob ${init.body.size}` : typeof init?.body);
          if (++dataPosts === 2) throw new TypeError('fetch failed');
        }
        return fetch(input, init);
      };
      await clientFor(router.port, { fetch: flaky, maxParallel: 1 }).putNdarrayStream('retried', source, { numChunks: 3 });
      // 4 rows (96 bytes) per chunk; the second chunk is sent twice but produced once.
      expect(bodies).toEqual(['Blob 96', 'Blob 96', 'Blob 96', 'Blob 96']);
      expect(asked.reduce((s2, [f, t]) => s2 + (t - f), 0)).toBe(2 * 12);
      expectSameArray(await client.getNdarray('retried'), ndarray('float64', [12, 3], values));
    });

    it('a source that fails while a chunk is being sent fails the put with its own error, without retrying it', async () => {
      let calls = 0;
      const source = {
        shape: [8, 2],
        rows: async (from: number, to: number) => {
          // Pass 1 reads all 8 rows; the second range of pass 2 fails.
          if (++calls === 10) throw new AppError('CRYPTO_FAILURE', 'the crypto worker stopped', { userMessage: 'Encryption failed.' });
          return new Float64Array((to - from) * 2).fill(from);
        },
      };
      const err = (await client.putNdarrayStream('failing', source, { numChunks: 1 }).catch((e: unknown) => e)) as AppError;
      expect(err).toBeInstanceOf(AppError);
      expect(err.code).toBe('CRYPTO_FAILURE');
      expect(calls).toBe(10);
      await expect(client.getNdarray('failing')).rejects.toBeInstanceOf(AppError);
    });

    it('reports upload progress per chunk and reads with Force-Get: 1 unless force is false', async () => {
      const arr = ndarray('float64', [4, 1], new Float64Array([1, 2, 3, 4]));
      const progress: string[] = [];
      await client.putNdarray('progress', arr, { numChunks: 4, onProgress: (p) => progress.push(`${p.doneChunks}/${p.totalChunks}:${p.doneBytes}/${p.totalBytes}`) });
      expect(progress).toEqual(['0/4:0/32', '1/4:8/32', '2/4:16/32', '3/4:24/32', '4/4:32/32']);
      const dataGets = () => seen.filter((r) => r.method === 'GET' && /\/buckets\/rory\/progress_\d$/.test(r.url));
      seen.length = 0;
      await client.getNdarray('progress');
      expect(dataGets().map((r) => r.headers['force-get'])).toEqual(['1', '1', '1', '1']);
      seen.length = 0;
      await client.getNdarray('progress', { force: false });
      expect(dataGets().map((r) => r.headers['force-get'])).toEqual(['0', '0', '0', '0']);
      seen.length = 0;
      await client.putNdarray('progress', arr, { numChunks: 4 });
      expect(seen.filter((r) => r.method === 'DELETE').map((r) => [r.url, r.headers.force])).toEqual([
        ['/api/v4/buckets/rory/bid/progress', '1'],
        ['/api/v4/buckets/rory/bid/progress', '1'],
      ]);
    });

    it('deletes a ball, then reports it missing', async () => {
      await client.putNdarray('gone', ndarray('float64', [7, 1], doubles(7)), { numChunks: 4 });
      expect(await client.deleteBall('gone')).toBe(6);
      expect(await client.deleteBall('gone')).toBe(0);
      expect(await client.exists('gone')).toBe(false);
      const err = (await client.getNdarray('gone').catch((e: unknown) => e)) as AppError;
      expect(err.code).toBe('STORAGE_NOT_FOUND');
      expect(err.userMessage).toContain('"gone"');
      await expect(client.ballChunks('gone')).rejects.toMatchObject({ code: 'STORAGE_NOT_FOUND' });
      await expect(client.getMerged('gone')).rejects.toMatchObject({ code: 'STORAGE_NOT_FOUND' });
    });

    it('re-puts the same ball with another shape and fewer chunks (delete before put)', async () => {
      const first = ndarray('float64', [9, 2], doubles(18, 21));
      const second = ndarray('int64', [2, 2], new BigInt64Array([1n, 2n, 3n, 4n]));
      await client.putNdarray('reput', first, { numChunks: 4 });
      await client.putNdarray('reput', second, { numChunks: 4 });
      expectSameArray(await client.getNdarray('reput'), second);
      expect((await client.ballChunks('reput')).length).toBe(2);
      await client.putNdarray('reput', first, { numChunks: 4 });
      expectSameArray(await client.getNdarray('reput'), first);
    });
  });

  describe('E2, E3, E4', () => {
    it('E2 blob of 400000 bytes in 3 pieces; E1 and E2 are not interchangeable', async () => {
      const arr = ndarray('float64', [25000, 2], Float64Array.from({ length: 50000 }, (_, i) => i * 0.5));
      await client.putBlob('blob0', arr);
      expectSameArray(await client.getBlob('blob0'), arr);
      const chunks = await client.ballChunks('blob0');
      expect(chunks.map((c) => c.size)).toEqual([128000, 128000, 144000]);
      expect(chunks[0].tags.full_checksum).toBe('6846dfc201f541b8f5c7ac32df39ab12d38139a5c6c10cfea7252208229be04e');
      expect(chunks.every((c) => c.tags.shape === '(25000, 2)' && c.tags.dtype === 'float64')).toBe(true);
      await expect(client.getNdarray('blob0')).rejects.toMatchObject({ code: 'STORAGE_INTEGRITY' });
    });

    it('E3 list of bytes and E4 list of lists round-trip in index order', async () => {
      const items = Array.from({ length: 7 }, (_, i) => Uint8Array.from({ length: i * 300 }, (_, j) => (i * 31 + j) % 256));
      await client.putBytesList('ctlist', items, { numChunks: 4 });
      expect((await client.ballChunks('ctlist')).length).toBe(6);
      expect((await client.getBytesList('ctlist')).map(toHex)).toEqual(items.map(toHex));

      const rows = [[new Uint8Array([1, 2]), new Uint8Array([3])], [], [new Uint8Array(70000).fill(9)], [new Uint8Array(0)]];
      await client.putBytesMatrix('ctmatrix', rows, { numChunks: 2 });
      expect((await client.getBytesMatrix('ctmatrix')).map((r) => r.map(toHex))).toEqual(rows.map((r) => r.map(toHex)));

      await client.putBytesList('ctempty', []);
      expect(await client.getBytesList('ctempty')).toEqual([]);
    });

    it('fullChecksum is the full_checksum tag of the ball, changes with the content, and is undefined when absent', async () => {
      await client.putBytesList('ctsum', [Uint8Array.of(1, 2, 3)]);
      const first = await client.fullChecksum('ctsum');
      expect(first).toMatch(/^[0-9a-f]{64}$/);
      expect((await client.ballChunks('ctsum'))[0].tags.full_checksum).toBe(first);
      await client.putBytesList('ctsum', [Uint8Array.of(1, 2, 4)]);
      expect(await client.fullChecksum('ctsum')).not.toBe(first);
      expect(await client.fullChecksum('ctnosuchball')).toBeUndefined();
    });

    it('lists the bucket grouped by ball', async () => {
      const balls = await client.listBucket();
      const blob = balls.find((b) => b.ballId === 'blob0')!;
      expect(blob.chunks.map((c) => c.tags.index)).toEqual(['0', '1', '2']);
      expect(blob.sizeBytes).toBe(400000);
      expect(blob.numChunks).toBe(3);
      expect(balls.some((b) => b.ballId === 'gone')).toBe(false);
    });

    it('reports router health with latency', async () => {
      const [h] = await client.health();
      expect(h).toMatchObject({ id: 'r0', ok: true, peers: 1 });
      expect(h.latencyMs).toBeGreaterThanOrEqual(0);
    });
  });

  describe('router API v4 semantics', () => {
    const md = (key: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ bucket_id: 'rory', key, ball_id: key.replace(/_\d+$/, ''), checksum: 'x', size: 3, tags: { index: '0', num_chunks: '1' }, producer_id: 't', ...extra });

    it('put metadata → single-use task → data; duplicate key → 404 code 666', async () => {
      const r1 = await raw(`${api}/buckets/rory/metadata`, 'POST', { headers: { 'Content-Type': 'application/json' }, body: md('raw_0') });
      expect(r1.status).toBe(200);
      const j1 = JSON.parse(r1.body);
      expect(j1).toMatchObject({ key: 'raw_0', bucket_id: 'rory', replicas: ['mictlanx-peer-0'], extra: {} });
      expect(j1.tasks_ids).toHaveLength(1);
      const d1 = await raw(`${api}/buckets/data/${j1.tasks_ids[0]}/chunked`, 'POST', { body: new Uint8Array([1, 2, 3]) });
      expect(d1.status).toBe(200);
      expect(JSON.parse(d1.body)).toEqual({ peer_ids: ['mictlanx-peer-0'], combined_key: 'rory@raw_0', bucket_id: 'rory', key: 'raw_0', size: 3 });
      const again = await raw(`${api}/buckets/data/${j1.tasks_ids[0]}/chunked`, 'POST', { body: new Uint8Array([1, 2, 3]) });
      expect(again.status).toBe(500);
      const dup = await raw(`${api}/buckets/rory/metadata`, 'POST', { headers: { 'Content-Type': 'application/json' }, body: md('raw_0') });
      expect(dup.status).toBe(404);
      expect(JSON.parse(dup.body).detail).toMatchObject({ code: 666, msg: 'No available peers.', key: 'raw_0' });
      const data = await fetch(`${api}/buckets/rory/raw_0`);
      expect(data.headers.get('content-length')).toBeNull();
      expect(data.headers.get('transfer-encoding')).toBe('chunked');
      expect([...new Uint8Array(await data.arrayBuffer())]).toEqual([1, 2, 3]);
    });

    it('422 for non-string tags and missing fields, 400 for bucket mismatch, size mismatch refused', async () => {
      const bad = await raw(`${api}/buckets/rory/metadata`, 'POST', { headers: { 'Content-Type': 'application/json' }, body: md('v_0', { tags: { index: 0 } }) });
      expect(bad.status).toBe(422);
      expect(JSON.parse(bad.body).detail[0]).toMatchObject({ loc: ['body', 'tags', 'index'], msg: 'Input should be a valid string' });
      const missing = await raw(`${api}/buckets/rory/metadata`, 'POST', { headers: { 'Content-Type': 'application/json' }, body: '{"bucket_id":"rory"}' });
      expect(missing.status).toBe(422);
      const mismatch = await raw(`${api}/buckets/other/metadata`, 'POST', { headers: { 'Content-Type': 'application/json' }, body: md('v_0') });
      expect(mismatch.status).toBe(400);
      expect(JSON.parse(mismatch.body).detail).toBe('Bucket ID mismatch: other != rory');
      const ok = JSON.parse((await raw(`${api}/buckets/rory/metadata`, 'POST', { body: md('short_0') })).body);
      const short = await raw(`${api}/buckets/data/${ok.tasks_ids[0]}/chunked`, 'POST', { body: new Uint8Array([1]) });
      expect(short.status).toBe(400);
    });

    it('metadata of a missing key is a 500 "404:"; data of a half-uploaded key is 404 and it is not listed', async () => {
      const m = await raw(`${api}/buckets/rory/metadata/nokey_0`, 'GET');
      expect(m.status).toBe(500);
      expect(JSON.parse(m.body).detail).toMatch(/^404:/);
      await raw(`${api}/buckets/rory/metadata`, 'POST', { body: md('half_0') });
      expect((await raw(`${api}/buckets/rory/metadata/half_0`, 'GET')).status).toBe(200);
      expect((await raw(`${api}/buckets/rory/half_0`, 'GET')).status).toBe(404);
      expect((await raw(`${api}/buckets/rory/half/merge`, 'GET')).status).toBe(404);
      const list = JSON.parse((await raw(`${api}/buckets/rory/metadata`, 'GET')).body);
      expect(list.balls.some((b: { key: string }) => b.key === 'half_0')).toBe(false);
      // The client refuses it clearly, and a put over it succeeds (delete first).
      await expect(client.getNdarray('half')).rejects.toMatchObject({ code: 'STORAGE_INTEGRITY', details: { ballId: 'half' } });
      await client.putNdarray('half', ndarray('float64', [1], new Float64Array([4])));
      expect(Array.from((await client.getNdarray('half')).data as Float64Array)).toEqual([4]);
    });

    it('deletes by key (404 when absent) and by ball (n_deletes, 0 when absent)', async () => {
      expect(JSON.parse((await raw(`${api}/buckets/rory/raw_0`, 'DELETE', { headers: { Force: '1' } })).body)).toEqual({ n_deletes: 1, key: 'raw_0' });
      const again = await raw(`${api}/buckets/rory/raw_0`, 'DELETE');
      expect(again.status).toBe(404);
      expect(JSON.parse(again.body).detail).toBe('rory@raw_0 not found');
      expect(JSON.parse((await raw(`${api}/buckets/rory/bid/nothing`, 'DELETE')).body)).toEqual({ n_deletes: 0, ball_id: 'nothing' });
    });

    it('answers CORS for the allowed origin only: echo, no credentials, preflights list DELETE; errors carry CORS too', async () => {
      const pre = await raw(`${api}/buckets/rory/metadata`, 'OPTIONS', {
        headers: { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,force-get' },
      });
      expect(pre.status).toBe(204);
      expect(pre.headers['access-control-allow-origin']).toBe('http://localhost:3000');
      // D9 deviation from Starlette's defaults (spec/mictlanx.md §6): never credentials.
      expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
      expect(pre.headers['access-control-allow-headers']).toBe('*');
      expect(pre.headers['access-control-allow-methods']).toContain('DELETE');
      expect(pre.headers['access-control-max-age']).toBe('600');
      const err = await raw(`${api}/buckets/rory/metadata/nokey_0`, 'GET', { headers: { Origin: 'http://localhost:3000' } });
      expect(err.status).toBe(500);
      expect(err.headers['access-control-allow-origin']).toBe('http://localhost:3000');
      const nf = await raw(`${router.url}/nowhere`, 'GET', { headers: { Origin: 'http://localhost:3000' } });
      expect(nf.status).toBe(404);
      expect(JSON.parse(nf.body)).toEqual({ detail: 'not found: /nowhere' });
      expect(nf.headers['access-control-allow-origin']).toBe('http://localhost:3000');
      // Any other origin: refused, no grant.
      const foreign = await raw(`${router.url}/nowhere`, 'GET', { headers: { Origin: 'http://a.example' } });
      expect(foreign.status).toBe(403);
      expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
      expect((await raw(`${api}/peers/stats`, 'GET')).status).toBe(200);
      expect((await raw(`${router.url}/health`, 'GET')).status).toBe(200);
      expect((await raw(`${router.url}/mictlanx/api/v4/buckets/rory/metadata`, 'GET')).status).toBe(200);
    });
  });

  describe('bounded reads (issue #12 finding 5)', () => {
    const metadataGets = (ball: string) => seen.filter((r) => r.method === 'GET' && r.url.startsWith(`/api/v4/buckets/rory/metadata/${ball}_`)).length;
    const dataGets = (ball: string) => seen.filter((r) => r.method === 'GET' && new RegExp(`^/api/v4/buckets/rory/${ball}_\\d+$`).test(r.url)).length;

    it('an expected shape is checked: more chunks than rows are refused before any data is read, another shape after', async () => {
      const arr = ndarray('float64', [5, 4], doubles(20, 51));
      await client.putNdarray('shaped', arr, { numChunks: 4 });
      seen.length = 0;
      expectSameArray(await client.getNdarray('shaped', { expect: { shape: [5, 4] } }), arr);
      expect([metadataGets('shaped'), dataGets('shaped')]).toEqual([4, 4]);
      seen.length = 0;
      const early = (await client.getNdarray('shaped', { expect: { shape: [2, 4] } }).catch((e: unknown) => e)) as AppError;
      expect(early).toMatchObject({ code: 'STORAGE_INTEGRITY', details: { ballId: 'shaped' } });
      expect(early.message).toContain('claims 4 chunks, more than the 2 allowed by the expected shape (2, 4)');
      expect(metadataGets('shaped')).toBe(1);
      expect(dataGets('shaped')).toBe(0);
      await expect(client.getNdarray('shaped', { expect: { shape: [5, 3] } })).rejects.toMatchObject({
        code: 'STORAGE_INTEGRITY',
        message: expect.stringContaining('claim more than 120 bytes'),
      });
      await expect(client.getNdarray('shaped', { expect: { shape: [4, 5] } })).rejects.toMatchObject({
        code: 'STORAGE_INTEGRITY',
        message: expect.stringContaining('it has shape (5, 4), (4, 5) was expected'),
      });
    });

    it('a byte budget is checked against the declared sizes before the data is fetched', async () => {
      const arr = ndarray('float64', [25000, 2], Float64Array.from({ length: 50000 }, (_, i) => i));
      await client.putBlob('budget', arr);
      seen.length = 0;
      await expect(client.getBlob('budget', { expect: { maxBytes: 399_999 } })).rejects.toMatchObject({ code: 'STORAGE_INTEGRITY' });
      expect(dataGets('budget')).toBe(0);
      await expect(client.getMerged('budget', { expect: { maxBytes: 399_999 } })).rejects.toMatchObject({ code: 'STORAGE_INTEGRITY' });
      expectSameArray(await client.getBlob('budget', { expect: { maxBytes: 400_000, shape: [25000, 2] } }), arr);
      expect((await client.getMerged('budget', { expect: { maxBytes: 400_000 } })).byteLength).toBe(400_000);
    });

    it('a stored num_chunks of 1e6 costs one metadata request, not a million', async () => {
      const md = { bucket_id: 'rory', key: 'liar_0', ball_id: 'liar', checksum: 'x', size: 8, tags: { index: '0', num_chunks: '1000000', full_checksum: 'x' }, producer_id: 't' };
      const r = await raw(`${api}/buckets/rory/metadata`, 'POST', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(md) });
      await raw(`${api}/buckets/data/${JSON.parse(r.body).tasks_ids[0]}/chunked`, 'POST', { body: new Uint8Array(8) });
      seen.length = 0;
      const t0 = performance.now();
      const err = (await client.getNdarray('liar').catch((e: unknown) => e)) as AppError;
      expect(err).toMatchObject({ code: 'STORAGE_INTEGRITY', message: expect.stringContaining('claims 1000000 chunks, more than the 4096 allowed') });
      expect(metadataGets('liar')).toBe(1);
      expect(performance.now() - t0).toBeLessThan(2000);
    });

    it('a stored pickle bomb (496 bytes, valid checksums) is refused in well under a second', async () => {
      const levels = 60;
      const out: number[] = [0x80, 0x04];
      for (let i = 0; i < levels; i++) out.push(0x5d, 0x94, 0x28);
      out.push(0x5d, 0x94, 0x43, 7, ...new Array<number>(7).fill(0x61), 0x94, 0x61);
      for (let i = levels - 1; i >= 0; i--) out.push(0x68, i + 1, 0x68, i + 1, 0x65);
      out.push(0x2e);
      await client.putBall(await encodePayloads('P0centi', [Uint8Array.from(out)]));
      const t0 = performance.now();
      const err = (await client.getBytesList('P0centi').catch((e: unknown) => e)) as AppError;
      expect(err).toMatchObject({ code: 'STORAGE_INTEGRITY', details: { ballId: 'P0centi' } });
      expect(err.message).toContain('a memo reference to a list is not allowed');
      expect(performance.now() - t0).toBeLessThan(1000);
      await expect(client.getBytesMatrix('P0centi')).rejects.toMatchObject({ code: 'STORAGE_INTEGRITY' });
    });

    it('E3/E4 reads check the expected item count and row shape', async () => {
      const items = Array.from({ length: 5 }, (_, i) => new Uint8Array(100 + i).fill(i));
      await client.putBytesList('ctcount', items, { numChunks: 2 });
      expect((await client.getBytesList('ctcount', { expect: { shape: [5] } })).map(toHex)).toEqual(items.map(toHex));
      await expect(client.getBytesList('ctcount', { expect: { shape: [6] } })).rejects.toMatchObject({ message: expect.stringContaining('holds 5 ciphertexts, 6 were expected') });
      await expect(client.getBytesList('ctcount', { expect: { shape: [5], maxBytes: 500 } })).rejects.toMatchObject({ code: 'STORAGE_INTEGRITY' });
      const rows = items.map((b) => [b, b]);
      await client.putBytesMatrix('ctrows', rows, { numChunks: 3 });
      expect((await client.getBytesMatrix('ctrows', { expect: { shape: [5, 2] } })).length).toBe(5);
      await expect(client.getBytesMatrix('ctrows', { expect: { shape: [5, 3] } })).rejects.toMatchObject({ code: 'STORAGE_INTEGRITY' });
    });
  });

  describe('failures', () => {
    it('a corrupted chunk file fails the read with STORAGE_INTEGRITY naming the ball', async () => {
      const arr = ndarray('float64', [8, 4], doubles(32, 23));
      await client.putNdarray('corrupt', arr, { numChunks: 4 });
      const files = await dataFilesOf(dataDir, 'corrupt');
      const path = files.get('corrupt_2')!;
      const bytes = await readFile(path);
      bytes[5] ^= 0x01;
      await writeFile(path, bytes);
      const err = (await client.getNdarray('corrupt').catch((e: unknown) => e)) as AppError;
      expect(err.code).toBe('STORAGE_INTEGRITY');
      expect(err.message).toContain('corrupt');
      expect(err.userMessage).toContain('"corrupt"');
      await expect(client.getMerged('corrupt')).rejects.toMatchObject({ code: 'STORAGE_INTEGRITY' });
      await writeFile(path, bytes.subarray(0, 10));
      await expect(client.getNdarray('corrupt')).rejects.toMatchObject({ code: 'STORAGE_INTEGRITY' });
      await rm(path);
      await expect(client.getNdarray('corrupt')).rejects.toMatchObject({ code: 'STORAGE_INTEGRITY' });
    });

    it('chunks that each match their checksum but not full_checksum, or mix two uploads, are refused', async () => {
      const arr = ndarray('float64', [4, 2], doubles(8, 41));
      const good = await encodeE1('mixed', arr, { numChunks: 2 });
      const wrongFull = { ...good, chunks: good.chunks.map((c) => ({ ...c, tags: { ...c.tags, full_checksum: 'ab'.repeat(32) } })) };
      await client.putBall(wrongFull);
      const err = (await client.getNdarray('mixed').catch((e: unknown) => e)) as AppError;
      expect(err.code).toBe('STORAGE_INTEGRITY');
      expect(err.message).toContain('full_checksum');

      const other = await encodeE1('mixed', ndarray('float64', [4, 2], doubles(8, 43)), { numChunks: 2 });
      await client.putBall({ ...good, chunks: [good.chunks[0], other.chunks[1]] });
      await expect(client.getNdarray('mixed')).rejects.toMatchObject({ code: 'STORAGE_INTEGRITY', message: expect.stringContaining('different upload') });
      await client.putBall(good);
      expectSameArray(await client.getNdarray('mixed'), arr);
    });

    it('an unreachable router gives STORAGE_UNREACHABLE saying what to check', async () => {
      const port = await freePort();
      const waits: number[] = [];
      const dead = clientFor(port, { maxRetries: 2, sleep: async (ms) => void waits.push(ms) });
      const err = (await dead.getNdarray('x').catch((e: unknown) => e)) as AppError;
      expect(err.code).toBe('STORAGE_UNREACHABLE');
      expect(err.userMessage).toContain(`Check that the MictlanX router at http://127.0.0.1:${port} is running and reachable`);
      expect(waits).toHaveLength(2);
      await expect(dead.putNdarray('x', ndarray('float64', [1], new Float64Array([1])))).rejects.toMatchObject({ code: 'STORAGE_UNREACHABLE' });
      const [h] = await dead.health();
      expect(h.ok).toBe(false);
    });

    it('fails over to a second router', async () => {
      const port = await freePort();
      const two = clientFor([port, router.port]);
      const arr = ndarray('float64', [6, 2], doubles(12, 29));
      await two.putNdarray('failover', arr);
      expectSameArray(await two.getNdarray('failover'), arr);
      expectSameArray(await client.getNdarray('failover'), arr);
      const health = await two.health();
      expect(health.map((h) => h.ok)).toEqual([false, true]);
    });
  });
});

describe('restarts and kills', () => {
  let dataDir: string;
  let router: MictlanxRouterHandle | undefined;
  let port: number;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mictlanx-kill-'));
    router = await createMictlanxRouter({ dataDir });
    port = router.port;
  });
  afterAll(async () => {
    await router?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const start = async () => {
    router ??= await createMictlanxRouter({ dataDir, port });
  };
  const kill = async () => {
    const r = router;
    router = undefined;
    await r?.close();
  };

  it('objects survive a restart on the same data directory', async () => {
    const c = clientFor(port);
    const arr = ndarray('int64', [5, 3], BigInt64Array.from({ length: 15 }, (_, i) => BigInt(i) * 1_000_000_000_007n - 7n));
    await c.putNdarray('durable', arr, { numChunks: 2 });
    await kill();
    await start();
    expectSameArray(await c.getNdarray('durable'), arr);
    expect(await sha256Hex(await c.getMerged('durable'))).toBe(await sha256Hex(ndarrayToBytes(arr)));
  });

  it('a router killed mid-upload and restarted: the put completes and reads back checksum-valid', async () => {
    let dataPosts = 0;
    const killing: typeof fetch = async (input, init) => {
      if (String(input).includes('/chunked') && ++dataPosts === 2) await kill();
      return fetch(input, init);
    };
    // The retry wait is where the "operator" restarts the router.
    const c = clientFor(port, { fetch: killing, sleep: start, maxParallel: 1, maxRetries: 3 });
    const arr = ndarray('float64', [40, 25], doubles(1000, 31));
    await c.putNdarray('killed', arr, { numChunks: 4 });
    expect(dataPosts).toBeGreaterThan(4);
    expectSameArray(await clientFor(port).getNdarray('killed'), arr);
    expect((await bucketFiles(dataDir)).some((n) => n.startsWith('.tmp-'))).toBe(false);
  });

  it('killed mid-upload with no retries left: a clear error, and the partial object is never read as valid', async () => {
    let dataPosts = 0;
    const killing: typeof fetch = async (input, init) => {
      if (String(input).includes('/chunked') && ++dataPosts === 2) await kill();
      return fetch(input, init);
    };
    const c = clientFor(port, { fetch: killing, maxParallel: 1, maxRetries: 1 });
    const arr = ndarray('float64', [16, 4], doubles(64, 37));
    const err = (await c.putNdarray('partial', arr, { numChunks: 4 }).catch((e: unknown) => e)) as AppError;
    expect(err.code).toBe('STORAGE_UNREACHABLE');
    await start();
    const read = await clientFor(port).getNdarray('partial').catch((e: unknown) => e);
    expect(read).toBeInstanceOf(AppError);
    expect(['STORAGE_INTEGRITY', 'STORAGE_NOT_FOUND']).toContain((read as AppError).code);
    // A later put over the leftovers works.
    await clientFor(port).putNdarray('partial', arr, { numChunks: 4 });
    expectSameArray(await clientFor(port).getNdarray('partial'), arr);
  });

  it('an upload cut mid-body leaves nothing servable, and no temp files after restart', async () => {
    await start();
    const base = `http://127.0.0.1:${port}/api/v4`;
    const md = await (await fetch(`${base}/buckets/rory/metadata`, {
      method: 'POST',
      body: JSON.stringify({ bucket_id: 'rory', key: 'cut_0', ball_id: 'cut', checksum: 'x', size: 1_000_000, tags: { index: '0', num_chunks: '1', full_checksum: 'x' }, producer_id: 't' }),
    })).json();
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${base}/buckets/data/${md.tasks_ids[0]}/chunked`, { method: 'POST', headers: { 'Content-Length': '1000000' } });
      req.on('error', () => resolve());
      req.write(new Uint8Array(400_000), () => {
        setTimeout(() => void kill().then(resolve), 50);
      });
    });
    await start();
    expect((await fetch(`${base}/buckets/rory/cut_0`)).status).toBe(404);
    expect((await bucketFiles(dataDir)).filter((n) => n.startsWith('.tmp-') || n.endsWith('.bin')).filter((n) => n.startsWith('cut'))).toEqual([]);
    expect((await bucketFiles(dataDir)).some((n) => n.startsWith('.tmp-'))).toBe(false);
    await expect(clientFor(port).getNdarray('cut')).rejects.toMatchObject({ code: 'STORAGE_INTEGRITY' });
  });
});
