/**
 * Chromium traces over CDP (`Tracing.start` … `Tracing.end`, read back as one stream), and what
 * the page's main thread did in each of its long tasks: the trace's nested events (script, style,
 * layout, paint, GC, message deserialisation…) inside each task of `minMs` or more.
 */
import type { CDPSession } from 'playwright-core';

export interface TraceEvent {
  readonly name: string;
  readonly cat: string;
  readonly ph: string;
  readonly ts: number;
  readonly dur?: number;
  /** The thread's CPU time in the event, µs. */
  readonly tdur?: number;
  readonly pid: number;
  readonly tid: number;
  readonly args?: { readonly name?: string; readonly data?: Record<string, unknown>; readonly [k: string]: unknown };
}

/** Main-thread work: tasks, script, style and layout, paint, GC, postMessage. */
export const MAIN_THREAD_CATEGORIES = ['toplevel', 'devtools.timeline', 'v8', 'v8.execute', 'disabled-by-default-v8.gc', 'blink', 'loading'];

/**
 * Starts tracing; the returned function ends it and returns the events. The trace stays in
 * Chromium's buffer until the end (`ReturnAsStream`), so recording costs the traced threads little
 * (events reported in batches during the run cost the browser's main thread seconds).
 */
export async function startTrace(session: CDPSession, categories = MAIN_THREAD_CATEGORIES): Promise<() => Promise<TraceEvent[]>> {
  await session.send('Tracing.start', { transferMode: 'ReturnAsStream', traceConfig: { includedCategories: categories, recordMode: 'recordUntilFull' } });
  return async () => {
    const complete = new Promise<string>((resolve) => session.once('Tracing.tracingComplete', (e) => resolve(e.stream!)));
    await session.send('Tracing.end');
    const handle = await complete;
    const parts: string[] = [];
    for (;;) {
      const r = await session.send('IO.read', { handle, size: 1 << 20 });
      parts.push(r.base64Encoded ? Buffer.from(r.data, 'base64').toString('utf8') : r.data);
      if (r.eof) break;
    }
    await session.send('IO.close', { handle });
    const json = JSON.parse(parts.join('')) as TraceEvent[] | { traceEvents: TraceEvent[] };
    return Array.isArray(json) ? json : json.traceEvents;
  };
}

/** A task of the thread's scheduler (`RunTask`, or `ThreadControllerImpl::RunTask` in recent Chromium). */
const TASK = /(^|::)RunTask$/;

const ms = (us: number | undefined) => (us === undefined ? '-' : (us / 1000).toFixed(1)).padStart(6);

function describe(e: TraceEvent): string {
  const d = (e.args?.data ?? {}) as Record<string, unknown>;
  const bits = [d.functionName, d.type, d.url && String(d.url).split('/').pop(), d.usedHeapSizeBefore !== undefined ? `heap ${Math.round(Number(d.usedHeapSizeBefore) / 1e6)}→${Math.round(Number(d.usedHeapSizeAfter) / 1e6)} MB` : undefined]
    .filter((x) => x !== undefined && x !== '')
    .map(String);
  return bits.length ? `${e.name} (${bits.join(', ')})` : e.name;
}

export interface TracedTask {
  readonly ts: number;
  /** Wall time of the task. */
  readonly ms: number;
  /** CPU time the main thread had in it: the rest it waited (for a core, or blocked). */
  readonly cpuMs: number;
  readonly outline: string;
}

/**
 * The long tasks (≥ `minMs` of wall time) of every renderer main thread in the trace, each as an
 * indented outline of the events nested in it that last `detailMs` or more (wall / CPU).
 */
export function longTaskOutlines(events: readonly TraceEvent[], minMs = 50, detailMs = 2): TracedTask[] {
  const mains = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const byThread = new Map<string, TraceEvent[]>();
  for (const e of events) {
    if (e.ph !== 'X' || e.dur === undefined) continue;
    const key = `${e.pid}:${e.tid}`;
    if (!mains.has(key)) continue;
    const list = byThread.get(key) ?? [];
    list.push(e);
    byThread.set(key, list);
  }
  const out: TracedTask[] = [];
  for (const list of byThread.values()) {
    list.sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
    for (const task of list) {
      if (!TASK.test(task.name) || task.dur! < minMs * 1000) continue;
      const end = task.ts + task.dur!;
      const stack: number[] = [];
      const lines: string[] = [];
      for (const e of list) {
        if (e === task || e.ts < task.ts || e.ts >= end || e.dur! < detailMs * 1000) continue;
        while (stack.length && e.ts >= stack[stack.length - 1]!) stack.pop();
        lines.push(`${'  '.repeat(stack.length + 3)}${ms(e.dur)} / ${ms(e.tdur)} ms  ${describe(e)}`);
        stack.push(e.ts + e.dur!);
      }
      out.push({ ts: task.ts, ms: task.dur! / 1000, cpuMs: (task.tdur ?? 0) / 1000, outline: lines.join('\n') });
    }
  }
  return out.sort((a, b) => a.ts - b.ts);
}
