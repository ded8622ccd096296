'use client';
/**
 * Adding a dataset: pick or drop a CSV/NPY file, watch it being read (in a worker, with Cancel),
 * review how it was read, the role of every column, missing values, scaling, shape, first rows
 * and statistics, choose a label column or attach a labels file, name it, then save. Nothing is
 * stored before "Save dataset"; every problem is shown in one alert naming the file and the
 * problem. A file with missing values waits in that alert for a one-click choice (issue #14).
 */
import { useState, type DragEvent } from 'react';
import type { ColumnRole } from '@/lib/data/columns';
import type { DatasetRecord } from '@/lib/data/dataset';
import type { CsvFormat } from '@/lib/data/locale';
import type { MissingStrategy } from '@/lib/data/missing';
import type { ScalingMethod } from '@/lib/data/scaling';
import { datasetNameFor, isLabelsFileName, useDatasetDraft, type DatasetDraft, type DraftError, type TableReader } from '@/lib/queries/datasets';
import { Alert } from '../ui/Alert';
import { Button } from '../ui/Button';
import { Card } from '../ui/Card';
import { ProgressBar } from '../ui/Progress';
import { DatasetPreview } from './DatasetPreview';
import { ColumnRoles, FormatChoice, MissingButtons, MissingChoice, MissingCounts, Notes, ScalingChoice } from './DraftOptions';
import { formatBytes } from './format';

const DATA_ACCEPT = '.csv,.tsv,.txt,.npy,text/csv';
const LABELS_ACCEPT = '.csv,.txt,.npy,text/csv';

function errorTitle(e: DraftError): string {
  if (e.step === 'labels') return `Labels file “${e.fileName}” was not attached`;
  if (e.step === 'save') return `“${e.fileName}” was not saved`;
  if (e.missing) return `“${e.fileName}” was not added yet: it has missing values`;
  return `“${e.fileName}” was not added`;
}

/**
 * Splits dropped files into the dataset and an optional `*.labels.*` file. Labels files alone
 * are attached to the draft under review; without a draft, the first file is read as data.
 */
function pickDropped(files: File[], hasDraft: boolean): { data?: File; labels?: File } {
  const labels = files.find((f) => isLabelsFileName(f.name));
  const data = files.find((f) => !isLabelsFileName(f.name)) ?? (hasDraft ? undefined : files[0]);
  return { data, labels: labels === data ? undefined : labels };
}

