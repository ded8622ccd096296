/**
 * Storage throughput: a 40 MB float64 matrix (50 000 × 100) through the MictlanX client to the
 * local router (server/mictlanx) on 127.0.0.1, with a temporary data directory. Prints upload,
 * download (per-chunk, verified) and merged-download MB/s for E1 at several chunk counts, for
 * E2 (128 000-byte pieces), and for E3 with 300 ciphertext-sized items (131 185 bytes, the size of
 * a Pyfhel n=8192 ciphertext) read with an exact expected shape. Client and router share this
 * process, so figures are a lower bound.
 *
 *   npx tsx bench/storage.ts [--rounds 3]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MictlanxClient } from '@/lib/storage/mictlanx-client';
import { ndarray, ndarrayToBytes } from '@/lib/storage/ndarray';
import { sha256Hex, sha256HexOfParts } from '@/lib/storage/sha256';
import { createMictlanxRouter } from '@/server/mictlanx';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const ROUNDS = Math.max(1, Number(values.rounds) || 3);
const ROWS = 50_000;
const COLS = 100;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, (performance.now() - t0) / 1000];
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), 'mictlanx-bench-'));
  const router = await createMictlanxRouter({ dataDir });
  try {
    const client = new MictlanxClient({ routers: [{ id: 'bench', host: '127.0.0.1', port: router.port, protocol: 'http' }], maxParallel: 4 });
    const data = new Float64Array(ROWS * COLS);
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(i) * 1e3;
    const arr = ndarray('float64', [ROWS, COLS], data);
    const bytes = ndarrayToBytes(arr).byteLength;
    const mb = bytes / 1e6;
    const want = await sha256Hex(ndarrayToBytes(arr));
    console.log(`MictlanX local router, ${ROWS}×${COLS} float64 = ${mb.toFixed(1)} MB, median of ${ROUNDS} rounds, maxParallel 4`);
    console.log('encoding        chunks  upload MB/s  download MB/s  merged MB/s');

    const items = Array.from({ length: 300 }, (_, i) => ndarrayToBytes(arr).slice(i * 131_185, (i + 1) * 131_185));
    const itemsSum = await sha256HexOfParts(items);
    const itemsMb = (300 * 131_185) / 1e6;
    const cases: { name: string; ball: string; mb: number; check: (got: unknown) => Promise<boolean>; put: () => Promise<void>; get: () => Promise<unknown>; chunks: number }[] = [
      ...[4, 16, 64].map((n) => ({
        name: `E1 numChunks=${n}`,
        ball: 'benchE1',
        mb,
        chunks: n,
        check: async (got: unknown) => (await sha256Hex(ndarrayToBytes(got as typeof arr))) === want,
        put: () => client.putNdarray('benchE1', arr, { numChunks: n }),
        get: () => client.getNdarray('benchE1', { expect: { shape: [ROWS, COLS] } }),
      })),
      {
        name: 'E2 128 kB pieces',
        ball: 'benchE2',
        mb,
        chunks: Math.floor(bytes / 128_000),
        check: async (got: unknown) => (await sha256Hex(ndarrayToBytes(got as typeof arr))) === want,
        put: () => client.putBlob('benchE2', arr),
        get: () => client.getBlob('benchE2', { expect: { shape: [ROWS, COLS] } }),
      },
      {
        name: 'E3 300 items',
        ball: 'benchE3',
        mb: itemsMb,
        chunks: 4,
        check: async (got: unknown) => (await sha256HexOfParts(got as Uint8Array[])) === itemsSum,
        put: () => client.putBytesList('benchE3', items, { numChunks: 4 }),
        get: () => client.getBytesList('benchE3', { expect: { shape: [300] } }),
      },
    ];
    for (const c of cases) {
      const up: number[] = [];
      const down: number[] = [];
      const merged: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        up.push((await timed(c.put))[1]);
        const [got, t] = await timed(c.get);
        down.push(t);
        if (!(await c.check(got))) throw new Error(`${c.name}: read back different bytes`);
        merged.push((await timed(() => client.getMerged(c.ball)))[1]);
      }
      console.log(
        `${c.name.padEnd(16)}${String(c.chunks).padStart(6)}  ${(c.mb / median(up)).toFixed(1).padStart(11)}  ${(c.mb / median(down)).toFixed(1).padStart(13)}  ${(c.mb / median(merged)).toFixed(1).padStart(11)}`,
      );
    }
  } finally {
    await router.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
