/**
 * Bounded reads against a MictlanX "router" that lies (issue #12 finding 5; spec/mictlanx.md §3,
 * §4.3–§4.5): a tiny `node:http` server on 127.0.0.1, port 0, answers the client's metadata and
 * data requests with a million chunks, more chunks than the expected shape allows, endless or
 * over-announced bodies, short bodies, a pickle bomb with valid checksums, a trickle that never
 * ends, and endless error bodies. Every case must end in a clear refusal, quickly, after reading
 * no more than its limit: the server counts what it wrote, so an unbounded reader would either
 * hang on the endless bodies or show up in those counts. Honest behaviour of the real local
 * router is in tests/integration/mictlanx.test.ts.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { MAX_METADATA_JSON_BYTES } from '@/lib/storage/ball';
import { MictlanxClient, type MictlanxClientOptions } from '@/lib/storage/mictlanx-client';
import { pickleBytesList } from '@/lib/storage/pickle';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** What the fake router says about one ball: chunk metadata tags/sizes and how it sends data. */
interface Lie {
  readonly numChunks: string;
  readonly size?: number;
  readonly payload?: Uint8Array;
  /** How GET metadata answers (default: honest JSON). */
  readonly metadata?: 'endless' | 'huge-content-length';
  /** How GET data / merge answers (default: the payload). */
  readonly data?: 'endless' | 'trickle' | 'short' | 'endless-500';
}

/** Ball names encode the scenario; chunk i of ball b is key `${b}_${i}`. */
const LIES: Record<string, Lie> = {
  million: { numChunks: '1000000' },
  tenchunks: { numChunks: '10' },
  hugemeta: { numChunks: '1', metadata: 'endless' },
  hugemetalength: { numChunks: '1', metadata: 'huge-content-length' },
  terabyte: { numChunks: '1', size: 2 ** 40 },
  longdata: { numChunks: '1', size: 16, data: 'endless' },
  shortdata: { numChunks: '1', size: 1000, data: 'short' },
  trickle: { numChunks: '1', size: 1000, data: 'trickle' },
  errorflood: { numChunks: '1', size: 16, data: 'endless-500' },
  mergeflood: { numChunks: '1', size: 16, data: 'endless' },
};

interface Counts {
  metadata: number;
  data: number;
  bytesWritten: number;
}

function metadataOf(ball: string, i: number, lie: Lie) {
  // Sizes may be lies (a terabyte): only hash what is really sent.
  const payload = lie.payload ?? new Uint8Array(Math.min(lie.size ?? 16, 1000));
  return {
    service_time: 0,
    peer_id: 'p',
    local_peer_id: 'p',
    metadata: {
      key: `${ball}_${i}`,
      size: lie.size ?? payload.byteLength,
      checksum: sha(payload),
      tags: { index: String(i), num_chunks: lie.numChunks, full_checksum: sha(payload), shape: '(2, 1)', dtype: 'float64' },
      content_type: 'application/octet-stream',
      producer_id: 'liar',
      ball_id: ball,
      bucket_id: 'rory',
      is_disabled: false,
    },
  };
}

