/**
 * In-memory `ObjectStore` (lib/storage/types.ts): a test double of the storage interface for
 * pure state-machine and worker-core tests only. Integration tests use the real local router.
 * Values are copied on put and on get, as a real store would, so aliasing bugs still show.
 */
import { AppError } from '@/lib/errors';
import type { GetOptions, NdArray, ObjectStore, PutOptions } from '@/lib/storage/types';

function copyNd(a: NdArray): NdArray {
  return { dtype: a.dtype, shape: Object.freeze([...a.shape]), data: a.data.slice() } as NdArray;
}

export interface MemoryStoreEntry {
  readonly kind: 'ndarray' | 'blob' | 'bytesList' | 'bytesMatrix';
  readonly value: NdArray | Uint8Array[] | Uint8Array[][];
  readonly numChunks?: number;
  readonly tags?: Readonly<Record<string, string>>;
}

export class MemoryStore implements ObjectStore {
  readonly entries = new Map<string, MemoryStoreEntry>();
  /** Every operation in order, e.g. `put encryptedP`, `get Pudm`, `delete Pudm`. */
  readonly ops: string[] = [];

  private find(ballId: string, kind: MemoryStoreEntry['kind']): MemoryStoreEntry {
    const e = this.entries.get(ballId);
    if (!e || e.kind !== kind) {
      throw new AppError('STORAGE_NOT_FOUND', `ball ${ballId} not found`, { details: { key: ballId } });
    }
    return e;
  }

  private check(signal?: AbortSignal) {
    if (signal?.aborted) throw new AppError('ABORTED', 'aborted');
  }

  async putNdarray(ballId: string, arr: NdArray, opts: PutOptions = {}): Promise<void> {
    this.check(opts.signal);
    this.ops.push(`put ${ballId}`);
    this.entries.set(ballId, { kind: 'ndarray', value: copyNd(arr), numChunks: opts.numChunks, tags: opts.tags });
  }

  async getNdarray(ballId: string, opts: GetOptions = {}): Promise<NdArray> {
    this.check(opts.signal);
    this.ops.push(`get ${ballId}`);
    return copyNd(this.find(ballId, 'ndarray').value as NdArray);
  }

  async putBlob(ballId: string, arr: NdArray, opts: PutOptions = {}): Promise<void> {
    this.check(opts.signal);
    this.ops.push(`put ${ballId}`);
    this.entries.set(ballId, { kind: 'blob', value: copyNd(arr), tags: opts.tags });
  }

  async getBlob(ballId: string, opts: GetOptions = {}): Promise<NdArray> {
    this.check(opts.signal);
    this.ops.push(`get ${ballId}`);
    return copyNd(this.find(ballId, 'blob').value as NdArray);
  }

  async putBytesList(ballId: string, items: readonly Uint8Array[], opts: PutOptions = {}): Promise<void> {
    this.check(opts.signal);
    this.ops.push(`put ${ballId}`);
    this.entries.set(ballId, { kind: 'bytesList', value: items.map((b) => b.slice()), numChunks: opts.numChunks, tags: opts.tags });
  }

  async getBytesList(ballId: string, opts: GetOptions = {}): Promise<Uint8Array[]> {
    this.check(opts.signal);
    this.ops.push(`get ${ballId}`);
    return (this.find(ballId, 'bytesList').value as Uint8Array[]).map((b) => b.slice());
  }

  async putBytesMatrix(ballId: string, rows: readonly (readonly Uint8Array[])[], opts: PutOptions = {}): Promise<void> {
    this.check(opts.signal);
    this.ops.push(`put ${ballId}`);
    this.entries.set(ballId, { kind: 'bytesMatrix', value: rows.map((r) => r.map((b) => b.slice())), numChunks: opts.numChunks, tags: opts.tags });
  }

  async getBytesMatrix(ballId: string, opts: GetOptions = {}): Promise<Uint8Array[][]> {
    this.check(opts.signal);
    this.ops.push(`get ${ballId}`);
    return (this.find(ballId, 'bytesMatrix').value as Uint8Array[][]).map((r) => r.map((b) => b.slice()));
  }

  async deleteBall(ballId: string, opts: { signal?: AbortSignal } = {}): Promise<number> {
    this.check(opts.signal);
    this.ops.push(`delete ${ballId}`);
    return this.entries.delete(ballId) ? 1 : 0;
  }

  async exists(ballId: string, opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    this.check(opts.signal);
    return this.entries.has(ballId);
  }
}
