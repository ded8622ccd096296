/**
 * Interop with real Pyfhel 3.5.0 / SEAL 4.1.2 files: shared/vectors/ckks-pyfhel/ (see its README)
 * — context with the Pyfhel prefix, zstd keys, E3/E4 pickled ciphertexts (spec/crypto.md §5,
 * spec/protocol.md §7.3).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ckks from '@/lib/crypto/ckks';
import { pickleBytesList, unpickleBytesList, unpickleBytesMatrix } from '@/lib/storage/pickle';

const DIR = new URL('../../../shared/vectors/ckks-pyfhel/', import.meta.url);
const file = (name: string) => new Uint8Array(readFileSync(new URL(name, DIR)));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const FILES = {
  ctx: 'a805fac428edb85269c28c6334287e7150e4dc78e9d2d963267a9e5f934ddde9',
  pubkey: '5a244657a02575e9eddfdbdb04f6833e437e88dbf54b7cf40cf5ad20ae1fc592',
  secretkey: '2a044e567b67e5d48e2f1ecdb2ed4e6e8a03114f0d1e3f548aca91f790ee8d98',
  relinkey: 'c648498870f789d4a9200cdbed81a1827149592dbcb829461038ea797a19bcaf',
  'e3_matrix_rows.pkl': '55bd95e777c7ec4c995bd2fccefd5adc4b2a5c242a7f83dbcb9a75c447e37fe8',
  'e4_nested.pkl': '97cd0ea4066b09b6f9bb2c4b7e4d6b8a2f949591ffaef4789cfdeaabc7e15699',
} as const;

/** README "Ciphertexts and plaintexts". */
const E3_PLAINTEXTS = [
  [0.5, -1.25, 2.0, 3.75, -4.5],
  [10.0, 0.0, -0.001, 123.456, 7.0],
  [-3.14159, 2.71828, 1.41421, -0.57721, 0.69315],
  [0.001, -1000.0, 42.0, -42.0, 0.1],
];
const E4_PLAINTEXT = [0.75, -1.125, 1.5, 0.0625];
const PRIMES = [1152921504606748673n, 1099510890497n, 1099511480321n, 1152921504606830593n];
const TOL = 1e-6;

function expectSlots(got: Float64Array, want: readonly number[]): void {
  for (let i = 0; i < got.length; i++) {
    const expected = i < want.length ? want[i] : 0;
    if (!(Math.abs(got[i] - expected) <= TOL)) throw new Error(`slot ${i}: got ${got[i]}, want ${expected}`);
  }
}

const pyfhel: ckks.PyfhelKeyFiles = {
  ctx: file('ctx'),
  pubkey: file('pubkey'),
  secretkey: file('secretkey'),
  relinkey: file('relinkey'),
};
let keys: ckks.CkksKeySet;

beforeAll(async () => {
  keys = await ckks.importPyfhelFiles(pyfhel);
});

afterAll(() => keys?.dispose());

describe('Pyfhel files', () => {
  it('are the files the README describes', () => {
    for (const [name, hash] of Object.entries(FILES)) expect(sha256(file(name)), name).toBe(hash);
  });

  it('ctx: 36-byte Pyfhel prefix, then SEAL EncryptionParameters (zstd)', () => {
    const { prefix, sealParameters } = ckks.parsePyfhelContext(pyfhel.ctx);
    expect(prefix).toEqual({ securityLevel: 128, qiSizes: [60, 40, 40, 60], scale: 1099511627776 });
    expect(ckks.pyfhelPrefixLength(4)).toBe(36);
    expect(sealParameters.byteOffset - pyfhel.ctx.byteOffset).toBe(36);
    expect(sealParameters.length).toBe(85);
    expect(ckks.parseSealHeader(sealParameters, 'context')).toEqual({ major: 4, minor: 1, compression: 'zstd', size: 85 });
    for (const k of ['pubkey', 'secretkey', 'relinkey'] as const) {
      expect(ckks.parseSealHeader(pyfhel[k]!, k).compression).toBe('zstd');
    }
  });

  it('import: context parameters, all keys, consistency verified', () => {
    const c = keys.context;
    expect(c.polyModulusDegree).toBe(8192);
    expect(c.slots).toBe(4096);
    expect(c.primes).toEqual(PRIMES);
    expect(c.scale).toBe(2 ** 40);
    expect(c.maxLevel).toBe(2);
    expect(keys.hasSecretKey && keys.hasRelinKeys).toBe(true);
    expect(keys.hasGaloisKeys).toBe(false); // rotatekey is not shipped
  });

  it('our ctx export keeps the Pyfhel prefix and reloads to the same parameters', async () => {
    const ours = keys.context.toBytes();
    expect(Buffer.from(ours.subarray(0, 36)).equals(Buffer.from(pyfhel.ctx.subarray(0, 36)))).toBe(true);
    const files = ckks.toPyfhelFiles(keys.toBytes());
    expect(Object.keys(files).sort()).toEqual(['ctx', 'pubkey', 'relinkey', 'secretkey']);
    const again = await ckks.importPyfhelFiles(files);
    try {
      expect(again.context.sameParameters(keys.context)).toBe(true);
    } finally {
      again.dispose();
    }
  });
});

