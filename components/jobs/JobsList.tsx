'use client';
import Link from 'next/link';
import { useJobs } from '@/lib/queries/jobs';
import { ListTable } from '../ui/ListTable';
import { EmptyState } from '../ui/Card';
import { StatusBadge } from './labels';

export function JobsList() {
  const { data: jobs, isPending } = useJobs();
  if (isPending) return <p className="text-sm text-slate-500">Loading jobs…</p>;
  if (!jobs?.length) return <EmptyState title="No jobs yet">Create one above: pick a dataset, an algorithm and k.</EmptyState>;
  return (
    <ListTable columns={['Job', 'Algorithm', 'Status', 'Round', 'Created']}>
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
    </ListTable>
  );
}
