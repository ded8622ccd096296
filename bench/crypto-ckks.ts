/**
 * @module bench/crypto-ckks
 * Timings of the CKKS adapter (lib/crypto/ckks) at Rory's default parameters (N = 8192,
 * [60, 40, 40, 60], scale 2^40; spec/crypto.md §5.1) in Node, plus serialized sizes and the
 * E3 pickle codec. Run: `npx tsx bench/crypto-ckks.ts [iterations]`.
 */
import * as ckks from '@/lib/crypto/ckks';
import { fillUniform, seededRandomBytes } from '@/lib/crypto/random';
import { pickleBytesList, unpickleBytesList } from '@/lib/storage/pickle';

const ITER = Math.max(3, Number(process.argv[2] ?? 20));

interface Row {
  readonly op: string;
  readonly medianMs: number;
  readonly minMs: number;
  readonly note?: string;
}

function time(op: string, fn: () => void, iterations = ITER, note?: string): Row {
  fn(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return { op, medianMs: samples[Math.floor(samples.length / 2)], minMs: samples[0], note };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const seal = await ckks.loadSeal();
  const loadMs = performance.now() - t0;
  const params = ckks.CKKS_DEFAULT_PARAMS;
  const context = ckks.CkksContext.createWith(seal, params);
  const rows: Row[] = [{ op: 'load SEAL (WASM init)', medianMs: loadMs, minMs: loadMs }];
  rows.push(time('create context', () => ckks.CkksContext.createWith(seal, params).dispose(), 5));

  const galoisSteps = [1, 2, 4, 8];
  rows.push(time('keygen (sk, pk, relin)', () => ckks.CkksKeySet.generate(context, {}).dispose(), 5));
  rows.push(time(`keygen + galois steps [${galoisSteps.join(',')}]`, () => ckks.CkksKeySet.generate(context, { galoisSteps }).dispose(), 3));
  const keys = ckks.CkksKeySet.generate(context, { galoisSteps });

  const a = 5;
  const values = fillUniform(seededRandomBytes(1), new Float64Array(a)).map((u) => 200 * u - 100);
  const ct = keys.encryptRow(values);
  rows.push(time(`encryptRow (a=${a}, uncompressed)`, () => keys.encryptRow(values)));
  rows.push(time(`encryptRow (a=${a}, zstd)`, () => keys.encryptRow(values, { compression: 'zstd' })));
  rows.push(time('decryptVector (deserialize + decrypt + decode)', () => keys.decryptVector(ct)));

  const ev = new ckks.CkksEvaluator(keys);
  const x = ev.load(ct);
  const y = ev.load(keys.encryptRow(values));
  const op = (name: string, f: () => ckks.CkksCipher, note?: string) => rows.push(time(name, () => ev.free(f()), ITER, note));
  rows.push(time('load ciphertext (uncompressed)', () => ev.free(ev.load(ct))));
  op('add', () => ev.add(x, y));
  op('sub', () => ev.sub(x, y));
  op('multiplyPlain(scalar) + rescale', () => ev.multiplyPlain(x, 0.5));
  op('multiply + relinearize + rescale', () => ev.multiply(x, y));
  op('square + relinearize + rescale', () => ev.square(x));
  op('rotate(1)', () => ev.rotate(x, 1));
  op('rotate(5) via NAF (4 + 1)', () => ev.rotate(x, 5));
  const rescaled = ev.multiplyPlain(x, 0.5);
  op('sub with level/scale alignment', () => ev.sub(x, rescaled));
  const ten = Array.from({ length: 10 }, () => x);
  op('sum of 10', () => ev.sum(ten));
  rows.push(time('save ciphertext (none)', () => ev.save(x)));
  rows.push(time('save ciphertext (zstd)', () => ev.save(x, { compression: 'zstd' })));

  rows.push(time('serialize key set (zstd)', () => keys.toBytes(), 5));
  rows.push(time('serialize public bundle (none)', () => keys.publicBundle({ compression: 'none' }), 5));
  const bytes = keys.toBytes();
  rows.push(time('open key set (load + verify)', () => ckks.CkksKeySet.fromBytes(context, bytes).dispose(), 5));
  rows.push(time('open key set (load, no verify)', () => ckks.CkksKeySet.fromBytes(context, bytes, { verify: false }).dispose(), 5));

  const hundred = Array.from({ length: 100 }, () => ct);
  const pickled = pickleBytesList(hundred.map((b) => b.slice()));
  rows.push(time('pickle E3, 100 ciphertexts', () => pickleBytesList(hundred.map((b) => b.slice())), 5));
  rows.push(time('unpickle E3, 100 ciphertexts (copy)', () => unpickleBytesList(pickled), 5));

  console.log(`CKKS N=${params.polyModulusDegree}, q=[${params.coeffModulusBits.join(', ')}], scale 2^${params.scaleBits}; ${ITER} iterations; Node ${process.version}`);
  console.table(rows.map((r) => ({ op: r.op, 'median ms': r.medianMs.toFixed(2), 'min ms': r.minMs.toFixed(2) })));

  const fresh = keys.encryptRow(values);
  const low = ev.save(rescaled);
  console.log('sizes (bytes):');
  console.table({
    'ciphertext level 2, none': fresh.length,
    'ciphertext level 2, zstd': keys.encryptRow(values, { compression: 'zstd' }).length,
    'ciphertext level 2, zlib': keys.encryptRow(values, { compression: 'zlib' }).length,
    'ciphertext level 1, none': low.length,
    'ciphertext level 1, zstd': ev.save(rescaled, { compression: 'zstd' }).length,
    'ctx (Pyfhel layout)': bytes.ctx.length,
    'public key (zstd)': bytes.publicKey.length,
    'secret key (zstd)': bytes.secretKey.length,
    'relin keys (zstd)': bytes.relinKeys?.length ?? 0,
    [`galois keys ${galoisSteps.length} steps (zstd)`]: bytes.galoisKeys?.length ?? 0,
    'E3 pickle of 100 ciphertexts': pickled.length,
  });

  ev.dispose();
  keys.dispose();
  context.dispose();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
