/**
 * @module workers/parse.worker
 * The parse Web Worker (issue #14 item 7): a thin comlink `expose` over `lib/data/table`'s
 * `readTable`, so reading a large CSV or NPY file never blocks the page. The table's typed arrays
 * go back transferred; progress comes back through a comlink proxy; errors cross as plain
 * `{code, message, userMessage, details}` objects that parse-client.ts rebuilds as AppError.
 * Cancelling terminates the worker (parse-client.ts).
 */
import { expose, transfer } from 'comlink';
import { toAppError } from '@/lib/errors';
import type { CsvFormat } from '@/lib/data/locale';
import { readTable, tableBuffers, type RawTable } from '@/lib/data/table';

const api = {
  async readTable(file: Blob, opts: { format?: CsvFormat }, onProgress?: (fraction: number) => void): Promise<RawTable> {
    try {
      const table = await readTable(file, { ...(opts.format ? { format: opts.format } : {}), onProgress: onProgress && ((f) => void onProgress(f)) });
      return transfer(table, tableBuffers(table));
    } catch (e) {
      throw toAppError(e, 'CSV_INVALID').toJSON();
    }
  },
};

export type ParseWorkerApi = typeof api;

expose(api);
