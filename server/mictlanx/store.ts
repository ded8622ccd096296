/**
 * @module server/mictlanx/store
 * Disk persistence of the local MictlanX-compatible router (spec/mictlanx.md §8.1): one metadata
 * record (JSON) and at most one data file per key, under `dataDir/buckets/<bucket>/`.
 *
 * Every file is written to a temporary name and renamed into place, so a crash leaves either the
 * old or the new file, never a torn one. A record is `complete` only after its data file was
 * renamed into place; a record without data (the upload stopped between the two put steps) is
 * kept — as MictlanX keeps such metadata on the peer — but its data is never served, and the
 * router drops it once it is older than its TTL (`deletePendingBefore`, issue 12 finding 6).
 *
 * Data files are named after the upload task (`<key>.<task>.bin`), so a late upload of an old
 * task can never overwrite the bytes of a newer one. All commits run one at a time through a
 * queue; body streaming happens outside it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** Chunk metadata exactly as MictlanX serves it (spec/mictlanx.md §3). */
export interface StoredMetadata {
  readonly key: string;
  readonly size: number;
  readonly checksum: string;
  readonly tags: Record<string, string>;
  readonly content_type: string;
  readonly producer_id: string;
  readonly ball_id: string;
  readonly bucket_id: string;
  readonly is_disabled: boolean;
}

export interface KeyRecord {
  readonly metadata: StoredMetadata;
  /** The upload task that created this record; names its data file. */
  readonly generation: string;
  readonly complete: boolean;
  /** Data file name in the bucket directory, once complete. */
  readonly dataFile: string | null;
  readonly updatedAt: number;
}

interface RecordFile extends KeyRecord {
  readonly version: 1;
}

const RECORD_SUFFIX = '.json';
const DATA_SUFFIX = '.bin';
const TEMP_PREFIX = '.tmp-';

/**
 * A file-name-safe, case-insensitive-filesystem-safe spelling of an id: lowercase letters, digits,
 * `-` and `_` stay; an uppercase letter becomes `+` and its lowercase; other bytes become `%XX`.
 */
