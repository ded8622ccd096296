/**
 * @module queries/datasets
 * TanStack Query options and hooks for the Datasets page (issue "Data and storage", deliverable 2):
 * plain fetchers over the IndexedDB `DatasetStore`, query-options factories, thin hooks, and the
 * draft hook that reads a picked or dropped file before it is stored. Formats and the handling of
 * every malformed input: `shared/datasets/README.md` (via `lib/data`).
 *
 * Components never touch IndexedDB or the parsers: they get view models (`DatasetSummary`) from
 * here. Plaintext matrices never enter the query cache — only records, the first rows and stats.
 *
 * Parsing runs on the main thread with the chunked parser (2 MiB slices, yielding between slices
 * when given an AbortSignal), which keeps the page responsive and the progress bar moving.
 */
import { queryOptions, useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { AppError, toAppError } from '../errors';
import { parseLabels } from '../data/csv';
import { createDatasetRecord, defaultDatasetName, parseDatasetFile, type DatasetRecord, type ParsedDataset } from '../data/dataset';
import type { PlainMatrix } from '../data/matrix';
import { parseNpyLabels } from '../data/npy';
import { columnStats, preview, type DatasetStats } from '../data/stats';
import { createIdbDatasetStore, type DatasetLabels, type DatasetStore } from '../datasets';

/** Rows shown in a preview table. */
export const PREVIEW_ROWS = 10;
/** Class counts are listed only up to this many distinct labels. */
const MAX_LISTED_CLASSES = 50;

let store: DatasetStore | undefined;
/** The app's dataset store; opened lazily so that importing this module does no I/O. */
function datasetStore(): DatasetStore {
  store ??= createIdbDatasetStore();
  return store;
}

// ---------------------------------------------------------------------------------------------
// View models

/** What the preview shows for a dataset, stored or not yet stored. No full matrix. */
export interface DatasetSummary {
  readonly rows: number;
  readonly cols: number;
  readonly header?: readonly string[];
  readonly stats: DatasetStats;
  /** The first `PREVIEW_ROWS` rows. */
  readonly previewRows: readonly (readonly number[])[];
  /** Labels of the preview rows, when the dataset has labels. */
  readonly previewLabels?: readonly number[];
  /** [label, count] pairs in label order, when labels are integers with few distinct values. */
  readonly classCounts?: readonly (readonly [number, number])[];
}

function classCounts(labels: DatasetLabels): [number, number][] | undefined {
  if (!(labels instanceof Int32Array)) return undefined;
  const counts = new Map<number, number>();
  for (const l of labels) {
    counts.set(l, (counts.get(l) ?? 0) + 1);
    if (counts.size > MAX_LISTED_CLASSES) return undefined;
  }
  return [...counts.entries()].sort((a, b) => a[0] - b[0]);
}

function summarise(matrix: PlainMatrix, labels: DatasetLabels | undefined, header: readonly string[] | undefined, stats?: DatasetStats): DatasetSummary {
  const [rows, cols] = matrix.shape;
  return {
    rows,
    cols,
    ...(header ? { header } : {}),
    stats: stats ?? columnStats(matrix),
    previewRows: preview(matrix, PREVIEW_ROWS),
    ...(labels ? { previewLabels: Array.from(labels.subarray(0, PREVIEW_ROWS)), classCounts: classCounts(labels) } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Queries

export const datasetKeys = {
  all: ['datasets'] as const,
  list: () => ['datasets', 'list'] as const,
  /** Everything cached about one dataset (record and summary). */
  detail: (id: string) => ['datasets', 'detail', id] as const,
  record: (id: string) => ['datasets', 'detail', id, 'record'] as const,
  summary: (id: string) => ['datasets', 'detail', id, 'summary'] as const,
};

export const datasetsQueryOptions = () => queryOptions({ queryKey: datasetKeys.list(), queryFn: () => datasetStore().list() });

/** The record, or null when no dataset has this id in this browser. */
export const datasetQueryOptions = (id: string) =>
  queryOptions({ queryKey: datasetKeys.record(id), queryFn: async () => (await datasetStore().get(id)) ?? null });

/** First rows, stats and class counts of a stored dataset (the matrix itself is not cached). */
export const datasetSummaryQueryOptions = (id: string) =>
  queryOptions({
    queryKey: datasetKeys.summary(id),
    queryFn: async () => {
      const ds = await datasetStore().load(id);
      return summarise(ds.matrix, ds.labels, ds.record.header, ds.record.stats);
    },
    staleTime: Infinity,
  });

export function useDatasets() {
  return useQuery(datasetsQueryOptions());
}

export function useDataset(id: string) {
  return useQuery(datasetQueryOptions(id));
}

export function useDatasetSummary(id: string) {
  return useQuery(datasetSummaryQueryOptions(id));
}

// ---------------------------------------------------------------------------------------------
// Labels files

async function isNpy(file: Blob): Promise<boolean> {
  if (file.size < 6) return false;
  const head = new Uint8Array(await file.slice(0, 6).arrayBuffer());
  return head[0] === 0x93 && String.fromCharCode(...head.subarray(1)) === 'NUMPY';
}

/**
 * Reads a labels file: `.npy` (detected by its magic, whatever the name) or CSV with one integer
 * per line. @throws AppError CSV_INVALID / NPY_INVALID
 */
export async function readLabelsFile(file: Blob, signal?: AbortSignal): Promise<Int32Array> {
  if (await isNpy(file)) return parseNpyLabels(new Uint8Array(await file.arrayBuffer()));
  return parseLabels(file, { signal });
}

/** True for names like `iris.labels.csv` / `y.labels.npy`, so a dropped pair can be told apart. */
export function isLabelsFileName(name: string): boolean {
  return /\.labels\.(csv|npy|txt)$/i.test(name);
}

// ---------------------------------------------------------------------------------------------
// Mutations

/** Invalidates every dataset query (jobs' dataset pickers share the `datasets` root key). */
function invalidateAll(qc: QueryClient) {
  return qc.invalidateQueries({ queryKey: datasetKeys.all });
}

export function useRenameDataset() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, name }: { id: string; name: string }) => datasetStore().rename(id, name),
    onSuccess: () => invalidateAll(qc),
  });
}

