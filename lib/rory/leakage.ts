/**
 * @module rory/leakage
 * What leaves the browser, per algorithm (spec/protocol.md §7.5, §7.6; D3). Every object the
 * Data Owner uploads (and every header that carries data) is listed with its form. Plaintext
 * and plaintext-derived items need an explicit per-job acknowledgement listing exactly those
 * items; ciphertexts do not, but their leakage is described (Liu leaks order and ratios,
 * FDHOPE leaks order and sign; spec/crypto.md §2.8, §3.6).
 *
 * Keys are templates: `{P}` = Plaintext-Matrix-Id, `{M}` = Model-Id, `{R}` = Records-Test-Id.
 */
import { AppError } from '../errors';
import type { Algorithm } from './headers';

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
  readonly algorithm: Algorithm;
  readonly items: readonly LeakItem[];
  /** Whether the job may start only with an acknowledgement (some item needs one). */
  readonly requiresAcknowledgement: boolean;
}

/** The user's per-job consent: exactly the keys of the items that need acknowledgement. */
export interface LeakageAcknowledgement {
  readonly algorithm: Algorithm;
  readonly objects: readonly string[];
  /** When the user agreed (ISO 8601), for the job record. */
  readonly acknowledgedAt?: string;
}

const LIU_NOTE = 'Liu ciphertext (legacy scheme: reveals the order of values and their ratios)';
const FDHOPE_NOTE = 'FDHOPE ciphertext (reveals the order and sign of every value, and rough magnitudes)';

const item = (key: string, form: LeakForm, perRound: boolean, description: string): LeakItem =>
  Object.freeze({ key, form, perRound, needsAck: form === 'plaintext', description });

const ENCRYPTED_P_LIU = item('encrypted{P}', 'liu', false, `Your dataset, encrypted record by record. ${LIU_NOTE}.`);
const ENCRYPTED_P_CKKS = item('encrypted{P}', 'ckks', false, 'Your dataset, CKKS-encrypted one ciphertext per record.');
/** D4: the public half of the CKKS key set, so the worker can compute (docs/protocol-additions.md §1). */
const CKKS_PUBLIC_KEYS = item(
  '{C}ctx, {C}pubkey, {C}relinkey',
  'public-key',
  false,
  'The CKKS parameters, public key and relinearization keys, so the worker can compute on ciphertexts. Public by design: they cannot decrypt. The secret key never leaves this browser.',
);

const PROFILES: Readonly<Record<Algorithm, readonly LeakItem[]>> = {
  KMEANS: [item('{P}', 'plaintext', false, 'Your whole dataset, unencrypted.')],
  SKMEANS: [
    ENCRYPTED_P_LIU,
    item(
      '{P}udm',
      'plaintext',
      false,
      'The pairwise-difference matrix of your records, unencrypted. It reveals your whole dataset up to one shift per attribute.',
    ),
    item(
      '{P}shiftmatrix',
      'plaintext',
      true,
      'Each round, how far every cluster centre moved on every attribute, unencrypted.',
    ),
  ],
  DBSKMEANS: [
    ENCRYPTED_P_LIU,
    item('{P}encryptedudm', 'fdhope', false, `The pairwise-difference matrix of your records. ${FDHOPE_NOTE}.`),
    item('{P}shiftmatrixope', 'fdhope', true, `Each round, how far every cluster centre moved. ${FDHOPE_NOTE}.`),
  ],
  DBSNNC: [
    ENCRYPTED_P_LIU,
    item('{P}encrypteddm', 'fdhope', false, `The distance between every pair of records. ${FDHOPE_NOTE}.`),
    item('header:Encrypted-Threshold', 'fdhope', false, `The clustering threshold. ${FDHOPE_NOTE}.`),
  ],
  NNC: [
    item('{P}', 'plaintext', false, 'Your whole dataset, unencrypted.'),
    item('{P}dm', 'plaintext', false, 'The distance between every pair of records, unencrypted.'),
    item('header:Threshold', 'plaintext', false, 'The clustering threshold, unencrypted.'),
  ],
  SKMEANS_PQC: [
    ENCRYPTED_P_CKKS,
    item('{P}initsm', 'ckks', false, 'A CKKS-encrypted zero matrix the worker starts from.'),
    item('{P}udm', 'plaintext', false, 'The pairwise-difference matrix of your records, unencrypted. It reveals your whole dataset up to one shift per attribute.'),
    item('{P}shiftmatrix', 'plaintext', true, 'Each round, how far every cluster centre moved on every attribute, unencrypted.'),
    CKKS_PUBLIC_KEYS,
  ],
  DBSKMEANS_PQC: [
    ENCRYPTED_P_CKKS,
    item('{P}initsm', 'ckks', false, 'A CKKS-encrypted zero matrix the worker starts from.'),
    item('{P}encryptedudm', 'fdhope', false, `The pairwise-difference matrix of your records. ${FDHOPE_NOTE}.`),
    item('{P}shiftmatrixope', 'fdhope', true, `Each round, how far every cluster centre moved. ${FDHOPE_NOTE}.`),
    CKKS_PUBLIC_KEYS,
  ],
  DBSNNC_PQC: [
    ENCRYPTED_P_CKKS,
    item('{P}encrypteddm', 'fdhope', false, `The distance between every pair of records. ${FDHOPE_NOTE}.`),
    item('header:Encrypted-Threshold', 'fdhope', false, `The clustering threshold. ${FDHOPE_NOTE}.`),
  ],
  KNN_TRAIN: [
    item('{M}', 'plaintext', false, 'Your training records, unencrypted.'),
    item('{M}labels', 'plaintext', false, 'The class label of every training record, unencrypted.'),
  ],
  KNN_PREDICT: [item('{R}', 'plaintext', false, 'The records to classify, unencrypted.')],
  SKNN_TRAIN: [
    item('encrypted{M}', 'liu', false, `Your training records. ${LIU_NOTE}.`),
    item('{M}labels', 'plaintext', false, 'The class label of every training record, unencrypted.'),
  ],
  SKNN_PREDICT: [
    item('encrypted{R}', 'liu', false, `The records to classify. ${LIU_NOTE}.`),
    item('distancesindex{R}', 'plaintext', false, 'For each record to classify, which training record is nearest, unencrypted.'),
  ],
  SKNN_PQC_TRAIN: [
    item('encrypted{M}', 'ckks', false, 'Your training records, CKKS-encrypted (several records per ciphertext).'),
    item('{M}labels', 'plaintext', false, 'The class label of every training record, unencrypted.'),
    CKKS_PUBLIC_KEYS,
  ],
  SKNN_PQC_PREDICT: [
    item('encrypted{R}', 'ckks', false, 'The records to classify, CKKS-encrypted.'),
    item('distancesindex{R}', 'plaintext', false, 'For each record to classify, which training record is nearest, unencrypted.'),
  ],
};