/** Writes `piece` until the client goes away (honouring backpressure); counts what was written. */
function flood(res: ServerResponse, piece: Uint8Array, counts: Counts): void {
  const pump = () => {
    while (!res.destroyed) {
      counts.bytesWritten += piece.byteLength;
      if (!res.write(piece)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  res.on('error', () => undefined);
  pump();
}

function startLiar(counts: Counts): Promise<Server> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const md = /^\/api\/v4\/buckets\/rory\/metadata\/([a-z0-9]+)_(\d+)$/.exec(path);
    const data = /^\/api\/v4\/buckets\/rory\/([a-z0-9]+)(?:_(\d+)|\/merge)$/.exec(path);
    const name = (md ?? data)?.[1] ?? '';
    const lie = LIES[name];
    if (!lie) {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"detail":"404: No available peers"}');
      return;
    }
    if (md) {
      counts.metadata++;
      if (lie.metadata === 'endless') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"metadata": {"key": "');
        flood(res, new Uint8Array(16 * 1024).fill(0x61), counts);
        return;
      }
      if (lie.metadata === 'huge-content-length') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(10 ** 10) });
        flood(res, new Uint8Array(16 * 1024).fill(0x20), counts);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(metadataOf(name, Number(md[2]), lie)));
      return;
    }
    counts.data++;
    const payload = lie.payload ?? new Uint8Array(Math.min(lie.size ?? 16, 1000));
    switch (lie.data) {
      case 'endless':
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        flood(res, new Uint8Array(64 * 1024), counts);
        return;
      case 'endless-500':
        res.writeHead(500, { 'content-type': 'application/json' });
        res.write('{"detail": "');
        flood(res, new Uint8Array(64 * 1024).fill(0x62), counts);
        return;
      case 'short':
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(new Uint8Array(10));
        return;
      case 'trickle': {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(new Uint8Array(1))), 50);
        res.on('close', () => clearInterval(timer));
        return;
      }
      default:
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(payload);
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function refusal(p: Promise<unknown>): Promise<{ error: AppError; ms: number }> {
  const t0 = performance.now();
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return { error: e as AppError, ms: performance.now() - t0 };
  }
  throw new Error('expected a refusal');
}

