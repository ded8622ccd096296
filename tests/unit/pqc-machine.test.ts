/**
 * The PQC (CKKS) variants of the interactive k-means reducer (lib/rory/algorithms/
 * interactive-kmeans/machine.ts; spec/crypto.md §7.6, §7.7; docs/protocol-additions.md §1–2): effect
 * order, E3 encodings, the custody step before the worker is asked, the PQC headers and the
 * decryption guard on k ciphertexts.
 */
import { describe, expect, it } from 'vitest';
import {
  initialState,
  kmeansConfig,
  next,
  type Effect,
  type KmeansAlgorithm,
  type KmeansEvent,
  type KmeansState,
  type Transition,
} from '@/lib/rory/algorithms/interactive-kmeans/machine';
import { acknowledgementKeys, leakageProfile } from '@/lib/rory/algorithms/registry';

const KEYS_ID = `ckks${'ab'.repeat(16)}`;

function init(algorithm: KmeansAlgorithm, acknowledged = true): KmeansState {
  return initialState(kmeansConfig({ algorithm, jobId: 'job1', p: 'P1', n: 6, a: 2, k: 2, acknowledged }));
}

function drive(s: KmeansState, ...events: KmeansEvent[]): Transition {
  let t: Transition = { state: s, effects: [] };
  for (const e of events) t = next(t.state, e);
  return t;
}

const types = (effects: readonly Effect[]) => effects.map((e) => e.type);

const SK_PREP: KmeansEvent[] = [
  { type: 'start' },
  { type: 'matrixEncrypted', shape: [6, 2] },
  { type: 'udmComputed', shape: [6, 6, 2] },
  { type: 'uploaded', key: 'encryptedP1' },
  { type: 'uploaded', key: 'P1initsm' },
  { type: 'uploaded', key: 'P1udm' },
  { type: 'keysUploaded', id: KEYS_ID },
  { type: 'workerAssigned', workerId: 'w0', url: 'http://w0' },
];
const LABELS = Int32Array.from([0, 0, 0, 1, 1, 1]);

