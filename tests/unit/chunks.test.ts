/**
 * workers/chunks.ts: planChunks and runPipelined (lanes pulling from one queue, a bounded number
 * of chunks in flight per lane, progress, first failure stops the rest, abort).
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { planChunks, runPipelined, type Chunk, type Progress } from '@/lib/engine/chunks';
import { rejection } from '../helpers/errors';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('planChunks', () => {
  it('covers [0, total) with contiguous chunks within the row bounds', () => {
    for (const [total, workers] of [
      [1, 1],
      [5000, 2],
      [1_000_000, 1],
      [1_000_000, 2],
      [70_001, 3],
    ]) {
      const chunks = planChunks(total, workers, { minRows: 4096, maxRows: 32768 });
      expect(chunks[0].from).toBe(0);
      expect(chunks[chunks.length - 1].to).toBe(total);
      chunks.forEach((c, i) => {
        expect(c.index).toBe(i);
        if (i > 0) expect(c.from).toBe(chunks[i - 1].to);
        expect(c.to - c.from).toBeLessThanOrEqual(32768);
        if (i < chunks.length - 1) expect(c.to - c.from).toBeGreaterThanOrEqual(4096);
      });
    }
    expect(planChunks(0, 2, { minRows: 1, maxRows: 8 })).toEqual([]);
  });
});

describe('runPipelined', () => {
  /** Runs `chunks` on `lanes` lanes of depth `depth`, recording what ran where and how many at once. */
  async function trace(nChunks: number, lanes: number, depth: number, opts: { failAt?: number; failLane?: number; signal?: AbortSignal } = {}) {
    const chunks: Chunk[] = Array.from({ length: nChunks }, (_, i) => ({ index: i, from: i * 10, to: i * 10 + 10 }));
    const ran: { chunk: number; lane: number }[] = [];
    const inFlight = new Map<number, number>();
    const maxInFlight = new Map<number, number>();
    const progress: Progress[] = [];
    let laneCount = 0;
    const result = runPipelined(
      chunks,
      async (serve) => {
        const lane = laneCount++;
        if (opts.failLane === lane) throw new AppError('CRYPTO_FAILURE', 'lane died', { userMessage: 'Worker died.' });
        await serve(async (c) => {
          inFlight.set(lane, (inFlight.get(lane) ?? 0) + 1);
          maxInFlight.set(lane, Math.max(maxInFlight.get(lane) ?? 0, inFlight.get(lane)!));
          ran.push({ chunk: c.index, lane });
          await tick();
          await tick();
          inFlight.set(lane, inFlight.get(lane)! - 1);
          if (c.index === opts.failAt) throw new AppError('DATA_MAGNITUDE', 'bad value', { userMessage: 'Bad value.' });
        });
      },
      { lanes, depth, total: nChunks * 10, signal: opts.signal, onProgress: (p) => progress.push(p) },
    );
    return { result, ran, maxInFlight, progress, lanes: () => laneCount };
  }

  it('runs every chunk once on at most `lanes` lanes, `depth` in flight per lane, with progress to the total', async () => {
    const t = await trace(20, 2, 2);
    await t.result;
    expect(t.ran.map((r) => r.chunk).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(t.lanes()).toBe(2);
    expect([...t.maxInFlight.values()]).toEqual([2, 2]);
    expect(new Set(t.ran.map((r) => r.lane))).toEqual(new Set([0, 1]));
    expect(t.progress.map((p) => p.done)).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 10));
    expect(t.progress.every((p) => p.total === 200)).toBe(true);
  });

  it('with progressIntervalMs, reports the first chunk, then at most once per interval, and always the end', async () => {
    let clock = 0;
    const seen: number[] = [];
    const chunks: Chunk[] = Array.from({ length: 10 }, (_, i) => ({ index: i, from: i, to: i + 1 }));
    await runPipelined(
      chunks,
      (serve) =>
        serve(async () => {
          await tick();
          clock += 40; // each chunk "takes" 40 ms
        }),
      { lanes: 1, depth: 1, total: 10, progressIntervalMs: 100, now: () => clock, onProgress: (p) => seen.push(p.done) },
    );
    // Reports at t = 40 (first), 160, 280, 400 (≥ 100 ms apart), and the last chunk at t = 400.
    expect(seen).toEqual([1, 4, 7, 10]);
  });

  it('opens no more lanes than chunks, and none for no chunks', async () => {
    const one = await trace(1, 4, 2);
    await one.result;
    expect(one.lanes()).toBe(1);
    const none = await trace(0, 4, 2);
    await none.result;
    expect(none.lanes()).toBe(0);
  });

  it('rejects with the first chunk failure and starts no chunk after it', async () => {
    const t = await trace(30, 2, 2, { failAt: 3 });
    const err = await rejection(t.result);
    expect(err.code).toBe('DATA_MAGNITUDE');
    // Chunks 0–3 plus those already in flight when chunk 3 failed (at most lanes × depth − 1 more).
    expect(t.ran.length).toBeLessThanOrEqual(4 + 3);
    expect(Math.max(...t.ran.map((r) => r.chunk))).toBeLessThan(8);
  });

  it('rejects when a lane itself fails (e.g. its worker crashed); the other lane stops pulling', async () => {
    const t = await trace(30, 2, 2, { failLane: 0 });
    expect((await rejection(t.result)).code).toBe('CRYPTO_FAILURE');
    expect(t.ran.length).toBeLessThan(30);
  });

  it('rejects with ABORTED when the signal fires, before or during the run', async () => {
    const early = new AbortController();
    early.abort();
    const t0 = await trace(5, 2, 2, { signal: early.signal });
    expect((await rejection(t0.result)).code).toBe('ABORTED');
    expect(t0.ran).toEqual([]);

    const ctrl = new AbortController();
    const t = await trace(40, 2, 2, { signal: ctrl.signal });
    await tick();
    ctrl.abort();
    expect((await rejection(t.result)).code).toBe('ABORTED');
    expect(t.ran.length).toBeLessThan(40);
  });
});
