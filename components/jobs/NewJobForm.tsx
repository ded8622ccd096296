'use client';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { toAppError } from '@/lib/errors';
import { algorithms, algorithmSpec, ckksKeyFits } from '@/lib/rory/algorithms/registry';
import type { CkksKeyRecord } from '@/lib/keystore/types';
import { useKeys } from '@/lib/queries/keys';
import type { JobAlgorithm } from '@/lib/jobs/types';
import { formJobSize } from '@/lib/jobs/budget';
import { useDatasetChoices, useJobActions } from '@/lib/queries/jobs';
import { useSettings } from '@/lib/queries/settings';
import { Alert } from '../ui/Alert';
import { Button } from '../ui/Button';
import { Card } from '../ui/Card';
import { LeakagePanel } from './LeakagePanel';
import { JobSizePanel } from './JobSizePanel';

const ALGORITHMS = algorithms();
const field = 'mt-1 w-full rounded-md border border-slate-300 px-2 py-1.5 text-sm';

export function NewJobForm() {
  const router = useRouter();
  const { data: datasets } = useDatasetChoices();
  const { data: settings } = useSettings();
  const { create } = useJobActions();
  const { data: keyRecords } = useKeys();
  const ckksKeys = (keyRecords ?? []).filter((r): r is CkksKeyRecord => r.scheme === 'ckks');
  const [ckksKeyId, setCkksKeyId] = useState('');
  const [datasetId, setDatasetId] = useState('');
  const [algorithm, setAlgorithm] = useState<JobAlgorithm>(ALGORITHMS[0].id);
  const spec = algorithmSpec(algorithm);
  const has = (f: (typeof spec.fields)[number]) => spec.fields.includes(f);
  const [k, setK] = useState('3');
  const [maxIterations, setMaxIterations] = useState('');
  const [sens, setSens] = useState('1e-8');
  const [tolerance, setTolerance] = useState('1e-6');
  const [threshold, setThreshold] = useState('-1');
  const classify = spec.kind === 'classification';
  const pqc = spec.needs.ckks !== false;
  const [testId, setTestId] = useState('');
  const [error, setError] = useState<string | null>(null);

  if (datasets && datasets.length === 0) {
    return (
      <Alert tone="info" title="Add a dataset first">
        Jobs run on a dataset kept in this browser. Go to <a className="underline" href="/datasets/">Datasets</a> and add a CSV or NPY file.
      </Alert>
    );
  }

  const selected = datasetId || datasets?.[0]?.id || '';
  const selectedShape = datasets?.find((d) => d.id === selected);
  // Only key sets with every evaluation key this algorithm needs on this dataset's shape (the
  // rotation steps of private k-means depend on rows and columns); otherwise the job creates one.
  const usableCkks = pqc && selectedShape ? ckksKeys.filter((r) => ckksKeyFits(algorithm, r.params, selectedShape)) : [];
  const num = (v: string) => (v.trim() === '' ? undefined : Number(v));
  const testDatasetId = has('testDataset') ? testId || datasets?.find((d) => d.id !== selected)?.id : undefined;
  const params = {
    ...(has('testDataset') ? { testDatasetId } : {}),
    ...(has('k') ? { k: num(k) } : {}),
    ...(has('maxIterations') ? { maxIterations: num(maxIterations) ?? settings?.settings.MAX_ITERATIONS } : {}),
    ...(has('tolerance') ? { tolerance: num(tolerance) } : {}),
    ...(has('sens') ? { sens: num(sens) } : {}),
    ...(has('threshold') ? { threshold: num(threshold) } : {}),
  };
  const size = formJobSize(
    algorithm,
    selectedShape,
    params,
    settings?.settings,
    testDatasetId ? datasets?.find((d) => d.id === testDatasetId) : undefined,
  );
  const onSubmit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    const chosenCkks = pqc ? (usableCkks.some((r) => r.id === ckksKeyId) ? ckksKeyId : usableCkks[0]?.id) : undefined;
    try {
      const job = await create.mutateAsync({ algorithm, datasetId: selected, params: chosenCkks ? { ...params, ckksKeyId: chosenCkks } : params });
      router.push(`/jobs/?id=${job.id}`);
    } catch (err) {
      setError(toAppError(err).userMessage);
    }
  };

  return (
    <Card title="New job">
      <form onSubmit={onSubmit} className="grid gap-4 md:grid-cols-2">
        <label className="text-sm font-medium">
          Dataset
          <select className={field} value={selected} onChange={(e) => setDatasetId(e.target.value)}>
            {datasets?.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name} ({d.rows} × {d.cols})
              </option>
            ))}
          </select>
        </label>
        <label className="text-sm font-medium">
          Algorithm
          <select className={field} value={algorithm} onChange={(e) => setAlgorithm(e.target.value as JobAlgorithm)}>
            {ALGORITHMS.map((a) => (
              <option key={a.id} value={a.id}>
                {a.title}
                {a.recommended ? ' — recommended' : ''}
              </option>
            ))}
          </select>
          <span className="mt-1 block text-xs font-normal text-slate-500">{spec.summary}</span>
        </label>
        {classify && (
          <label className="text-sm font-medium">
            Test dataset (records to classify)
            <select className={field} value={testId || datasets?.find((d) => d.id !== selected)?.id || ''} onChange={(e) => setTestId(e.target.value)}>
              {datasets?.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name} ({d.rows} × {d.cols})
                </option>
              ))}
            </select>
            <span className="mt-1 block text-xs font-normal text-slate-500">The dataset above is the training set; it needs labels.</span>
          </label>
        )}
        {pqc && (
          <label className="text-sm font-medium">
            CKKS key set
            <select className={field} data-testid="ckks-key" value={usableCkks.some((r) => r.id === ckksKeyId) ? ckksKeyId : (usableCkks[0]?.id ?? '')} onChange={(e) => setCkksKeyId(e.target.value)}>
              {usableCkks.length === 0 && <option value="">Create a default-128 key set when the job starts</option>}
              {usableCkks.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.label} ({r.params.parameterSet})
                </option>
              ))}
            </select>
            <span className="mt-1 block text-xs font-normal text-slate-500">
              The secret key stays in this browser; the worker receives only the public key{spec.needs.ckks && spec.needs.ckks.relin ? ', relinearization' : ''} and rotation keys it needs.
            </span>
          </label>
        )}
        {has('threshold') && (
          <label className="text-sm font-medium">
            Threshold (−1 = smallest non-zero distance)
            <input className={field} value={threshold} onChange={(e) => setThreshold(e.target.value)} />
          </label>
        )}
        {has('k') && (
        <label className="text-sm font-medium">
          Clusters (k)
          <input className={field} inputMode="numeric" value={k} onChange={(e) => setK(e.target.value)} />
        </label>
        )}
        {has('maxIterations') && (
        <label className="text-sm font-medium">
          Max iterations
          <input className={field} inputMode="numeric" placeholder={String(settings?.settings.MAX_ITERATIONS ?? 10)} value={maxIterations} onChange={(e) => setMaxIterations(e.target.value)} />
        </label>
        )}
        {has('sens') && (
          <label className="text-sm font-medium">
            Sens (FDHOPE noise)
            <input className={field} value={sens} onChange={(e) => setSens(e.target.value)} />
          </label>
        )}
        {has('tolerance') && (
        <label className="text-sm font-medium">
          Tolerance (stop when every centre moves less)
          <input className={field} value={tolerance} onChange={(e) => setTolerance(e.target.value)} />
        </label>
        )}
        <div className="md:col-span-2">
          <LeakagePanel algorithm={algorithm} />
        </div>
        {size && (
          <div className="md:col-span-2">
            <JobSizePanel size={size} onUseAlternative={size.ok ? undefined : () => setAlgorithm('PKMEANS')} canSwitch={spec.kind === 'clustering' && algorithm !== 'PKMEANS'} />
          </div>
        )}
        {error && (
          <div className="md:col-span-2">
            <Alert tone="error">{error}</Alert>
          </div>
        )}
        <div className="md:col-span-2">
          <Button type="submit" variant="primary" disabled={!selected || create.isPending || size?.ok === false}>
            Create job
          </Button>
        </div>
      </form>
    </Card>
  );
}