export function AddDataset({ onSaved, readTable }: { onSaved: (record: DatasetRecord) => void; readTable?: TableReader }) {
  const d = useDatasetDraft({ readTable });
  const [over, setOver] = useState(false);
  const busy = d.reading !== null || d.saving;

  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setOver(false);
    const { data, labels } = pickDropped(Array.from(e.dataTransfer.files), d.draft !== null);
    if (data) void d.open(data, labels);
    else if (labels && d.draft) void d.attachLabels(labels);
  };

  return (
    <Card title="Add a dataset">
      <div className="space-y-4">
        <div
          data-testid="drop-zone"
          onDragOver={(e) => {
            e.preventDefault();
            e.dataTransfer.dropEffect = 'copy';
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={onDrop}
          className={`rounded-xl border-2 border-dashed p-6 text-center text-sm ${over ? 'border-brand-600 bg-brand-50' : 'border-slate-300 bg-slate-50'}`}
        >
          <p className="font-medium">Drop a CSV or NPY file here</p>
          <p className="mt-1 text-slate-600">
            One record per line, with or without a header line: pandas, Excel and Kaggle exports work as they are (index and id columns, a class
            column of names, <code>;</code> with decimal commas, missing cells). Drop a <code>*.labels.csv</code> file along with it to attach class
            labels.
          </p>
          <label className="mt-3 inline-block cursor-pointer rounded-md bg-brand-600 px-3 py-1.5 font-medium text-white focus-within:ring-2 focus-within:ring-brand-700 hover:bg-brand-700">
            Choose a file…
            <input
              type="file"
              aria-label="Add dataset file"
              accept={DATA_ACCEPT}
              className="sr-only"
              onChange={(e) => {
                const file = e.currentTarget.files?.[0];
                e.currentTarget.value = ''; // picking the same file again must still fire
                if (file) void d.open(file);
              }}
            />
          </label>
        </div>

        {d.reading && (
          <div className="flex items-end gap-3" data-testid="reading">
            <div className="flex-1">
              <ProgressBar
                label={`Reading ${d.reading.what === 'labels' ? 'labels file ' : ''}${d.reading.fileName} (${formatBytes(d.reading.bytes)})`}
                value={d.reading.progress}
              />
            </div>
            <Button onClick={d.cancel}>Cancel</Button>
          </div>
        )}

        {d.error && (
          <Alert tone="error" title={errorTitle(d.error)}>
            <p data-testid="dataset-error">{d.error.error.userMessage}</p>
            {d.error.missing && d.error.missing.cells > 0 && (
              <>
                <p className="mt-2 text-xs font-medium">Missing cells per column</p>
                <MissingCounts missing={d.error.missing} />
                <MissingButtons missing={d.error.missing} busy={busy} onChoose={(s) => d.chooseMissing(s)} />
              </>
            )}
            <p className="mt-2 text-xs">Nothing was stored.</p>
          </Alert>
        )}

        {d.draft && (
          <DraftReview
            key={d.draft.fileName}
            draft={d.draft}
            busy={busy}
            saving={d.saving}
            onLabelColumn={(c) => d.setLabelColumn(c)}
            onRole={d.setRole}
            onFormat={(f) => void d.setFormat(f)}
            onMissing={d.chooseMissing}
            onScaling={d.setScaling}
            onLabelsFile={(f) => void d.attachLabels(f)}
            onRemoveLabelsFile={d.detachLabels}
            onDiscard={d.discard}
            onSave={async (name) => {
              const record = await d.save(name);
              if (record) onSaved(record);
            }}
          />
        )}
      </div>
    </Card>
  );
}

function DraftReview({
  draft,
  busy,
  saving,
  onLabelColumn,
  onRole,
  onFormat,
  onMissing,
  onScaling,
  onLabelsFile,
  onRemoveLabelsFile,
  onDiscard,
  onSave,
}: {
  draft: DatasetDraft;
  busy: boolean;
  saving: boolean;
  onLabelColumn: (column: number | null) => void;
  onRole: (column: number, role: ColumnRole) => void;
  onFormat: (format: CsvFormat) => void;
  onMissing: (s: MissingStrategy) => void;
  onScaling: (s: ScalingMethod) => void;
  onLabelsFile: (file: File) => void;
  onRemoveLabelsFile: () => void;
  onDiscard: () => void;
  onSave: (name: string) => void;
}) {
  const [name, setName] = useState(() => datasetNameFor(draft.fileName));
  const labelChoices = draft.format === 'csv' && draft.fileColumns >= 2 ? draft.columns.filter((c) => c.allowed.includes('label')) : [];
  return (
    <form
      aria-label="Review dataset"
      className="space-y-5 rounded-xl border border-slate-200 p-4"
      onSubmit={(e) => {
        e.preventDefault();
        onSave(name);
      }}
    >
      <h3 className="text-base font-semibold">
        Review “{draft.fileName}” <span className="font-normal text-slate-500">({draft.format.toUpperCase()}, {formatBytes(draft.bytes)}) — not saved yet</span>
      </h3>
      <div className="grid gap-4 sm:grid-cols-3">
        <label className="block text-sm">
          <span className="font-medium">Dataset name</span>
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            maxLength={120}
            required
            className="mt-1 w-full rounded-md border border-slate-300 px-2 py-1.5"
          />
        </label>
        <label className="block text-sm">
          <span className="font-medium">Label column</span>
          <select
            value={draft.labelColumn === null ? '' : String(draft.labelColumn)}
            disabled={labelChoices.length === 0 || busy}
            onChange={(e) => onLabelColumn(e.target.value === '' ? null : Number(e.target.value))}
            className="mt-1 w-full rounded-md border border-slate-300 px-2 py-1.5"
          >
            <option value="">None</option>
            {labelChoices.map((c) => (
              <option key={c.index} value={c.index}>
                {c.name !== '' ? `Column ${c.index + 1} (${c.name})` : c.displayName}
              </option>
            ))}
          </select>
          <span className="mt-1 block text-xs text-slate-500">For classification data whose class labels sit in one column (numbers or names).</span>
        </label>
        <div className="text-sm">
          <span className="font-medium">Labels file (optional)</span>
          {draft.labelsFileName ? (
            <p className="mt-1 flex items-center gap-2">
              <span data-testid="draft-labels-file">{draft.labelsFileName}</span>
              <Button onClick={onRemoveLabelsFile} disabled={busy}>
                Remove
              </Button>
            </p>
          ) : (
            <input
              type="file"
              aria-label="Labels file (optional)"
              accept={LABELS_ACCEPT}
              disabled={busy}
              className="mt-1 block w-full text-xs"
              onChange={(e) => {
                const file = e.currentTarget.files?.[0];
                e.currentTarget.value = '';
                if (file) onLabelsFile(file);
              }}
            />
          )}
          <span className="mt-1 block text-xs text-slate-500">One integer class label per line (*.labels.csv) or a 1-D .npy array.</span>
        </div>
      </div>

      <div className="grid gap-4 sm:grid-cols-3">
        {draft.csv && <FormatChoice csv={draft.csv} busy={busy} onFormat={onFormat} />}
        <MissingChoice draft={draft} busy={busy} onChoose={onMissing} />
        <ScalingChoice draft={draft} busy={busy} onScaling={onScaling} />
      </div>

      {draft.format === 'csv' && <ColumnRoles columns={draft.columns} busy={busy} onRole={onRole} />}

      <Notes notes={draft.notes} />

      {draft.problem && (
        <Alert tone="error" title="These choices do not give a dataset">
          <p data-testid="draft-problem">{draft.problem.userMessage}</p>
        </Alert>
      )}

      {draft.summary && <DatasetPreview summary={draft.summary} />}

      <div className="flex justify-end gap-2">
        <Button onClick={onDiscard} disabled={saving}>
          Discard
        </Button>
        <Button type="submit" variant="primary" disabled={busy || name.trim() === '' || !draft.summary}>
          {saving ? 'Saving…' : 'Save dataset'}
        </Button>
      </div>
    </form>
  );
}
