/**
 * How often DBSKMeans (Liu or CKKS data; the labels depend only on the FDHOPE side) finds the
 * plaintext Manhattan k-means partition, over fresh FDHOPE keys (spec/crypto.md §3.6, §7.2, §7.7).
 * A plaintext replay of the corrected protocol (C1/C2/C5, shifts rounded to 2^-20 as the PQC runner
 * does): FDHOPE(UDM), assign on ciphertexts, exact centroid shift, FDHOPE(shift) added by the
 * worker's rule, the client's convergence test. No network, no CKKS: seconds per key.
 *
 * Run: `npx tsx bench/dbskmeans-keys.ts [keys=20] [dataset=blobs-1000x8-k4.csv] [k=4]`.
 */
import { readFileSync } from 'node:fs';
import * as fdhope from '@/lib/crypto/fdhope';
import { matrix, type Matrix } from '@/lib/data/matrix';
import { kmeansManhattan } from '@/lib/data/kmeans';
import { adjustedRandIndex } from '@/lib/data/metrics';
import { udm as computeUdm } from '@/lib/data/udm';
import { assign, updateUdm } from '@/server/worker/algorithms/interactive-kmeans/compute';

const GRID = 2 ** -20;

function loadCsv(name: string): Matrix {
  const rows = readFileSync(new URL(`../../shared/datasets/${name}`, import.meta.url), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const a = rows[0].split(',').length;
  return matrix(Float64Array.from(rows.flatMap((l) => l.split(',').map(Number))), [rows.length, a]);
}

/** One DBSKMeans run with a fresh FDHOPE key; returns the labels and the number of rounds. */
function replay(D: Matrix, k: number, maxIterations = 10): { labels: Int32Array; rounds: number } {
  const [n, a] = D.shape;
  const U = computeUdm(D);
  const key = fdhope.keygen(U.data);
  const eu = new Float64Array(U.data.length);
  fdhope.encryptInto(key, U.data, eu, 1e-8);
  let udm = matrix(eu, U.shape);
  let prev = D.data.slice(0, k * a);
  for (let round = 1; ; round++) {
    const labels = assign(udm, k);
    const sums = new Float64Array(k * a);
    const counts = new Float64Array(k);
    for (let x = 0; x < n; x++) {
      counts[labels[x]]++;
      for (let z = 0; z < a; z++) sums[labels[x] * a + z] += D.data[x * a + z];
    }
    const next = new Float64Array(k * a);
    const shift = new Float64Array(k * a);
    let max = 0;
    for (let i = 0; i < k * a; i++) {
      const y = Math.floor(i / a);
      next[i] = counts[y] ? sums[i] / counts[y] : prev[i];
      shift[i] = Math.round((prev[i] - next[i]) / GRID) * GRID;
      max = Math.max(max, Math.abs(shift[i]));
    }
    prev = next;
    if (max <= 1e-6 || round >= maxIterations) return { labels, rounds: round };
    const so = new Float64Array(k * a);
    fdhope.encryptInto(key, shift, so, 1e-5);
    udm = updateUdm(udm, matrix(so, [k, a]), k);
  }
}

const [keysArg = '20', dataset = 'blobs-1000x8-k4.csv', kArg = '4'] = process.argv.slice(2);
const D = loadCsv(dataset);
const k = Number(kArg);
const plain = kmeansManhattan(D, k, { maxIterations: 100, tolerance: 1e-6 }).labels;
const aris: number[] = [];
const t0 = performance.now();
for (let i = 0; i < Number(keysArg); i++) aris.push(adjustedRandIndex(replay(D, k).labels, plain));
aris.sort((x, y) => x - y);
const exact = aris.filter((x) => x === 1).length;
console.log(
  `DBSKMeans over ${aris.length} fresh FDHOPE keys on ${dataset} (k=${k}): ARI 1 for ${exact}/${aris.length} (${((100 * exact) / aris.length).toFixed(0)} %), ` +
    `median ARI ${aris[Math.floor(aris.length / 2)].toFixed(4)}, min ${aris[0].toFixed(4)}; ${((performance.now() - t0) / aris.length / 1000).toFixed(2)} s per key`,
);
