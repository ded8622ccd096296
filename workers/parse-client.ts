/**
 * @module workers/parse-client
 * Reads an uploaded dataset file off the page thread (issue #14 item 7): one parse worker per
 * read, started on demand and terminated when the read ends — or at once when the AbortSignal
 * fires (cancel = terminate, as for the crypto workers). Progress is reported as the worker
 * reads each slice. Where Web Workers do not exist (Node tests), the same `readTable` runs in
 * the calling thread.
 *
 * This is the only module that creates parse workers, with the literal
 * `new Worker(new URL('./parse.worker.ts', import.meta.url))` that webpack turns into a chunk.
 */
import { proxy, releaseProxy, wrap } from 'comlink';
import { AppError, toAppError } from '@/lib/errors';
import type { CsvFormat } from '@/lib/data/locale';
import { readTable, type RawTable } from '@/lib/data/table';
import type { ParseWorkerApi } from './parse.worker';

export interface ReadTableRequest {
  readonly format?: CsvFormat;
  readonly signal?: AbortSignal;
  readonly onProgress?: (fraction: number) => void;
}

function cancelled(): AppError {
  return new AppError('ABORTED', 'file reading aborted', { userMessage: 'Reading the file was cancelled.' });
}

/** Reads `file` into a table in a parse worker. @throws AppError (as `readTable`), ABORTED */
export function readTableInWorker(file: Blob, req: ReadTableRequest = {}): Promise<RawTable> {
  if (typeof Worker === 'undefined') return readTable(file, req);
  if (req.signal?.aborted) return Promise.reject(cancelled());
  const worker = new Worker(new URL('./parse.worker.ts', import.meta.url));
  const remote = wrap<ParseWorkerApi>(worker);
  return new Promise<RawTable>((resolve, reject) => {
    let done = false;
    const finish = () => {
      done = true;
      req.signal?.removeEventListener('abort', onAbort);
      remote[releaseProxy]();
      worker.terminate();
    };
    const onAbort = () => {
      if (done) return;
      finish();
      reject(cancelled());
    };
    req.signal?.addEventListener('abort', onAbort, { once: true });
    worker.addEventListener('error', (e) => {
      if (done) return;
      finish();
      reject(new AppError('INTERNAL', `parse worker failed: ${e.message}`, { userMessage: 'The file could not be read (the reader stopped unexpectedly). Reload the page and try again.' }));
    });
    const onProgress = req.onProgress ? proxy((f: number) => !done && req.onProgress!(f)) : undefined;
    remote.readTable(file, req.format ? { format: req.format } : {}, onProgress).then(
      (table) => {
        if (done) return;
        finish();
        resolve(table);
      },
      (e: unknown) => {
        if (done) return;
        finish();
        reject(toAppError(e));
      },
    );
  });
}
