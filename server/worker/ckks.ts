/**
 * @module server/worker/ckks
 * The worker's CKKS services (D4; docs/protocol-additions.md §1): evaluators built from the Data
 * Owner's public objects named by `Ckks-Keys-Id` (verified against their digest; never a secret
 * key), cached per id (LRU of 4), and a cache of ciphertext lists read before (`CiphertextCache`),
 * valid while a ball's `full_checksum` is unchanged, so the CKKS dataset is not re-read every round.
 */
import * as ckks from '@/lib/crypto/ckks';
import { AppError } from '@/lib/errors';
import { H } from '@/lib/rory/protocol';
import { isCkksKeysId, loadCkksPublicBundle } from '@/lib/rory/ckks-custody';
import type { ObjectStore } from '@/lib/storage/types';
import { HttpError } from '../common/http';
import type { HeaderParams } from './kit';

const MAX_CACHED_EVALUATORS = 4;

/**
 * Ciphertext lists read before, by ball id, valid while the ball's `full_checksum` is unchanged.
 * The dataset `encrypted{P}` is read every round; with the cache only its metadata is. Content is
 * verified against the checksum when first read, so a hit returns exactly the stored bytes.
 */
export class CiphertextCache {
  readonly #entries = new Map<string, { sum: string; items: Uint8Array[]; bytes: number }>();
  #bytes = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly budget: number,
  ) {}

  async getBytesList(key: string): Promise<Uint8Array[]> {
    const sumOf = this.store.fullChecksum?.bind(this.store);
    const before = this.budget > 0 && sumOf ? await sumOf(key) : undefined;
    const hit = before === undefined ? undefined : this.#entries.get(key);
    if (hit && hit.sum === before) {
      this.hits++;
      this.#entries.delete(key); // most recently used last
      this.#entries.set(key, hit);
      return hit.items;
    }
    this.misses++;
    const items = await this.store.getBytesList(key, { force: true });
    const bytes = items.reduce((s, b) => s + b.length, 0);
    // Cache only when the ball did not change while it was read.
    if (before !== undefined && sumOf && bytes <= this.budget && (await sumOf(key)) === before) {
      this.#drop(key);
      this.#entries.set(key, { sum: before, items, bytes });
      this.#bytes += bytes;
      for (const [k] of this.#entries) {
        if (this.#bytes <= this.budget) break;
        this.#drop(k);
      }
    }
    return items;
  }

  #drop(key: string): void {
    const e = this.#entries.get(key);
    if (!e) return;
    this.#bytes -= e.bytes;
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }
}

export interface CkksServices {
  /** The evaluator of the public objects named by `Ckks-Keys-Id` (400 when absent or not verifiable). */
  evaluatorFor(hh: HeaderParams): Promise<ckks.CkksEvaluator>;
  readonly cache: CiphertextCache;
  /** Frees the cached evaluators and ciphertexts. */
  dispose(): void;
}

export function createCkksServices(store: ObjectStore, opts: { cacheBytes?: number } = {}): CkksServices {
  const evaluators = new Map<string, Promise<ckks.CkksEvaluator>>();
  const cache = new CiphertextCache(store, opts.cacheBytes ?? 512 * 1024 * 1024);

  async function evaluatorFor(hh: HeaderParams): Promise<ckks.CkksEvaluator> {
    const id = hh.opt(H.CKKS_KEYS_ID);
    if (!id) throw new HttpError(400, `missing header ${H.CKKS_KEYS_ID}: this worker computes with the Data Owner's public CKKS objects only and never loads a secret key`);
    if (!isCkksKeysId(id)) throw new HttpError(400, `${H.CKKS_KEYS_ID} must be "ckks" followed by 32 hex digits`);
    let p = evaluators.get(id);
    if (p) {
      evaluators.delete(id); // re-insert: most recently used last
      evaluators.set(id, p);
      return p;
    }
    p = (async () => {
      try {
        return await ckks.CkksEvaluator.fromPublicBundle(await loadCkksPublicBundle(store, id));
      } catch (e) {
        evaluators.delete(id);
        if (e instanceof AppError && (e.code === 'INVALID_KEY' || e.code === 'CRYPTO_FAILURE')) throw new HttpError(400, e.message);
        throw e;
      }
    })();
    evaluators.set(id, p);
    while (evaluators.size > MAX_CACHED_EVALUATORS) {
      const [oldest, ev] = evaluators.entries().next().value as [string, Promise<ckks.CkksEvaluator>];
      evaluators.delete(oldest);
      ev.then((e) => e.dispose(), () => undefined);
    }
    return p;
  }

  return {
    evaluatorFor,
    cache,
    dispose() {
      for (const p of evaluators.values()) p.then((e) => e.dispose(), () => undefined);
      evaluators.clear();
      cache.clear();
    },
  };
}
