/**
 * @module headless/jobs/log-file
 * Per-job event logs in LOG_PATH and results in SINK_PATH (spec/protocol.md §10):
 * - `LOG_PATH/{experiment_id}.{job_id}.jsonl`: one JSON object per event, upstream's
 *   `ExperimentLogEntry` fields (events.ts `logLine`), appended as the job runs;
 * - `SINK_PATH/{experiment_id}.{job_id}.json`: the reply the caller got plus the labels and the
 *   job's verification, iterations and timings.
 * Writes are serialised per file; a failing disk is reported once on stderr and never fails a job.
 * Nothing written holds key material or plaintext values (labels are results, not inputs).
 */
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import type { JobLogEvent } from '@/lib/rory/kit';
import { safeJoin } from '../data/source';
import { logLine, type LogContext } from './events';

export interface JobLog {
  readonly path: string;
  /** Appends one event (returns at once; writes are queued). */
  write(e: JobLogEvent, extra?: { workerId?: string; iterations?: number }): void;
  /** Resolves when every queued line is written. */
  flush(): Promise<void>;
}

export function jobFileName(experimentId: string, jobId: string, ext: string): string {
  return `${experimentId}.${jobId}.${ext}`;
}

export function openJobLog(logPath: string, c: LogContext, warn: (msg: string) => void = (m) => console.error(m)): JobLog {
  const path = safeJoin(logPath, jobFileName(c.experimentId, c.jobId, 'jsonl'));
  let tail: Promise<void> = mkdir(logPath, { recursive: true }).then(() => undefined);
  let failed = false;
  return {
    path,
    write(e, extra) {
      const line = JSON.stringify(logLine(e, c, extra)) + '\n';
      tail = tail
        .then(() => appendFile(path, line))
        .catch((err: unknown) => {
          if (!failed) warn(`cannot write the job log ${path}: ${err instanceof Error ? err.message : String(err)} (the job goes on)`);
          failed = true;
        });
    },
    flush: () => tail,
  };
}

/** Writes a job's result into SINK_PATH; returns its path (undefined when the disk refused). */
export async function writeSinkResult(sinkPath: string, experimentId: string, jobId: string, result: object, warn: (msg: string) => void = (m) => console.error(m)): Promise<string | undefined> {
  const path = safeJoin(sinkPath, jobFileName(experimentId, jobId, 'json'));
  try {
    await mkdir(sinkPath, { recursive: true });
    await writeFile(path, JSON.stringify(result, null, 1) + '\n');
    return path;
  } catch (e) {
    warn(`cannot write the result ${path}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}
