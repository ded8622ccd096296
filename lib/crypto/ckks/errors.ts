/**
 * @module crypto/ckks/errors
 * Normalises what node-seal throws into `AppError('SEAL_ERROR')` (spec/crypto.md §5; style.md
 * "Errors"). node-seal throws plain objects whose `message` is `[exceptionType, text]`; embind
 * throws `BindingError`s (use after delete); the WASM runtime throws `RuntimeError` (abort, out of
 * memory). SEAL's texts are fixed strings that never contain key or data values, so they may
 * appear in the developer message.
 */
import { AppError } from '../../errors';

interface UserHint {
  readonly pattern: RegExp;
  readonly userMessage: string;
}

const HINTS: readonly UserHint[] = [
  {
    pattern: /Galois key not present/i,
    userMessage: 'A rotation (Galois) key needed for this step is missing. Generate the CKKS keys with this rotation step.',
  },
  {
    pattern: /end of modulus switching chain/i,
    userMessage: 'The CKKS ciphertext has no levels left for this operation. Use parameters with more levels or fewer multiplications.',
  },
  {
    pattern: /scale out of bounds|scale.*too large|encoded values are too large/i,
    userMessage: 'A CKKS value or scale is too large for the parameters (too many multiplications without rescaling, or data too large).',
  },
  {
    pattern: /scale mismatch/i,
    userMessage: 'Two CKKS ciphertexts have different scales and cannot be combined.',
  },
  {
    pattern: /parms_id|mismatch|not valid for encryption parameters|is not valid for/i,
    userMessage: 'The CKKS objects were made with different parameters or keys and cannot be combined.',
  },
  {
    pattern: /data is invalid|invalid data size|insufficient size|header|compr_mode|decompress|unsupported|loaded .* invalid|invalid/i,
    userMessage: 'The CKKS data is corrupt or belongs to a different CKKS context. Check that the keys and ciphertexts come from the same key set.',
  },
  {
    pattern: /deleted/i,
    userMessage: 'A CKKS object was used after it was released. This is a bug; reload the page and try again.',
  },
];

const DEFAULT_USER_MESSAGE = 'The CKKS engine rejected the operation. The keys or ciphertexts may be corrupt or from another key set.';

/** Extracts `[kind, text]` from anything node-seal, embind or the WASM runtime may throw. */
export function sealErrorParts(e: unknown): { kind: string; text: string } {
  if (typeof e === 'object' && e !== null && 'message' in e) {
    const m = (e as { message: unknown }).message;
    if (Array.isArray(m)) {
      const parts = m.map((p) => String(p));
      if (parts.length >= 2) return { kind: parts[0], text: parts.slice(1).join(': ') };
      return { kind: 'seal', text: parts.join('') };
    }
    const name = e instanceof Error ? e.name : 'seal';
    return { kind: name, text: String(m) };
  }
  return { kind: 'seal', text: String(e) };
}

/**
 * Maps any error thrown while running SEAL to an `AppError`. AppErrors pass through unchanged.
 * @param operation what we were doing, e.g. `'load ciphertext'` (appears in the messages).
 */
export function toSealError(e: unknown, operation: string): AppError {
  if (e instanceof AppError) return e;
  const { kind, text } = sealErrorParts(e);
  const isRuntime = typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError;
  let userMessage = DEFAULT_USER_MESSAGE;
  if (isRuntime || /out of memory|bad_alloc|Cannot enlarge memory/i.test(text) || kind === 'std::bad_alloc') {
    userMessage = 'The CKKS engine ran out of memory or aborted. Process fewer rows at a time or reload the page.';
  } else {
    const hint = HINTS.find((h) => h.pattern.test(text));
    if (hint !== undefined) userMessage = hint.userMessage;
  }
  return new AppError('SEAL_ERROR', `SEAL ${operation} failed: ${kind}: ${text}`, {
    userMessage,
    cause: e,
    details: { operation, sealKind: kind },
  });
}
