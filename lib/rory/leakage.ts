/**
 * @module rory/leakage
 * What leaves the browser, as data (spec/protocol.md §7.5, §7.6; D3). Each algorithm's folder
 * lists every object it uploads (and every header that carries data) with its form; plaintext and
 * plaintext-derived items need an explicit per-job acknowledgement listing exactly those items.
 * Ciphertexts do not, but their leakage is described (Liu leaks order and ratios, FDHOPE order and
 * sign; spec/crypto.md §2.8, §3.6). The registry (`algorithms/registry.ts`) looks profiles up by
 * algorithm; this module holds the types, the shared items and the acknowledgement checks.
 *
 * Keys are templates: `{P}` = Plaintext-Matrix-Id, `{M}` = Model-Id, `{R}` = Records-Test-Id,
 * `{C}` = the content-addressed id of a CKKS public key set.
 */
import { AppError } from '../errors';

export type LeakForm = 'plaintext' | 'liu' | 'fdhope' | 'ckks' | 'public-key';

export interface LeakItem {
  /** Storage key template, or `header:<Name>` for a request header. */
  readonly key: string;
  readonly form: LeakForm;
  /** Uploaded again every round. */
  readonly perRound: boolean;
  /** True for plaintext and plaintext-derived data (D3). */
  readonly needsAck: boolean;
  /** Plain words: what it is and what the cloud learns from it. */
  readonly description: string;
}

export interface LeakageProfile {
  /** The algorithm (or classification phase) the items belong to. */
  readonly algorithm: string;
  readonly items: readonly LeakItem[];
  /** Whether the job may start only with an acknowledgement (some item needs one). */
  readonly requiresAcknowledgement: boolean;
}

/** The user's per-job consent: exactly the keys of the items that need acknowledgement. */
export interface LeakageAcknowledgement {
  readonly algorithm: string;
  readonly objects: readonly string[];
  /** When the user agreed (ISO 8601), for the job record. */
  readonly acknowledgedAt?: string;
}

export const LIU_NOTE = 'Liu ciphertext (legacy scheme: reveals the order of values and their ratios)';
export const FDHOPE_NOTE = 'FDHOPE ciphertext (reveals the order and sign of every value, and rough magnitudes)';

export const item = (key: string, form: LeakForm, perRound: boolean, description: string): LeakItem =>
  Object.freeze({ key, form, perRound, needsAck: form === 'plaintext', description });

export const ENCRYPTED_P_LIU = item('encrypted{P}', 'liu', false, `Your dataset, encrypted record by record. ${LIU_NOTE}.`);
export const ENCRYPTED_P_CKKS = item('encrypted{P}', 'ckks', false, 'Your dataset, CKKS-encrypted one ciphertext per record.');
/** D4: the public half of the CKKS key set, so the worker can compute (docs/protocol-additions.md §1). */
export const CKKS_PUBLIC_KEYS = item(
  '{C}ctx, {C}pubkey, {C}relinkey',
  'public-key',
  false,
  'The CKKS parameters, public key and relinearization keys, so the worker can compute on ciphertexts. Public by design: they cannot decrypt. The secret key never leaves this browser.',
);

export function profile(algorithm: string, items: readonly LeakItem[]): LeakageProfile {
  return Object.freeze({ algorithm, items: Object.freeze([...items]), requiresAcknowledgement: items.some((i) => i.needsAck) });
}

/** The keys the user must acknowledge (empty when none). */
export function acknowledgementKeysOf(p: LeakageProfile): string[] {
  return p.items.filter((i) => i.needsAck).map((i) => i.key);
}

/** Builds the acknowledgement a UI records once the user agreed to the listed items. */
export function acknowledgementOf(p: LeakageProfile, at: Date = new Date()): LeakageAcknowledgement {
  return Object.freeze({ algorithm: p.algorithm, objects: Object.freeze(acknowledgementKeysOf(p)), acknowledgedAt: at.toISOString() });
}

/**
 * Throws ACK_REQUIRED unless `ack` is for the profile's algorithm and lists exactly the items that
 * need acknowledgement (no more, no fewer). Profiles without plaintext items need nothing.
 */
export function assertAcknowledgedFor(p: LeakageProfile, ack: LeakageAcknowledgement | undefined): void {
  const needed = acknowledgementKeysOf(p);
  if (needed.length === 0) return;
  const ok =
    ack !== undefined &&
    ack.algorithm === p.algorithm &&
    Array.isArray(ack.objects) &&
    ack.objects.length === needed.length &&
    new Set(ack.objects).size === needed.length &&
    needed.every((k) => ack.objects.includes(k));
  if (!ok) {
    throw new AppError('ACK_REQUIRED', `${p.algorithm} uploads plaintext-derived data (${needed.join(', ')}) and needs an explicit acknowledgement`, {
      userMessage: `${p.algorithm} sends data to the cloud without encryption: ${needed.join(', ')}. Review the list and acknowledge it before starting the job.`,
      details: { algorithm: p.algorithm, objects: needed.join(',') },
    });
  }
}