describe('a lying MictlanX router', () => {
  let server: Server;
  const counts: Counts = { metadata: 0, data: 0, bytesWritten: 0 };
  let client: (extra?: Partial<MictlanxClientOptions>) => MictlanxClient;

  beforeAll(async () => {
    server = await startLiar(counts);
    const port = (server.address() as AddressInfo).port;
    client = (extra = {}) =>
      new MictlanxClient({ routers: [{ id: 'liar', host: '127.0.0.1', port, protocol: 'http' }], maxRetries: 0, timeoutMs: 10_000, sleep: async () => {}, ...extra });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    counts.metadata = 0;
    counts.data = 0;
    counts.bytesWritten = 0;
  });

  it('num_chunks 1e6: refused after one metadata request', async () => {
    const { error, ms } = await refusal(client().getNdarray('million'));
    expect(error).toMatchObject({ code: 'STORAGE_INTEGRITY', details: { ballId: 'million' } });
    expect(error.message).toContain('chunk 0 claims 1000000 chunks, more than the 4096 allowed');
    expect(error.userMessage).toContain('"million"');
    expect(counts).toMatchObject({ metadata: 1, data: 0 });
    expect(ms).toBeLessThan(2000);
  });

  it('more chunks than the expected shape allows: refused after one metadata request', async () => {
    const { error } = await refusal(client().getNdarray('tenchunks', { expect: { shape: [4, 3] } }));
    expect(error.message).toContain('claims 10 chunks, more than the 4 allowed by the expected shape (4, 3)');
    const e3 = await refusal(client().getBytesList('tenchunks', { expect: { shape: [2] } }));
    expect(e3.error.message).toContain('more than the 2 allowed');
    expect(counts).toMatchObject({ metadata: 2, data: 0 });
  });

  it('an endless metadata answer is cut at its limit', async () => {
    const { error, ms } = await refusal(client().exists('hugemeta'));
    expect(error).toMatchObject({ code: 'STORAGE_INTEGRITY' });
    expect(error.message).toContain(`the metadata of hugemeta_0: the response body is larger than the limit of ${MAX_METADATA_JSON_BYTES} bytes`);
    expect(error.userMessage).toMatch(/sent more data than expected for the metadata of hugemeta_0 \(more than 65.5 kB\)/);
    expect(counts.bytesWritten).toBeLessThan(32 * 1024 * 1024);
    expect(ms).toBeLessThan(5000);
  });

  it('a Content-Length beyond the limit is refused before the body is read', async () => {
    const { error } = await refusal(client().getNdarray('hugemetalength'));
    expect(error.message).toContain('larger than the limit');
    expect(counts.bytesWritten).toBeLessThan(32 * 1024 * 1024);
  });

  it('chunk sizes beyond the byte cap are refused before any data request', async () => {
    const { error } = await refusal(client().getNdarray('terabyte'));
    expect(error.message).toContain(`its chunks claim more than ${2 ** 30} bytes, the most allowed by the client limits`);
    const small = await refusal(client({ maxBallBytes: 8 }).getNdarray('longdata'));
    expect(small.error.message).toContain('claim more than 8 bytes');
    const shaped = await refusal(client().getNdarray('longdata', { expect: { shape: [1, 1] } }));
    expect(shaped.error.message).toContain('claim more than 8 bytes, the most allowed by the expected shape (1, 1)');
    expect(counts.data).toBe(0);
  });

  it('a chunk body longer than its metadata size is cut off at that size', async () => {
    const { error, ms } = await refusal(client().getNdarray('longdata'));
    expect(error).toMatchObject({ code: 'STORAGE_INTEGRITY', details: { ballId: 'longdata' } });
    expect(error.message).toContain('the data of longdata_0: the response body is larger than the limit of 16 bytes');
    expect(counts.bytesWritten).toBeLessThan(32 * 1024 * 1024);
    expect(ms).toBeLessThan(5000);
  });

  it('a chunk body shorter than its metadata size is refused', async () => {
    const { error } = await refusal(client().getNdarray('shortdata'));
    expect(error).toMatchObject({ code: 'STORAGE_INTEGRITY' });
    expect(error.message).toContain('ended after 10 of the 1000 bytes');
    expect(error.userMessage).toContain('sent less data than the object');
  });

  it('a body that trickles forever ends at the request timeout, not never', async () => {
    const { error, ms } = await refusal(client({ timeoutMs: 400 }).getNdarray('trickle'));
    expect(error.code).toBe('STORAGE_UNREACHABLE');
    expect(error.message).toContain('no answer within');
    expect(ms).toBeLessThan(5000);
  });

  it('an endless error body is read only as far as a message needs', async () => {
    const { error, ms } = await refusal(client({ maxRetries: 1 }).getNdarray('errorflood'));
    expect(error.code).toBe('STORAGE_FAILURE');
    expect(error.message.length).toBeLessThan(1000);
    expect(error.userMessage).toMatch(/keeps failing \(HTTP 500: \{"detail": "b+…\)/);
    expect(counts.data).toBe(2);
    expect(counts.bytesWritten).toBeLessThan(32 * 1024 * 1024);
    expect(ms).toBeLessThan(5000);
  });

  it('a merged read stops at maxBallBytes or the expected size', async () => {
    const { error } = await refusal(client({ maxBallBytes: 1_000_000 }).getMerged('mergeflood'));
    expect(error.message).toContain('the merged data of "mergeflood": the response body is larger than the limit of 1000000 bytes');
    const shaped = await refusal(client().getMerged('mergeflood', { expect: { maxBytes: 4096 } }));
    expect(shaped.error.message).toContain('limit of 4096 bytes');
    expect(counts.bytesWritten).toBeLessThan(40 * 1024 * 1024);
  });

  it('a pickle bomb with valid checksums is refused quickly with STORAGE_INTEGRITY', async () => {
    // [L, L] with L = [M, M] … 60 levels wide 3: 496 bytes describing 3^60 leaves.
    const levels = 60;
    const out: number[] = [0x80, 0x04];
    for (let i = 0; i < levels; i++) out.push(0x5d, 0x94, 0x28);
    out.push(0x5d, 0x94, 0x43, 7, ...new Array<number>(7).fill(0x61), 0x94, 0x61);
    for (let i = levels - 1; i >= 0; i--) out.push(0x68, i + 1, 0x68, i + 1, 0x65);
    out.push(0x2e);
    const bomb = Uint8Array.from(out);
    expect(bomb.length).toBe(496);
    LIES.bomb = { numChunks: '1', payload: bomb };
    const { error, ms } = await refusal(client().getBytesList('bomb'));
    expect(error).toMatchObject({ code: 'STORAGE_INTEGRITY', details: { ballId: 'bomb' } });
    expect(error.message).toContain('a memo reference to a list is not allowed');
    expect(ms).toBeLessThan(2000);
    // The same container without the shared lists is read normally.
    LIES.honest = { numChunks: '1', payload: pickleBytesList([Uint8Array.of(1, 2, 3)]) };
    expect(await client().getBytesList('honest', { expect: { shape: [1] } })).toEqual([Uint8Array.of(1, 2, 3)]);
  });
});
