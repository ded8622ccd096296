/**
 * The browser CryptoEngine (workers/crypto-client.ts) over fake Workers that serve the real worker
 * API (workers/crypto-api.ts) in-process through comlink and a MessageChannel, so chunking,
 * pipelining, buffer transfer and recycling run as in Chromium (spec/crypto.md §2 Liu, §3 FDHOPE):
 * results equal the pure functions, the caller's input is neither detached nor changed, each
 * worker has LIU_PIPELINE_DEPTH chunks in flight, progress reaches the total, errors and aborts
 * behave.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as fdhope from '@/lib/crypto/fdhope';
import * as liu from '@/lib/crypto/liu';
import { seededRandomBytes } from '@/lib/crypto/random';
import { LIU_CHUNK, LIU_PIPELINE_DEPTH, type Progress } from '@/lib/engine/chunks';
import { matrix } from '@/lib/data/matrix';
import { udm } from '@/lib/data/udm';
import { createInProcessEngine } from '@/lib/engine/in-process';
import { createCryptoWorkerApi } from '@/workers/crypto-api';
import { createWorkerCryptoEngine, type WorkerCryptoEngine } from '@/workers/crypto-client';
import { createMemoryKeyStore } from '@/lib/keystore/memory';
import { rejection } from '../helpers/errors';
import { fakeWorkers } from '../helpers/fake-worker';

/** The key store the fake workers load keys from (by id), as the browser's workers use IndexedDB. */
const keys = createMemoryKeyStore();
const storeLiu = async (key: liu.LiuSecretKey) =>
  (await keys.add({ scheme: 'liu', label: 'test', origin: 'generated', params: { level: 128, m: key.m, nbits: key.nbits } }, { scheme: 'liu', key })).id;
const storeFdhope = async (key: fdhope.FdhopeKey) =>
  (await keys.add({ scheme: 'fdhope', label: 'test', origin: 'generated', params: { intervals: key.messagespace.length } }, { scheme: 'fdhope', key })).id;

const engines: WorkerCryptoEngine[] = [];
afterEach(() => {
  for (const e of engines.splice(0)) e.dispose();
});

/** An engine over `size` fake workers; every Liu/FDHOPE call is counted while in flight. */
function engine(size: number) {
  const inFlight: number[] = [];
  const maxInFlight: number[] = [];
  const chunksPerWorker: number[] = [];
  const workers = fakeWorkers(() => {
    const id = inFlight.length;
    inFlight.push(0);
    maxInFlight.push(0);
    chunksPerWorker.push(0);
    const real = createCryptoWorkerApi(keys);
    const counted =
      <A extends unknown[], R>(f: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        inFlight[id]++;
        maxInFlight[id] = Math.max(maxInFlight[id], inFlight[id]);
        chunksPerWorker[id]++;
        try {
          await new Promise<void>((r) => setImmediate(r)); // let the next request arrive first
          return await f(...args);
        } finally {
          inFlight[id]--;
        }
      };
    return { ...real, liuEncrypt: counted(real.liuEncrypt), liuDecrypt: counted(real.liuDecrypt), fdhopeEncrypt: counted(real.fdhopeEncrypt) };
  });
  const e = createWorkerCryptoEngine({ size: () => size, idleMs: 60_000, create: workers.create, keys });
  engines.push(e);
  return { e, workers, maxInFlight, chunksPerWorker };
}

const values = (n: number, seed = 1) => Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 1000);

