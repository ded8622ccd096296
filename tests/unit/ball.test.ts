/**
 * The ball convention's read limits (lib/storage/ball.ts) and `StorageError` (lib/errors.ts):
 * how an expected shape bounds the chunk count and bytes of each encoding (spec/protocol.md
 * §7.1–§7.3), and that storage errors carry status, key and a user message.
 */
import { describe, expect, it } from 'vitest';
import { AppError, StorageError } from '@/lib/errors';
import { DEFAULT_MAX_BALL_BYTES, MAX_CHUNKS, ballLimits, dedupeAndSort, isChunkMetadata } from '@/lib/storage/ball';
import { StorageError as ReExported } from '@/lib/storage/mictlanx-client';
import type { ChunkMetadata } from '@/lib/storage/types';

const caps = { maxChunks: MAX_CHUNKS, maxBytes: DEFAULT_MAX_BALL_BYTES };

describe('ballLimits', () => {
  it('without an expectation the client caps apply', () => {
    expect(ballLimits('E1', undefined, caps)).toEqual({ maxChunks: 4096, maxBytes: 2 ** 30, reason: 'the client limits' });
  });

  it('E1: one chunk per row at most, 8 bytes per element', () => {
    expect(ballLimits('E1', { shape: [5, 2, 3] }, caps)).toEqual({ maxChunks: 5, maxBytes: 240, reason: 'the expected shape (5, 2, 3)' });
    expect(ballLimits('E1', { shape: [100_000, 2] }, caps).maxChunks).toBe(4096);
    expect(ballLimits('E1', { shape: [0, 3] }, caps)).toMatchObject({ maxChunks: 1, maxBytes: 0 });
  });

  it('E2: one piece per 128 000 bytes', () => {
    expect(ballLimits('E2', { shape: [25_000, 2] }, caps)).toMatchObject({ maxChunks: 3, maxBytes: 400_000 });
    expect(ballLimits('E2', { shape: [3] }, caps)).toMatchObject({ maxChunks: 1, maxBytes: 24 });
  });

  it('E3/E4: one chunk per item or row; bytes only from maxBytes', () => {
    expect(ballLimits('E3', { shape: [7] }, caps)).toMatchObject({ maxChunks: 7, maxBytes: 2 ** 30 });
    expect(ballLimits('E4', { shape: [3, 9], maxBytes: 1000 }, caps)).toEqual({ maxChunks: 3, maxBytes: 1000, reason: 'at most 1000 bytes and the expected shape (3, 9)' });
    expect(ballLimits('E3', { shape: [0] }, caps).maxChunks).toBe(1);
  });

  it('an expectation can only lower the caps', () => {
    expect(ballLimits('raw', { maxBytes: 2 ** 40 }, caps).maxBytes).toBe(2 ** 30);
    expect(ballLimits('E1', { shape: [10, 10] }, { maxChunks: 3, maxBytes: 50 })).toMatchObject({ maxChunks: 3, maxBytes: 50 });
  });

  it('refuses malformed expectations', () => {
    for (const expect_ of [{ shape: [] }, { shape: [-1] }, { shape: [1.5] }, { maxBytes: -1 }, { shape: 'x' as unknown as number[] }]) {
      expect(() => ballLimits('E1', expect_, caps)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});

describe('chunk metadata helpers', () => {
  const md = (key: string, index: string): ChunkMetadata => ({ key, size: 1, checksum: 'x', tags: { index }, content_type: 'a', producer_id: 'p', ball_id: 'b', bucket_id: 'rory' });

  it('dedupes by key and sorts by index, then key', () => {
    expect(dedupeAndSort([md('b_2', '2'), md('b_0', '0'), md('b_2', '2'), md('b_x', 'x'), md('b_1', '1')]).map((m) => m.key)).toEqual(['b_0', 'b_1', 'b_2', 'b_x']);
  });

  it('recognises metadata by its fields', () => {
    expect(isChunkMetadata(md('b_0', '0'))).toBe(true);
    expect(isChunkMetadata({ ...md('b_0', '0'), size: '1' })).toBe(false);
    expect(isChunkMetadata(null)).toBe(false);
  });
});

describe('StorageError', () => {
  it('is an AppError with status, key, details and a user message, and survives JSON', () => {
    const e = new StorageError('STORAGE_FAILURE', 'upload "P0": HTTP 400', { userMessage: 'Check the bucket.', status: 400, key: 'P0_1', ballId: 'P0', routerUrl: 'http://r' });
    expect(e).toBeInstanceOf(AppError);
    expect(e).toBeInstanceOf(ReExported);
    expect(e).toMatchObject({ name: 'StorageError', code: 'STORAGE_FAILURE', status: 400, key: 'P0_1', userMessage: 'Check the bucket.' });
    expect(e.details).toEqual({ ballId: 'P0', key: 'P0_1', status: 400, router: 'http://r' });
    expect(AppError.fromJSON(JSON.parse(JSON.stringify(e)))).toMatchObject({ code: 'STORAGE_FAILURE', userMessage: 'Check the bucket.' });
  });
});
