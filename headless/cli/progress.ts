/**
 * @module headless/cli/progress
 * What `rory run` shows while a job runs: on a terminal, one progress bar redrawn in place (round,
 * phase, the current crypto step or transfer) with finished events printed above it; elsewhere
 * (a pipe, a log file, CI) one plain line per event and no control characters.
 * `progressLine` and `eventLine` are pure, so tests check what is printed.
 */
import type { JobLogEvent, JobProgress } from '@/lib/rory/kit';

const WIDTH = 24;

/** `[#########...............] round 3/10  step1  encrypting 40%` */
export function progressLine(p: JobProgress, elapsedMs: number): string {
  const rounds = p.maxIterations && p.maxIterations > 0 ? Math.min(1, p.round / p.maxIterations) : 0;
  const filled = Math.round(rounds * WIDTH);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}]`;
  const round = p.maxIterations ? `round ${p.round}/${p.maxIterations}` : p.round > 0 ? `round ${p.round}` : '';
  const sub = p.crypto
    ? `${p.crypto.what} ${Math.round((p.crypto.total ? p.crypto.done / p.crypto.total : 1) * 100)}%`
    : p.transfer
      ? `${p.transfer.ballId} ${Math.round((p.transfer.doneBytes / Math.max(1, p.transfer.totalBytes)) * 100)}%`
      : '';
  return [bar, round, p.phase, sub, `${(elapsedMs / 1000).toFixed(1)} s`].filter(Boolean).join('  ');
}

/** `RUN1 round 2  0.153 s  12.3 kB` */
export function eventLine(e: JobLogEvent): string {
  const parts = [e.name];
  if (e.round !== undefined) parts.push(`round ${e.round + 1}`);
  if (e.durationMs !== undefined) parts.push(`${(e.durationMs / 1000).toFixed(3)} s`);
  const bytes = e.detail?.bytes;
  if (typeof bytes === 'number') parts.push(bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`);
  const rest = Object.entries(e.detail ?? {}).filter(([k]) => k !== 'bytes');
  if (rest.length) parts.push(rest.map(([k, v]) => `${k}=${v}`).join(' '));
  return parts.join('  ');
}

export interface ProgressView {
  event(e: JobLogEvent): void;
  progress(p: JobProgress): void;
  done(): void;
}

export function progressView(out: NodeJS.WriteStream, opts: { quiet?: boolean } = {}): ProgressView {
  const t0 = performance.now();
  if (opts.quiet) return { event: () => {}, progress: () => {}, done: () => {} };
  if (!out.isTTY) {
    return { event: (e) => out.write(`${eventLine(e)}\n`), progress: () => {}, done: () => {} };
  }
  let last: JobProgress = { phase: 'starting', round: 0 };
  let drawn = false;
  let lastDraw = 0;
  const draw = (force = false) => {
    const now = performance.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const cols = out.columns || 100;
    out.write(`\r\x1b[2K${progressLine(last, now - t0).slice(0, cols - 1)}`);
    drawn = true;
  };
  return {
    event(e) {
      out.write(`\r\x1b[2K${eventLine(e)}\n`);
      draw(true);
    },
    progress(p) {
      last = p;
      draw();
    },
    done() {
      if (drawn) out.write('\r\x1b[2K');
    },
  };
}
