'use client';
import { useEffect, useMemo, useState } from 'react';
import { labelName, type Dataset } from '@/lib/data/dataset';
import { pca2 } from '@/lib/data/pca';
import { downloadText } from '@/lib/download';
import type { JobRecord } from '@/lib/jobs/types';
import { algorithmSpec } from '@/lib/rory/algorithms/registry';
import { useDatasetMatrix } from '@/lib/queries/jobs';
import { Bars } from '../charts/Bars';
import { Scatter } from '../charts/Scatter';
import { Alert } from '../ui/Alert';
import { Button } from '../ui/Button';
import { Card } from '../ui/Card';
import { ClassNamesCheck } from './ClassNamesCheck';
import { ClusterClassTable } from './ClusterClassTable';
import { ClusterProfiles } from './ClusterProfiles';
import { LabelledCsvButton } from './LabelledCsvButton';

const METRIC_NAMES: Record<string, string> = {
  silhouette: 'Silhouette (higher is better)',
  daviesBouldin: 'Davies–Bouldin (lower is better)',
  calinskiHarabasz: 'Calinski–Harabasz (higher is better)',
  adjustedRand: 'Adjusted Rand index vs. known labels',
  adjustedMutualInfo: 'Adjusted mutual information',
  fowlkesMallows: 'Fowlkes–Mallows',
  jaccard: 'Jaccard',
};