/** Every item that leaves the browser for `algorithm`, with its form and whether it needs acknowledgement. */
export function leakageProfile(algorithm: Algorithm): LeakageProfile {
  const items = PROFILES[algorithm];
  if (!items) throw new AppError('INVALID_ARGUMENT', `unknown algorithm ${String(algorithm)}`);
  return Object.freeze({ algorithm, items, requiresAcknowledgement: items.some((i) => i.needsAck) });
}

/** The keys the user must acknowledge for `algorithm` (empty when none). */
export function acknowledgementKeys(algorithm: Algorithm): string[] {
  return leakageProfile(algorithm)
    .items.filter((i) => i.needsAck)
    .map((i) => i.key);
}

/** Builds the acknowledgement a UI records once the user agreed to the listed items. */
export function acknowledge(algorithm: Algorithm, at: Date = new Date()): LeakageAcknowledgement {
  return Object.freeze({ algorithm, objects: Object.freeze(acknowledgementKeys(algorithm)), acknowledgedAt: at.toISOString() });
}

/**
 * Throws ACK_REQUIRED unless `ack` is for `algorithm` and lists exactly the items that need
 * acknowledgement (no more, no fewer). Algorithms without plaintext items need nothing.
 */
export function assertAcknowledged(algorithm: Algorithm, ack: LeakageAcknowledgement | undefined): void {
  const needed = acknowledgementKeys(algorithm);
  if (needed.length === 0) return;
  const ok =
    ack !== undefined &&
    ack.algorithm === algorithm &&
    Array.isArray(ack.objects) &&
    ack.objects.length === needed.length &&
    new Set(ack.objects).size === needed.length &&
    needed.every((k) => ack.objects.includes(k));
  if (!ok) {
    throw new AppError('ACK_REQUIRED', `${algorithm} uploads plaintext-derived data (${needed.join(', ')}) and needs an explicit acknowledgement`, {
      userMessage: `${algorithm} sends data to the cloud without encryption: ${needed.join(', ')}. Review the list and acknowledge it before starting the job.`,
      details: { algorithm, objects: needed.join(',') },
    });
  }
}

/** What a classification job's *training* phase uploads, by its predict algorithm. */
const TRAIN_OF: Partial<Record<Algorithm, Algorithm>> = { KNN_PREDICT: 'KNN_TRAIN', SKNN_PREDICT: 'SKNN_TRAIN', SKNN_PQC_PREDICT: 'SKNN_PQC_TRAIN' };

/**
 * The leakage profile of a whole job: a classification job (named by its predict algorithm)
 * trains and predicts, so it lists both phases' uploads; other jobs are one algorithm.
 */
export function jobLeakageProfile(algorithm: Algorithm): LeakageProfile {
  const train = TRAIN_OF[algorithm];
  if (!train) return leakageProfile(algorithm);
  const items = [...leakageProfile(train).items, ...leakageProfile(algorithm).items];
  return Object.freeze({ algorithm, items, requiresAcknowledgement: items.some((i) => i.needsAck) });
}

/** The acknowledgement of a whole job (see {@link jobLeakageProfile}). */
export function acknowledgeJob(algorithm: Algorithm, at: Date = new Date()): LeakageAcknowledgement {
  const objects = jobLeakageProfile(algorithm).items.filter((i) => i.needsAck).map((i) => i.key);
  return Object.freeze({ algorithm, objects: Object.freeze(objects), acknowledgedAt: at.toISOString() });
}

/** Checks a job acknowledgement covers exactly what {@link jobLeakageProfile} needs acknowledged. */
export function assertJobAcknowledged(algorithm: Algorithm, ack: LeakageAcknowledgement | undefined): void {
  const needed = acknowledgeJob(algorithm).objects;
  if (needed.length === 0) return;
  const ok = ack?.algorithm === algorithm && ack.objects.length === needed.length && needed.every((k) => ack.objects.includes(k));
  if (!ok) {
    throw new AppError('ACK_REQUIRED', `${algorithm} uploads plaintext-derived data (${needed.join(', ')}) and needs an explicit acknowledgement`, {
      userMessage: `This job uploads ${needed.join(', ')} without encryption. Review what leaves the browser and acknowledge it before running.`,
    });
  }
}
