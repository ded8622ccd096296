'use client';
import Link from 'next/link';
import { useJobs } from '@/lib/queries/jobs';
import { EmptyState } from '../ui/Card';
import { StatusBadge } from './labels';

export function JobsList() {
  const { data: jobs, isPending } = useJobs();
  if (isPending) return <p className="text-sm text-slate-500">Loading jobs…</p>;
  if (!jobs?.length) return <EmptyState title="No jobs yet">Create one above: pick a dataset, an algorithm and k.</EmptyState>;
  return (
    <table className="w-full overflow-hidden rounded-xl border border-slate-200 bg-white text-sm shadow-sm">
      <thead className="bg-slate-50 text-left text-xs text-slate-600">
        <tr>
          <th className="px-3 py-2">Job</th>
          <th className="px-3 py-2">Algorithm</th>
          <th className="px-3 py-2">Status</th>
          <th className="px-3 py-2">Round</th>
          <th className="px-3 py-2">Created</th>
        </tr>
      </thead>
      <tbody>
        {jobs.map((j) => (
          <tr key={j.id} className="border-t border-slate-100">
            <td className="px-3 py-2">
              <Link className="text-brand-700 underline" href={`/jobs/?id=${j.id}`}>
                {j.name}
              </Link>
            </td>
            <td className="px-3 py-2 font-mono text-xs">{j.algorithm}</td>
            <td className="px-3 py-2">
              <StatusBadge status={j.status} />
            </td>
            <td className="px-3 py-2 tabular-nums">{j.round}</td>
            <td className="px-3 py-2 text-xs text-slate-500">{new Date(j.createdAt).toLocaleString()}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
