'use client';
import { EmptyState, PageHeader } from '@/components/ui/Card';

export default function JobsPage() {
  return (
    <>
      <PageHeader title="Jobs" subtitle="Clustering and classification jobs run by Rory workers on your ciphertexts." />
      <EmptyState title="No jobs yet">Add a dataset first, then start a job here.</EmptyState>
    </>
  );
}
