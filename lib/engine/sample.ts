/**
 * @module engine/sample
 * The keys page's "Try" tool: encrypt a few typed values with a key and get the ciphertext as
 * copyable text, or paste such text back and decrypt it. Useful to check that a restored key still
 * opens old ciphertexts. The text is a small versioned JSON envelope (our own format, style.md
 * rule 7) holding ciphertext only, never key material:
 * `{format:'rory-sample-ciphertext', version:1, keyId, scheme, count, data}` where `data` is
 * base64 of little-endian float64s (Liu: count·m components; FDHOPE: count values) or, for CKKS,
 * base64 of one serialized ciphertext.
 */
import { AppError } from '../errors';
import { tryParseJson } from '../json';
import { fromBase64, toBase64 } from '../keystore/codec';
import type { KeyRecord } from '../keystore/types';
import type { CryptoEngine } from './types';

const FORMAT = 'rory-sample-ciphertext';
const MAX_SAMPLE_VALUES = 1000;

interface SampleEnvelope {
  readonly format: typeof FORMAT;
  readonly version: 1;
  readonly keyId: string;
  readonly scheme: KeyRecord['scheme'];
  readonly count: number;
  readonly data: string;
}

/** Parses comma/space/newline separated numbers. @throws AppError INVALID_ARGUMENT */
export function parseSampleValues(text: string): Float64Array {
  const parts = text.split(/[\s,;]+/).filter((s) => s !== '');
  if (parts.length === 0 || parts.length > MAX_SAMPLE_VALUES) {
    throw new AppError('INVALID_ARGUMENT', 'sample needs 1..1000 values', { userMessage: `Type between 1 and ${MAX_SAMPLE_VALUES} numbers, separated by commas or spaces.` });
  }
  const values = parts.map(Number);
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new AppError('INVALID_ARGUMENT', `sample value ${bad + 1} is not a number`, { userMessage: `Value ${bad + 1} is not a number.` });
  return Float64Array.from(values);
}

/** Encrypts `values` with the key of `record` (the key itself stays inside the engine). */
export async function encryptSample(engine: CryptoEngine, record: KeyRecord, values: Float64Array): Promise<string> {
  let data: string;
  if (record.scheme === 'liu') data = float64ToBase64(await engine.liuEncrypt(record.id, values));
  else if (record.scheme === 'fdhope') data = float64ToBase64(await engine.fdhopeEncrypt(record.id, values, 0));
  else data = toBase64((await engine.ckksEncryptRows(record.id, values, values.length))[0]);
  const env: SampleEnvelope = { format: FORMAT, version: 1, keyId: record.id, scheme: record.scheme, count: values.length, data };
  return JSON.stringify(env);
}

/**
 * Decrypts text made by {@link encryptSample}.
 * @throws AppError INVALID_ARGUMENT (not a sample, or made with another key), DECRYPTION_REFUSED (FDHOPE).
 */
export async function decryptSample(engine: CryptoEngine, record: KeyRecord, text: string): Promise<Float64Array> {
  const env = parseEnvelope(text);
  if (env.keyId !== record.id || env.scheme !== record.scheme) {
    throw new AppError('INVALID_ARGUMENT', 'sample ciphertext belongs to another key', {
      userMessage: 'This ciphertext was made with a different key. Choose the key it was encrypted with.',
    });
  }
  const bytes = fromBase64(env.data);
  if (!bytes) throw notSample();
  if (record.scheme === 'fdhope') {
    throw new AppError('DECRYPTION_REFUSED', 'FDHOPE has no decryption', { userMessage: 'FDHOPE keys only encrypt (order-preserving); there is nothing to decrypt.' });
  }
  if (record.scheme === 'liu') {
    if (bytes.byteLength !== env.count * record.params.m * 8) throw notSample();
    return engine.liuDecrypt(record.id, new Float64Array(bytes.buffer));
  }
  return engine.ckksDecryptRows(record.id, [bytes], env.count);
}

function parseEnvelope(text: string): SampleEnvelope {
  // Not JSON (undefined) fails the object test like any other non-envelope.
  const e = tryParseJson(text) as Partial<SampleEnvelope> | undefined;
  if (
    typeof e !== 'object' ||
    e === null ||
    e.format !== FORMAT ||
    e.version !== 1 ||
    typeof e.keyId !== 'string' ||
    typeof e.data !== 'string' ||
    !Number.isInteger(e.count) ||
    e.count! < 1 ||
    e.count! > MAX_SAMPLE_VALUES
  ) {
    throw notSample();
  }
  return e as SampleEnvelope;
}

function notSample(): AppError {
  return new AppError('INVALID_ARGUMENT', 'not a sample ciphertext', { userMessage: 'Paste the ciphertext text exactly as this page produced it.' });
}

function float64ToBase64(a: Float64Array): string {
  return toBase64(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}
