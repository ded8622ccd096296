/**
 * Throughput of the pure crypto core (spec/crypto.md §2, §3, §4), single thread:
 * - Liu `encryptInto` / `decryptInto` in scalars/s per level (WebCrypto randomness, and a seeded
 *   stream to separate the arithmetic from getRandomValues);
 * - FDHOPE `encryptInto` in values/s, sens 0 (no randomness) and sens 1e-8;
 * - UDM + FDHOPE for n = 2000, a = 5 (20 M values): materialised vs streamed in row blocks
 *   (keygen reads the blocks twice), with wall time and peak RSS (process.resourceUsage().maxRSS).
 *   The streamed variant runs first, so its peak is not inflated by the materialised one.
 *
 *   npx tsx bench/crypto-liu-fdhope.ts [--sizes 1e6,1e7] [--n 2000] [--a 5]
 */
import * as fdhope from '@/lib/crypto/fdhope';
import * as liu from '@/lib/crypto/liu';
import { fillUniform, secureRandomBytes, seededRandomBytes, type RandomBytes } from '@/lib/crypto/random';
import { matrix } from '@/lib/data/matrix';
import { udm, udmBlocks } from '@/lib/data/udm';
import { benchOptions } from './shared/options';

const { sizes: SIZES, n: N, a: A } = benchOptions({ sizes: [1e6, 1e7], n: 2000, a: 5 });

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const peakRss = () => process.resourceUsage().maxRSS * 1024;
const rate = (count: number, seconds: number) => `${(count / seconds / 1e6).toFixed(1)} M/s`;

/** Best of `reps` wall times, in seconds. */
function best(reps: number, f: () => void): number {
  let t = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    t = Math.min(t, (performance.now() - t0) / 1000);
  }
  return t;
}

function udmStreamed(): void {
  const D = matrix(fillUniform(seededRandomBytes(1), new Float64Array(N * A)).map((u) => u * 10 - 5), [N, A]);
  const t0 = performance.now();
  const key = fdhope.keygen(() => udmBlocks(D, 50), { rb: secureRandomBytes });
  const t1 = performance.now();
  let checksum = 0;
  for (const b of udmBlocks(D, 50)) {
    fdhope.encryptInto(key, b.data, b.data, 1e-8, secureRandomBytes);
    checksum += b.data[0]; // a real client would upload the block here
  }
  const t2 = performance.now();
  console.log(
    `UDM+FDHOPE streamed   n=${N} a=${A} (${((N * N * A) / 1e6).toFixed(0)} M values, blocks of 50 rows): keygen ${((t1 - t0) / 1000).toFixed(2)} s, ` +
      `UDM+encrypt ${((t2 - t1) / 1000).toFixed(2)} s, total ${((t2 - t0) / 1000).toFixed(2)} s, peak RSS ${mb(peakRss())} (checksum ${checksum.toFixed(1)})`,
  );
}

function udmMaterialised(): void {
  const D = matrix(fillUniform(seededRandomBytes(1), new Float64Array(N * A)).map((u) => u * 10 - 5), [N, A]);
  const t0 = performance.now();
  const U = udm(D);
  const t1 = performance.now();
  const key = fdhope.keygen(U, { rb: secureRandomBytes });
  const t2 = performance.now();
  const out = new Float64Array(U.data.length);
  fdhope.encryptInto(key, U.data, out, 1e-8, secureRandomBytes);
  const t3 = performance.now();
  console.log(
    `UDM+FDHOPE in memory  n=${N} a=${A}: udm ${((t1 - t0) / 1000).toFixed(2)} s, keygen ${((t2 - t1) / 1000).toFixed(2)} s, ` +
      `encrypt ${((t3 - t2) / 1000).toFixed(2)} s (${rate(U.data.length, (t3 - t2) / 1000)}), total ${((t3 - t0) / 1000).toFixed(2)} s, ` +
      `UDM ${mb(U.data.byteLength)}, peak RSS ${mb(peakRss())} (rss now ${mb(process.memoryUsage().rss)})`,
  );
}

/** The randomness budget: Liu needs m uniforms per scalar, FDHOPE one per value when sens > 0. */
function uniformBench(): void {
  const u = new Float64Array(32768 * 6);
  const t = best(10, () => {
    for (let i = 0; i < 10; i++) fillUniform(secureRandomBytes, u);
  });
  console.log(`fillUniform (getRandomValues, batches of ${u.length}): ${rate(u.length * 10, t)} uniforms`);
}

function liuBench(): void {
  for (const size of SIZES) {
    const values = fillUniform(seededRandomBytes(2), new Float64Array(size)).map((u) => (u - 0.5) * 2000);
    for (const level of [128, 192, 256] as const) {
      const sk = liu.keygen(level);
      const out = new Float64Array(size * sk.m);
      const back = new Float64Array(size);
      const reps = size >= 1e7 ? 3 : 6;
      const rngs: [string, RandomBytes][] = [
        ['getRandomValues', secureRandomBytes],
        ['seeded', seededRandomBytes(3)],
      ];
      for (const [name, rb] of rngs) {
        const te = best(reps, () => liu.encryptInto(sk, values, out, rb));
        console.log(`Liu encryptInto  level ${level} (m=${sk.m}) ${size.toExponential(0)} scalars, ${name.padEnd(15)}: ${rate(size, te)}`);
      }
      const td = best(reps, () => liu.decryptInto(sk, out, back));
      console.log(`Liu decryptInto  level ${level} (m=${sk.m}) ${size.toExponential(0)} scalars: ${rate(size, td)}`);
    }
  }
}

function fdhopeBench(): void {
  for (const size of SIZES) {
    const values = fillUniform(seededRandomBytes(4), new Float64Array(size)).map((u) => (u - 0.5) * 20);
    const key = fdhope.keygen(values, { rb: seededRandomBytes(5) });
    const out = new Float64Array(size);
    const reps = size >= 1e7 ? 3 : 6;
    for (const sens of [0, 1e-8]) {
      const t = best(reps, () => fdhope.encryptInto(key, values, out, sens, secureRandomBytes));
      console.log(`FDHOPE encryptInto ${key.messagespace.length} ranges, ${size.toExponential(0)} values, sens ${sens}: ${rate(size, t)}`);
    }
  }
}

console.log(`Node ${process.version}, ${new Date().toISOString()}`);
udmStreamed();
udmMaterialised();
uniformBench();
liuBench();
fdhopeBench();
