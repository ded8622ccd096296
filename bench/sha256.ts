/**
 * SHA-256 throughput in Node (lib/storage/sha256.ts; spec/mictlanx.md §5.3 checksums): WebCrypto
 * one-shot (`sha256Hex`), the pure incremental `Sha256`, and node:crypto as a reference, on
 * buffers of several sizes; then a ball's `full_checksum` over many parts, the old way (join the
 * parts, then one WebCrypto hash: a full extra copy) against `sha256HexOfParts` (no copy above
 * SHA256_JOIN_MAX_BYTES). Prints MB/s (decimal MB) and the bytes copied.
 *
 *   npx tsx bench/sha256.ts [--rounds 5]
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { SHA256_JOIN_MAX_BYTES, Sha256, concatBytes, sha256Hex, sha256HexOfParts } from '@/lib/storage/sha256';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const ROUNDS = Math.max(1, Number(values.rounds) || 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function mbps(bytes: number, f: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    await f();
    times.push((performance.now() - t0) / 1000);
  }
  return bytes / 1e6 / median(times);
}

function data(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function main() {
  console.log(`SHA-256 in Node ${process.version}, median of ${ROUNDS} rounds, MB/s`);
  console.log('size        WebCrypto  pure Sha256  node:crypto');
  for (const n of [64 * 1024, 1e6, 16e6, 64e6]) {
    const buf = data(n);
    const want = createHash('sha256').update(buf).digest('hex');
    if ((await sha256Hex(buf)) !== want || new Sha256().update(buf).hex() !== want) throw new Error('digest mismatch');
    const web = await mbps(n, () => sha256Hex(buf));
    const pure = await mbps(n, () => new Sha256().update(buf).hex());
    const node = await mbps(n, () => createHash('sha256').update(buf).digest('hex'));
    console.log(`${(n / 1e6).toFixed(3).padStart(7)} MB ${web.toFixed(0).padStart(10)} ${pure.toFixed(0).padStart(12)} ${node.toFixed(0).padStart(12)}`);
  }

  console.log(`\nfull_checksum over parts (join threshold ${SHA256_JOIN_MAX_BYTES} bytes)`);
  console.log('ball                      join+WebCrypto MB/s  copied MB   sha256HexOfParts MB/s  copied MB');
  for (const [parts, size] of [
    [4, 256 * 1024],
    [64, 131_185],
    [16, 4e6],
    [200, 131_185],
  ] as const) {
    const list = Array.from({ length: parts }, (_, i) => data(size).map((b) => b ^ i));
    const total = parts * size;
    const want = createHash('sha256').update(concatBytes(list)).digest('hex');
    if ((await sha256HexOfParts(list)) !== want) throw new Error('parts digest mismatch');
    const joined = await mbps(total, () => sha256Hex(concatBytes(list)));
    const incremental = await mbps(total, () => sha256HexOfParts(list));
    const copied = total <= SHA256_JOIN_MAX_BYTES ? total : 0;
    console.log(
      `${`${parts} × ${size} B`.padEnd(26)}${joined.toFixed(0).padStart(19)}  ${(total / 1e6).toFixed(1).padStart(9)}   ${incremental.toFixed(0).padStart(21)}  ${(copied / 1e6).toFixed(1).padStart(9)}`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
