'use client';
/**
 * Classification with class names (issue #14 item 2): each dataset maps its own class names to
 * ids in sorted order, so a training and a test file with different sets of names (e.g. a class
 * missing from the test file) number their classes differently. This warns when the two lists
 * differ, since accuracy and the confusion matrix compare ids.
 */
import type { DatasetRecord } from '@/lib/data/dataset';
import { useDataset } from '@/lib/queries/datasets';
import { Alert } from '../ui/Alert';

export function ClassNamesCheck({ trainingId, test }: { trainingId: string; test: DatasetRecord | undefined }) {
  const { data: training } = useDataset(trainingId);
  const a = training?.labelNames;
  const b = test?.labelNames;
  if (!training || !test || (!a && !b)) return null;
  if (a && b && a.length === b.length && a.every((n, i) => n === b[i])) return null;
  return (
    <div className="mb-4">
      <Alert tone="warning" title="The two datasets name their classes differently">
        <p data-testid="class-names-warning">
          Training classes: {a ? a.join(', ') : 'numbers'}; test classes: {b ? b.join(', ') : 'numbers'}. Class ids are given per file in sorted
          order, so the accuracy and the table below compare ids that may not mean the same class. Use files with the same set of classes.
        </p>
      </Alert>
    </div>
  );
}