describe('worker engine: Liu', () => {
  for (const size of [1, 2]) {
    it(`encrypts and decrypts 1, ${LIU_CHUNK.minRows + 1} and 200 000 values with ${size} worker(s); the input stays intact`, async () => {
      const { e, maxInFlight, chunksPerWorker } = engine(size);
      const sk = liu.keygen(128, seededRandomBytes(size));
    const kid = await storeLiu(sk);
      for (const n of [1, LIU_CHUNK.minRows + 1, 200_000]) {
        const plain = values(n);
        const copy = plain.slice();
        const progress: Progress[] = [];
        const ct = await e.liuEncrypt(kid, plain, { onProgress: (p) => progress.push(p) });
        expect(ct.length).toBe(n * 3);
        expect(plain.buffer.byteLength).toBe(n * 8); // not detached
        expect(Array.from(plain)).toEqual(Array.from(copy));
        // Independent check with the pure decryption, then the engine's own.
        const back = new Float64Array(n);
        liu.decryptInto(sk, ct, back);
        let worst = 0;
        for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(back[i] - plain[i]));
        expect(worst).toBeLessThan(1e-9);
        expect(Array.from(await e.liuDecrypt(kid, ct))).toEqual(Array.from(back));
        expect(ct.buffer.byteLength).toBe(n * 3 * 8);
        expect(progress[progress.length - 1]).toMatchObject({ done: n, total: n });
        for (let i = 1; i < progress.length; i++) expect(progress[i].done).toBeGreaterThan(progress[i - 1].done);
      }
      // 200 000 values are many chunks: every worker had LIU_PIPELINE_DEPTH of them in flight.
      expect(maxInFlight).toEqual(new Array(size).fill(LIU_PIPELINE_DEPTH));
      expect(chunksPerWorker.every((c) => c > 2)).toBe(true);
    });
  }

  it('handles an empty input, and concurrent calls that share the recycled chunk buffers', async () => {
    const { e } = engine(2);
    const sk = liu.keygen(256, seededRandomBytes(8));
    const kid = await storeLiu(sk);
    expect((await e.liuEncrypt(kid, new Float64Array(0))).length).toBe(0);
    const inputs = [values(120_000, 1), values(90_000, 2), values(70_000, 3)];
    const cts = await Promise.all(inputs.map((p) => e.liuEncrypt(kid, p)));
    const backs = await Promise.all(cts.map((c) => e.liuDecrypt(kid, c)));
    inputs.forEach((p, k) => {
      const back = new Float64Array(p.length);
      liu.decryptInto(sk, cts[k], back);
      for (let i = 0; i < p.length; i++) if (!(Math.abs(back[i] - p[i]) < 1e-9 && backs[k][i] === back[i])) throw new Error(`call ${k}, value ${i}`);
    });
  });

  it('fresh randomness per call: two encryptions of the same values differ and both decrypt', async () => {
    const { e } = engine(2);
    const sk = liu.keygen(192, seededRandomBytes(9));
    const kid = await storeLiu(sk);
    const plain = values(50_000);
    const a = await e.liuEncrypt(kid, plain);
    const b = await e.liuEncrypt(kid, plain);
    let same = 0;
    for (let i = 0; i < a.length; i += 4) if (a[i + 3] === b[i + 3]) same++;
    expect(same).toBe(0);
    const back = await e.liuDecrypt(kid, b);
    expect(Math.abs(back[49_999] - plain[49_999])).toBeLessThan(1e-9);
  });

  it('applies the rounding options in the worker', async () => {
    const { e } = engine(1);
    const sk = liu.keygen(128, seededRandomBytes(2));
    const kid = await storeLiu(sk);
    const plain = Float64Array.from([1.23456, -2.5, 3.14159]);
    const back = await e.liuDecrypt(kid, await e.liuEncrypt(kid, plain, { rounding: { round: true, decimals: 2 } }), { rounding: { round: true, decimals: 2 } });
    expect(Array.from(back)).toEqual([1.23, -2.5, 3.14]);
  });

  it('a bad value fails the call with the worker-side AppError; the workers stay usable', async () => {
    const { e, workers } = engine(2);
    const sk = liu.keygen(128, seededRandomBytes(3));
    const kid = await storeLiu(sk);
    const plain = values(100_000);
    plain[77_777] = Number.NaN;
    const err = await rejection(e.liuEncrypt(kid, plain));
    expect(err.code).toBe('DATA_MAGNITUDE');
    expect(err.userMessage).toMatch(/too large \(or not a number\)/);
    expect(workers.made.every((w) => !w.terminated)).toBe(true);
    const ok = await e.liuEncrypt(kid, values(10));
    expect(ok.length).toBe(30);
    expect(workers.made.length).toBe(2);
  });

  it('a ciphertext whose length is not a multiple of m is refused before any work', async () => {
    const { e, workers } = engine(1);
    const sk = liu.keygen(128, seededRandomBytes(4));
    const kid = await storeLiu(sk);
    expect((await rejection(e.liuDecrypt(kid, new Float64Array(10)))).code).toBe('SHAPE_MISMATCH');
    // Only the key's record was read (for m): no worker started.
    expect(workers.made.length).toBe(0);
  });

  it('aborting mid-call rejects with ABORTED and terminates the busy workers; the next call starts fresh ones', async () => {
    const { e, workers } = engine(2);
    const sk = liu.keygen(128, seededRandomBytes(5));
    const kid = await storeLiu(sk);
    const ctrl = new AbortController();
    const call = e.liuEncrypt(kid, values(400_000), { signal: ctrl.signal, onProgress: () => ctrl.abort() });
    expect((await rejection(call)).code).toBe('ABORTED');
    expect(workers.made.length).toBeGreaterThan(0);
    expect(workers.made.every((w) => w.terminated)).toBe(true);
    expect(e.liveWorkers).toBe(0);
    const again = await e.liuEncrypt(kid, values(10));
    expect(again.length).toBe(30);
    expect(workers.live().length).toBe(1);
  });
});

