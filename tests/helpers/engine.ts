/**
 * The in-process crypto engine (lib/engine/in-process.ts) over a memory key store, with helpers to
 * create the keys a test job needs. Seeded randomness makes Liu and FDHOPE keys and ciphertexts
 * deterministic, as the former inline crypto did.
 */
import { seededRandomBytes } from '@/lib/crypto/random';
import type { CkksKeySet } from '@/lib/crypto/ckks';
import { createInProcessEngine, type InProcessEngine } from '@/lib/engine/in-process';
import { ckksKeyParams } from '@/lib/keystore/pyfhel';
import { createMemoryKeyStore, type MemoryKeyStore } from '@/lib/keystore/memory';

export interface TestEngine {
  readonly engine: InProcessEngine;
  readonly keys: MemoryKeyStore;
  /** Creates a Liu key in the store and returns its id. */
  liuKey(level?: 128 | 192 | 256): Promise<string>;
  /** Stores an existing CKKS key set (with its secret key) and returns its id. */
  ckksKey(set: CkksKeySet, label?: string): Promise<string>;
}

export function testEngine(opts: { seed?: number } = {}): TestEngine {
  const keys = createMemoryKeyStore();
  const engine = createInProcessEngine({ keys, ...(opts.seed === undefined ? {} : { rb: seededRandomBytes(opts.seed) }) });
  return {
    engine,
    keys,
    liuKey: async (level = 128) => (await engine.createLiuKey(level, { label: `Liu ${level} (test)` })).id,
    async ckksKey(set, label = 'CKKS (test)') {
      const { secretKey, ...publicBundle } = set.toBytes();
      const rec = await keys.add(
        { scheme: 'ckks', label, origin: 'generated', params: ckksKeyParams(set.context.params, set.hasRelinKeys, set.hasGaloisKeys) },
        { scheme: 'ckks', publicBundle, secretKey },
      );
      return rec.id;
    },
  };
}