export function JobResults({ job }: { job: JobRecord }) {
  const r = job.result!;
  // Classification results label the test set; clustering results label the job's dataset.
  const { data: dataset } = useDatasetMatrix(job.params.testDatasetId ?? job.datasetId);
  // The projection is computed in a task of its own after the results first render, so the page
  // does not compute it and lay out the whole results card in one long task (issue #13: none over 50 ms).
  const [projection, setProjection] = useState<{ source: Dataset; points: Float64Array } | null>(null);
  useEffect(() => {
    if (!dataset || dataset.matrix.shape[0] !== r.labels.length) return;
    const t = setTimeout(() => setProjection({ source: dataset, points: pca2(dataset.matrix).points }), 0);
    return () => clearTimeout(t);
  }, [dataset, r.labels.length]);
  const shownProjection = projection && projection.source === dataset && dataset.matrix.shape[0] === r.labels.length ? projection : null;
  const sizes = useMemo(() => {
    const m = new Map<number, number>();
    for (const l of r.labels) m.set(l, (m.get(l) ?? 0) + 1);
    return [...m.entries()].sort((a, b) => a[0] - b[0]);
  }, [r.labels]);

  const csv = () => 'record,label\n' + r.labels.map((l, i) => `${i},${l}`).join('\n') + '\n';
  const json = () =>
    JSON.stringify(
      { job: { id: job.id, name: job.name, algorithm: job.algorithm, params: job.params }, columns: dataset?.record.header, classNames: dataset?.record.labelNames, iterations: r.iterations, converged: r.converged, labels: r.labels, centroids: r.centroids, metrics: r.metrics, verification: r.verified, accuracy: r.accuracy, confusion: r.confusion, confusionLabels: r.confusionLabels, threshold: r.threshold, timings: r.timings },
      null,
      2,
    );

  return (
    <Card
      title="Results"
      actions={
        <>
          <Button onClick={() => downloadText(`${job.storageId}-labels.csv`, csv(), 'text/csv')}>Download CSV</Button>
          <LabelledCsvButton datasetId={job.params.testDatasetId ?? job.datasetId} labels={r.labels} predicted={job.params.testDatasetId !== undefined} record={dataset?.record} />
          <Button onClick={() => downloadText(`${job.storageId}-result.json`, json(), 'application/json')}>Download JSON</Button>
        </>
      }
    >
      <div className="mb-4 flex flex-wrap gap-6 text-sm">
        <span>
          {r.iterations !== undefined ? (
            <>
              Iterations: <b data-testid="result-iterations">{r.iterations}</b>
            </>
          ) : (
            <>
              Clusters found: <b data-testid="result-clusters">{sizes.length}</b>
            </>
          )}
        </span>
        {r.iterations !== undefined && <span>{r.converged ? 'Converged' : 'Stopped at the iteration cap'}</span>}
        {r.threshold !== undefined && <span>Threshold {r.threshold.toPrecision(6)}</span>}
        <span>{r.labels.length} records</span>
      </div>
      {job.params.testDatasetId !== undefined && <ClassNamesCheck trainingId={job.datasetId} test={dataset?.record} />}
      {r.accuracy !== undefined && (
        <div className="mb-4 text-sm">
          Accuracy on the test labels: <b data-testid="result-accuracy">{(r.accuracy * 100).toFixed(1)} %</b>
          {r.confusion && r.confusionLabels && (
            <table className="mt-2 text-xs" data-testid="confusion">
              <thead>
                <tr>
                  <th className="pr-3 text-left text-slate-500">true \ predicted</th>
                  {r.confusionLabels.map((l) => (
                    <th key={l} className="px-2">{labelName(dataset?.record, l)}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {r.confusion.map((row, i) => (
                  <tr key={i}>
                    <th className="pr-3 text-left">{labelName(dataset?.record, r.confusionLabels![i])}</th>
                    {row.map((c, j) => (
                      <td key={j} className={`px-2 text-center tabular-nums ${i === j ? 'font-semibold text-emerald-700' : ''}`}>{c}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
      {r.verified && (
        <div className="mb-4">
          <Alert tone={r.verified.ok ? 'success' : 'error'} title={r.verified.ok ? 'Verified' : 'Verification failed'}>
            <span data-testid="verification">{r.verified.detail}</span> (max relative difference {r.verified.maxError.toExponential(2)}{r.verified.tolerance !== undefined ? `, tolerance ${r.verified.tolerance.toExponential(0)}` : ''})
          </Alert>
        </div>
      )}
      <div className="grid gap-6 md:grid-cols-2">
        <div>
          <h3 className="mb-2 text-sm font-medium">Records by cluster (PCA projection, computed in this browser)</h3>
          {shownProjection ? (
            <Scatter points={shownProjection.points} labels={r.labels} title="Clusters in the first two principal components" />
          ) : dataset && dataset.matrix.shape[0] === r.labels.length ? (
            <p className="text-xs text-slate-500">Projecting…</p>
          ) : (
            <p className="text-xs text-slate-500">The dataset is no longer in this browser.</p>
          )}
        </div>
        <div className="space-y-4">
          <div>
            <h3 className="mb-2 text-sm font-medium">Cluster sizes</h3>
            <Bars
              title="Cluster sizes"
              items={[...sizes].sort((x, y) => y[1] - x[1]).slice(0, 20).map(([c, n]) => ({ label: `cluster ${c}`, value: n, color: c }))}
            />
            {sizes.length > 20 && <p className="mt-1 text-xs text-slate-500">The 20 largest of {sizes.length} clusters.</p>}
          </div>
          {algorithmSpec(job.algorithm).fields.includes('k') && sizes.length < (job.params.k ?? 2) && (
            <Alert tone="warning" title={`Only ${sizes.length} of ${job.params.k ?? 2} clusters are populated`}>
              {algorithmSpec(job.algorithm).needs.fdhope
                ? 'DBSKMeans adds FDHOPE ciphertexts, which is only approximately right (spec/crypto.md §3.6); with some keys the clustering degenerates. Run again (a new FDHOPE key is drawn) or use SKMeans if its plaintext uploads are acceptable.'
                : 'Some clusters ended empty. Try another k.'}
            </Alert>
          )}
          {r.metrics && Object.keys(r.metrics).length === 0 && <p className="text-xs text-slate-500">Validation indices need at least two clusters.</p>}
          {r.metrics && Object.keys(r.metrics).length > 0 && (
            <div>
              <h3 className="mb-2 text-sm font-medium">Validation</h3>
              <table className="w-full text-xs" data-testid="metrics">
                <tbody>
                  {Object.entries(r.metrics).map(([k, v]) => (
                    <tr key={k} className="border-t border-slate-100">
                      <td className="py-1 text-slate-600">{METRIC_NAMES[k] ?? k}</td>
                      <td className="py-1 text-right tabular-nums">{v.toFixed(4)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {r.maxShiftPerRound && r.maxShiftPerRound.length > 0 && (
            <div>
              <h3 className="mb-2 text-sm font-medium">Largest centre movement per round</h3>
              <Bars title="Largest centre movement per round" items={r.maxShiftPerRound.map((v, i) => ({ label: `round ${i + 1}`, value: v, color: 0 }))} />
            </div>
          )}
        </div>
      </div>
      {dataset && job.params.testDatasetId === undefined && dataset.matrix.shape[0] === r.labels.length && (
        <div className="mt-6 grid gap-6 lg:grid-cols-2">
          <ClusterClassTable dataset={dataset} clusters={r.labels} />
          <ClusterProfiles dataset={dataset} clusters={r.labels} />
        </div>
      )}
    </Card>
  );
}
