/**
 * @module headless/keys/choose
 * Which keys a headless job uses (spec/crypto.md §2.2 Liu, §5.1 CKKS; D4, D5), the headless
 * counterpart of the job controller's key choice (lib/jobs/controller.ts):
 * - Liu: the key named for the job, else a NEW key for this job at LIU_SECURITY_LEVEL (kept in
 *   memory, deleted when the job ends).
 * - CKKS: the key set named for the job (it must have what the algorithm needs), else the newest
 *   set in KEYS_PATH that has the relinearization and rotation keys the algorithm needs on this
 *   data's shape (lib's `ckksKeyFits`, the app's rule), else a new default-128 set, saved to
 *   KEYS_PATH for the next jobs. Every key in KEYS_PATH was put there
 *   by the operator (`rory keys …`), so imported and restored sets are candidates too.
 * Keys are created through the engine, so secret material never leaves it.
 */
import { AppError } from '@/lib/errors';
import { CKKS_DEFAULT_PARAMS } from '@/lib/crypto/ckks';
import type { CryptoEngine, KeyId } from '@/lib/engine/types';
import type { CkksKeyRecord, KeyRecord, KeyStore, UsageRef } from '@/lib/keystore/types';
import { ckksKeyFits } from '@/lib/rory/algorithms/registry';
import type { AlgorithmSpec } from '@/lib/rory/algorithms/spec';

export interface KeyChoice {
  readonly liu?: KeyId;
  readonly ckks?: KeyId;
  /** What was created, for the job log (`KEYGEN` events). */
  readonly created: readonly { readonly what: string; readonly ms: number }[];
}

export interface KeyChoiceOptions {
  readonly liuLevel: 128 | 192 | 256;
  readonly liuKeyId?: string;
  readonly ckksKeyId?: string;
  readonly usedBy: UsageRef;
  readonly shape: { readonly rows: number; readonly cols: number };
  readonly signal?: AbortSignal;
}

/** The rotation steps a new CKKS key set needs for `spec` on data of `shape`. */
function galoisStepsFor(spec: AlgorithmSpec, shape: { rows: number; cols: number }): number[] {
  const need = spec.needs.ckks;
  if (!need) return [];
  return [...(need.galoisSteps?.({ rows: shape.rows, cols: shape.cols, slots: CKKS_DEFAULT_PARAMS.polyModulusDegree / 2 }) ?? [])];
}

async function named(keys: KeyStore, id: string, scheme: KeyRecord['scheme'], what: string): Promise<KeyRecord> {
  const r = await keys.get(id);
  if (!r || r.scheme !== scheme) {
    throw new AppError('INVALID_KEY', `no ${what} ${id}`, {
      userMessage: `There is no ${what} with id ${id} in KEYS_PATH. List the keys with \`rory keys list\`, or leave the key out to let the job choose.`,
    });
  }
  return r;
}

export async function chooseKeys(engine: CryptoEngine, keys: KeyStore, spec: AlgorithmSpec, o: KeyChoiceOptions): Promise<KeyChoice> {
  const created: { what: string; ms: number }[] = [];
  let liu: KeyId | undefined;
  if (spec.needs.liu) {
    if (o.liuKeyId) liu = (await named(keys, o.liuKeyId, 'liu', 'Liu key')).id;
    else {
      const t = performance.now();
      liu = (await engine.createLiuKey(o.liuLevel, { label: `Liu ${o.liuLevel} for ${o.usedBy.label ?? o.usedBy.id}`, usedBy: [o.usedBy] }, { signal: o.signal })).id;
      created.push({ what: `new Liu ${o.liuLevel} key for this job`, ms: performance.now() - t });
    }
  }
  const c = await chooseCkks(engine, keys, spec, o);
  if (c.created) created.push(c.created);
  return { liu, ckks: c.id, created };
}

/** The CKKS key set of a job (none when the algorithm needs none); see the module doc. */
export async function chooseCkks(
  engine: CryptoEngine,
  keys: KeyStore,
  spec: AlgorithmSpec,
  o: Pick<KeyChoiceOptions, 'ckksKeyId' | 'shape' | 'signal'>,
): Promise<{ id?: KeyId; created?: { what: string; ms: number } }> {
  const need = spec.needs.ckks;
  if (!need) return {};
  // The same rule as the app's (lib/rory/algorithms/registry.ts): relinearization keys when asked
  // for, and Galois keys for this shape's rotation steps.
  const fits = (r: CkksKeyRecord) => ckksKeyFits(spec.id, r.params, o.shape);
  if (o.ckksKeyId) {
    const r = (await named(keys, o.ckksKeyId, 'ckks', 'CKKS key set')) as CkksKeyRecord;
    if (!fits(r)) {
      throw new AppError('INVALID_KEY', 'the chosen CKKS key set lacks keys this algorithm needs', {
        userMessage: `The CKKS key set ${r.id} (“${r.label}”) lacks ${need.relin && !r.params.hasRelinKeys ? 'the relinearization keys' : `the rotation (Galois) keys for ${o.shape.rows} × ${o.shape.cols} data that`} ${spec.title} needs. Name another set, or leave it out to let the job create one.`,
      });
    }
    return { id: r.id };
  }
  // One choice at a time per key store: two jobs arriving together must not both make a set.
  const prev = ckksLocks.get(keys) ?? Promise.resolve();
  const mine = prev.then(async () => {
    const existing = (await keys.list()).find((r): r is CkksKeyRecord => r.scheme === 'ckks' && fits(r));
    if (existing) return { id: existing.id };
    const t = performance.now();
    const rec = await engine.createCkksKey(
      { params: CKKS_DEFAULT_PARAMS, relinKeys: true, galoisSteps: galoisStepsFor(spec, o.shape) },
      { label: `CKKS default-128 (created for ${spec.id})` },
      { signal: o.signal },
    );
    return { id: rec.id, created: { what: 'new CKKS default-128 key set (saved to KEYS_PATH)', ms: performance.now() - t } };
  });
  ckksLocks.set(
    keys,
    mine.then(
      () => undefined,
      () => undefined,
    ),
  );
  return mine;
}

const ckksLocks = new WeakMap<KeyStore, Promise<unknown>>();
