'use client';
/**
 * "Download labelled CSV" (issue #14 item 6): the job's dataset file as the user gave it — its
 * own columns and text — with a `cluster` column (clustering) or a `predicted` column
 * (classification, class names where the dataset has them) appended. Built in this browser
 * (lib/queries/datasets `labelledCsvFor`).
 */
import { useState } from 'react';
import { labelName, type DatasetRecord } from '@/lib/data/dataset';
import { downloadText } from '@/lib/download';
import { toAppError } from '@/lib/errors';
import { useLabelledCsv } from '@/lib/queries/datasets';
import { Button } from '../ui/Button';

export function LabelledCsvButton({
  datasetId,
  labels,
  predicted,
  record,
}: {
  /** The dataset whose records `labels` label (the test set for classification). */
  datasetId: string;
  labels: readonly number[];
  /** Classification: the column is `predicted`, with class names from `record`. */
  predicted: boolean;
  record?: DatasetRecord;
}) {
  const csv = useLabelledCsv();
  const [error, setError] = useState<string | null>(null);
  const download = async () => {
    setError(null);
    try {
      const values = predicted ? labels.map((l) => labelName(record, l)) : labels;
      const { fileName, text } = await csv.mutateAsync({ datasetId, column: predicted ? 'predicted' : 'cluster', values });
      downloadText(fileName, text, 'text/csv');
    } catch (e) {
      setError(toAppError(e).userMessage);
    }
  };
  return (
    <>
      <Button onClick={() => void download()} disabled={csv.isPending}>
        Download labelled CSV
      </Button>
      {error && (
        <span role="alert" className="text-xs text-red-700">
          {error}
        </span>
      )}
    </>
  );
}