/** Attaches a labels file (`file`) or, with null, removes the labels. */
export function useSetDatasetLabels() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async ({ id, file }: { id: string; file: File | null }) => {
      const labels = file ? await readLabelsFile(file) : null;
      return datasetStore().setLabels(id, labels);
    },
    onSuccess: () => invalidateAll(qc),
  });
}

export function useDeleteDataset() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => datasetStore().delete(id),
    onSuccess: (_existed, id) => {
      // Drop (rather than refetch) what was cached about the deleted dataset; refresh the rest.
      qc.removeQueries({ queryKey: datasetKeys.detail(id) });
      return qc.invalidateQueries({
        predicate: (q) => q.queryKey[0] === datasetKeys.all[0] && !(q.queryKey[1] === 'detail' && q.queryKey[2] === id),
      });
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Draft: a file read and checked, not yet stored

/** Where a label column comes from: none, or the 0-based field index in the file. */
export type LabelColumnChoice = number | null;

export interface DatasetDraft {
  readonly fileName: string;
  readonly bytes: number;
  readonly format: 'csv' | 'npy';
  /** Number of fields per line in the file (features + label column). */
  readonly fileColumns: number;
  /** Names of all fields, when the CSV had a header line. */
  readonly fileHeader?: readonly string[];
  readonly labelColumn: LabelColumnChoice;
  /** Name of the labels file attached to the draft, if any. */
  readonly labelsFileName?: string;
  readonly summary: DatasetSummary;
}

/** A file being read. */
export interface DraftReading {
  readonly fileName: string;
  readonly bytes: number;
  /** Fraction read, in [0, 1]. */
  readonly progress: number;
  readonly what: 'data' | 'labels';
}

/** An error to show, with the file and the step it concerns. */
export interface DraftError {
  readonly fileName: string;
  readonly step: 'data' | 'labels' | 'save';
  readonly error: AppError;
}

interface DraftData {
  file: File;
  parsed: ParsedDataset;
  fileColumns: number;
  fileHeader?: readonly string[];
  labelColumn: LabelColumnChoice;
  fileLabels?: { name: string; labels: Int32Array };
}

function toDraft(d: DraftData): DatasetDraft {
  const labels = d.parsed.labels ?? d.fileLabels?.labels;
  return {
    fileName: d.file.name,
    bytes: d.file.size,
    format: d.parsed.sourceFormat,
    fileColumns: d.fileColumns,
    ...(d.fileHeader ? { fileHeader: d.fileHeader } : {}),
    labelColumn: d.labelColumn,
    ...(d.fileLabels && d.labelColumn === null ? { labelsFileName: d.fileLabels.name } : {}),
    summary: summarise(d.parsed.matrix, labels, d.parsed.header),
  };
}

/** Smallest progress step worth a re-render. */
const PROGRESS_STEP = 0.01;

/**
 * Reads a dataset file into a draft (nothing is stored until `save`). Every failure leaves the
 * store untouched and is reported through `error` with the user-facing message of the AppError
 * (line and column for CSV problems). A new file, `cancel` or unmounting aborts a read in progress.
 */
export function useDatasetDraft() {
  const qc = useQueryClient();
  const [draft, setDraft] = useState<DatasetDraft | null>(null);
  const [reading, setReading] = useState<DraftReading | null>(null);
  const [error, setError] = useState<DraftError | null>(null);
  const data = useRef<DraftData | null>(null);
  const abort = useRef<AbortController | null>(null);

  useEffect(() => () => abort.current?.abort(), []);

  /**
   * Runs one read with progress and abort. `stale` is true when another read (or `cancel`,
   * `discard`, unmounting) superseded this one: the caller must then leave the state alone.
   */
  const run = useCallback(
    async <T,>(file: File, what: 'data' | 'labels', read: (signal: AbortSignal, onProgress: (f: number) => void) => Promise<T>): Promise<{ value?: T; stale: boolean }> => {
      abort.current?.abort();
      const ctl = new AbortController();
      abort.current = ctl;
      setError(null);
      let shown = 0;
      setReading({ fileName: file.name, bytes: file.size, progress: 0, what });
      const onProgress = (f: number) => {
        if (ctl.signal.aborted || (f - shown < PROGRESS_STEP && f < 1)) return;
        shown = f;
        setReading({ fileName: file.name, bytes: file.size, progress: f, what });
      };
      try {
        const value = await read(ctl.signal, onProgress);
        return ctl.signal.aborted ? { stale: true } : { value, stale: false };
      } catch (e) {
        if (ctl.signal.aborted) return { stale: true };
        setError({ fileName: file.name, step: what, error: toAppError(e) });
        return { stale: false };
      } finally {
        if (abort.current === ctl) abort.current = null;
      }
    },
    [],
  );

  /** Publishes the current draft and ends the reading state. */
  const show = useCallback(() => {
    setDraft(data.current ? toDraft(data.current) : null);
    setReading(null);
  }, []);

  /** Attaches a labels file to the current draft (replacing a label column choice). */
  const attachLabels = useCallback(
    async (file: File) => {
      const d = data.current;
      if (!d) return;
      const r = await run(file, 'labels', async (signal, onProgress) => {
        const l = await readLabelsFile(file, signal);
        onProgress(1);
        if (l.length !== d.parsed.rows) {
          throw new AppError('SHAPE_MISMATCH', `labels length ${l.length} != rows ${d.parsed.rows}`, {
            userMessage: `The labels file has ${l.length} labels but the dataset has ${d.parsed.rows} records. Choose the labels file that belongs to this dataset.`,
          });
        }
        return l;
      });
      if (r.stale) return;
      if (r.value && d.labelColumn !== null) {
        // A labels file replaces labels taken from a column: read the data again without one.
        const again = await run(d.file, 'data', (signal, onProgress) => parseDatasetFile(d.file, { signal, onProgress }));
        if (again.stale) return;
        if (!again.value) return show();
        d.parsed = again.value;
        d.labelColumn = null;
      }
      if (r.value) d.fileLabels = { name: file.name, labels: r.value };
      show();
    },
    [run, show],
  );

  /** Reads `file` as a new draft (discarding the previous one); `labelsFile` is attached after it. */
  const open = useCallback(
    async (file: File, labelsFile?: File) => {
      data.current = null;
      setDraft(null);
      const r = await run(file, 'data', (signal, onProgress) => parseDatasetFile(file, { signal, onProgress }));
      if (r.stale) return;
      if (r.value) data.current = { file, parsed: r.value, fileColumns: r.value.cols, fileHeader: r.value.header, labelColumn: null };
      show();
      if (r.value && labelsFile) await attachLabels(labelsFile);
    },
    [run, show, attachLabels],
  );

  /** Takes the labels from field `column` of the file (null: every field is a feature). */
  const setLabelColumn = useCallback(
    async (column: LabelColumnChoice) => {
      const d = data.current;
      if (!d || d.parsed.sourceFormat !== 'csv' || column === d.labelColumn) return;
      const r = await run(d.file, 'data', (signal, onProgress) => parseDatasetFile(d.file, { labelColumn: column, signal, onProgress }));
      if (r.stale) return;
      if (r.value) {
        d.parsed = r.value;
        d.labelColumn = column;
        if (column !== null) d.fileLabels = undefined;
      }
      show();
    },
    [run, show],
  );

  const detachLabels = useCallback(() => {
    if (data.current) data.current.fileLabels = undefined;
    show();
  }, [show]);

  /** Stops a read in progress; the previous draft (if any) stays. */
  const cancel = useCallback(() => {
    abort.current?.abort();
    abort.current = null;
    show();
  }, [show]);

  /** Forgets the draft. */
  const discard = useCallback(() => {
    abort.current?.abort();
    data.current = null;
    setError(null);
    setDraft(null);
    setReading(null);
  }, []);

  const saveMutation = useMutation({
    mutationFn: async ({ name }: { name: string }): Promise<DatasetRecord> => {
      const d = data.current;
      if (!d) throw new AppError('INVALID_ARGUMENT', 'no draft to save', { userMessage: 'Choose a file first.' });
      const labels = d.parsed.labels ?? d.fileLabels?.labels;
      const parsed: ParsedDataset = labels ? { ...d.parsed, labels } : d.parsed;
      const record = createDatasetRecord(parsed, { name, bytes: d.file.size });
      await datasetStore().save(labels ? { record, matrix: parsed.matrix, labels } : { record, matrix: parsed.matrix });
      return record;
    },
    onSuccess: () => {
      data.current = null;
      setDraft(null);
      return invalidateAll(qc);
    },
  });

  /** Stores the draft under `name`; resolves with the record, or undefined after an error (shown). */
  const save = useCallback(
    async (name: string): Promise<DatasetRecord | undefined> => {
      const fileName = data.current?.file.name ?? '';
      setError(null);
      try {
        return await saveMutation.mutateAsync({ name });
      } catch (e) {
        setError({ fileName, step: 'save', error: toAppError(e) });
        return undefined;
      }
    },
    [saveMutation],
  );

  return { draft, reading, error, saving: saveMutation.isPending, open, attachLabels, detachLabels, setLabelColumn, cancel, discard, save };
}

/** The default dataset name for a file name (`iris.csv` → `iris`). */
export function datasetNameFor(fileName: string): string {
  return defaultDatasetName(fileName);
}
