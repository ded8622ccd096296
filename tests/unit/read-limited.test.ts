/**
 * Bounded body reads (lib/net/read-limited.ts; issue #12 finding 5). Bodies are real WHATWG
 * streams whose `pull` counts how much was asked for, so the tests see that reading stops at the
 * limit (the stream is cancelled) and that an over-long Content-Length is refused before a byte
 * is read. The HTTP side (real sockets, lying servers) is in tests/integration/mictlanx-limits.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { BodyLimitError, formatBytes, readBodyInto, readBodyLimited, readBodyPrefix, readJsonLimited, readTextLimited } from '@/lib/net/read-limited';

/** A Response whose body yields `pieces` (then ends) or, with `endless`, the last piece forever. */
function streamed(pieces: Uint8Array[], opts: { endless?: boolean; headers?: Record<string, string> } = {}) {
  const stats = { pulls: 0, cancelled: false };
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(ctrl) {
      stats.pulls++;
      if (i < pieces.length) ctrl.enqueue(pieces[i++]);
      else if (opts.endless && pieces.length > 0) ctrl.enqueue(pieces[pieces.length - 1]);
      else ctrl.close();
    },
    cancel() {
      stats.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { res: new Response(body, { headers: opts.headers }), stats };
}

const kb = (n: number, fill = 1) => new Uint8Array(n * 1024).fill(fill);

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('readBodyLimited', () => {
  it('returns the whole body when it fits, in order', async () => {
    const { res } = streamed([Uint8Array.of(1, 2), Uint8Array.of(3), new Uint8Array(0), Uint8Array.of(4, 5)]);
    expect([...(await readBodyLimited(res, 5, 'test body'))]).toEqual([1, 2, 3, 4, 5]);
    expect((await readBodyLimited(new Response(null), 0, 'empty')).byteLength).toBe(0);
  });

  it('stops an endless body right after the limit and cancels the stream', async () => {
    const { res, stats } = streamed([kb(16)], { endless: true });
    const err = await caught(readBodyLimited(res, 100 * 1024, 'the endless body'));
    expect(err).toBeInstanceOf(BodyLimitError);
    expect(err).toMatchObject({ code: 'PROTOCOL_VIOLATION', limitBytes: 100 * 1024, what: 'the endless body', reason: 'too-large' });
    expect((err as AppError).userMessage).toContain('more data than expected for the endless body');
    expect((err as AppError).userMessage).toContain('102 kB');
    expect(stats.pulls).toBeLessThanOrEqual(8);
    expect(stats.cancelled).toBe(true);
  });

  it('refuses a Content-Length above the limit before reading anything', async () => {
    const { res, stats } = streamed([kb(1)], { endless: true, headers: { 'content-length': String(10 ** 12) } });
    const err = await caught(readBodyLimited(res, 1024, 'metadata', { code: 'STORAGE_INTEGRITY', userMessage: 'Too big: check the router.' }));
    expect(err).toMatchObject({ code: 'STORAGE_INTEGRITY', userMessage: 'Too big: check the router.' });
    expect(stats.pulls).toBe(0);
  });

  it('lets stream errors through unchanged (callers classify network errors)', async () => {
    const boom = new TypeError('terminated');
    const res = new Response(new ReadableStream({ pull: (c) => c.error(boom) }));
    expect(await caught(readBodyLimited(res, 10, 'x'))).toBe(boom);
  });

  it('refuses bad limits', async () => {
    await expect(readBodyLimited(new Response('x'), -1, 'x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(readBodyLimited(new Response('x'), 1.5, 'x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('readBodyInto', () => {
  it('fills the target exactly', async () => {
    const target = new Uint8Array(6);
    await readBodyInto(streamed([Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5, 6)]).res, target, 'chunk');
    expect([...target]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('refuses a longer body as soon as it overflows, and a shorter one at its end', async () => {
    const long = streamed([kb(1)], { endless: true });
    await expect(readBodyInto(long.res, new Uint8Array(3000), 'the data of P0_1', { code: 'STORAGE_INTEGRITY' })).rejects.toMatchObject({ code: 'STORAGE_INTEGRITY', reason: 'too-large' });
    expect(long.stats.pulls).toBeLessThanOrEqual(4);
    expect(long.stats.cancelled).toBe(true);
    const short = await caught(readBodyInto(streamed([Uint8Array.of(1, 2)]).res, new Uint8Array(3), 'the data of P0_2'));
    expect(short).toMatchObject({ code: 'PROTOCOL_VIOLATION', reason: 'too-short' });
    expect((short as AppError).message).toContain('ended after 2 of the 3 bytes');
  });

  it('refuses a Content-Length other than the expected size without reading', async () => {
    for (const len of ['2', '4']) {
      const { res, stats } = streamed([Uint8Array.of(1, 2, 3)], { headers: { 'content-length': len } });
      await expect(readBodyInto(res, new Uint8Array(3), 'chunk')).rejects.toBeInstanceOf(BodyLimitError);
      expect(stats.pulls).toBe(0);
    }
  });
});

describe('readBodyPrefix, readTextLimited, readJsonLimited', () => {
  it('readBodyPrefix keeps the first bytes of an endless body and says it was cut', async () => {
    const { res, stats } = streamed([new TextEncoder().encode('error: ')], { endless: true });
    const { bytes, truncated } = await readBodyPrefix(res, 20);
    expect(truncated).toBe(true);
    expect(new TextDecoder().decode(bytes)).toBe('error: error: error:');
    expect(stats.cancelled).toBe(true);
    expect(await readBodyPrefix(new Response('short'), 20)).toEqual({ bytes: new TextEncoder().encode('short'), truncated: false });
  });

  it('readJsonLimited parses within the limit and refuses non-JSON clearly', async () => {
    expect(await readJsonLimited(new Response('{"a":[1,2]}'), 100, 'reply')).toEqual({ a: [1, 2] });
    expect(await readTextLimited(new Response('héllo'), 100, 'reply')).toBe('héllo');
    const err = await caught(readJsonLimited(new Response('<html>'), 100, 'the worker reply'));
    expect(err).toMatchObject({ code: 'PROTOCOL_VIOLATION' });
    expect((err as AppError).userMessage).toContain('not valid JSON');
    await expect(readJsonLimited(new Response('[' + '1,'.repeat(1000) + '1]'), 100, 'reply')).rejects.toBeInstanceOf(BodyLimitError);
  });

  it('formats sizes for messages', () => {
    expect([999, 1000, 65_536, 1_073_741_824, 4e15].map(formatBytes)).toEqual(['999 bytes', '1 kB', '65.5 kB', '1.07 GB', '4000 TB']);
  });
});