describe('SKMeans-PQC reducer', () => {
  it('encrypts, uploads E3 data and initsm, the plain UDM, then the public keys, then asks for a worker', () => {
    let t = next(init('SKMEANS_PQC'), { type: 'start' });
    expect(types(t.effects)).toEqual(['encryptMatrix']);
    t = next(t.state, { type: 'matrixEncrypted', shape: [6, 2] });
    expect(types(t.effects)).toEqual(['computeUdm']);
    t = next(t.state, { type: 'udmComputed', shape: [6, 6, 2] });
    expect(t.effects).toEqual([{ type: 'upload', key: 'encryptedP1', artifact: 'encryptedMatrix', encoding: 'E3', numChunks: 4, tags: {}, release: true }]);
    t = next(t.state, { type: 'uploaded', key: 'encryptedP1' });
    expect(t.effects).toEqual([{ type: 'upload', key: 'P1initsm', artifact: 'initsm', encoding: 'E3', numChunks: 2, tags: { shape: '(2, 2)', dtype: 'float32' }, release: true }]);
    t = next(t.state, { type: 'uploaded', key: 'P1initsm' });
    expect(t.effects[0]).toMatchObject({ type: 'upload', key: 'P1udm', artifact: 'udm', encoding: 'E1' });
    t = next(t.state, { type: 'uploaded', key: 'P1udm' });
    expect(types(t.effects)).toEqual(['uploadKeys']);
    t = next(t.state, { type: 'keysUploaded', id: KEYS_ID });
    expect(t.effects).toEqual([{ type: 'getWorker', algorithm: 'SKMEANS_PQC' }]);
    t = next(t.state, { type: 'workerAssigned', workerId: 'w0', url: 'http://w0' });
    const call = t.effects[0];
    expect(call.type === 'callStep1' && call.path).toBe('/clustering/pqc/skmeans');
    const h = call.type === 'callStep1' ? call.headers : {};
    expect(h).toMatchObject({
      'Step-Index': '1',
      'Clustering-Status': '1',
      'Plaintext-Matrix-Id': 'P1',
      'Encrypted-Matrix-Id': 'encryptedP1',
      'Encrypted-Matrix-Shape': '(6, 2)',
      'Num-Chunks': '4',
      K: '2',
      Iterations: '0',
      'Ckks-Keys-Id': KEYS_ID,
    });
    expect(h).not.toHaveProperty('M');
  });

  it('refuses to start without the acknowledgement of the plaintext UDM and shifts', () => {
    const t = next(init('SKMEANS_PQC', false), { type: 'start' });
    expect(t.effects[0]).toMatchObject({ type: 'fail', code: 'ACK_REQUIRED' });
  });

  it('a key-custody id that is not content-addressed is not accepted', () => {
    const t = drive(init('SKMEANS_PQC'), ...SK_PREP.slice(0, 6), { type: 'keysUploaded', id: 'secretkey' });
    expect(t.effects[0]).toMatchObject({ type: 'fail', code: 'INTERNAL' });
  });

  it('fetches the shift as E3, asks approval for k×a values, decrypts, uploads the plain shift, step 2 with Is-Zero 0', () => {
    let t = drive(init('SKMEANS_PQC'), ...SK_PREP, { type: 'step1Done', labels: LABELS, shiftId: 'P1encryptedshiftmatrix' });
    expect(t.effects).toEqual([{ type: 'fetchShift', key: 'P1encryptedshiftmatrix', encoding: 'E3', round: 0 }]);
    t = next(t.state, { type: 'shiftFetched', key: 'P1encryptedshiftmatrix', shape: [2], dtype: 'ckks', allFinite: true });
    expect(t.effects[0]).toMatchObject({ type: 'requestApproval', request: { objectKey: 'P1encryptedshiftmatrix', shape: [2, 2], round: 1 } });
    t = next(t.state, { type: 'approval', decision: 'approve' });
    expect(t.effects).toEqual([{ type: 'decrypt', objectKey: 'P1encryptedshiftmatrix', expectedShape: [2], round: 0 }]);
    t = next(t.state, { type: 'decrypted', maxAbsShift: 0.5 });
    expect(t.effects[0]).toMatchObject({ type: 'uploadShift', key: 'P1shiftmatrix', artifact: 'shift' });
    t = next(t.state, { type: 'uploaded', key: 'P1shiftmatrix' });
    const c = t.effects[0];
    expect(c.type === 'callStep2' && c.path).toBe('/clustering/pqc/skmeans');
    expect(c.type === 'callStep2' && c.headers).toMatchObject({ 'Step-Index': '2', 'Is-Zero': '0', 'Shift-Matrix-Id': 'P1shiftmatrix', 'Ckks-Keys-Id': KEYS_ID });
  });

  for (const [what, ev] of [
    ['k−1 ciphertexts', { shape: [1], dtype: 'ckks', allFinite: true }],
    ['a Liu tensor', { shape: [2, 2, 3], dtype: 'float64', allFinite: true }],
    ['something that is not a ciphertext', { shape: [2], dtype: 'ckks', allFinite: false }],
  ] as const) {
    it(`refuses to decrypt ${what}`, () => {
      const t = drive(init('SKMEANS_PQC'), ...SK_PREP, { type: 'step1Done', labels: LABELS, shiftId: 'P1encryptedshiftmatrix' }, {
        type: 'shiftFetched',
        key: 'P1encryptedshiftmatrix',
        ...ev,
        shape: [...ev.shape],
      });
      expect(t.effects[0]).toMatchObject({ type: 'fail', code: 'DECRYPTION_REFUSED' });
    });
  }

  it('on convergence it stops without step 2 and verifies the k centroid ciphertexts', () => {
    const t = drive(
      init('SKMEANS_PQC'),
      ...SK_PREP,
      { type: 'step1Done', labels: LABELS, shiftId: 'P1encryptedshiftmatrix' },
      { type: 'shiftFetched', key: 'P1encryptedshiftmatrix', shape: [2], dtype: 'ckks', allFinite: true },
      { type: 'approval', decision: 'approve' },
      { type: 'decrypted', maxAbsShift: 0 },
    );
    expect(types(t.effects)).toEqual(['log', 'verify']);
    expect(t.effects[1]).toMatchObject({ objectKey: 'P1centj', expectedShape: [2] });
    const done = next(t.state, { type: 'verified', maxError: 5e-5 });
    // CKKS centroids are checked with the CKKS tolerance (1e-4), not Liu's 1e-6.
    expect(done.effects[0]).toMatchObject({ type: 'done', outcome: { verification: { ok: true }, stopReason: 'converged' } });
    expect(next(t.state, { type: 'verified', maxError: 2e-4 }).effects[0]).toMatchObject({ outcome: { verification: { ok: false } } });
  });
});

