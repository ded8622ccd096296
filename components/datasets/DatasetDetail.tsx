'use client';
/** One stored dataset (selected by `?id=`): facts, preview, statistics, rename, labels, delete. */
import Link from 'next/link';
import { useState } from 'react';
import type { DatasetRecord } from '@/lib/data/dataset';
import { toAppError } from '@/lib/errors';
import { useDataset, useDatasetSummary, useDeleteDataset, useRenameDataset, useSetDatasetLabels } from '@/lib/queries/datasets';
import { Alert } from '../ui/Alert';
import { Button } from '../ui/Button';
import { Card } from '../ui/Card';
import { DatasetFacts } from './DatasetFacts';
import { DatasetPreview } from './DatasetPreview';
import { DeleteDatasetDialog } from './DeleteDatasetDialog';
import { formatBytes, formatDate, formatShape } from './format';

type Notice = { tone: 'error' | 'success'; text: string } | null;

const BACK = (
  <Link className="text-sm text-brand-700 underline" href="/datasets/">
    ← All datasets
  </Link>
);

export function DatasetDetail({ id, onDeleted }: { id: string; onDeleted: () => void }) {
  const { data: record, isPending, error } = useDataset(id);
  if (isPending) return <p className="text-sm text-slate-500">Loading dataset…</p>;
  if (error) return <Alert tone="error" title="Dataset unavailable">{toAppError(error).userMessage}</Alert>;
  if (!record) {
    return (
      <div className="space-y-3">
        <Alert tone="warning" title="No such dataset">
          No dataset with this id is stored in this browser. It may have been deleted, or added in another browser (datasets never leave the browser
          they were added in).
        </Alert>
        {BACK}
      </div>
    );
  }
  return <Detail key={record.id} record={record} onDeleted={onDeleted} />;
}

function Detail({ record, onDeleted }: { record: DatasetRecord; onDeleted: () => void }) {
  const summary = useDatasetSummary(record.id);
  const rename = useRenameDataset();
  const labels = useSetDatasetLabels();
  const del = useDeleteDataset();
  const [notice, setNotice] = useState<Notice>(null);
  const [newName, setNewName] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const fail = (e: unknown) => setNotice({ tone: 'error', text: toAppError(e).userMessage });

  const saveName = async () => {
    if (newName === null) return;
    setNotice(null);
    try {
      const r = await rename.mutateAsync({ id: record.id, name: newName });
      setNewName(null);
      setNotice({ tone: 'success', text: `Renamed to “${r.name}”.` });
    } catch (e) {
      fail(e);
    }
  };

  const setLabels = async (file: File | null) => {
    setNotice(null);
    try {
      await labels.mutateAsync({ id: record.id, file });
      setNotice({ tone: 'success', text: file ? `Labels attached from ${file.name}.` : 'Labels removed.' });
    } catch (e) {
      fail(e);
    }
  };

  const remove = async () => {
    try {
      await del.mutateAsync(record.id);
      onDeleted();
    } catch (e) {
      setConfirmDelete(false);
      fail(e);
    }
  };

  return (
    <div className="space-y-4">
      {BACK}
      <Card
        title={<span data-testid="dataset-name">{record.name}</span>}
        actions={
          newName === null && (
            <>
              <Button onClick={() => setNewName(record.name)}>Rename</Button>
              <Button variant="danger" onClick={() => setConfirmDelete(true)}>
                Delete
              </Button>
            </>
          )
        }
      >
        {newName !== null && (
          <form
            aria-label="Rename dataset"
            className="mb-4 flex items-center gap-2"
            onSubmit={(e) => {
              e.preventDefault();
              void saveName();
            }}
          >
            <input
              aria-label="New name"
              value={newName}
              maxLength={120}
              autoFocus
              onChange={(e) => setNewName(e.target.value)}
              className="w-72 rounded-md border border-slate-300 px-2 py-1 text-sm"
            />
            <Button type="submit" variant="primary" disabled={rename.isPending || newName.trim() === ''}>
              Save name
            </Button>
            <Button onClick={() => setNewName(null)}>Cancel</Button>
          </form>
        )}
        <dl className="grid gap-x-8 gap-y-2 text-sm sm:grid-cols-4">
          <div>
            <dt className="text-xs text-slate-500">Shape</dt>
            <dd className="tabular-nums">{formatShape(record.rows, record.cols)}</dd>
          </div>
          <div>
            <dt className="text-xs text-slate-500">Added</dt>
            <dd>{formatDate(record.createdAt)}</dd>
          </div>
          <div>
            <dt className="text-xs text-slate-500">Source</dt>
            <dd>
              {record.sourceFormat.toUpperCase()}
              {record.bytes !== undefined && `, ${formatBytes(record.bytes)}`}
              {record.labelColumn !== undefined && `; column ${record.labelColumn + 1} held labels`}
            </dd>
          </div>
          <div>
            <dt className="text-xs text-slate-500">Labels</dt>
            <dd className="flex flex-wrap items-center gap-2">
              <span>{record.hasLabels ? 'yes' : 'no'}</span>
              <label className="cursor-pointer rounded-md border border-slate-300 bg-white px-2 py-0.5 text-xs font-medium hover:bg-slate-50 focus-within:ring-2 focus-within:ring-brand-600">
                {record.hasLabels ? 'Replace labels file…' : 'Attach labels file…'}
                <input
                  type="file"
                  aria-label="Attach labels file"
                  accept=".csv,.txt,.npy,text/csv"
                  className="sr-only"
                  disabled={labels.isPending}
                  onChange={(e) => {
                    const file = e.currentTarget.files?.[0];
                    e.currentTarget.value = '';
                    if (file) void setLabels(file);
                  }}
                />
              </label>
              {record.hasLabels && (
                <Button className="px-2! py-0.5! text-xs!" onClick={() => void setLabels(null)} disabled={labels.isPending}>
                  Remove labels
                </Button>
              )}
            </dd>
          </div>
        </dl>
        <DatasetFacts record={record} />
        {notice && (
          <div className="mt-4">
            <Alert tone={notice.tone}>
              <p data-testid="dataset-notice">{notice.text}</p>
            </Alert>
          </div>
        )}
      </Card>

      <Card title="Preview">
        {summary.isPending && <p className="text-sm text-slate-500">Reading the dataset from this browser…</p>}
        {summary.error && <Alert tone="error">{toAppError(summary.error).userMessage}</Alert>}
        {summary.data && <DatasetPreview summary={summary.data} />}
      </Card>

      {confirmDelete && <DeleteDatasetDialog record={record} busy={del.isPending} onCancel={() => setConfirmDelete(false)} onConfirm={() => void remove()} />}
    </div>
  );
}
