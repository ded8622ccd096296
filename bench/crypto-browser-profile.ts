/**
 * Where the time of a Liu or FDHOPE self-test goes in Chromium (spec/crypto.md §2, §3): samples
 * the page's main thread and every crypto worker with the CDP `Profiler` (100 µs interval) during
 * one warm self-test through the real worker pool, then prints per thread the busy time and the
 * functions with the most self time, each with a snippet of its (minified) source so it can be
 * recognised. The measurements behind docs/perf-crypto-browser.md.
 *
 * Needs a built export (`npm run build`) and Debian Chromium.
 *   npx tsx bench/crypto-browser-profile.ts [--workers 1] [--scheme liu|fdhope] [--n 1000000] [--top 12]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CDPSession } from 'playwright-core';
import { LABELS, OUT, makeBackup, openKeysPage, selfTest } from './shared/keys-page';
import { benchOptions } from './shared/options';

const { workers: WORKERS, scheme: SCHEME, n: N, top: TOP } = benchOptions({ workers: 1, scheme: ['liu', 'fdhope'], n: 1_000_000, top: 12 });

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}
interface Profile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: CallFrame }[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** A few characters of the served file at the frame's position (the export is minified: line 0). */
function snippet(f: CallFrame): string {
  if (!f.url.startsWith('http')) return '';
  try {
    const lines = readFileSync(join(OUT, new URL(f.url).pathname), 'utf8').split('\n');
    return (lines[f.lineNumber] ?? '').slice(f.columnNumber, f.columnNumber + 90).replace(/\s+/g, ' ');
  } catch {
    return '';
  }
}

function report(name: string, p: Profile): void {
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, { ms: number; frame: CallFrame }>();
  for (let i = 0; i < p.samples.length; i++) {
    const frame = byId.get(p.samples[i])!;
    const key = `${frame.functionName}|${frame.url}|${frame.lineNumber}|${frame.columnNumber}`;
    const e = self.get(key) ?? { ms: 0, frame };
    e.ms += (p.timeDeltas[i + 1] ?? 0) / 1000;
    self.set(key, e);
  }
  const total = (p.endTime - p.startTime) / 1000;
  const idle = [...self.values()].filter((e) => e.frame.functionName === '(idle)').reduce((a, e) => a + e.ms, 0);
  console.log(`\n${name}: ${total.toFixed(0)} ms sampled, ${(total - idle).toFixed(0)} ms busy`);
  const rows = [...self.values()].filter((e) => e.frame.functionName !== '(idle)').sort((a, b) => b.ms - a.ms).slice(0, TOP);
  for (const e of rows) {
    const f = e.frame;
    const where = f.url ? `${f.url.split('/').pop()}:${f.columnNumber}` : '';
    console.log(`${e.ms.toFixed(1).padStart(8)} ms  ${(f.functionName || '(anonymous)').padEnd(18)} ${where.padEnd(34)} ${snippet(f)}`);
  }
}

/** CDP over the page session, forwarding to worker targets (non-flattened auto-attach). */
function workerChannel(s: CDPSession) {
  const workers: string[] = [];
  const pending = new Map<number, (r: unknown) => void>();
  let seq = 1;
  s.on('Target.attachedToTarget', (ev: { sessionId: string; targetInfo: { type: string } }) => {
    if (ev.targetInfo.type === 'worker') workers.push(ev.sessionId);
  });
  s.on('Target.receivedMessageFromTarget', (ev: { message: string }) => {
    const msg = JSON.parse(ev.message) as { id?: number; result?: unknown };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result);
  });
  const send = (sessionId: string, method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = seq++;
      pending.set(id, resolve);
      void s.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) });
    });
  return { workers, send };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rory-profile-'));
  const backup = await makeBackup(dir, { ckks: false });
  const app = await openKeysPage(WORKERS, backup);
  try {
    const label = LABELS[SCHEME];
    await selfTest(app.page, label, N); // warm: workers started, code optimised
    const s = await app.context.newCDPSession(app.page);
    const ch = workerChannel(s);
    await s.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
    for (let i = 0; i < 50 && ch.workers.length < WORKERS; i++) await new Promise((r) => setTimeout(r, 100));
    await s.send('Profiler.enable');
    await s.send('Profiler.setSamplingInterval', { interval: 100 });
    await s.send('Profiler.start');
    for (const w of ch.workers) {
      await ch.send(w, 'Profiler.enable');
      await ch.send(w, 'Profiler.setSamplingInterval', { interval: 100 });
      await ch.send(w, 'Profiler.start');
    }
    const t = await selfTest(app.page, label, N);
    const page = (await s.send('Profiler.stop')) as { profile: Profile };
    const workers = await Promise.all(ch.workers.map(async (w) => ((await ch.send(w, 'Profiler.stop')) as { profile: Profile }).profile));
    console.log(
      `${SCHEME} self-test, ${t.count.toLocaleString('en')} values, ${WORKERS} worker(s): encrypt ${t.encryptMs.toFixed(0)} ms` +
        (SCHEME === 'liu' ? `, decrypt ${t.decryptMs.toFixed(0)} ms` : '') +
        ' (the sampled window also holds the self-test making its random input and checking the result)',
    );
    report('page main thread', page.profile);
    workers.forEach((p, i) => report(`crypto worker ${i + 1}`, p));
  } finally {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
