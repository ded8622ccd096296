/**
 * CSV ingestion throughput (lib/data/csv.ts): a generated ~50 MB CSV (float64 values written
 * as shortest round-trip strings, like the dataset files) parsed from a string and from a Blob.
 * Run: `npx tsx bench/csv.ts [megabytes]`.
 */
import { fillUniform, seededRandomBytes } from '@/lib/crypto/random';
import { parseCsv } from '@/lib/data/csv';

const TARGET_MB = Number(process.argv[2] ?? 50);
const COLS = 8;

function generate(targetBytes: number): { text: string; rows: number } {
  const rng = seededRandomBytes(2024);
  const u = new Float64Array(COLS * 1024);
  const lines: string[] = [];
  let size = 0;
  let rows = 0;
  while (size < targetBytes) {
    fillUniform(rng, u);
    for (let r = 0; r < 1024 && size < targetBytes; r++) {
      let line = '';
      for (let j = 0; j < COLS; j++) {
        const v = (u[r * COLS + j] - 0.5) * 20;
        line += (j ? ',' : '') + String(v);
      }
      lines.push(line);
      size += line.length + 1;
      rows++;
    }
  }
  return { text: lines.join('\n') + '\n', rows };
}

async function time(label: string, bytes: number, f: () => Promise<{ rows: number }>, expectRows: number): Promise<void> {
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = await f();
    const dt = performance.now() - t0;
    if (r.rows !== expectRows) throw new Error(`${label}: got ${r.rows} rows, expected ${expectRows}`);
    runs.push(dt);
  }
  const best = Math.min(...runs);
  const mb = bytes / 1e6;
  console.log(`${label.padEnd(34)} ${mb.toFixed(1)} MB  best ${best.toFixed(0)} ms  ${(mb / (best / 1000)).toFixed(1)} MB/s  (runs: ${runs.map((r) => r.toFixed(0)).join(', ')} ms)`);
}

const { text, rows } = generate(TARGET_MB * 1e6);
const blob = new Blob([text]);
console.log(`csv bench: ${rows} rows × ${COLS} cols, ${(text.length / 1e6).toFixed(1)} MB, node ${process.version}`);
await time('parseCsv(string)', text.length, () => parseCsv(text), rows);
await time('parseCsv(Blob)', blob.size, () => parseCsv(blob), rows);
await time('parseCsv(Blob, signal + progress)', blob.size, () => parseCsv(blob, { signal: new AbortController().signal, onProgress: () => {} }), rows);