describe('worker engine: FDHOPE', () => {
  it('equals fdhope.encryptInto (sens 0) for one and many chunks, with 1 and 2 workers', async () => {
    for (const size of [1, 2]) {
      const { e } = engine(size);
      const key = fdhope.keygen(values(1000).map(Math.abs), { rb: seededRandomBytes(6) });
      const kid = await storeFdhope(key);
      for (const n of [3, 150_000]) {
        const plain = values(n, size);
        const expected = new Float64Array(n);
        fdhope.encryptInto(key, plain, expected, 0);
        expect(Array.from(await e.fdhopeEncrypt(kid, plain, 0))).toEqual(Array.from(expected));
      }
    }
  });

  it('with noise (sens > 0) keeps every value within [Enc₀(p), Enc₀(p) + sens·scale) and the sign', async () => {
    const { e } = engine(2);
    const key = fdhope.keygen(values(1000).map(Math.abs), { rb: seededRandomBytes(7) });
      const kid = await storeFdhope(key);
    const plain = values(100_000);
    const sens = 1e-3;
    const noisy = await e.fdhopeEncrypt(kid, plain, sens);
    const exact = new Float64Array(plain.length);
    fdhope.encryptInto(key, plain, exact, 0);
    const maxScale = Math.max(...key.cipherspace.map((c, i) => (c[1] - c[0]) / (key.messagespace[i][1] - key.messagespace[i][0])));
    let distinctNoise = 0;
    for (let i = 0; i < plain.length; i++) {
      const d = Math.abs(noisy[i]) - Math.abs(exact[i]);
      if (!(d >= 0 && d < sens * maxScale * (1 + 1e-9))) throw new Error(`value ${i}: noise ${d} out of range`);
      if (Math.sign(noisy[i]) !== Math.sign(exact[i]) && exact[i] !== 0) throw new Error(`value ${i}: sign changed`);
      if (d > 0) distinctNoise++;
    }
    expect(distinctNoise).toBeGreaterThan(99_000);
  });
});

describe('worker engine: the FDHOPE UDM in row ranges (streamed uploads)', () => {
  it('rows of the encrypted UDM are the same bytes however they are split over workers and calls, differ with the seed, and preserve order', async () => {
    const n = 60;
    const a = 3;
    const data = values(n * a, 4).map((v) => v / 100);
    const plainUdm = udm(matrix(data, [n, a])).data;
    const key = fdhope.keygen(plainUdm, { rb: seededRandomBytes(3) });
    const kid = await storeFdhope(key);
    const seed = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
    const inProcess = createInProcessEngine({ keys });
    const whole = await inProcess.fdhopeEncryptUdmRows(kid, data, a, { from: 0, to: n }, 1e-8, seed);
    expect(whole.length).toBe(n * n * a);
    for (const size of [1, 2]) {
      const { e } = engine(size);
      const parts = [await e.fdhopeEncryptUdmRows(kid, data, a, { from: 0, to: 17 }, 1e-8, seed), await e.fdhopeEncryptUdmRows(kid, data, a, { from: 17, to: n }, 1e-8, seed)];
      const joined = new Float64Array(n * n * a);
      joined.set(parts[0]);
      joined.set(parts[1], parts[0].length);
      expect(Buffer.from(joined.buffer).equals(Buffer.from(whole.buffer))).toBe(true);
    }
    const other = await inProcess.fdhopeEncryptUdmRows(kid, data, a, { from: 0, to: 1 }, 1e-8, seed.map((b) => b ^ 1));
    expect(Array.from(other)).not.toEqual(Array.from(whole.subarray(0, n * a)));
    // Order-preserving: sorting by plaintext sorts the ciphertexts (ties aside).
    const idx = Array.from(plainUdm.keys()).sort((i, j) => plainUdm[i] - plainUdm[j]);
    for (let t = 1; t < idx.length; t++) if (plainUdm[idx[t]] > plainUdm[idx[t - 1]] && !(whole[idx[t]] > whole[idx[t - 1]])) throw new Error(`order broken at ${t}`);
    inProcess.dispose();
  });

  it('a key fitted to the UDM without building it equals the key fitted to the built UDM (same random draws)', async () => {
    const n = 40;
    const a = 4;
    const data = values(n * a, 6);
    const built = createInProcessEngine({ keys, rb: seededRandomBytes(11) });
    const streamed = createInProcessEngine({ keys, rb: seededRandomBytes(11) });
    const r1 = await built.createFdhopeKey(udm(matrix(data, [n, a])).data, { label: 'built' });
    const r2 = await streamed.createFdhopeKeyForUdm(data, a, { label: 'streamed' });
    const m1 = await keys.loadMaterial(r1.id);
    const m2 = await keys.loadMaterial(r2.id);
    expect(m2).toEqual(m1);
    built.dispose();
    streamed.dispose();
  });
});
