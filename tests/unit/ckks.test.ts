/**
 * CKKS over node-seal (lib/crypto/ckks): parameter sets (spec/crypto.md §5.1), context and key
 * serialization (Pyfhel layout), row encryption (§5.2, §5.4), worker operations (§5.3, D4: from
 * the public bundle only), alignment, SEAL error mapping and object cleanup.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ckks from '@/lib/crypto/ckks';
import { fillUniform, seededRandomBytes } from '@/lib/crypto/random';
import { plainMatrix } from '@/lib/data/matrix';
import { AppError } from '@/lib/errors';

const TOL = 1e-6;
const ROTATED_TOL = 1e-5;

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = TOL): void {
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tol * Math.max(1, Math.abs(want[i])))) {
      throw new Error(`slot ${i}: got ${got[i]}, want ${want[i]} (error ${err})`);
    }
  }
}

function expectZeros(got: Float64Array, from: number, tol = TOL): void {
  let worst = 0;
  for (let i = from; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]));
  expect(worst).toBeLessThanOrEqual(tol);
}

function expectAppError(f: () => unknown, code: string, pattern?: RegExp): AppError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(AppError);
  const e = caught as AppError;
  expect(e.code).toBe(code);
  if (pattern) expect(`${e.message} ${e.userMessage}`).toMatch(pattern);
  return e;
}

async function expectAppErrorAsync(p: Promise<unknown>, code: string): Promise<AppError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  expect((e as AppError).code).toBe(code);
  return e as AppError;
}

function uniformVector(seed: number, n: number, lo: number, hi: number): Float64Array {
  const v = fillUniform(seededRandomBytes(seed), new Float64Array(n));
  return v.map((u) => lo + (hi - lo) * u);
}

const A = Float64Array.of(1.5, -2.25, 3, 0.125, 7);
const B = Float64Array.of(0.5, 4, -1.75, 2, -3.5);

let seal: ckks.Seal;
let keys: ckks.CkksKeySet;
let worker: ckks.CkksEvaluator;

beforeAll(async () => {
  seal = await ckks.loadSeal();
  keys = await ckks.generateKeySet(ckks.CKKS_DEFAULT_PARAMS, { galoisSteps: [1, -1, 2] });
  worker = await ckks.CkksEvaluator.fromPublicBundle(keys.publicBundle());
});

afterAll(() => {
  worker?.dispose();
  keys?.dispose();
});

describe('parameter sets (spec/crypto.md §5.1)', () => {
  it('pins every mode × level', () => {
    const ml = [60, 40, 40, 40, 40, 40, 40, 40, 60];
    expect(ckks.CKKS_PARAMS.default[128]).toEqual({ polyModulusDegree: 8192, scaleBits: 40, coeffModulusBits: [60, 40, 40, 60], securityLevel: 128 });
    expect(ckks.CKKS_PARAMS.default[192]).toEqual({ polyModulusDegree: 16384, scaleBits: 40, coeffModulusBits: [60, 40, 40, 40, 60], securityLevel: 192 });
    expect(ckks.CKKS_PARAMS.default[256]).toEqual({ polyModulusDegree: 32768, scaleBits: 60, coeffModulusBits: [60, 50, 50, 50, 60], securityLevel: 256 });
    expect(ckks.CKKS_PARAMS.ml[128]).toEqual({ polyModulusDegree: 16384, scaleBits: 40, coeffModulusBits: ml, securityLevel: 128 });
    expect(ckks.CKKS_PARAMS.ml[192]).toEqual({ polyModulusDegree: 32768, scaleBits: 40, coeffModulusBits: ml, securityLevel: 192 });
    expect(ckks.CKKS_PARAMS.ml[256]).toEqual({ polyModulusDegree: 32768, scaleBits: 40, coeffModulusBits: ml, securityLevel: 256 });
    expect(ckks.ckksParams()).toBe(ckks.CKKS_DEFAULT_PARAMS);
    expect(ckks.ckksParams('ml', 192)).toBe(ckks.CKKS_PARAMS.ml[192]);
    expect(Object.isFrozen(ckks.CKKS_PARAMS.default[128].coeffModulusBits)).toBe(true);
    expect(ckks.ckksParamSetName(ckks.CKKS_PARAMS.ml[256])).toBe('ml-256');
    expect(ckks.ckksParamSetName({ ...ckks.CKKS_DEFAULT_PARAMS })).toBe('default-128');
    expect(ckks.ckksParamSetName({ ...ckks.CKKS_DEFAULT_PARAMS, scaleBits: 30 })).toBeUndefined();
  });

  it('rejects unknown sets and malformed parameters', () => {
    expectAppError(() => ckks.ckksParams('fast' as ckks.CkksMode), 'INVALID_ARGUMENT');
    expectAppError(() => ckks.ckksParams('default', 100 as ckks.CkksSecurityLevel), 'INVALID_ARGUMENT');
    expectAppError(() => ckks.assertCkksParams({ ...ckks.CKKS_DEFAULT_PARAMS, polyModulusDegree: 8000 }), 'INVALID_ARGUMENT');
    expectAppError(() => ckks.assertCkksParams({ ...ckks.CKKS_DEFAULT_PARAMS, coeffModulusBits: [60, 61] }), 'INVALID_ARGUMENT');
  });

  it('default/192 (N = 16384, four rescaling primes) encrypts, squares and decrypts', async () => {
    const k = await ckks.generateKeySet(ckks.CKKS_PARAMS.default[192]);
    try {
      expect(k.context.slots).toBe(8192);
      expect(k.context.maxLevel).toBe(3);
      const ev = new ckks.CkksEvaluator(k);
      const sq = ev.square(ev.load(k.encryptRow(A)));
      expect(ev.info(sq).level).toBe(2);
      expectClose(k.decryptVector(ev.save(sq)), A.map((x) => x * x));
      ev.dispose();
    } finally {
      k.dispose();
    }
  });

  it('SEAL refuses parameters that are insecure at the requested level', () => {
    expectAppError(() => ckks.CkksContext.createWith(seal, { ...ckks.CKKS_DEFAULT_PARAMS, coeffModulusBits: [60, 60, 60, 60] }), 'SEAL_ERROR');
  });
});

describe('CkksContext', () => {
  it('exposes slots, scale and levels', () => {
    const c = keys.context;
    expect(c.polyModulusDegree).toBe(8192);
    expect(c.slots).toBe(4096);
    expect(c.scale).toBe(2 ** 40);
    expect(c.scaleBits).toBe(40);
    expect(c.coeffModulusBits).toEqual([60, 40, 40, 60]);
    expect(c.primes.map((p) => p.toString(2).length)).toEqual([60, 40, 40, 60]);
    expect(c.maxLevel).toBe(2);
    expect(c.securityLevel).toBe(128);
    expect(c.params).toEqual(ckks.CKKS_DEFAULT_PARAMS);
  });

  it('serializes in the Pyfhel ctx layout and loads back', async () => {
    const bytes = keys.context.toBytes();
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    expect(dv.getInt32(0, true)).toBe(128);
    expect(dv.getBigUint64(4, true)).toBe(4n);
    expect([0, 1, 2, 3].map((i) => dv.getInt32(12 + 4 * i, true))).toEqual([60, 40, 40, 60]);
    expect(dv.getFloat64(28, true)).toBe(2 ** 40);
    expect(ckks.parseSealHeader(bytes.subarray(36), 'context').compression).toBe('zstd');
    const again = await ckks.CkksContext.fromBytes(bytes);
    try {
      expect(again.sameParameters(keys.context)).toBe(true);
      expect(again.params).toEqual(ckks.CKKS_DEFAULT_PARAMS);
    } finally {
      again.dispose();
    }
  });

  it('loads a bare SEAL parameter blob with an explicit scale', () => {
    const bare = keys.context.toBytes('none').subarray(36);
    const c = ckks.CkksContext.fromBytesWith(seal, bare, { scale: 2 ** 30 });
    try {
      expect(c.scale).toBe(2 ** 30);
      expect(c.primes).toEqual(keys.context.primes);
    } finally {
      c.dispose();
    }
  });

  it('rejects garbage, inconsistent prefixes and use after dispose', () => {
    expectAppError(() => ckks.CkksContext.fromBytesWith(seal, new Uint8Array(50)), 'SEAL_ERROR');
    expectAppError(() => ckks.CkksContext.fromBytesWith(seal, Uint8Array.of(0x5e, 0xa1, 1, 2)), 'SEAL_ERROR');
    const bytes = keys.context.toBytes();
    const lying = bytes.slice();
    new DataView(lying.buffer).setInt32(16, 50, true); // qi_sizes[1] = 50 ≠ 40
    expectAppError(() => ckks.CkksContext.fromBytesWith(seal, lying), 'SEAL_ERROR', /inconsistent|qi_sizes/);
    const corrupt = bytes.slice();
    corrupt[60] ^= 0xff;
    expectAppError(() => ckks.CkksContext.fromBytesWith(seal, corrupt), 'SEAL_ERROR');
    const c = ckks.CkksContext.fromBytesWith(seal, bytes);
    c.dispose();
    expect(c.disposed).toBe(true);
    expectAppError(() => c.toBytes(), 'INTERNAL');
  });
});

describe('encrypt / decrypt rows (§5.2, §5.4)', () => {
  it('decrypts within 1e-6 relative error at the default scale; other slots ≈ 0', () => {
    for (const [seed, n, mag] of [
      [1, 5, 10],
      [2, 64, 1000],
      [3, 4096, 100],
    ] as const) {
      const v = uniformVector(seed, n, -mag, mag);
      const got = keys.decryptVector(keys.encryptRow(v));
      expect(got).toHaveLength(4096);
      expectClose(got, v);
      expectZeros(got, n);
    }
  });

  it('symmetric (secret-key) encryption writes seeded ciphertexts of about half the size that decrypt and evaluate like public-key ones', () => {
    const v = uniformVector(7, 8, -50, 50);
    const pub = keys.encryptRow(v);
    const sym = keys.encryptRow(v, { symmetric: true });
    expect(sym.length).toBeLessThan(pub.length * 0.55);
    expect(sym.length).toBeGreaterThan(pub.length * 0.45);
    expectClose(keys.decryptVector(sym).subarray(0, 8), v);
    // The worker (public material only) loads seeded ciphertexts and computes with them.
    const sum = worker.scoped(() => worker.save(worker.multiplyPlain(worker.add(worker.load(sym), worker.load(pub)), 0.5)));
    expectClose(keys.decryptVector(sum).subarray(0, 8), v);
    expect(Buffer.compare(Buffer.from(sym), Buffer.from(keys.encryptRow(v, { symmetric: true })))).not.toBe(0);
  });

  it('symmetric encryption needs the secret key', async () => {
    const pubOnly = await ckks.openKeySet(keys.publicBundle());
    try {
      expect(() => pubOnly.encryptRow(A, { symmetric: true })).toThrow(AppError);
    } finally {
      pubOnly.dispose();
    }
  });

  it('is randomized: two encryptions of the same row differ', () => {
    const a = keys.encryptRow(A);
    const b = keys.encryptRow(A);
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).not.toBe(0);
  });

  it('writes uncompressed ciphertexts by default (Pyfhel to_bytes size) and reads any compression', () => {
    const none = keys.encryptRow(A);
    expect(none.length).toBe(393329); // a fresh Pyfhel 3.5 ciphertext at these parameters
    expect(ckks.parseSealHeader(none, 'ciphertext').compression).toBe('none');
    const zstd = keys.encryptRow(A, { compression: 'zstd' });
    const zlib = keys.encryptRow(A, { compression: 'zlib' });
    expect(ckks.parseSealHeader(zstd, 'ciphertext').compression).toBe('zstd');
    expect(ckks.parseSealHeader(zlib, 'ciphertext').compression).toBe('zlib');
    expect(zstd.length).toBeLessThan(none.length);
    for (const ct of [none, zstd, zlib]) expectClose(keys.decryptVector(ct), A);
  });

  it('encryptRows / decryptRows: one ciphertext per row, k×a result', () => {
    const m = plainMatrix(Float64Array.of(...A, ...B, 0, 0, 0, 0, 0), 3, 5);
    const cts = keys.encryptRows(m);
    expect(cts).toHaveLength(3);
    const back = keys.decryptRows(cts, 5);
    expect(back.shape).toEqual([3, 5]);
    expectClose(back.data, m.data);
    expect(keys.decryptRows(cts, 2).data).toHaveLength(6);
    expect(keys.decryptRows([], 5).shape).toEqual([0, 5]);
  });

  it('validates inputs', () => {
    expectAppError(() => keys.encryptRow(new Float64Array(4097)), 'SHAPE_MISMATCH');
    expectAppError(() => keys.encryptRow(Float64Array.of(1, Number.NaN)), 'DATA_MAGNITUDE');
    expectAppError(() => keys.encryptRow([1, 2] as unknown as Float64Array), 'INVALID_ARGUMENT');
    expectAppError(() => keys.encryptRow(A, { compression: 'gzip' as ckks.CkksCompression }), 'INVALID_ARGUMENT');
    expectAppError(() => keys.decryptRows([keys.encryptRow(A)], 5000), 'INVALID_ARGUMENT');
  });
});

describe('key sets', () => {
  it('a saved-then-loaded key set decrypts old ciphertexts, and vice versa', async () => {
    const old = keys.encryptRow(A);
    const saved = keys.toBytes();
    for (const blob of [saved.publicKey, saved.secretKey, saved.relinKeys!, saved.galoisKeys!]) {
      expect(ckks.parseSealHeader(blob, 'key').compression).toBe('zstd');
    }
    const reopened = await ckks.openKeySet(ckks.unpackKeyBytes(ckks.packKeyBytes(saved)));
    try {
      expect(reopened.hasSecretKey && reopened.hasRelinKeys && reopened.hasGaloisKeys).toBe(true);
      expect(reopened.hasRotationStep(1) && reopened.hasRotationStep(-1) && reopened.hasRotationStep(2)).toBe(true);
      expect(reopened.hasRotationStep(3)).toBe(false);
      expectClose(reopened.decryptVector(old), A);
      expectClose(keys.decryptVector(reopened.encryptRow(B)), B);
    } finally {
      reopened.dispose();
    }
    expect(reopened.disposed).toBe(true);
    expect(reopened.context.disposed).toBe(true); // openKeySet's key set owns its context
  });

  it('the public bundle never carries the secret key (D4)', () => {
    const bundle = keys.publicBundle();
    expect(Object.keys(bundle).sort()).toEqual(['ctx', 'galoisKeys', 'publicKey', 'relinKeys']);
    expect('secretKey' in bundle).toBe(false);
  });

  it('exports and imports the Pyfhel file layout', () => {
    const files = ckks.toPyfhelFiles(keys.toBytes());
    expect(Object.keys(files).sort()).toEqual(['ctx', 'pubkey', 'relinkey', 'rotatekey', 'secretkey']);
    expect(ckks.parsePyfhelContext(files.ctx).prefix).toEqual({ securityLevel: 128, qiSizes: [60, 40, 40, 60], scale: 2 ** 40 });
    const back = ckks.fromPyfhelFiles(files);
    expect(back.secretKey).toBe(files.secretkey);
    expect(back.galoisKeys).toBe(files.rotatekey);
    expect(Object.keys(ckks.toPyfhelFiles(keys.publicBundle())).sort()).toEqual(['ctx', 'pubkey', 'relinkey', 'rotatekey']);
  });

  it('generates Galois keys only for the requested steps; none by default', async () => {
    const plain = ckks.CkksKeySet.generate(keys.context, { relinKeys: false });
    try {
      expect(plain.hasRelinKeys).toBe(false);
      expect(plain.hasGaloisKeys).toBe(false);
      expect(plain.publicBundle().relinKeys).toBeUndefined();
      expect(plain.publicBundle().galoisKeys).toBeUndefined();
    } finally {
      plain.dispose();
    }
    expect(keys.context.disposed).toBe(false); // a key set that does not own its context leaves it alone
    expectAppError(() => ckks.CkksKeySet.generate(keys.context, { galoisSteps: [0] }), 'INVALID_ARGUMENT');
    expectAppError(() => ckks.CkksKeySet.generate(keys.context, { galoisSteps: [4096] }), 'INVALID_ARGUMENT');
    expect(ckks.galoisElement(1, 8192)).toBe(3);
    expect(ckks.galoisElement(2, 8192)).toBe(9);
    expect(ckks.galoisElement(0, 8192)).toBe(16383);
  });

  it('a public bundle opens without a secret key: encrypt yes, decrypt/export no', async () => {
    const pub = await ckks.openKeySet(keys.publicBundle());
    try {
      expect(pub.hasSecretKey).toBe(false);
      const ct = pub.encryptRow(A);
      expectClose(keys.decryptVector(ct), A);
      expectAppError(() => pub.decryptVector(ct), 'INVALID_KEY', /secret key/);
      expectAppError(() => pub.toBytes(), 'INVALID_KEY');
    } finally {
      pub.dispose();
    }
  });

  it('rejects a secret key from another key set, corrupt keys and incomplete bundles', async () => {
    const other = await ckks.generateKeySet(ckks.CKKS_DEFAULT_PARAMS, { relinKeys: false });
    try {
      const mixed = { ...keys.publicBundle(), secretKey: other.toBytes().secretKey };
      await expectAppErrorAsync(ckks.openKeySet(mixed), 'INVALID_KEY');
      const wrongRelin = { ...other.toBytes(), relinKeys: keys.publicBundle().relinKeys };
      await expectAppErrorAsync(ckks.openKeySet(wrongRelin), 'INVALID_KEY');
    } finally {
      other.dispose();
    }
    const saved = keys.toBytes();
    const corrupt = saved.publicKey.slice();
    corrupt[corrupt.length - 10] ^= 0xff;
    // SEAL may or may not notice a flipped byte inside zstd data; then the consistency check does
    const e = await ckks.openKeySet({ ...saved, publicKey: corrupt }).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(AppError);
    expect(['SEAL_ERROR', 'INVALID_KEY']).toContain((e as AppError).code);
    await expectAppErrorAsync(ckks.openKeySet({ ...saved, publicKey: new Uint8Array(10) }), 'SEAL_ERROR');
    await expectAppErrorAsync(ckks.openKeySet({ ctx: saved.ctx } as ckks.CkksPublicBundle), 'INVALID_KEY');
    await expectAppErrorAsync(ckks.openKeySet({ publicKey: saved.publicKey } as ckks.CkksPublicBundle), 'INVALID_KEY');
    expectAppError(() => ckks.unpackKeyBytes(new Uint8Array(20)), 'BACKUP_INVALID');
    expectAppError(() => ckks.unpackKeyBytes(ckks.packKeyBytes(saved).subarray(0, 100)), 'BACKUP_INVALID');
  });

  it('keys of other parameters do not load', async () => {
    const small = await ckks.CkksContext.create({ polyModulusDegree: 8192, scaleBits: 40, coeffModulusBits: [60, 40, 60], securityLevel: 128 });
    try {
      expectAppError(() => ckks.CkksKeySet.fromBytes(small, keys.toBytes()), 'SEAL_ERROR');
    } finally {
      small.dispose();
    }
  });
});

describe('worker evaluator from the public bundle (§5.3, D4)', () => {
  it('holds no secret key even if one is passed by mistake', async () => {
    expect(worker.keys.hasSecretKey).toBe(false);
    const ev = await ckks.CkksEvaluator.fromPublicBundle(keys.toBytes());
    try {
      expect(ev.keys.hasSecretKey).toBe(false);
    } finally {
      ev.dispose();
    }
  });

  it('add, sub, negate, sum', () => {
    worker.scoped(() => {
      const a = worker.load(keys.encryptRow(A));
      const b = worker.load(keys.encryptRow(B));
      expectClose(keys.decryptVector(worker.save(worker.add(a, b))), A.map((x, i) => x + B[i]));
      expectClose(keys.decryptVector(worker.save(worker.sub(a, b))), A.map((x, i) => x - B[i]));
      expectClose(keys.decryptVector(worker.save(worker.negate(a))), A.map((x) => -x));
      expectClose(keys.decryptVector(worker.save(worker.sum([a, b, a]))), A.map((x, i) => 2 * x + B[i]));
      expectClose(keys.decryptVector(worker.save(worker.sum([b]))), B);
      // inputs are unchanged
      expectClose(keys.decryptVector(worker.save(a)), A);
    });
  });

  it('multiplyPlain by a scalar (all slots) and by a vector, with rescale', () => {
    worker.scoped(() => {
      const a = worker.load(keys.encryptRow(A));
      const half = worker.multiplyPlain(a, 0.25);
      expect(worker.info(half).level).toBe(1);
      expect(Math.abs(worker.info(half).scale / 2 ** 40 - 1)).toBeLessThan(1e-5);
      expectClose(keys.decryptVector(worker.save(half)), A.map((x) => x / 4));
      const vec = worker.multiplyPlain(a, B);
      expectClose(keys.decryptVector(worker.save(vec)), A.map((x, i) => x * B[i]));
      const raw = worker.multiplyPlain(a, 2, { rescale: false });
      expect(worker.info(raw)).toMatchObject({ level: 2, scale: 2 ** 80 });
      // at a lower level: encode the plaintext at the ciphertext's level
      const twice = worker.multiplyPlain(half, 4);
      expect(worker.info(twice).level).toBe(0);
      expectClose(keys.decryptVector(worker.save(twice)), A);
      expectAppError(() => worker.multiplyPlain(a, 0), 'INVALID_ARGUMENT');
      expectAppError(() => worker.multiplyPlain(a, new Float64Array(4097)), 'SHAPE_MISMATCH');
      expectAppError(() => worker.multiplyPlain(twice, 2), 'SEAL_ERROR', /last level|no levels/);
    });
  });

  it('multiply and square with relinearization and rescale', () => {
    worker.scoped(() => {
      const a = worker.load(keys.encryptRow(A));
      const b = worker.load(keys.encryptRow(B));
      const ab = worker.multiply(a, b);
      expect(worker.info(ab)).toMatchObject({ level: 1, size: 2 });
      expectClose(keys.decryptVector(worker.save(ab)), A.map((x, i) => x * B[i]));
      const sq = worker.square(a);
      expect(worker.info(sq)).toMatchObject({ level: 1, size: 2 });
      expectClose(keys.decryptVector(worker.save(sq)), A.map((x) => x * x));
      // a product of a level-1 and a level-2 operand aligns levels first
      expectClose(keys.decryptVector(worker.save(worker.multiply(sq, b))), A.map((x, i) => x * x * B[i]), 1e-5);
      const unscaled = worker.square(a, { rescale: false });
      expect(worker.info(unscaled)).toMatchObject({ level: 2, scale: 2 ** 80 });
    });
  });

  it('rotate by the generated steps; other steps are a typed missing-key error', () => {
    worker.scoped(() => {
      const a = worker.load(keys.encryptRow(A));
      // A rotation adds key-switching noise to the fresh-encryption noise: compare at 10× TOL.
      const left = keys.decryptVector(worker.save(worker.rotate(a, 1)));
      expectClose(left.subarray(0, 4), A.subarray(1), ROTATED_TOL);
      const right = keys.decryptVector(worker.save(worker.rotate(a, -1)));
      expect(Math.abs(right[0])).toBeLessThan(ROTATED_TOL);
      expectClose(right.subarray(1, 6), A, ROTATED_TOL);
      const two = keys.decryptVector(worker.save(worker.rotate(a, 2)));
      expectClose(two.subarray(0, 3), A.subarray(2), ROTATED_TOL);
      expectClose(keys.decryptVector(worker.save(worker.rotate(a, 0))), A);
      const e = expectAppError(() => worker.rotate(a, 3), 'INVALID_KEY', /rotation/);
      expect(e.details).toMatchObject({ step: 3 });
      expectAppError(() => worker.rotate(a, 4096), 'INVALID_ARGUMENT');
    });
  });

  it('aligns level and scale like Pyfhel (shift = previous − new centroid)', () => {
    worker.scoped(() => {
      const prev = worker.load(keys.encryptRow(A));
      const members = [worker.load(keys.encryptRow(B)), worker.load(keys.encryptRow(A))];
      const centroid = worker.multiplyPlain(worker.sum(members), 1 / members.length);
      expect(worker.info(centroid).scale).not.toBe(2 ** 40); // 2^80 / q2
      const shift = worker.sub(prev, centroid);
      expect(worker.info(shift)).toMatchObject({ level: 1, scale: 2 ** 40 });
      expectClose(keys.decryptVector(worker.save(shift)), A.map((x, i) => x - (x + B[i]) / 2));
      const [x, y] = worker.align(prev, centroid);
      expect(worker.info(x)).toEqual(worker.info(y));
      expect(worker.info(prev).level).toBe(2); // inputs untouched
      const down = worker.modSwitchTo(prev, 0);
      expect(worker.info(down).level).toBe(0);
      expectClose(keys.decryptVector(worker.save(down)), A);
      // a product left at scale 2^80 cannot be combined with a scale-2^40 ciphertext
      const raw = worker.multiplyPlain(prev, 3, { rescale: false });
      expectAppError(() => worker.add(prev, raw), 'SEAL_ERROR', /scale/);
      expectClose(keys.decryptVector(worker.save(worker.rescale(raw))), A.map((v) => 3 * v));
    });
  });

  it('frees ciphertexts: scoped, free, dispose', () => {
    const before = worker.liveCount;
    const kept = worker.scoped(() => {
      const a = worker.load(keys.encryptRow(A));
      return worker.add(a, a);
    });
    expect(worker.liveCount).toBe(before + 1);
    worker.free(kept);
    expect(worker.liveCount).toBe(before);
    expectAppError(() => worker.save(kept), 'INVALID_ARGUMENT', /freed/);
    const other = new ckks.CkksEvaluator(keys);
    const h = other.load(keys.encryptRow(A));
    expectAppError(() => worker.save(h), 'INVALID_ARGUMENT');
    other.dispose();
    expect(other.disposed).toBe(true);
    expect(keys.disposed).toBe(false); // the evaluator did not own the keys
    expectAppError(() => other.load(keys.encryptRow(A)), 'INTERNAL');
  });

  it('needs relinearization / Galois keys for ct×ct and rotation', async () => {
    const bare = await ckks.CkksEvaluator.fromPublicBundle({ ctx: keys.publicBundle().ctx, publicKey: keys.publicBundle().publicKey });
    try {
      const a = bare.load(keys.encryptRow(A));
      expectAppError(() => bare.multiply(a, a), 'INVALID_KEY', /relinearization/);
      expectAppError(() => bare.square(a), 'INVALID_KEY', /relinearization/);
      expectAppError(() => bare.rotate(a, 1), 'INVALID_KEY', /Galois/);
      expectClose(keys.decryptVector(bare.save(bare.add(a, a))), A.map((x) => 2 * x));
    } finally {
      bare.dispose();
    }
  });
});

describe('negative inputs to decryption and loading', () => {
  it('garbage bytes and wrong objects are typed SEAL errors', () => {
    expectAppError(() => keys.decryptVector(new Uint8Array(100)), 'SEAL_ERROR', /not a SEAL object/);
    expectAppError(() => keys.decryptVector(new Uint8Array(0)), 'SEAL_ERROR');
    const ct = keys.encryptRow(A);
    const truncated = ct.subarray(0, 1000);
    expectAppError(() => keys.decryptVector(truncated), 'SEAL_ERROR');
    const body = ct.slice();
    body[100] ^= 0xff;
    expectAppError(() => keys.decryptVector(body), 'SEAL_ERROR');
    // a public key has a ciphertext's layout, but sits at the key level
    expectAppError(() => keys.decryptVector(keys.publicBundle({ compression: 'none' }).publicKey), 'SEAL_ERROR');
    expectAppError(() => worker.load(new Uint8Array(16)), 'SEAL_ERROR');
  });

  it('a ciphertext from another context is rejected', async () => {
    const other = await ckks.generateKeySet({ polyModulusDegree: 8192, scaleBits: 40, coeffModulusBits: [60, 40, 60], securityLevel: 128 }, { relinKeys: false });
    try {
      const foreign = other.encryptRow(A);
      expectAppError(() => keys.decryptVector(foreign), 'SEAL_ERROR', /different CKKS context|different parameters/);
      expectAppError(() => worker.load(foreign), 'SEAL_ERROR');
      expectAppError(() => other.decryptVector(keys.encryptRow(A)), 'SEAL_ERROR');
    } finally {
      other.dispose();
    }
  });
});

describe('SEAL adapter', () => {
  it('loadSeal is memoised', async () => {
    expect(await ckks.loadSeal()).toBe(seal);
    expect(await ckks.loadSeal({ locateFile: undefined })).toBe(seal);
  });

  it('scope deletes every tracked object, also on throw; release hands one out', () => {
    let tracked: ckks.SealObject[] = [];
    const kept = ckks.scope((s) => {
      tracked = [s.track(new seal.Plaintext()), s.track(new seal.Ciphertext())];
      return s.release(s.track(new seal.Plaintext()));
    });
    expect(tracked.every((o) => o.isDeleted())).toBe(true);
    expect(kept.isDeleted()).toBe(false);
    kept.delete();
    let inThrow: ckks.SealObject | undefined;
    expect(() =>
      ckks.scope((s) => {
        inThrow = s.track(new seal.Plaintext());
        throw { message: ['std::logic_error', 'ciphertext data is invalid'] };
      }, 'test op'),
    ).toThrow(AppError);
    expect(inThrow?.isDeleted()).toBe(true);
  });

  it('maps node-seal, embind and runtime errors to SEAL_ERROR with user messages', () => {
    const rot = ckks.toSealError({ message: ['std::invalid_argument', 'Galois key not present'] }, 'rotate');
    expect(rot.code).toBe('SEAL_ERROR');
    expect(rot.message).toBe('SEAL rotate failed: std::invalid_argument: Galois key not present');
    expect(rot.userMessage).toMatch(/rotation/);
    expect(rot.details).toMatchObject({ operation: 'rotate', sealKind: 'std::invalid_argument' });
    expect(ckks.toSealError({ message: ['std::logic_error', 'ciphertext data is invalid'] }, 'load').userMessage).toMatch(/corrupt/);
    expect(ckks.toSealError({ message: ['std::invalid_argument', 'end of modulus switching chain reached'] }, 'x').userMessage).toMatch(/levels/);
    expect(ckks.toSealError(new WebAssembly.RuntimeError('unreachable'), 'x').userMessage).toMatch(/memory/);
    const binding = new Error('Cannot pass deleted object as a pointer of type Ciphertext');
    binding.name = 'BindingError';
    expect(ckks.toSealError(binding, 'x').userMessage).toMatch(/released/);
    const app = new AppError('INVALID_KEY', 'x');
    expect(ckks.toSealError(app, 'x')).toBe(app);
  });
});