describe('DBSKMeans-PQC reducer', () => {
  const prep: KmeansEvent[] = [
    { type: 'start' },
    { type: 'matrixEncrypted', shape: [6, 2] },
    { type: 'udmComputed', shape: [6, 6, 2] },
    { type: 'fdhopeKeyReady' },
    { type: 'udmEncrypted', shape: [6, 6, 2] },
    { type: 'uploaded', key: 'encryptedP1' },
    { type: 'uploaded', key: 'P1initsm' },
    { type: 'uploaded', key: 'P1encryptedudm' },
    { type: 'keysUploaded', id: KEYS_ID },
    { type: 'workerAssigned', workerId: 'w0', url: 'http://w0' },
  ];

  it('needs no acknowledgement, FDHOPE-encrypts the UDM and each shift, and names the FDHOPE shift in step 2', () => {
    let t = drive(init('DBSKMEANS_PQC', false), ...prep);
    const call = t.effects[0];
    expect(call.type === 'callStep1' && call.path).toBe('/clustering/pqc/dbskmeans');
    expect(call.type === 'callStep1' && call.headers).toMatchObject({ 'Encrypted-Udm-Shape': '(6, 6, 2)', 'Encrypted-Matrix-Shape': '(6, 2)', 'Ckks-Keys-Id': KEYS_ID });
    t = drive(
      t.state,
      { type: 'step1Done', labels: LABELS, shiftId: 'P1encryptedshiftmatrix' },
      { type: 'shiftFetched', key: 'P1encryptedshiftmatrix', shape: [2], dtype: 'ckks', allFinite: true },
      { type: 'approval', decision: 'approve' },
      { type: 'decrypted', maxAbsShift: 0.25 },
    );
    expect(t.effects[0]).toMatchObject({ type: 'fdhopeEncryptShift' });
    t = drive(t.state, { type: 'shiftEncrypted' });
    expect(t.effects[0]).toMatchObject({ type: 'uploadShift', key: 'P1shiftmatrixope', artifact: 'shiftOpe' });
    t = drive(t.state, { type: 'uploaded', key: 'P1shiftmatrixope' });
    expect(t.effects[0].type === 'callStep2' && t.effects[0].headers).toMatchObject({ 'Shift-Matrix-Ope-Id': 'P1shiftmatrixope', 'Is-Zero': '0' });
  });
});

describe('leakage profiles of the CKKS algorithms', () => {
  it('DBSKMeans-PQC and DBSNNC-PQC need no acknowledgement; SKMeans-PQC acknowledges exactly its plaintext UDM and shifts', () => {
    expect(leakageProfile('DBSKMEANS_PQC').requiresAcknowledgement).toBe(false);
    expect(leakageProfile('DBSNNC_PQC').requiresAcknowledgement).toBe(false);
    expect(acknowledgementKeys('SKMEANS_PQC')).toEqual(['{P}udm', '{P}shiftmatrix']);
  });

  it('algorithms whose worker computes on CKKS list the public key objects; none lists a secret key', () => {
    for (const a of ['SKMEANS_PQC', 'DBSKMEANS_PQC', 'SKNN_PQC_TRAIN'] as const) {
      expect(leakageProfile(a).items.some((i) => i.form === 'public-key')).toBe(true);
    }
    for (const a of ['SKMEANS_PQC', 'DBSKMEANS_PQC', 'DBSNNC_PQC', 'SKNN_PQC_TRAIN', 'SKNN_PQC_PREDICT'] as const) {
      expect(leakageProfile(a).items.some((i) => /secret/i.test(i.key))).toBe(false);
    }
  });
});
