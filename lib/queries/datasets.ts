/**
 * @module queries/datasets
 * TanStack Query options and hooks for the Datasets page (issue "Data and storage", deliverable 2,
 * and issue #14 "Real CSV files"): plain fetchers over the IndexedDB `DatasetStore`, query-options
 * factories, thin hooks, the draft hook that reads a picked or dropped file before it is stored,
 * and the results helpers (labelled CSV). Formats and the handling of every malformed input:
 * `shared/datasets/README.md` and `real/README.md` (via `lib/data`).
 *
 * Components never touch IndexedDB or the parsers: they get view models (`DatasetSummary`,
 * `DatasetDraft`) from here. Plaintext matrices never enter the query cache — only records, the
 * first rows and stats.
 *
 * Reading a file: `useDatasetDraft` takes the reader as an argument; the app passes the parse
 * worker's (`workers/parse-client`, wired in app/datasets), so large files are read off the page
 * thread with progress and Cancel; without one the same reader runs on the page (tests). The
 * file is read once into a column table; column roles, the missing-value choice and scaling are
 * applied to that table on the page, so changing them does not read the file again.
 */
import { queryOptions, useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { AppError, toAppError } from '../errors';
import { parseLabels } from '../data/csv';
import { describeColumns, defaultRoles, withoutLabel, withRole, labelColumnOf, type ColumnInfo, type ColumnRole } from '../data/columns';
import { createPreparedRecord, defaultDatasetName, type Dataset, type DatasetRecord } from '../data/dataset';
import type { CsvFormat } from '../data/locale';
import type { PlainMatrix } from '../data/matrix';
import type { MissingStrategy } from '../data/missing';
import { isNpyBlob, parseNpyLabels } from '../data/npy';
import { countMissing, prepareDataset, type MissingSummary, type PreparedDataset } from '../data/prepare';
import { labelledCsvFromMatrix, labelledCsvFromSource } from '../data/profiles';
import { spreadWarning, type ScalingMethod } from '../data/scaling';
import { columnStats, preview, type DatasetStats } from '../data/stats';
import { readTable, type RawTable } from '../data/table';
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
  /** Statistics in the file's units. */
  readonly stats: DatasetStats;
  /** The first `PREVIEW_ROWS` rows, in the file's units. */
  readonly previewRows: readonly (readonly number[])[];
  /** Labels of the preview rows, when the dataset has labels. */
  readonly previewLabels?: readonly number[];
  /** [label, count] pairs in label order, when labels are integers with few distinct values. */
  readonly classCounts?: readonly (readonly [number, number])[];
  /** Class names by label id, when the labels were text. */
  readonly labelNames?: readonly string[];
  /** Name of the label column. */
  readonly labelName?: string;
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

interface SummaryNames {
  readonly header?: readonly string[];
  readonly labelNames?: readonly string[];
  readonly labelName?: string;
}

function summarise(matrix: PlainMatrix, labels: DatasetLabels | undefined, names: SummaryNames, stats?: DatasetStats): DatasetSummary {
  const [rows, cols] = matrix.shape;
  return {
    rows,
    cols,
    ...(names.header ? { header: names.header } : {}),
    stats: stats ?? columnStats(matrix),
    previewRows: preview(matrix, PREVIEW_ROWS),
    ...(labels ? { previewLabels: Array.from(labels.subarray(0, PREVIEW_ROWS)), classCounts: classCounts(labels) } : {}),
    ...(labels && names.labelNames ? { labelNames: names.labelNames } : {}),
    ...(labels && names.labelName ? { labelName: names.labelName } : {}),
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

/** First rows, stats and class counts of a stored dataset, in the file's units (the matrix itself is not cached). */
export const datasetSummaryQueryOptions = (id: string) =>
  queryOptions({
    queryKey: datasetKeys.summary(id),
    queryFn: async () => {
      const ds = await datasetStore().load(id);
      return summarise(ds.original ?? ds.matrix, ds.labels, ds.record, ds.record.stats);
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

/**
 * Reads a labels file: `.npy` (detected by its magic, whatever the name) or CSV with one integer
 * per line. @throws AppError CSV_INVALID / NPY_INVALID
 */
export async function readLabelsFile(file: Blob, signal?: AbortSignal): Promise<Int32Array> {
  if (await isNpyBlob(file)) return parseNpyLabels(new Uint8Array(await file.arrayBuffer()));
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

/** Reads a file into a column table; the app passes the parse worker's (`workers/parse-client`). */
export type TableReader = (file: Blob, req: { format?: CsvFormat; signal?: AbortSignal; onProgress?: (fraction: number) => void }) => Promise<RawTable>;

/** The same reader on the page thread (tests, and browsers without workers). */
const pageReader: TableReader = (file, req) => readTable(file, req);

/** Where a label column comes from: none, or the 0-based field index in the file. */
export type LabelColumnChoice = number | null;

/** One column of the file, as the review shows it. */
export interface DraftColumn extends ColumnInfo {
  readonly role: ColumnRole;
  /** Missing cells. */
  readonly missing: number;
  /** Numbers written with thousands separators. */
  readonly thousands: number;
}

/** How a CSV file was read, and the other readings it allows. */
export interface DraftCsvFormat {
  readonly format: CsvFormat;
  /** True when the format was detected rather than chosen. */
  readonly detected: boolean;
  /** Readings that fit the file's first lines as well but give other numbers (one click each). */
  readonly alternatives: readonly CsvFormat[];
  readonly header: boolean;
  readonly bom: boolean;
}

export interface DatasetDraft {
  readonly fileName: string;
  readonly bytes: number;
  readonly format: 'csv' | 'npy';
  /** Number of fields per line in the file (every column, whatever its role). */
  readonly fileColumns: number;
  /** Names of all fields, when the CSV had a header line. */
  readonly fileHeader?: readonly string[];
  readonly labelColumn: LabelColumnChoice;
  /** Name of the labels file attached to the draft, if any. */
  readonly labelsFileName?: string;
  /** Every column of the file with its role. */
  readonly columns: readonly DraftColumn[];
  readonly csv?: DraftCsvFormat;
  /** Missing cells in the feature and label columns, and the chosen way to handle them. */
  readonly missing: MissingSummary;
  readonly scaling: ScalingMethod;
  /** The widest and narrowest feature columns when their spreads differ by more than 10×. */
  readonly spread?: { readonly wide: string; readonly narrow: string; readonly ratio: number };
  /** What was left out or read specially. */
  readonly notes: readonly string[];
  /** The dataset as it would be saved; absent when the choices do not give one (`problem` says why). */
  readonly summary?: DatasetSummary;
  readonly problem?: AppError;
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
  /** Present when the file has missing values: the counts, and `chooseMissing` goes on with a choice. */
  readonly missing?: MissingSummary;
}

interface DraftData {
  file: File;
  table: RawTable;
  infos: ColumnInfo[];
  roles: ColumnRole[];
  missing: MissingStrategy;
  scaling: ScalingMethod;
  formatChosen: boolean;
  /** True while the file waits for a missing-value choice (no review yet). */
  waiting: boolean;
  fileLabels?: { name: string; labels: Int32Array };
  prepared?: PreparedDataset;
  problem?: AppError;
}

function newDraftData(file: File, table: RawTable, keep?: Pick<DraftData, 'missing' | 'scaling'>, formatChosen = false): DraftData {
  const infos = describeColumns(table);
  return { file, table, infos, roles: defaultRoles(infos), missing: keep?.missing ?? 'refuse', scaling: keep?.scaling ?? 'none', formatChosen, waiting: false };
}

/** Applies the choices to the table (`prepareDataset`), keeping the result or the problem. */
function plan(d: DraftData): void {
  try {
    d.prepared = prepareDataset(d.table, { roles: d.roles, missing: d.missing });
    d.problem = undefined;
  } catch (e) {
    d.prepared = undefined;
    d.problem = toAppError(e);
  }
}

/** True for the error that a missing-value choice resolves. */
function isMissingProblem(e: AppError | undefined): boolean {
  return e?.details?.reason === 'missing';
}

/** Labels of a labels file for the records kept. */
function keptLabels(labels: Int32Array, kept: Int32Array | undefined): Int32Array {
  return kept ? Int32Array.from(kept, (i) => labels[i]) : labels;
}

function toDraft(d: DraftData): DatasetDraft {
  const { table, prepared } = d;
  const labelColumn = labelColumnOf(d.roles);
  const fileLabels = d.fileLabels ? keptLabels(d.fileLabels.labels, prepared?.keptRows) : undefined;
  const labels = fileLabels ?? prepared?.labels;
  const names: SummaryNames = prepared
    ? {
        ...(table.header || prepared.featureColumns.some((c, j) => c !== j) ? { header: prepared.featureNames } : {}),
        ...(!fileLabels && prepared.labelNames ? { labelNames: prepared.labelNames } : {}),
        ...(!fileLabels && prepared.labelName ? { labelName: prepared.labelName } : {}),
      }
    : {};
  return {
    fileName: d.file.name,
    bytes: d.file.size,
    format: table.sourceFormat,
    fileColumns: table.columns.length,
    ...(table.header ? { fileHeader: d.infos.map((c) => c.displayName) } : {}),
    labelColumn,
    ...(d.fileLabels ? { labelsFileName: d.fileLabels.name } : {}),
    columns: d.infos.map((c, j) => ({ ...c, role: d.roles[j], missing: table.columns[j].missing, thousands: table.columns[j].thousands })),
    ...(table.format
      ? {
          csv: {
            format: table.format,
            detected: !d.formatChosen,
            alternatives: d.formatChosen ? [] : (table.detection?.alternatives ?? []),
            header: table.header,
            bom: table.bom,
          },
        }
      : {}),
    missing: prepared?.missing ?? countMissing(table, d.roles, d.missing),
    scaling: d.scaling,
    ...(prepared && d.scaling === 'none' ? { spread: spreadWarning(prepared.matrix, prepared.featureNames) } : {}),
    notes: prepared?.notes ?? [],
    ...(prepared ? { summary: summarise(prepared.matrix, labels, names) } : {}),
    ...(d.problem ? { problem: d.problem } : {}),
  };
}

/** Smallest progress step worth a re-render. */
const PROGRESS_STEP = 0.01;

/**
 * Reads a dataset file into a draft (nothing is stored until `save`). Every failure leaves the
 * store untouched and is reported through `error` with the user-facing message of the AppError
 * (line and column for CSV problems); a file with missing values waits in `error` (with the
 * counts) for `chooseMissing`. A new file, `cancel` or unmounting aborts a read in progress.
 *
 * `readTable` reads a file into a column table: the parse worker in the app; by default the same
 * reader on the page.
 */
export function useDatasetDraft(opts: { readTable?: TableReader } = {}) {
  const reader = opts.readTable ?? pageReader;
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

  /**
   * Publishes the current draft and ends the reading state. A file whose missing values are
   * refused before any review waits in `error`, with the counts, for `chooseMissing`.
   */
  const show = useCallback(() => {
    const d = data.current;
    setReading(null);
    if (d?.waiting) {
      setDraft(null);
      setError({ fileName: d.file.name, step: 'data', error: d.problem!, missing: countMissing(d.table, d.roles) });
      return;
    }
    setDraft(d ? toDraft(d) : null);
  }, []);

  /** Re-plans the draft after a change of choices and shows it. */
  const replan = useCallback(
    (change: (d: DraftData) => void) => {
      const d = data.current;
      if (!d) return;
      change(d);
      plan(d);
      if (d.waiting && !isMissingProblem(d.problem)) {
        if (d.problem) {
          // The choice did not help (e.g. a label column that cannot be filled): say why, store nothing.
          setError({ fileName: d.file.name, step: 'data', error: d.problem, missing: countMissing(d.table, d.roles) });
          return;
        }
        d.waiting = false;
        setError(null);
      }
      show();
    },
    [show],
  );

  /** Takes a freshly read table as the draft; a file that cannot be used at all is refused. */
  const adopt = useCallback(
    (d: DraftData) => {
      plan(d);
      if (d.problem && !isMissingProblem(d.problem)) {
        data.current = null;
        setReading(null);
        setDraft(null);
        setError({ fileName: d.file.name, step: 'data', error: d.problem });
        return false;
      }
      d.waiting = d.problem !== undefined;
      data.current = d;
      show();
      return !d.waiting;
    },
    [show],
  );

  /** Attaches a labels file to the current draft (replacing a label column choice). */
  const attachLabels = useCallback(
    async (file: File) => {
      const d = data.current;
      if (!d) return;
      const r = await run(file, 'labels', async (signal, onProgress) => {
        const l = await readLabelsFile(file, signal);
        onProgress(1);
        if (l.length !== d.table.rows) {
          throw new AppError('SHAPE_MISMATCH', `labels length ${l.length} != rows ${d.table.rows}`, {
            userMessage: `The labels file has ${l.length} labels but the dataset has ${d.table.rows} records. Choose the labels file that belongs to this dataset.`,
          });
        }
        return l;
      });
      if (r.stale) return;
      if (!r.value) return show();
      const labels = r.value;
      replan((dd) => {
        dd.roles = withoutLabel(dd.roles, dd.infos);
        dd.fileLabels = { name: file.name, labels };
      });
    },
    [run, show, replan],
  );

  /** Reads `file` as a new draft (discarding the previous one); `labelsFile` is attached after it. */
  const open = useCallback(
    async (file: File, labelsFile?: File) => {
      data.current = null;
      setDraft(null);
      const r = await run(file, 'data', (signal, onProgress) => reader(file, { signal, onProgress }));
      if (r.stale) return;
      if (!r.value) return show();
      if (adopt(newDraftData(file, r.value)) && labelsFile) await attachLabels(labelsFile);
    },
    [run, show, adopt, reader, attachLabels],
  );

  /** Reads the file again with another delimiter / decimal separator (the one-click locale choice). */
  const setFormat = useCallback(
    async (format: CsvFormat) => {
      const d = data.current;
      if (!d || d.table.sourceFormat !== 'csv') return;
      const r = await run(d.file, 'data', (signal, onProgress) => reader(d.file, { format, signal, onProgress }));
      if (r.stale) return;
      if (!r.value) return show();
      const next = newDraftData(d.file, r.value, d, true);
      if (d.fileLabels && d.fileLabels.labels.length === r.value.rows) next.fileLabels = d.fileLabels;
      adopt(next);
    },
    [run, show, adopt, reader],
  );

  /** Takes the labels from field `column` of the file (null: no label column). */
  const setLabelColumn = useCallback(
    (column: LabelColumnChoice) =>
      replan((d) => {
        d.roles = column === null ? withoutLabel(d.roles, d.infos) : withRole(d.roles, d.infos, column, 'label');
        if (column !== null) d.fileLabels = undefined;
      }),
    [replan],
  );

  /** Sets the role of one column. */
  const setRole = useCallback(
    (column: number, role: ColumnRole) =>
      replan((d) => {
        d.roles = withRole(d.roles, d.infos, column, role);
        if (role === 'label') d.fileLabels = undefined;
      }),
    [replan],
  );

  /** What to do with missing cells (also goes on with a file that waits for this choice). */
  const chooseMissing = useCallback((missing: MissingStrategy) => replan((d) => void (d.missing = missing)), [replan]);

  const setScaling = useCallback((scaling: ScalingMethod) => replan((d) => void (d.scaling = scaling)), [replan]);

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
      if (!d || d.waiting) throw new AppError('INVALID_ARGUMENT', 'no draft to save', { userMessage: 'Choose a file first.' });
      if (!d.prepared) throw d.problem ?? new AppError('INVALID_ARGUMENT', 'draft has no dataset');
      const fileLabels = d.fileLabels ? keptLabels(d.fileLabels.labels, d.prepared.keptRows) : undefined;
      const hasSource = d.table.sourceFormat === 'csv';
      const record = createPreparedRecord(d.table, d.prepared, { roles: d.roles, scaling: d.scaling }, { name, bytes: d.file.size, fileLabels, hasSource });
      const labels = fileLabels ?? d.prepared.labels;
      const ds: Dataset = labels ? { record, matrix: d.prepared.matrix, labels } : { record, matrix: d.prepared.matrix };
      await datasetStore().save(ds, hasSource ? { source: d.file, sourceName: d.file.name } : {});
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

  return {
    draft,
    reading,
    error,
    saving: saveMutation.isPending,
    open,
    attachLabels,
    detachLabels,
    setLabelColumn,
    setRole,
    setFormat,
    chooseMissing,
    setScaling,
    cancel,
    discard,
    save,
  };
}

/** The default dataset name for a file name (`iris.csv` → `iris`). */
export function datasetNameFor(fileName: string): string {
  return defaultDatasetName(fileName);
}

// ---------------------------------------------------------------------------------------------
// Results in the user's terms (issue #14 item 6)

/**
 * The labelled CSV of a job's result: the dataset's file, row for row (its own columns and text),
 * with `column` appended (`values[i]` for the dataset's record i). Without a stored file (NPY, or
 * datasets stored before files were kept), the feature matrix in the file's units is written.
 * @throws AppError STORAGE_NOT_FOUND, STORAGE_INTEGRITY, SHAPE_MISMATCH
 */
export async function labelledCsvFor(datasetId: string, column: string, values: readonly (string | number)[]): Promise<{ fileName: string; text: string }> {
  const s = datasetStore();
  const record = await s.get(datasetId);
  if (!record) throw new AppError('STORAGE_NOT_FOUND', `dataset ${datasetId} not found`, { userMessage: 'The dataset of this job is no longer in this browser.' });
  if (values.length !== record.rows) {
    throw new AppError('SHAPE_MISMATCH', `${values.length} values for ${record.rows} records`, {
      userMessage: `The result has ${values.length} records but the dataset now has ${record.rows}. Download the plain labels CSV instead.`,
    });
  }
  const fileName = `${defaultDatasetName(record.name)}-${column}.csv`;
  const source = record.hasSource && record.csvFormat ? await s.loadSource(datasetId) : undefined;
  if (source && record.csvFormat) {
    const used = (record.columns ?? []).flatMap((c, j) => (c.role === 'feature' || c.role === 'label' ? [j] : []));
    const dropped = record.missing?.strategy === 'drop' && record.missing.dropped > 0;
    const text = await labelledCsvFromSource(
      { source, delimiter: record.csvFormat.delimiter, header: record.csvFormat.header, ...(dropped ? { droppedIfMissingIn: used } : {}) },
      column,
      values,
    );
    return { fileName, text };
  }
  const ds = await s.load(datasetId);
  const m = ds.original ?? ds.matrix;
  const names = Array.from({ length: record.cols }, (_, j) => record.header?.[j] ?? `Column ${j + 1}`);
  return { fileName, text: labelledCsvFromMatrix(m, names, column, values) };
}

/** `labelledCsvFor` as a mutation (the component downloads the text it resolves with). */
export function useLabelledCsv() {
  return useMutation({
    mutationFn: ({ datasetId, column, values }: { datasetId: string; column: string; values: readonly (string | number)[] }) => labelledCsvFor(datasetId, column, values),
  });
}