describe('E3/E4 ciphertexts made by Pyfhel', () => {
  const e3 = unpickleBytesList(file('e3_matrix_rows.pkl'));
  const e4 = unpickleBytesMatrix(file('e4_nested.pkl'));

  it('E3: the 4 row ciphertexts (level 0, scale 2^40, uncompressed) decrypt to the listed rows', () => {
    expect(e3).toHaveLength(4);
    e3.forEach((ct, i) => {
      expect(ckks.parseSealHeader(ct, 'ciphertext').compression).toBe('none');
      expectSlots(keys.decryptVector(ct), E3_PLAINTEXTS[i]);
    });
    const m = keys.decryptRows(e3, 5);
    expect(m.shape).toEqual([4, 5]);
    m.data.forEach((v, k) => expect(Math.abs(v - E3_PLAINTEXTS[Math.floor(k / 5)][k % 5])).toBeLessThanOrEqual(TOL));
  });

  it('E4: [[ct]] after multiply_plain + rescale decrypts with its own scale 2^80/q2', () => {
    expect(e4.map((r) => r.length)).toEqual([1]);
    expectSlots(keys.decryptVector(e4[0][0]), E4_PLAINTEXT);
  });

  it('levels and scales as listed; re-serialization is byte-identical to Pyfhel to_bytes()', () => {
    const ev = new ckks.CkksEvaluator(keys);
    try {
      for (const ct of e3) {
        const h = ev.load(ct);
        expect(ev.info(h)).toEqual({ level: 0, scale: 1099511627776, size: 2 });
        expect(Buffer.from(ev.save(h)).equals(Buffer.from(ct))).toBe(true);
      }
      const h4 = ev.load(e4[0][0]);
      expect(ev.info(h4).level).toBe(1);
      expect(ev.info(h4).scale).toBeCloseTo(1099511775231.0198, 3);
      expect(ev.info(h4).scale).toBe(2 ** 80 / Number(PRIMES[2]));
      expect(Buffer.from(ev.save(h4)).equals(Buffer.from(e4[0][0]))).toBe(true);
    } finally {
      ev.dispose();
    }
  });

  it('a worker holding only the Pyfhel public files sums the E3 rows; the owner decrypts', async () => {
    const worker = await ckks.CkksEvaluator.fromPublicBundle(ckks.fromPyfhelFiles({ ctx: pyfhel.ctx, pubkey: pyfhel.pubkey, relinkey: pyfhel.relinkey }));
    try {
      expect(worker.keys.hasSecretKey).toBe(false);
      const pickled = worker.scoped(() => pickleBytesList([worker.save(worker.sum(worker.loadAll(e3)))]));
      expect(worker.liveCount).toBe(0);
      const [sum] = unpickleBytesList(pickled);
      expectSlots(keys.decryptVector(sum), [0, 1, 2, 3, 4].map((j) => E3_PLAINTEXTS.reduce((acc, row) => acc + row[j], 0)));
    } finally {
      worker.dispose();
    }
  });
});

describe('encrypting and evaluating under the imported keys', () => {
  it('a ciphertext encrypted under the imported pubkey decrypts with the imported secretkey', () => {
    const v = Float64Array.of(0.5, -1.25, 2, 3.75, -4.5);
    const ct = keys.encryptRow(v);
    expect(ct.length).toBe(393329);
    expectSlots(keys.decryptVector(ct), Array.from(v));
  });

  it('square + relinearize (imported relinkey) + rescale gives [2.25, 5.0625, 9, 0.015625]', async () => {
    const worker = await ckks.CkksEvaluator.fromPublicBundle(ckks.fromPyfhelFiles({ ctx: pyfhel.ctx, pubkey: pyfhel.pubkey, relinkey: pyfhel.relinkey }));
    try {
      const bytes = worker.scoped(() => {
        const x = worker.encrypt(Float64Array.of(1.5, -2.25, 3.0, 0.125));
        const sq = worker.square(x);
        expect(worker.info(sq)).toMatchObject({ level: 1, size: 2 });
        return worker.save(sq);
      });
      expectSlots(keys.decryptVector(bytes), [2.25, 5.0625, 9, 0.015625]);
    } finally {
      worker.dispose();
    }
  });

  it('the E4 value combines with a fresh ciphertext (level and scale aligned as Pyfhel does)', () => {
    const ev = new ckks.CkksEvaluator(keys);
    try {
      const e4 = ev.load(unpickleBytesMatrix(file('e4_nested.pkl'))[0][0]);
      const fresh = ev.load(keys.encryptRow(Float64Array.of(1, 1, 1, 1)));
      const diff = ev.sub(fresh, e4);
      expect(ev.info(diff)).toMatchObject({ level: 1, scale: 2 ** 40 });
      expectSlots(keys.decryptVector(ev.save(diff)), E4_PLAINTEXT.map((x) => 1 - x));
    } finally {
      ev.dispose();
    }
  });
});