export function fileSafe(id: string): string {
  let out = '';
  for (const b of new TextEncoder().encode(id)) {
    const c = String.fromCharCode(b);
    if (/[a-z0-9_-]/.test(c)) out += c;
    else if (/[A-Z]/.test(c)) out += `+${c.toLowerCase()}`;
    else out += `%${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

function pendingKey(bucket: string, key: string): string {
  return `${bucket}\u0000${key}`;
}

export function newId(): string {
  return randomBytes(16).toString('base64url').slice(0, 21);
}

export class DiskStore {
  private readonly buckets = new Map<string, Map<string, KeyRecord>>();
  /** Records without data (unfinished uploads), by bucket and key. */
  private readonly pending = new Map<string, KeyRecord>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(readonly dataDir: string) {}

  bucketDir(bucket: string): string {
    return join(this.dataDir, 'buckets', fileSafe(bucket));
  }

  /** Loads every record, drops temporary files and data files no record refers to. */
  async open(): Promise<void> {
    const root = join(this.dataDir, 'buckets');
    await mkdir(root, { recursive: true });
    for (const entry of await readdir(root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = join(root, entry.name);
      const names = await readdir(dir);
      const referenced = new Set<string>();
      for (const name of names) {
        if (name.startsWith(TEMP_PREFIX)) {
          await unlink(join(dir, name)).catch(() => {});
          continue;
        }
        if (!name.endsWith(RECORD_SUFFIX)) continue;
        let rec: RecordFile;
        try {
          rec = JSON.parse(await readFile(join(dir, name), 'utf8')) as RecordFile;
        } catch {
          continue; // unreadable record: ignore it (atomic writes make this a foreign file)
        }
        if (rec?.version !== 1 || typeof rec.metadata?.key !== 'string' || typeof rec.metadata?.bucket_id !== 'string') continue;
        let record: KeyRecord = {
          metadata: rec.metadata,
          generation: rec.generation,
          complete: rec.complete,
          dataFile: rec.dataFile,
          updatedAt: rec.updatedAt,
        };
        if (record.complete && (!record.dataFile || !names.includes(record.dataFile))) {
          record = { ...record, complete: false, dataFile: null };
        }
        if (record.dataFile) referenced.add(record.dataFile);
        this.map(rec.metadata.bucket_id).set(rec.metadata.key, record);
        if (!record.complete) this.pending.set(pendingKey(rec.metadata.bucket_id, rec.metadata.key), record);
      }
      for (const name of names) {
        if (name.endsWith(DATA_SUFFIX) && !referenced.has(name)) await unlink(join(dir, name)).catch(() => {});
      }
    }
  }

  /** Stops all further commits; resolves when queued ones have settled. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue.catch(() => {});
  }

  get(bucket: string, key: string): KeyRecord | undefined {
    return this.buckets.get(bucket)?.get(key);
  }

  records(bucket: string): KeyRecord[] {
    return [...(this.buckets.get(bucket)?.values() ?? [])];
  }

  allRecords(): KeyRecord[] {
    return [...this.buckets.values()].flatMap((m) => [...m.values()]);
  }

  /**
   * Registers metadata for a new key synchronously (so a concurrent put of the same key sees it)
   * and persists it. Returns false when the key already exists.
   */
  reserve(metadata: StoredMetadata, generation: string): { created: false } | { created: true; persisted: Promise<void> } {
    const m = this.map(metadata.bucket_id);
    if (m.has(metadata.key)) return { created: false };
    const record: KeyRecord = { metadata, generation, complete: false, dataFile: null, updatedAt: Date.now() };
    const pk = pendingKey(metadata.bucket_id, metadata.key);
    m.set(metadata.key, record);
    this.pending.set(pk, record);
    const persisted = this.commit(async () => {
      if (m.get(metadata.key) !== record) return; // deleted meanwhile
      await this.writeRecord(record);
    }).catch((e: unknown) => {
      if (m.get(metadata.key) === record) m.delete(metadata.key);
      if (this.pending.get(pk) === record) this.pending.delete(pk);
      throw e;
    });
    return { created: true, persisted };
  }

  /** A temporary file in the bucket directory, for streaming an upload into. */
  async tempFile(bucket: string): Promise<{ path: string; handle: FileHandle }> {
    const dir = this.bucketDir(bucket);
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${TEMP_PREFIX}${newId()}`);
    return { path, handle: await open(path, 'wx') };
  }

  /**
   * Moves an uploaded temp file into place as the data of (bucket, key, generation) and marks the
   * record complete. Returns false (and removes the temp file) when that record no longer exists.
   */
  commitData(bucket: string, key: string, generation: string, tempPath: string): Promise<boolean> {
    return this.commit(async () => {
      const m = this.map(bucket);
      const current = m.get(key);
      if (!current || current.generation !== generation) {
        await unlink(tempPath).catch(() => {});
        return false;
      }
      const dataFile = `${fileSafe(key)}.${fileSafe(generation)}${DATA_SUFFIX}`;
      await rename(tempPath, join(this.bucketDir(bucket), dataFile));
      const record: KeyRecord = { ...current, complete: true, dataFile, updatedAt: Date.now() };
      await this.writeRecord(record);
      m.set(key, record);
      this.pending.delete(pendingKey(bucket, key));
      if (current.dataFile && current.dataFile !== dataFile) await unlink(join(this.bucketDir(bucket), current.dataFile)).catch(() => {});
      return true;
    });
  }

  /** Deletes the given keys (record first, then data). Returns how many existed. */
  deleteKeys(bucket: string, keys: readonly string[]): Promise<number> {
    return this.commit(async () => {
      const m = this.map(bucket);
      let n = 0;
      for (const key of keys) {
        const rec = m.get(key);
        if (!rec) continue;
        m.delete(key);
        this.pending.delete(pendingKey(bucket, key));
        n++;
        const dir = this.bucketDir(bucket);
        await unlink(join(dir, `${fileSafe(key)}${RECORD_SUFFIX}`)).catch(() => {});
        if (rec.dataFile) await unlink(join(dir, rec.dataFile)).catch(() => {});
      }
      return n;
    });
  }

  /** How many records have no data (unfinished uploads). */
  pendingCount(): number {
    return this.pending.size;
  }

  /** Deletes the records without data last updated before `cutoff` (epoch ms). Returns how many. */
  deletePendingBefore(cutoff: number): Promise<number> {
    const stale = [...this.pending.values()].filter((r) => r.updatedAt < cutoff);
    if (stale.length === 0) return Promise.resolve(0);
    return this.commit(async () => {
      let n = 0;
      for (const rec of stale) {
        const { bucket_id: bucket, key } = rec.metadata;
        const m = this.map(bucket);
        // Completed or replaced meanwhile: keep.
        if (m.get(key) !== rec) continue;
        m.delete(key);
        this.pending.delete(pendingKey(bucket, key));
        n++;
        await unlink(join(this.bucketDir(bucket), `${fileSafe(key)}${RECORD_SUFFIX}`)).catch(() => {});
      }
      return n;
    });
  }

  dataPath(bucket: string, record: KeyRecord): string | null {
    return record.complete && record.dataFile ? join(this.bucketDir(bucket), record.dataFile) : null;
  }

  private map(bucket: string): Map<string, KeyRecord> {
    let m = this.buckets.get(bucket);
    if (!m) {
      m = new Map();
      this.buckets.set(bucket, m);
    }
    return m;
  }

  private commit<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new Error('router is shutting down');
      return fn();
    });
    this.queue = run.catch(() => {});
    return run;
  }

  private async writeRecord(record: KeyRecord): Promise<void> {
    const dir = this.bucketDir(record.metadata.bucket_id);
    await mkdir(dir, { recursive: true });
    const file: RecordFile = { version: 1, ...record };
    const tmp = join(dir, `${TEMP_PREFIX}${newId()}`);
    await writeFile(tmp, JSON.stringify(file));
    await rename(tmp, join(dir, `${fileSafe(record.metadata.key)}${RECORD_SUFFIX}`));
  }
}
