'use client';
/**
 * Cluster profiles in the user's terms (issue #14 item 6): the mean of every feature column per
 * cluster, in the file's own units and under the file's column names, next to the mean over all
 * records. Computed in this browser from the stored dataset (lib/data/profiles); nothing is sent.
 */
import { useMemo } from 'react';
import type { Dataset } from '@/lib/data/dataset';
import { clusterProfiles } from '@/lib/data/profiles';
import { columnStats } from '@/lib/data/stats';
import { columnName, formatStat } from '../datasets/format';
import { NamedRow } from '../ui/Table';

/** Clusters shown side by side; the largest ones when there are more. */
const MAX_CLUSTERS = 12;

const TH = 'whitespace-nowrap px-2 py-1 text-left font-medium';
const TD = 'px-2 py-1 text-right tabular-nums font-mono';

export function ClusterProfiles({ dataset, clusters }: { dataset: Dataset; clusters: readonly number[] }) {
  const m = dataset.original ?? dataset.matrix;
  const profiles = useMemo(() => (m.shape[0] === clusters.length ? clusterProfiles(m, clusters) : null), [m, clusters]);
  const overall = useMemo(() => columnStats(m).mean, [m]);
  if (!profiles) return null;
  const shown = [...profiles].sort((a, b) => b.size - a.size || a.cluster - b.cluster).slice(0, MAX_CLUSTERS).sort((a, b) => a.cluster - b.cluster);
  const names = Array.from({ length: m.shape[1] }, (_, j) => columnName(dataset.record.header, j));
  const scaled = dataset.record.scaling && dataset.record.scaling.method !== 'none';
  return (
    <div>
      <h3 className="mb-1 text-sm font-medium">Cluster profiles: mean of each column, in the file’s units</h3>
      <p className="mb-2 text-xs text-slate-500">
        Computed in this browser from “{dataset.record.name}”{scaled ? ' (before the scaling applied for encryption)' : ''}.
        {profiles.length > shown.length ? ` The ${shown.length} largest of ${profiles.length} clusters.` : ''}
      </p>
      <div className="max-h-96 overflow-auto rounded-lg border border-slate-200">
        <table aria-label="Cluster profiles" className="min-w-full text-xs">
          <thead className="sticky top-0 bg-slate-50 text-slate-600">
            <tr>
              <th className={TH}>Column</th>
              {shown.map((p) => (
                <th key={p.cluster} className={`${TH} text-right`}>
                  cluster {p.cluster} <span className="font-normal text-slate-500">({p.size})</span>
                </th>
              ))}
              <th className={`${TH} text-right`}>all records</th>
            </tr>
          </thead>
          <tbody>
            {names.map((n, j) => (
              <NamedRow key={j} name={n} className={TH}>
                {shown.map((p) => (
                  <td key={p.cluster} className={TD} title={String(p.means[j])}>
                    {formatStat(p.means[j])}
                  </td>
                ))}
                <td className={`${TD} text-slate-500`}>{formatStat(overall[j])}</td>
              </NamedRow>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
