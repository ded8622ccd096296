/**
 * @module rory/inline-crypto
 * A `RunnerCrypto` that runs Liu and FDHOPE (spec/crypto.md §2, §3) in the calling thread, with
 * the keys held in this closure. For Node (tests, benches, the local demo) and as a fallback;
 * the browser app routes the same four calls to its Web Worker pool, where the keys live.
 *
 * FDHOPE keys are created per job (`fdhopeKeygen`) and referenced by an opaque handle; the
 * UDM and every shift of a job are encrypted with the same key (spec/crypto.md §7.2).
 */
import * as fdhope from '../crypto/fdhope';
import * as liu from '../crypto/liu';
import { secureRandomBytes, type RandomBytes } from '../crypto/random';
import { AppError } from '../errors';
import { matrix, type Matrix } from '../data/matrix';
import type { CkksKeySet } from '../crypto/ckks';
import type { CkksRunnerCrypto, FdhopeKeyRef, RunnerCrypto } from './runner';

export interface InlineCryptoOptions {
  /** Liu key to use; default: a fresh key at `level`. */
  readonly liuKey?: liu.LiuSecretKey;
  /** Liu security level (default 128, D6). */
  readonly level?: liu.LiuLevel;
  readonly rb?: RandomBytes;
  /** CKKS key set for PQC jobs (kept in this closure; the runner sees only its public bundle). */
  readonly ckks?: CkksKeySet;
}

export interface InlineCrypto extends RunnerCrypto {
  readonly liuKey: liu.LiuSecretKey;
}

export function createInlineCrypto(opts: InlineCryptoOptions = {}): InlineCrypto {
  const rb = opts.rb ?? secureRandomBytes;
  const liuKey = opts.liuKey ?? liu.keygen(opts.level ?? 128, rb);
  const fdhopeKeys = new WeakMap<object, fdhope.FdhopeKey>();
  const aborted = (signal?: AbortSignal) => {
    if (signal?.aborted) throw new AppError('ABORTED', 'aborted', { userMessage: 'The operation was cancelled.' });
  };
  const keyOf = (ref: FdhopeKeyRef): fdhope.FdhopeKey => {
    const k = typeof ref === 'object' && ref !== null ? fdhopeKeys.get(ref) : undefined;
    if (!k) throw new AppError('INVALID_KEY', 'unknown FDHOPE key handle');
    return k;
  };

  return {
    liuKey,
    ...(opts.ckks ? { ckks: inlineCkks(opts.ckks) } : {}),
    async liuEncryptMatrix(m, o) {
      aborted(o?.signal);
      return liu.encryptMatrix(liuKey, m, rb);
    },
    async liuDecryptTensor(t, o) {
      aborted(o?.signal);
      return liu.decryptTensor(liuKey, t);
    },
    async fdhopeKeygen(values, o) {
      aborted(o?.signal);
      const handle = Object.freeze({ kind: 'fdhope-key' });
      fdhopeKeys.set(handle, fdhope.keygen(values.data, { rb }));
      return handle;
    },
    async fdhopeEncrypt(ref, m: Matrix, sens, o) {
      aborted(o?.signal);
      const out = new Float64Array(m.data.length);
      fdhope.encryptInto(keyOf(ref), m.data, out, sens, rb);
      return matrix(out, m.shape);
    },
  };
}

/** A `CkksRunnerCrypto` over a key set in this thread (Node tests, benches). */
export function inlineCkks(keys: CkksKeySet): CkksRunnerCrypto {
  const aborted = (signal?: AbortSignal) => {
    if (signal?.aborted) throw new AppError('ABORTED', 'aborted', { userMessage: 'The operation was cancelled.' });
  };
  return {
    publicBundle: keys.publicBundle(),
    slots: keys.context.slots,
    async encryptRows(m, o) {
      aborted(o?.signal);
      // The owner holds the secret key: seeded symmetric ciphertexts are half the size.
      const out = keys.encryptRows(m, { symmetric: keys.hasSecretKey });
      o?.onProgress?.({ done: out.length, total: out.length });
      return out;
    },
    async decryptRows(cts, take, o) {
      aborted(o?.signal);
      return keys.decryptRows(cts, take);
    },
  };
}
