/**
 * The Rory header protocol (spec/protocol.md §3, §5.2, §5.3, §8), ids (§3.7) and the D3
 * leakage profiles (§7.6).
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { ClusteringStatus, floatHeader, intHeader, keys, parseClusteringStatus, parsePythonShape, parseResponseHeaders, pythonShape } from '@/lib/rory/protocol';
import { step1Headers, step2Headers, type KmeansAlgorithm, type KmeansCallParams } from '@/lib/rory/algorithms/interactive-kmeans/calls';
import { assertMatrixId, matrixId, MICTLANX_SAFE_ID, newJobId } from '@/lib/rory/ids';
import { acknowledge, acknowledgementKeys, assertAcknowledged, leakageProfile } from '@/lib/rory/algorithms/registry';
import { seededRandomBytes } from '@/lib/crypto/random';

const base = { p: 'irisjob1', encryptedShape: [150, 4, 3], numChunks: 4, k: 3, iterations: 2, maxIterations: 10 };
const call = (algorithm: KmeansAlgorithm, extra: Partial<KmeansCallParams> = {}): KmeansCallParams => ({ algorithm, ...base, ...extra });
const skmeansStep1Headers = (p: { status: 0 | 1 | 2 }) => step1Headers({ ...call('SKMEANS'), ...p });
const skmeansStep2Headers = (p: { isZero: boolean }) => step2Headers({ ...call('SKMEANS'), ...p });
const dbskmeansStep1Headers = (p: { status: 0 | 1 | 2; udmShape: number[] }) => step1Headers({ ...call('DBSKMEANS', { udmShape: p.udmShape }), status: p.status });
const dbskmeansStep2Headers = (p: { udmShape: number[]; isZero: boolean }) => step2Headers({ ...call('DBSKMEANS', { udmShape: p.udmShape }), isZero: p.isZero });

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof AppError ? e.code : 'not-an-AppError';
  }
  return undefined;
}

describe('status codes and shapes', () => {
  it('uses COMPLETED=0, START=1, WORK_IN_PROGRESS=2', () => {
    expect(ClusteringStatus).toEqual({ COMPLETED: 0, START: 1, WORK_IN_PROGRESS: 2 });
  });

  it('writes Python tuple literals and parses tuples and lists', () => {
    expect(pythonShape([10, 5, 3])).toBe('(10, 5, 3)');
    expect(pythonShape([7])).toBe('(7,)');
    expect(parsePythonShape('(10, 5, 3)')).toEqual([10, 5, 3]);
    expect(parsePythonShape('(7,)')).toEqual([7]);
    expect(parsePythonShape('[1, 150]')).toEqual([1, 150]);
    expect(code(() => parsePythonShape('__import__("os")'))).toBe('PROTOCOL_VIOLATION');
  });

  it('writes integers without a fraction and floats Python can parse', () => {
    expect(intHeader(3)).toBe('3');
    expect(code(() => intHeader(3.5))).toBe('INVALID_ARGUMENT');
    expect(floatHeader(1e-8)).toBe('1e-8');
    expect(Number(floatHeader(0.015))).toBe(0.015);
    expect(code(() => floatHeader(Number.NaN))).toBe('INVALID_ARGUMENT');
  });

  it('derives the storage keys of spec/protocol.md §7.5', () => {
    expect(keys.encryptedMatrix('P1')).toBe('encryptedP1');
    expect(keys.udm('P1')).toBe('P1udm');
    expect(keys.encryptedUdm('P1')).toBe('P1encryptedudm');
    expect(keys.centi('P1')).toBe('P1centi');
    expect(keys.centj('P1')).toBe('P1centj');
    expect(keys.encryptedShiftMatrix('P1')).toBe('P1encryptedshiftmatrix');
    expect(keys.shiftMatrix('P1')).toBe('P1shiftmatrix');
    expect(keys.shiftMatrixOpe('P1')).toBe('P1shiftmatrixope');
  });
});

describe('request headers', () => {
  it('builds SKMeans step 1 exactly', () => {
    expect(skmeansStep1Headers({ status: ClusteringStatus.WORK_IN_PROGRESS })).toEqual({
      'Step-Index': '1',
      'Clustering-Status': '2',
      'Plaintext-Matrix-Id': 'irisjob1',
      'Encrypted-Matrix-Id': 'encryptedirisjob1',
      'Encrypted-Matrix-Shape': '(150, 4, 3)',
      'Encrypted-Matrix-Dtype': 'float32',
      'Encrypted-Udm-Dtype': 'float64',
      'Num-Chunks': '4',
      K: '3',
      M: '3',
      Iterations: '2',
      'Max-Iterations': '10',
    });
  });

  it('builds SKMeans step 2 with the shift id, status 2 and the client decision', () => {
    const h = skmeansStep2Headers({ isZero: false });
    expect(h['Step-Index']).toBe('2');
    expect(h['Clustering-Status']).toBe('2');
    expect(h['Shift-Matrix-Id']).toBe('irisjob1shiftmatrix');
    expect(h['Is-Zero']).toBe('0');
  });

  it('builds DBSKMeans steps with the UDM shape and the OPE shift id', () => {
    const h1 = dbskmeansStep1Headers({ status: ClusteringStatus.START, udmShape: [150, 150, 4] });
    expect(h1['Encrypted-Udm-Shape']).toBe('(150, 150, 4)');
    expect(h1['Encrypted-Udm-Dtype']).toBe('float64');
    expect(h1['Clustering-Status']).toBe('1');
    const h2 = dbskmeansStep2Headers({ udmShape: [150, 3, 4], isZero: false });
    expect(h2['Shift-Matrix-Ope-Id']).toBe('irisjob1shiftmatrixope');
    expect(h2['Encrypted-Udm-Shape']).toBe('(150, 3, 4)');
    expect(h2['Step-Index']).toBe('2');
  });
});

describe('response headers', () => {
  it('parses status, times, shapes and messages', () => {
    const h = new Headers({
      'Clustering-Status': '0',
      'Service-Time': '0.25',
      'Total-Service-Time': '1.5',
      Iterations: '4',
      'Encrypted-Udm-Shape': '(100, 2, 5)',
      'Error-Message': 'boom',
      'Component-Type': 'worker',
    });
    const r = parseResponseHeaders(h);
    expect(r.clusteringStatus).toBe(0);
    expect(r.serviceTime).toBe(0.25);
    expect(r.totalServiceTime).toBe(1.5);
    expect(r.iterations).toBe(4);
    expect(r.encryptedUdmShape).toEqual([100, 2, 5]);
    expect(r.errorMessage).toBe('boom');
    expect(r.componentType).toBe('worker');
    expect(parseResponseHeaders(new Headers()).clusteringStatus).toBeUndefined();
  });

  it('rejects statuses outside 0/1/2 and drops malformed times', () => {
    expect(code(() => parseClusteringStatus('3'))).toBe('PROTOCOL_VIOLATION');
    expect(code(() => parseClusteringStatus('2.0'))).toBe('PROTOCOL_VIOLATION');
    expect(parseResponseHeaders(new Headers({ 'Service-Time': 'soon' })).serviceTime).toBeUndefined();
  });
});

describe('ids', () => {
  it('makes alphanumeric, job-unique matrix ids MictlanX keeps unchanged', () => {
    const rb = seededRandomBytes(7);
    const a = newJobId(rb);
    const b = newJobId(rb);
    expect(a).toMatch(/^job[0-9a-z]{12}$/);
    expect(a).not.toBe(b);
    const p = matrixId('iris (copy).csv', a);
    expect(p).toBe(`iriscopycsv${a}`);
    expect(MICTLANX_SAFE_ID.test(p)).toBe(true);
    expect(matrixId('ñ__', a)).toBe(`n${a}`);
    expect(code(() => matrixId('x', 'job-1'))).toBe('INVALID_KEY_ID');
    expect(code(() => assertMatrixId('a__b'))).toBe('INVALID_KEY_ID');
    expect(code(() => assertMatrixId(''))).toBe('INVALID_KEY_ID');
  });
});

describe('leakage profiles (D3)', () => {
  it('lists every SKMeans upload and requires acknowledging exactly the plaintext ones', () => {
    const p = leakageProfile('SKMEANS');
    expect(p.requiresAcknowledgement).toBe(true);
    expect(p.items.map((i) => [i.key, i.form])).toEqual([
      ['encrypted{P}', 'liu'],
      ['{P}udm', 'plaintext'],
      ['{P}shiftmatrix', 'plaintext'],
    ]);
    expect(acknowledgementKeys('SKMEANS')).toEqual(['{P}udm', '{P}shiftmatrix']);
    expect(() => assertAcknowledged('SKMEANS', acknowledge('SKMEANS'))).not.toThrow();
    expect(code(() => assertAcknowledged('SKMEANS', undefined))).toBe('ACK_REQUIRED');
    expect(code(() => assertAcknowledged('SKMEANS', { algorithm: 'SKMEANS', objects: ['{P}udm'] }))).toBe('ACK_REQUIRED');
    expect(code(() => assertAcknowledged('SKMEANS', { algorithm: 'SKMEANS', objects: ['{P}udm', '{P}shiftmatrix', 'encrypted{P}'] }))).toBe(
      'ACK_REQUIRED',
    );
    expect(code(() => assertAcknowledged('SKMEANS', { algorithm: 'SKMEANS', objects: ['{P}udm', '{P}udm'] }))).toBe('ACK_REQUIRED');
    expect(code(() => assertAcknowledged('SKMEANS', { algorithm: 'DBSKMEANS', objects: ['{P}udm', '{P}shiftmatrix'] }))).toBe('ACK_REQUIRED');
  });

  it('needs no acknowledgement for DBSKMeans, whose uploads are all ciphertexts', () => {
    const p = leakageProfile('DBSKMEANS');
    expect(p.requiresAcknowledgement).toBe(false);
    expect(p.items.map((i) => [i.key, i.form])).toEqual([
      ['encrypted{P}', 'liu'],
      ['{P}encryptedudm', 'fdhope'],
      ['{P}shiftmatrixope', 'fdhope'],
    ]);
    expect(() => assertAcknowledged('DBSKMEANS', undefined)).not.toThrow();
  });

  it('flags the plaintext uploads of the other algorithms (spec/protocol.md §7.6)', () => {
    expect(acknowledgementKeys('KMEANS')).toEqual(['{P}']);
    expect(acknowledgementKeys('NNC')).toEqual(['{P}', '{P}dm', 'header:Threshold']);
    expect(acknowledgementKeys('SKNN_PREDICT')).toEqual(['distancesindex{R}']);
    expect(acknowledgementKeys('SKMEANS_PQC')).toContain('{P}udm');
    expect(leakageProfile('DBSNNC').requiresAcknowledgement).toBe(false);
  });
});
